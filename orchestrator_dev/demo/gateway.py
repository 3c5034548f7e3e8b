"""`python -m orchestrator demo --gateway`: the same bot over Discord's gateway, no public URL.

Stand-ins for Discord's gateway and REST API and for GitHub; the real `gateway` command in a
process of its own (discord.py inside it); Discord's side played from here.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from orchestrator.settings import DEFAULT_COMMANDS_FILE
from orchestrator_dev.demo.endpoint import ALICE, BOB, WORKFLOWS, render_message, step
from orchestrator_dev.demo.serve_process import logged_url
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_gateway import FakeGateway
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.signing import InteractionSigner

REPOSITORY = "acme/delivery"
CHANNEL = "1150000000000000002"


def run_gateway_demo() -> int:
    signer = InteractionSigner.generate()
    bot_token = "MTE1MDAwMDAwMDAwMDAwMDAwMDE.Gdemo0." + secrets.token_urlsafe(27)
    github_token = "ghp_" + secrets.token_hex(18)
    with (
        tempfile.TemporaryDirectory(prefix="orchestrator-gateway-demo-") as workdir,
        FakeGateway(signer.application_id, bot_token, heartbeat_interval=5000) as gateway,
        FakeDiscord(signer.application_id, bot_token=bot_token) as discord,
        FakeGitHub(github_token, REPOSITORY, WORKFLOWS) as github,
    ):
        environment = {
            **os.environ,
            "DISCORD_APPLICATION_ID": signer.application_id,
            "DISCORD_BOT_TOKEN": bot_token,
            "DISCORD_API_URL": discord.api_url,
            "DISCORD_GATEWAY_URL": gateway.url,
            "DISCORD_PUBLIC_KEY": "",
            "GITHUB_TOKEN": github_token,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": github.url,
            "GITHUB_WEBHOOK_SECRET": "",
            "COMMANDS_FILE": os.environ.get("COMMANDS_FILE") or str(DEFAULT_COMMANDS_FILE),
            "STATE_STORE": f"sqlite:///{Path(workdir) / 'state.db'}",
            "BUTTON_SIGNING_SECRET": secrets.token_urlsafe(32),
            "ENABLE_ALERTS": "false",
        }
        log = Path(workdir) / "gateway.log"
        with log.open("w") as out:
            command = [sys.executable, "-m", "orchestrator", "gateway", "--health-port", "0"]
            process = subprocess.Popen(command, env=environment, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
            try:
                ok = _play(signer, gateway, discord, github, log, process)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
        lines = log.read_text(encoding="utf-8").count("\n")
    print(f"\n(The gateway process wrote {lines} JSON log lines.)")
    return 0 if ok else 1


def _play(
    signer: InteractionSigner,
    gateway: FakeGateway,
    discord: FakeDiscord,
    github: FakeGitHub,
    log: Path,
    process: subprocess.Popen[bytes],
) -> bool:
    print(f"Stand-in gateway on {gateway.url}; Discord REST on {discord.url}; GitHub on {github.url}")
    step("`python -m orchestrator gateway` starts: discord.py logs in and opens the gateway")
    if not gateway.wait_for_identify(timeout=30):
        print("  the bot did not connect")
        return False
    print(f"  IDENTIFY with intents {gateway.intents[0]} (GUILDS only, nothing privileged), READY")
    _wait(lambda: logged_url(log, "health check serving") is not None, 10)
    health_url = str(logged_url(log, "health check serving"))  # on the port the system chose
    _wait(lambda: _health(health_url).get("connected") is True, 10)
    print(f"  GET /healthz → {_health(health_url)}")

    step("Alice types /diagnose target:staging: Discord sends INTERACTION_CREATE over the socket")
    first = _command(signer, discord, {"target": "staging"}, ALICE)
    gateway.dispatch("INTERACTION_CREATE", first)
    _wait(lambda: bool(_answers(discord, first)), 10)
    print(f"  the bot answers through the callback: {_answers(discord, first)[0]}")
    _wait(lambda: bool(github.dispatches), 20)
    _wait(lambda: bool(_message(discord, first).get("embeds")), 20)
    _show(discord, first)

    step("Discord asks the bot to reconnect, then the connection drops; Bob's command comes meanwhile")
    gateway.reconnect()
    gateway.wait_for_resume(timeout=20)
    gateway.drop()
    second = _command(signer, discord, {"target": "production"}, BOB)
    gateway.dispatch("INTERACTION_CREATE", second)
    gateway.wait_for_resume(count=2, timeout=20)
    _wait(lambda: len(github.dispatches) == 2, 30)
    print(
        f"  RESUMEd {gateway.resumes} times, identified {gateway.identifies} time: Bob's command was replayed "
        f"and answered {len(_answers(discord, second))} time; GitHub got {len(github.dispatches)} dispatches"
    )

    step("GitHub finishes Alice's run; the worker polls it (no webhooks here) and shows the result")
    github.set_run_status(github.runs[0]["id"], "completed", "success")
    _wait(lambda: "succeeded" in str(_message(discord, first).get("embeds")), 40)
    _show(discord, first)

    step("SIGTERM: the connection closes, the worker drains")
    process.send_signal(signal.SIGTERM)
    code = process.wait(20)
    print(f"  exit status {code}")
    return code == 0 and len(github.dispatches) == 2 and gateway.identifies == 1


def _command(
    signer: InteractionSigner, discord: FakeDiscord, options: dict[str, Any], who: dict[str, Any]
) -> dict[str, Any]:
    payload = signer.application_command("diagnose", options, **who)
    discord.expect_interaction(payload["id"], payload["token"], CHANNEL)
    return payload


def _answers(discord: FakeDiscord, payload: dict[str, Any]) -> list[Any]:
    return [body for interaction_id, _, body in discord.callbacks if interaction_id == payload["id"]]


def _message(discord: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    return discord.message_for(payload["token"]) or {}


def _show(discord: FakeDiscord, payload: dict[str, Any]) -> None:
    print("  Discord shows:")
    for line in render_message(_message(discord, payload)):
        print(f"  │ {line}")


def _health(url: str) -> dict[str, Any]:
    try:
        body: dict[str, Any] = httpx.get(url, timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return {}
    return body


def _wait(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
