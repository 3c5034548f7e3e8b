"""Secrets from SSM are asked for again on use (through Powertools' cache): a rotation needs no restart."""

from __future__ import annotations

import secrets

import httpx
import pytest

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.observability.redaction import active_redactor
from orchestrator.settings import Role, SecretUnavailable, Settings, load_settings

APPLICATION_ID = "111111111111111111"


def token() -> str:
    return "ghp_" + secrets.token_hex(18)


class Ssm:
    """A resolver standing in for Powertools Parameters (whose own cache decides how often SSM is asked)."""

    def __init__(self, **values: str) -> None:
        self.values = values
        self.failing = False
        self.reads = 0

    def __call__(self, name: str) -> str:
        self.reads += 1
        if self.failing:
            raise ConnectionError("SSM unreachable")
        return self.values[name]


def worker_settings(ssm: Ssm, **parameters: str) -> Settings:
    """Worker settings whose secrets are SSM parameters (`NAME_PARAMETER=...`) read through `ssm`."""
    return load_settings(
        {
            "DISCORD_APPLICATION_ID": APPLICATION_ID,
            "GITHUB_REPOSITORY": "acme/ops",
            "STATE_STORE": "memory://",
            **{f"{name}_PARAMETER": parameter for name, parameter in parameters.items()},
        },
        roles={Role.WORKER},
        in_lambda=False,
        resolve_secret=ssm,
    )


def test_a_rotated_github_token_is_used_on_the_next_request() -> None:
    first, second = token(), token()
    ssm = Ssm(**{"/bot/github": first, "/bot/discord": "discord-bot-token-" + secrets.token_hex(8)})
    settings = worker_settings(ssm, GITHUB_TOKEN="/bot/github")
    seen: list[str] = []

    def github(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"id": 1})

    client = GitHubClient(
        httpx.Client(transport=httpx.MockTransport(github)), "https://api.test", settings.github_token_source(), "a/b"
    )
    client.get_run(1)
    ssm.values["/bot/github"] = second
    client.get_run(1)
    ssm.failing = True
    client.get_run(1)  # SSM down: the last good token is kept
    assert seen == [f"Bearer {first}", f"Bearer {second}", f"Bearer {second}"]
    assert second not in active_redactor().text(f"token {second}"), "a rotated secret is redacted too"


def test_a_rotated_bot_token_is_used_for_channel_posts() -> None:
    first, second = "bot-" + secrets.token_hex(12), "bot-" + secrets.token_hex(12)
    ssm = Ssm(**{"/bot/github": token(), "/bot/discord": first})
    settings = worker_settings(ssm, GITHUB_TOKEN="/bot/github", DISCORD_BOT_TOKEN="/bot/discord")
    seen: list[str] = []

    def discord(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"id": "1"})

    bot = settings.discord_bot_token_source()
    assert bot is not None
    client = DiscordClient(httpx.Client(transport=httpx.MockTransport(discord)), "https://d.test", APPLICATION_ID, bot)
    client.post_in_channel("222222222222222222", {"content": "hi"})
    ssm.values["/bot/discord"] = second
    client.post_in_channel("222222222222222222", {"content": "hi"})
    assert seen == [f"Bot {first}", f"Bot {second}"]
    assert "HeaderAuth(Bot)" in repr(client._bot_auth) and first not in repr(client._bot_auth)


def test_plain_values_stay_as_given() -> None:
    value = token()
    settings = load_settings(
        {
            "DISCORD_APPLICATION_ID": APPLICATION_ID,
            "GITHUB_TOKEN": value,
            "GITHUB_REPOSITORY": "acme/ops",
            "STATE_STORE": "memory://",
        },
        roles={Role.WORKER},
        in_lambda=False,
    )
    assert settings.github_token_source()() == value
    assert settings.discord_bot_token_source() is None


def test_a_lazy_secret_never_read_reports_ssm_down() -> None:
    ssm = Ssm(**{"/bot/github": token()})
    settings = worker_settings(ssm, GITHUB_TOKEN="/bot/github", GITHUB_WEBHOOK_SECRET="/bot/webhook")
    assert settings.github_webhook_secret is not None
    ssm.failing = True
    with pytest.raises(SecretUnavailable):
        settings.github_webhook_secret.get()


def test_a_value_given_directly_wins_over_its_parameter() -> None:
    ssm = Ssm(**{"/bot/github": token(), "/bot/webhook": "from-ssm-" + secrets.token_hex(12)})
    given = "given-" + secrets.token_hex(12)
    settings = load_settings(
        {
            "DISCORD_APPLICATION_ID": APPLICATION_ID,
            "GITHUB_TOKEN_PARAMETER": "/bot/github",
            "GITHUB_REPOSITORY": "acme/ops",
            "GITHUB_WEBHOOK_SECRET": given,
            "GITHUB_WEBHOOK_SECRET_PARAMETER": "/bot/webhook",
            "STATE_STORE": "memory://",
        },
        roles={Role.WORKER},
        in_lambda=False,
        resolve_secret=ssm,
    )
    assert settings.github_webhook_secret is not None
    assert settings.github_webhook_secret.get() == given
