"""A commands file with every option type, a stand-in Discord on loopback, and `register` run in-process."""

from __future__ import annotations

import base64
import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSet
from orchestrator.observability.logging import configure_logging
from orchestrator.observability.redaction import active_redactor, install
from orchestrator_dev.standins.fake_discord import FakeDiscord
from tests.conftest import ADMIN_ROLE, ADMIN_USER

APP_ID = "1234567890123456789"
GUILD_ID = "876543210987654321"
OTHER_GUILD_ID = "765432109876543210"

REGISTRATION_YAML = f"""
commands:
  diagnose:
    description: Run diagnostics
    workflow: diagnose.yml
    options:
      - name: target
        type: string
        description: Environment
        required: true
        choices: [staging, production]
      - name: count
        type: integer
        description: How many
        choices: [0, 1, 5]
      - name: ratio
        type: number
        description: A ratio
        choices: [0.5, 2]
      - name: verbose
        type: boolean
        description: More output
  deploy:
    description: Deploy to production
    workflow: deploy.yml
    allow:
      roles: ["{ADMIN_ROLE}"]
      users: ["{ADMIN_USER}"]
"""

# Settings that could leak in from the developer's shell and change what a test means.
_ENV_NAMES = (
    "DISCORD_APPLICATION_ID",
    "DISCORD_BOT_TOKEN",
    "DISCORD_BOT_TOKEN_PARAMETER",
    "DISCORD_API_URL",
    "DISCORD_PUBLIC_KEY",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "COMMANDS_FILE",
    "ENABLE_DEBUG_CMD",
    "ENABLE_ALERTS",
    "STATE_STORE",
    "LOG_LEVEL",
    "AWS_LAMBDA_FUNCTION_NAME",
)


def generated_bot_token() -> str:
    """A fresh token in Discord's shape (application id, base64url, then two random parts)."""
    head = base64.urlsafe_b64encode(APP_ID.encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(5)[:6]}.{secrets.token_urlsafe(30)[:38]}"


@pytest.fixture
def bot_token() -> str:
    return generated_bot_token()


@pytest.fixture
def registration_file(tmp_path: Path) -> Path:
    path = tmp_path / "commands.yaml"
    path.write_text(REGISTRATION_YAML, encoding="utf-8")
    return path


@pytest.fixture
def command_set(registration_file: Path) -> CommandSet:
    return load_commands(registration_file)


@pytest.fixture
def discord(bot_token: str) -> Iterator[FakeDiscord]:
    with FakeDiscord(APP_ID, bot_token, guilds=[GUILD_ID]) as server:
        yield server


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


Register = Callable[..., Run]


@pytest.fixture(autouse=True)
def _restore_process_state() -> Iterator[None]:
    """`register` points the logger at its stderr (captured, then closed) and installs a redactor."""
    redactor = active_redactor()
    yield
    install(redactor)
    configure_logging("test", stream=io.StringIO())


@pytest.fixture
def register(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    discord: FakeDiscord,
    bot_token: str,
    registration_file: Path,
) -> Register:
    """`python -m orchestrator register ARGS` against the stand-in; every run is checked for the token."""
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    # Waits (429s, back-off) are not what these tests measure.
    monkeypatch.setattr("orchestrator.clients.retries.time.sleep", lambda _seconds: None)
    base = {
        "DISCORD_APPLICATION_ID": APP_ID,
        "DISCORD_BOT_TOKEN": bot_token,
        "DISCORD_API_URL": discord.api_url,
        "COMMANDS_FILE": str(registration_file),
    }

    def run(*args: str, **env: str | None) -> Run:
        for name, value in {**base, **env}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        code = main(["register", *args])
        captured = capsys.readouterr()
        assert bot_token not in captured.out + captured.err
        return Run(code, captured.out, captured.err)

    return run
