"""`python -m orchestrator gateway` as a process of its own, discord.py against the stand-in gateway
and REST API: a command over the gateway reaches a dispatched run and its final message; a RESUME
in the middle (RECONNECT, a dropped connection) loses nothing and runs nothing twice; the health
check; a clean stop; and the warning when the application still has an Interactions Endpoint URL."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator_dev.demo.endpoint import WORKFLOWS
from orchestrator_dev.demo.serve_process import logged_url, serve_running
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_gateway import FakeGateway
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import REPO_ROOT, wait_for

BOT_TOKEN = "MTE1MDAwMDAwMDAwMDAwMDAwMDE.Gtest0." + secrets.token_urlsafe(27)
GITHUB_TOKEN = "ghp_" + secrets.token_hex(18)
REPOSITORY = "acme/delivery"
CHANNEL = "1150000000000000002"


@dataclass
class Stack:
    signer: InteractionSigner
    gateway: FakeGateway
    discord: FakeDiscord
    github: FakeGitHub
    workdir: Path

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DISCORD_APPLICATION_ID": self.signer.application_id,
            "DISCORD_BOT_TOKEN": BOT_TOKEN,
            "DISCORD_API_URL": self.discord.api_url,
            "DISCORD_GATEWAY_URL": self.gateway.url,
            "DISCORD_PUBLIC_KEY": "",  # none needed: nothing arrives signed over the gateway
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": self.github.url,
            "GITHUB_WEBHOOK_SECRET": "",
            "COMMANDS_FILE": str(REPO_ROOT / "commands.yaml"),
            "STATE_STORE": f"sqlite:///{self.workdir / 'state.db'}",
            "BUTTON_SIGNING_SECRET": secrets.token_urlsafe(32),
            "ENABLE_ALERTS": "false",
            "LOG_LEVEL": "INFO",
        }

    def command(self, options: dict[str, Any]) -> dict[str, Any]:
        """A /diagnose as Discord delivers it over the gateway (the same payload as over HTTP, unsigned)."""
        payload = self.signer.application_command("diagnose", options)
        self.discord.expect_interaction(payload["id"], payload["token"], CHANNEL)
        return payload

    def answered(self, payload: dict[str, Any]) -> list[Any]:
        return [body for interaction_id, _, body in self.discord.callbacks if interaction_id == payload["id"]]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    signer = InteractionSigner.generate()
    with (
        FakeGateway(signer.application_id, BOT_TOKEN, heartbeat_interval=1000) as gateway,
        FakeDiscord(signer.application_id, bot_token=BOT_TOKEN) as discord,
        FakeGitHub(GITHUB_TOKEN, REPOSITORY, WORKFLOWS) as github,
    ):
        yield Stack(signer, gateway, discord, github, tmp_path)


@pytest.fixture
def running(stack: Stack) -> Iterator[subprocess.Popen[bytes]]:
    with (stack.workdir / "gateway.log").open("w") as log, (stack.workdir / "gateway.err").open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "gateway", "--health-port", "0"],  # a port the system chooses
            env=stack.environment(),
            stdout=log,
            stderr=errors,
            stdin=subprocess.DEVNULL,
        )
        try:
            assert stack.gateway.wait_for_identify(timeout=30), (stack.workdir / "gateway.err").read_text()
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def test_a_command_over_the_gateway_runs_once_to_its_final_message(
    stack: Stack, running: subprocess.Popen[bytes]
) -> None:
    payload = stack.command({"target": "staging"})
    stack.gateway.dispatch("INTERACTION_CREATE", payload)

    wait_for(lambda: bool(stack.answered(payload)), "the deferred answer through the callback", timeout=10)
    assert stack.answered(payload) == [{"type": 5, "data": {"flags": 0}}]
    wait_for(lambda: bool(stack.github.dispatches), "the dispatch", timeout=20)
    run_id = stack.github.runs[0]["id"]
    assert stack.github.dispatches[0]["inputs"]["target"] == "staging"
    stack.github.set_run_status(run_id, "completed", "success")  # seen by the first poll, 10 s on

    def final() -> bool:
        message = stack.discord.message_for(payload["token"]) or {}
        return any("succeeded" in str(embed.get("title")) for embed in message.get("embeds") or [])

    wait_for(final, "the final message", timeout=40)
    health_url = logged_url(stack.workdir / "gateway.log", "health check serving")
    assert health_url is not None
    health = httpx.get(health_url, timeout=5)
    assert health.status_code == 200 and health.json()["connected"] is True
    assert stack.gateway.intents == [1], "GUILDS only: no privileged intent"


def test_a_resume_in_the_middle_loses_nothing_and_runs_nothing_twice(
    stack: Stack, running: subprocess.Popen[bytes]
) -> None:
    first = stack.command({"target": "staging"})
    stack.gateway.dispatch("INTERACTION_CREATE", first)
    stack.gateway.reconnect()  # Discord asks the client to reconnect: it RESUMEs the session
    assert stack.gateway.wait_for_resume(timeout=20)

    stack.gateway.drop()  # the connection is cut; an interaction arrives while the client is away
    second = stack.command({"target": "production"})
    stack.gateway.dispatch("INTERACTION_CREATE", second)
    assert stack.gateway.wait_for_resume(count=2, timeout=20)

    wait_for(lambda: len(stack.github.dispatches) == 2, "both dispatches", timeout=30)
    time.sleep(1)  # anything doubled would have come by now
    assert sorted(d["inputs"]["target"] for d in stack.github.dispatches) == ["production", "staging"]
    assert len(stack.answered(first)) == 1 and len(stack.answered(second)) == 1
    assert stack.gateway.identifies == 1, "resumed both times, never a new session"


def test_sigterm_closes_the_connection_and_exits_cleanly(stack: Stack, running: subprocess.Popen[bytes]) -> None:
    running.send_signal(signal.SIGTERM)

    assert running.wait(20) == 0
    log = (stack.workdir / "gateway.log").read_text()
    assert '"msg":"stopped"' in log and '"msg":"gateway connected"' in log
    assert BOT_TOKEN not in log and GITHUB_TOKEN not in log


def test_an_interactions_endpoint_url_is_named_with_how_to_clear_it(stack: Stack) -> None:
    stack.discord.interactions_endpoint_url = "https://example.org/interactions"
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "gateway"],
        env=stack.environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert stack.gateway.wait_for_identify(timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=20)
    text = errors.decode()
    assert "https://example.org/interactions" in text and "Interactions Endpoint URL" in text
    assert "delete the URL" in text


def test_missing_settings_are_named_and_nothing_connects(stack: Stack) -> None:
    environment = {**stack.environment(), "DISCORD_BOT_TOKEN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "gateway"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "DISCORD_BOT_TOKEN: required but not set" in done.stderr
    assert stack.gateway.identifies == 0


def test_with_serve_beside_it_on_the_same_file_webhooks_follow_the_run(tmp_path: Path) -> None:
    """The documented pairing: `gateway` takes the commands, `serve` (reachable by GitHub) takes the
    webhooks; both on one STATE_STORE, so the deliveries land in the queue they share."""
    signer = InteractionSigner.generate()
    webhook_secret = secrets.token_urlsafe(24)
    with (
        FakeGateway(signer.application_id, BOT_TOKEN, heartbeat_interval=1000) as gateway,
        FakeDiscord(signer.application_id, bot_token=BOT_TOKEN) as discord,
        FakeGitHub(GITHUB_TOKEN, REPOSITORY, WORKFLOWS, webhook_secret=webhook_secret) as github,
    ):
        stack = Stack(signer, gateway, discord, github, tmp_path)
        environment = {**stack.environment(), "GITHUB_WEBHOOK_SECRET": webhook_secret}
        with (
            serve_running(tmp_path, {**environment, "DISCORD_PUBLIC_KEY": signer.public_key_hex}) as serve,
            (tmp_path / "gateway.err").open("w") as errors,
            (tmp_path / "gateway.log").open("w") as log,  # its JSON log lines, kept for a failure's story
        ):
            github.deliver_webhooks_to(f"{serve.url}/github/webhook")  # serve chose its port
            process = subprocess.Popen(
                [sys.executable, "-m", "orchestrator", "gateway"],
                env=environment,
                stdout=log,
                stderr=errors,
                stdin=subprocess.DEVNULL,
            )
            try:
                assert gateway.wait_for_identify(timeout=30)
                payload = stack.command({"target": "staging"})
                gateway.dispatch("INTERACTION_CREATE", payload)
                wait_for(lambda: bool(github.runs), "the run", timeout=20)
                run_id = github.runs[0]["id"]

                def linked() -> bool:
                    message = discord.message_for(payload["token"]) or {}
                    return any(embed.get("url") for embed in message.get("embeds") or [])

                # The bot knows its run (the message links it) before GitHub finishes it, as with any
                # real workflow: a webhook for a run not yet recorded is ignored, and polls catch up.
                wait_for(linked, "the run's link in the message", timeout=40)
                github.advance_job(run_id)
                while github.run(run_id)["status"] != "completed":
                    github.advance_job(run_id)

                def final() -> bool:
                    message = discord.message_for(payload["token"]) or {}
                    return any("succeeded" in str(embed.get("title")) for embed in message.get("embeds") or [])

                wait_for(final, "the final message", timeout=40)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(20)
        assert github.deliveries and all(d.outcome == 202 for d in github.deliveries)
        assert len(github.dispatches) == 1


@pytest.mark.parametrize("problem", ["state", "health_port"])
def test_what_stops_it_at_start_is_one_line_and_status_2(stack: Stack, problem: str) -> None:
    environment = stack.environment()
    arguments = ["gateway"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        if problem == "state":
            environment["STATE_STORE"] = "sqlite:////proc/no-such-folder/state.db"
        else:
            arguments += ["--health-port", str(taken.getsockname()[1])]
        done = subprocess.run(
            [sys.executable, "-m", "orchestrator", *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert ("STATE_STORE cannot be opened" if problem == "state" else "gateway could not start") in done.stderr
