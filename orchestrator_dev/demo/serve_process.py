"""`python -m orchestrator serve` as a process of its own, wired to the stand-ins in this process:
what the load test sends its commands to, and what the crash tests kill and start again."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.signing import InteractionSigner

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
LOG_FILE = "serve.log"
_HEALTH_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def serve_environment(
    workdir: Path,
    signer: InteractionSigner,
    github: FakeGitHub,
    discord: FakeDiscord,
    *,
    github_token: str,
    commands_yaml: str,
    **overrides: str,
) -> dict[str, str]:
    """serve's settings: the stand-ins, a commands file and a state file in `workdir`; no webhooks,
    alerts or bot token whatever the caller's environment says; `overrides` on top."""
    commands_file = workdir / "commands.yaml"
    commands_file.write_text(commands_yaml, encoding="utf-8")
    return {
        **os.environ,
        "DISCORD_PUBLIC_KEY": signer.public_key_hex,
        "DISCORD_APPLICATION_ID": signer.application_id,
        "DISCORD_API_URL": discord.api_url,
        "GITHUB_TOKEN": github_token,
        "GITHUB_REPOSITORY": github.repository,
        "GITHUB_API_URL": github.url,
        "COMMANDS_FILE": str(commands_file),
        "STATE_STORE": f"sqlite:///{workdir / 'state.db'}",
        "LOG_LEVEL": "INFO",
        "BUTTON_SIGNING_SECRET": secrets.token_urlsafe(32),
        "GITHUB_WEBHOOK_SECRET": "",
        "ENABLE_ALERTS": "false",
        "ENABLE_DEBUG_CMD": "false",
        "DISCORD_BOT_TOKEN": "",
        **overrides,
    }


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log_lines(self) -> list[dict[str, object]]:
        return [entry for line in _read(self.log_path).splitlines() if (entry := json_line(line))]


@contextmanager
def serve_running(workdir: Path, environment: Mapping[str, str], *arguments: str) -> Iterator[ServeProcess]:
    """serve on a free loopback port, its log lines appended to workdir/serve.log; stopped (SIGTERM,
    then SIGKILL) on the way out unless already dead."""
    log_path, errors_path = workdir / LOG_FILE, workdir / "serve.stderr"
    command = [sys.executable, "-m", "orchestrator", "serve", "--host", "127.0.0.1", "--port", "0", *arguments]
    with log_path.open("a", encoding="utf-8") as log, errors_path.open("a", encoding="utf-8") as errors:
        start = log.tell()
        process = subprocess.Popen(  # noqa: S603 - this interpreter running this package
            command, env=dict(environment), stdout=log, stderr=errors, stdin=subprocess.DEVNULL
        )
        try:
            yield ServeProcess(process, _wait_for_url(process, log_path, start, errors_path), log_path)
        finally:
            stop_serve(process)


def stop_serve(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_SECONDS)


def _wait_for_url(process: subprocess.Popen[bytes], log_path: Path, start: int, errors_path: Path) -> str:
    """The address from this run's "serving" log line (it picked the port), once it answers /healthz."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}: {_tail(errors_path)}")
        url = logged_url(log_path, "serving", start)
        if url is not None and httpx.get(f"{url}/healthz", timeout=_HEALTH_TIMEOUT).status_code == 200:
            return url
        time.sleep(0.05)
    raise RuntimeError(f"serve did not start within {START_TIMEOUT_SECONDS:g} s: {_tail(errors_path)}")


def logged_url(log_path: Path, message: str, start: int = 0) -> str | None:
    """The `url` of the first log line saying `message` from byte `start` on: where a process that
    chose its own port (`--port 0`, `--health-port 0`) is listening. None while not yet logged."""
    for line in log_path.read_bytes()[start:].decode("utf-8", errors="replace").splitlines():
        entry = json_line(line)
        if entry.get("msg") == message and isinstance(entry.get("url"), str):
            return str(entry["url"])
    return None


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def json_line(line: str) -> dict[str, object]:
    """One log line's fields; none for a line that is not a JSON object."""
    try:
        entry = json.loads(line)
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}


def _tail(path: Path) -> str:
    return _read(path)[-2000:].strip() or "(nothing on stderr)"
