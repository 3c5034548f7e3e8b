"""Alerts off, half configured, or rate limited by Discord: safe defaults, one warning, waits honoured."""

from __future__ import annotations

import dataclasses
import io
import json
import time
import uuid

import pytest

from orchestrator.alerts.model import Alert
from orchestrator.settings import Settings, load_settings
from orchestrator.state.memory import MemoryAlertStore
from orchestrator_dev.standins.fake_discord import FakeDiscord
from tests.fixtures.alerts import ALERT_CHANNEL, BOT_TOKEN, AlerterFactory, Clock

MISSING = "ALERT_CHANNEL_ID or DISCORD_BOT_TOKEN is missing"


def alert(n: int) -> Alert:
    word = "".join(chr(ord("k") + int(d)) for d in f"{n:02d}")
    return Alert("critical", "worker", f"Problem {word}", "cause", trace_id=uuid.uuid4().hex)


def log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_disabled_posts_nothing(make_alerter: AlerterFactory, discord: FakeDiscord, captured_logs: io.StringIO) -> None:
    alerter = make_alerter(MemoryAlertStore(), enabled=False)
    assert [alerter.raise_alert(alert(n)) for n in range(3)] == [False] * 3
    assert discord.requests == []
    assert MISSING not in captured_logs.getvalue()


@pytest.mark.parametrize(
    ("channel_id", "bot_token"), [(None, BOT_TOKEN), (ALERT_CHANNEL, None), (None, None), ("", BOT_TOKEN)]
)
def test_half_configured_warns_once(
    make_alerter: AlerterFactory,
    discord: FakeDiscord,
    captured_logs: io.StringIO,
    channel_id: str | None,
    bot_token: str | None,
) -> None:
    alerter = make_alerter(MemoryAlertStore(), channel_id=channel_id, bot_token=bot_token)
    assert [alerter.raise_alert(alert(n)) for n in range(20)] == [False] * 20
    assert discord.requests == []
    warnings = [line for line in log_lines(captured_logs) if MISSING in str(line.get("msg"))]
    assert len(warnings) == 1
    assert warnings[0]["level"] in ("warn", "warning")


def settings(**overrides: object) -> Settings:
    """Settings as loaded (alerts on, a channel and a bot token), with some attributes replaced."""
    loaded = load_settings(
        {
            "DISCORD_APPLICATION_ID": "111111111111111111",
            "STATE_STORE": "memory://",
            "ENABLE_ALERTS": "true",
            "ALERT_CHANNEL_ID": ALERT_CHANNEL,
            "DISCORD_BOT_TOKEN": BOT_TOKEN,
        },
        roles=(),
        in_lambda=False,
    )
    return dataclasses.replace(loaded, **overrides)  # type: ignore[arg-type]


def test_alert_problems_lists_missing_settings() -> None:
    assert settings().alert_problems() == []
    assert settings(enable_alerts=False, alert_channel_id=None, discord_bot_token=None).alert_problems() == []
    [channel] = settings(alert_channel_id=None).alert_problems()
    assert channel.startswith("ALERT_CHANNEL_ID")
    [token] = settings(discord_bot_token=None).alert_problems()
    assert token.startswith("DISCORD_BOT_TOKEN")
    both = settings(alert_channel_id=None, discord_bot_token=None).alert_problems()
    assert [p.split(":")[0] for p in both] == ["ALERT_CHANNEL_ID", "DISCORD_BOT_TOKEN"]
    assert BOT_TOKEN not in " ".join(both)


def test_discord_429_retry_after_is_honoured(make_alerter: AlerterFactory, discord: FakeDiscord, clock: Clock) -> None:
    discord.rate_limit_next(1, 0.2)
    alerter = make_alerter(MemoryAlertStore())

    started = time.monotonic()
    assert alerter.raise_alert(alert(1))
    waited = time.monotonic() - started

    assert waited >= 0.2
    assert len(discord.requests_to("POST", "/api/v10/channels/")) == 2
    assert len(make_alerter.posts()) == 1
