"""The gateway connection: a discord.py `Client` that hands every INTERACTION_CREATE to the same
interactions endpoint the HTTP routes use, minus the signature (the bot token opened this socket),
and answers through Discord's interaction callback.

Reconnects, RESUME, heartbeats, RECONNECT and INVALID_SESSION are discord.py's. Its own interaction
objects are not used: the raw payload (`on_socket_raw_receive`) is exactly the JSON Discord would
have POSTed, so one parser and one set of checks serve both doors.
"""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import discord

from orchestrator.clients.discord_api import DiscordClient, DiscordError
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.serialization import dumps_text, loads
from orchestrator.web.http import HttpRequest

# Interactions answered at once, each on a thread (the endpoint's checks and the queue are blocking).
ANSWER_THREADS = 8
# Discord waits 3 seconds for the answer. An interaction that waited this long for a thread is not
# taken at all (its user already sees "did not respond": running it anyway would surprise them, and
# their retry would run it twice); what is left of the 3 seconds bounds the callback.
ANSWER_DEADLINE_SECONDS = 3.0
TAKE_BEFORE_SECONDS = 2.5


@dataclass
class GatewayHealth:
    connected: bool = False
    last_event_at: float | None = None
    latency_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        latency = self.latency_s
        return {
            "connected": self.connected,
            "latency_ms": round(latency * 1000, 1) if latency is not None and math.isfinite(latency) else None,
            "last_event_at": self.last_event_at,
        }


def _unused(_: Any) -> None:
    """In place of discord.py's parser for an event this bot reads raw."""


class GatewayClient(discord.Client):
    def __init__(self, endpoint: InteractionsEndpoint, discord_rest: DiscordClient) -> None:
        # GUILDS (1) only: interactions need no intent, and this one keeps discord.py from warning
        # about a cache it cannot fill. No privileged intent: none is needed or asked for.
        super().__init__(intents=discord.Intents(guilds=True), enable_debug_events=True)
        self._endpoint = endpoint
        self._rest = discord_rest
        # discord.py's own INTERACTION_CREATE parser builds objects this bot never uses, and a payload
        # it does not expect raises inside its read loop, ending the connection: it is left out, the raw
        # payload above is the one that counts (ConnectionState.parsers, by event name).
        self._connection.parsers["INTERACTION_CREATE"] = _unused
        self._answers = ThreadPoolExecutor(ANSWER_THREADS, thread_name_prefix="gateway-answer")
        self.health = GatewayHealth()

    async def on_socket_raw_receive(self, message: str | bytes) -> None:
        text = message.decode() if isinstance(message, bytes) else message
        if '"INTERACTION_CREATE"' not in text:  # every other event, before paying for a parse
            return
        try:
            event = loads(text)
        except ValueError:  # discord.py will say what it makes of it
            return
        interaction = event.get("d") if isinstance(event, dict) and event.get("t") == "INTERACTION_CREATE" else None
        if not isinstance(interaction, dict):
            return
        self.health.last_event_at = time.time()
        arrived = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(self._answers, self._answer, interaction, arrived)

    def _answer(self, interaction: dict[str, Any], arrived: float) -> None:
        """The endpoint's answer, sent to Discord's callback within 3 seconds of the event's arrival."""
        request = HttpRequest("POST", "/interactions", {}, dumps_text(interaction).encode())
        with log_context(trace_id=request.trace_id):
            waited = time.monotonic() - arrived
            if waited >= TAKE_BEFORE_SECONDS:
                get_logger().warning(
                    "gateway interaction too late: not taken", extra={"waited_ms": round(waited * 1000)}
                )
                return
            response = self._endpoint.handle_authenticated(request, "receive from the gateway")
            if response.status != 200:
                get_logger().warning("gateway interaction not answered", extra={"status": response.status})
                return
            left = max(ANSWER_DEADLINE_SECONDS - (time.monotonic() - arrived), 0.1)
            try:
                self._rest.interaction_callback(
                    str(interaction["id"]), str(interaction["token"]), loads(response.body), timeout=left
                )
            except DiscordError as exc:
                get_logger().warning("gateway answer not delivered", extra={"error": type(exc).__name__})

    async def on_connect(self) -> None:
        self._state_changed("gateway connected", connected=True)

    async def on_ready(self) -> None:
        self._state_changed("gateway ready", connected=True)

    async def on_resumed(self) -> None:
        self._state_changed("gateway resumed", connected=True)

    async def on_disconnect(self) -> None:
        self._state_changed("gateway disconnected", connected=False)

    def _state_changed(self, what: str, *, connected: bool) -> None:
        self.health.connected = connected
        self.health.latency_s = self.latency if connected else None
        get_logger().info(what, extra=self.health.to_dict())

    def current_health(self) -> dict[str, Any]:
        if self.health.connected:
            self.health.latency_s = self.latency
        return self.health.to_dict()

    async def close(self) -> None:
        await super().close()
        # The answers under way finish (each within 3 s), off the event loop.
        await asyncio.to_thread(self._answers.shutdown, True)
