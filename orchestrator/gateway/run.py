"""`python -m orchestrator gateway [--health-port N]`: the worker and the persistent local queue of
`serve`, with interactions from Discord's gateway instead of an HTTP endpoint.

Discord delivers interactions over the gateway only while the application has no Interactions
Endpoint URL: at start the application is read and, when one is set, the operator is told where
interactions go instead and how to clear it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
from typing import Any, TextIO

import discord
import httpx
import yarl
from aiohttp import web

from orchestrator import __version__
from orchestrator.adapters.local_server import LocalRuntime
from orchestrator.clients.discord_api import DiscordClient, DiscordError
from orchestrator.clients.retries import DEFAULT_TIMEOUT
from orchestrator.commands.loader import CommandsFileError
from orchestrator.composition.clients import discord_client
from orchestrator.gateway.connection import GatewayClient
from orchestrator.observability.logging import get_logger
from orchestrator.settings import Role, Settings, SettingsError, load_settings
from orchestrator.terminal import terminal_safe

CONFIGURATION_PROBLEM = 2
ENDPOINT_URL_SET = (
    "This application has an Interactions Endpoint URL ({url}): Discord sends its interactions there, "
    "not over the gateway, so commands will not reach this process. To use the gateway, clear it: "
    "Discord Developer Portal → the application → General Information → Interactions Endpoint URL → "
    "delete the URL → Save Changes."
)


def run_gateway(*, health_port: int | None, err: TextIO) -> int:
    """The exit status; every problem that stops it is one line on `err`."""
    try:
        settings = load_settings(roles={Role.GATEWAY, Role.WORKER})
        runtime = LocalRuntime(settings, http=False)
    except (SettingsError, CommandsFileError) as exc:
        return _fail(err, str(exc))
    except (OSError, sqlite3.Error) as exc:  # the state file: a folder that cannot be written, a broken file
        return _fail(err, f"STATE_STORE cannot be opened: {exc}")
    point_discord_py_at(settings)
    with httpx.Client(timeout=DEFAULT_TIMEOUT) as http:
        rest = discord_client(settings, http)
        warn_if_interactions_go_elsewhere(rest, err)
        bot_token = settings.discord_bot_token  # required for the gateway: load_settings checked it
        client = GatewayClient(runtime.app.interactions, rest)
        runtime.start()
        try:
            asyncio.run(_connected(client, bot_token.get() if bot_token else "", health_port))
        except OSError as exc:  # the health port taken, most likely
            return _fail(err, f"gateway could not start: {exc}")
        except discord.LoginFailure:
            return _fail(err, "DISCORD_BOT_TOKEN was refused by Discord (401): reset the bot token and set it again.")
        except discord.PrivilegedIntentsRequired:  # never asked for: a stand-in or Discord changed
            return _fail(err, "Discord refused the gateway's intents (4014).")
        finally:
            # The loop's signal handlers went with it: a second Ctrl-C or SIGTERM must not cut the drain.
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_IGN)
            runtime.stop()
    return 0


def point_discord_py_at(settings: Settings) -> None:
    """discord.py has no option for other hosts: its REST base and first gateway URL are class
    attributes (a RESUME still goes to the `resume_gateway_url` Discord gave). Its log lines go out
    as ours, never at DEBUG (discord.py then logs whole payloads, interaction tokens included)."""
    discord.http.Route.BASE = settings.discord_api_url
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    library = logging.getLogger("discord")
    library.handlers = [get_logger().registered_handler]
    library.setLevel(max(logging.INFO, get_logger().log_level))
    library.propagate = False


def warn_if_interactions_go_elsewhere(rest: DiscordClient, err: TextIO) -> None:
    try:
        url = rest.current_application().get("interactions_endpoint_url")
    except DiscordError as exc:
        get_logger().warning(
            "application not read: its Interactions Endpoint URL unknown", extra={"error": type(exc).__name__}
        )
        return
    if isinstance(url, str) and url:
        message = ENDPOINT_URL_SET.format(url=url)
        get_logger().warning(
            "interactions endpoint URL set: interactions will not come over the gateway", extra={"url": url}
        )
        err.write(terminal_safe(message) + "\n")


def _fail(err: TextIO, line: str) -> int:
    err.write(terminal_safe(line) + "\n")
    return CONFIGURATION_PROBLEM


async def _connected(client: GatewayClient, token: str, health_port: int | None) -> None:
    """Connected until SIGTERM or Ctrl-C (then closed cleanly), or until discord.py gives up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    health = await _serve_health(client, health_port) if health_port is not None else None
    connection = asyncio.create_task(client.start(token))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({connection, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await client.close()
        stopping.cancel()
        if health is not None:
            await health.cleanup()
    if connection.done() and not connection.cancelled() and connection.exception() is not None:
        raise connection.exception()  # type: ignore[misc]


async def _serve_health(client: GatewayClient, port: int) -> web.AppRunner:
    """GET /healthz on 127.0.0.1: 200 while connected, 503 otherwise (a service manager's check)."""

    async def healthz(_: web.Request) -> web.Response:
        body: dict[str, Any] = {**client.current_health(), "version": __version__}
        return web.json_response(body, status=200 if body["connected"] else 503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    host, bound = runner.addresses[0][:2]  # the port the system chose, for `--health-port 0`
    get_logger().info("health check serving", extra={"url": f"http://{host}:{bound}/healthz"})
    return runner
