"""The real local server over real sockets, with stand-in Discord and GitHub speaking their wire formats."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator import __version__
from orchestrator.adapters import local_server
from orchestrator.adapters.local_server import LocalRuntime
from orchestrator.settings import Settings, load_settings
from orchestrator_dev.demo.serve_process import serve_running
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeWorkflow
from orchestrator_dev.standins.signing import InteractionSigner
from tests.contract.openapi import validate_interaction_response

GITHUB_TOKEN = "ghp_" + "e2e" * 12
WORKFLOWS = {
    "diagnose.yml": FakeWorkflow(
        id=1,
        name="Diagnose",
        inputs={"target": True, "verbose": False, "trace_id": False, "requested_by": False, "prompt": False},
        run_name_input="trace_id",
    )
}


@dataclass
class Stack:
    runtime: LocalRuntime
    signer: InteractionSigner
    github: FakeGitHub
    discord: FakeDiscord
    client: httpx.Client

    def command(self, name: str, options: dict[str, Any], **kwargs: Any) -> tuple[dict[str, Any], httpx.Response]:
        payload = self.signer.application_command(name, options, **kwargs)
        self.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=False)
        body = self.signer.encode(payload)
        return payload, self.client.post("/interactions", content=body, headers=self.signer.headers(body))


def settings_for(signer: InteractionSigner, github: FakeGitHub, discord: FakeDiscord, tmp: Path) -> Settings:
    return load_settings(
        {
            "DISCORD_PUBLIC_KEY": signer.public_key_hex,
            "DISCORD_APPLICATION_ID": signer.application_id,
            "DISCORD_API_URL": discord.api_url,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_REPOSITORY": "acme/delivery",
            "GITHUB_API_URL": github.url,
            "STATE_STORE": f"sqlite:///{tmp / 'state.db'}",
            # Many users at once is what these tests are about: the bot-wide limit has its own tests.
            "DISPATCH_RATE_PER_MINUTE": "0",
        },
        in_lambda=False,
    )


@pytest.fixture
def stack(tmp_path: Path, signer: InteractionSigner) -> Iterator[Stack]:
    with (
        FakeGitHub(GITHUB_TOKEN, "acme/delivery", WORKFLOWS) as github,
        FakeDiscord(signer.application_id) as discord,
    ):
        runtime = LocalRuntime(settings_for(signer, github, discord, tmp_path), port=0, workers=4)
        runtime.start()
        try:
            with httpx.Client(base_url=runtime.url, timeout=10) as client:
                yield Stack(runtime, signer, github, discord, client)
        finally:
            runtime.stop()


def test_healthz(stack: Stack) -> None:
    response = stack.client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "version": __version__}


@pytest.mark.parametrize(
    "method,path,status",
    [("GET", "/nope", 404), ("GET", "/interactions", 405), ("POST", "/healthz", 405), ("POST", "/github/webhook", 503)],
)
def test_routes(stack: Stack, method: str, path: str, status: int) -> None:
    assert stack.client.request(method, path).status_code == status


def test_ping_and_forgery(stack: Stack) -> None:
    body = stack.signer.encode(stack.signer.ping())
    response = stack.client.post("/interactions", content=body, headers=stack.signer.headers(body))
    assert response.status_code == 200 and response.json() == {"type": 1}
    assert response.headers["content-type"] == "application/json"
    forged = stack.client.post("/interactions", content=body, headers=stack.signer.headers(b"other"))
    assert forged.status_code == 401


def test_oversized_and_chunked_bodies(stack: Stack) -> None:
    big = b"x" * (2 * 1024 * 1024)
    assert stack.client.post("/interactions", content=big).status_code == 413

    body = stack.signer.encode(stack.signer.ping())

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    chunked = stack.client.post("/interactions", content=chunks(), headers=stack.signer.headers(body))
    assert chunked.status_code == 200 and chunked.json() == {"type": 1}

    def endless() -> Iterator[bytes]:
        for _ in range(1100):  # just past the limit: the rest fits in socket buffers
            yield b"x" * 1024

    assert stack.client.post("/interactions", content=endless()).status_code == 413
    assert stack.client.get("/healthz").status_code == 200  # the server is still fine


def test_signed_command_is_dispatched_and_linked(stack: Stack) -> None:
    payload, response = stack.command("diagnose", {"target": "staging", "verbose": True})
    assert response.status_code == 200
    validate_interaction_response(response.json())
    assert response.json() == {"type": 5, "data": {"flags": 0}}
    assert stack.runtime.queue.wait_idle(timeout=20)
    [dispatch] = stack.github.dispatches
    assert dispatch["inputs"]["target"] == "staging" and dispatch["inputs"]["verbose"] == "true"
    [run] = stack.github.runs
    message = stack.discord.message_for(payload["token"])
    assert message is not None
    [row] = message["components"]
    assert row["components"][0]["url"] == run["html_url"]
    record = stack.runtime.state.jobs.get(payload["id"])
    assert record is not None and record.status == "dispatched" and record.run_id == run["id"]


def test_the_same_interaction_twice_dispatches_once(stack: Stack) -> None:
    payload = stack.signer.application_command("diagnose", {"target": "production"})
    stack.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=False)
    body = stack.signer.encode(payload)
    for _ in range(2):
        assert stack.client.post("/interactions", content=body, headers=stack.signer.headers(body)).status_code == 200
    assert stack.runtime.queue.wait_idle(timeout=20)
    assert len(stack.github.dispatches) == 1


def test_concurrent_commands_are_each_dispatched_once(stack: Stack) -> None:
    def one(i: int) -> tuple[dict[str, Any], int]:
        payload, response = stack.command("diagnose", {"target": "staging"}, user_id=str(10**17 + i))
        return payload, response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(24)))
    assert all(status == 200 for _, status in results)  # how fast: the benchmark's load rows, not a test
    assert stack.runtime.queue.wait_idle(timeout=60)
    assert len(stack.github.dispatches) == 24
    traces = {d["inputs"]["trace_id"] for d in stack.github.dispatches}
    assert len(traces) == 24
    for payload, _ in results:
        message = stack.discord.message_for(payload["token"])
        assert message is not None and message.get("components")


def test_rejected_dispatch_is_explained(stack: Stack) -> None:
    stack.github.workflows["diagnose.yml"] = FakeWorkflow(id=1, name="Diagnose", dispatchable=False)
    payload, _ = stack.command("diagnose", {"target": "staging"})
    assert stack.runtime.queue.wait_idle(timeout=20)
    message = stack.discord.message_for(payload["token"])
    assert message is not None
    embed = message["embeds"][0]
    assert "not started" in embed["title"] and "workflow_dispatch" in embed["description"]
    assert stack.github.runs == []


def test_expired_interaction_token_does_not_break_the_worker(stack: Stack) -> None:
    payload = stack.signer.application_command("diagnose", {"target": "staging"})
    stack.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=False)
    stack.discord.expire_interaction(payload["token"])
    body = stack.signer.encode(payload)
    stack.client.post("/interactions", content=body, headers=stack.signer.headers(body))
    assert stack.runtime.queue.wait_idle(timeout=20)
    assert len(stack.github.dispatches) == 1
    assert len(stack.discord.requests_to("PATCH")) == 1  # a 404 webhook is never retried
    assert stack.runtime.queue.dead_letters == []


def test_serve_command_line(tmp_path: Path, signer: InteractionSigner) -> None:
    """`python -m orchestrator serve` as an operator runs it: JSON lines out, signed requests in."""
    env = {
        **os.environ,
        "DISCORD_PUBLIC_KEY": signer.public_key_hex,
        "DISCORD_APPLICATION_ID": signer.application_id,
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "GITHUB_REPOSITORY": "acme/delivery",
        "STATE_STORE": f"sqlite:///{tmp_path / 'state.db'}",
        "LOG_LEVEL": "INFO",
    }
    with serve_running(tmp_path, env) as serve:  # on the port the system chooses, read from its log
        body = signer.encode(signer.ping())
        assert httpx.post(f"{serve.url}/interactions", content=body, headers=signer.headers(body)).json() == {"type": 1}
    stdout, stderr = serve.log_path.read_text(), (tmp_path / "serve.stderr").read_text()
    assert serve.process.returncode == 0, stderr
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert lines and all(line["service"] == "orchestrator" and line["fn"] == "serve" for line in lines)
    assert GITHUB_TOKEN not in stdout + stderr


def address(stack: Stack) -> tuple[str, int]:
    host, port = stack.runtime.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def test_a_stalled_client_is_hung_up_on(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Slowloris: headers that never end must not hold a thread for ever."""
    monkeypatch.setattr(local_server._Handler, "timeout", 0.3)
    with socket.create_connection(address(stack)) as slow:
        slow.sendall(b"POST /interactions HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and then nothing
        slow.settimeout(10)  # a bound on the test, not on the server: it hangs up long before
        rest = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := slow.recv(1024):
                rest += chunk
    assert b"200" not in rest
    assert stack.client.get("/healthz").status_code == 200  # and the server still serves


def test_fifty_connections_at_once_are_all_answered(stack: Stack) -> None:
    barrier = threading.Barrier(50)

    def one(_: int) -> int:
        with socket.create_connection(address(stack)) as connection:
            barrier.wait(timeout=30)
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            connection.settimeout(30)
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
            return int(answer.split(b" ", 2)[1])

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert statuses == [200] * 50


def test_past_the_connection_cap_a_client_gets_503(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_server, "MAX_CONNECTIONS", 2)
    idle = [socket.create_connection(address(stack)) for _ in range(2)]
    try:
        time.sleep(0.2)  # let the server accept them (ordering, not a timing assertion)
        response = httpx.get(stack.runtime.url + "/healthz", timeout=10)
        assert response.status_code == 503 and response.json() == {"error": "too many open connections"}
    finally:
        for connection in idle:
            connection.close()
