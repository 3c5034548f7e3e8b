"""Alerts against the real local server: the same failure, repeated and concurrent, alerts once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from orchestrator.adapters.local_server import LocalRuntime
from orchestrator.settings import load_settings
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeWorkflow
from orchestrator_dev.standins.signing import InteractionSigner

GITHUB_TOKEN = "ghp_" + "alerts" * 6
BOT_TOKEN = "MTE1MDAwMDAwMDAwMDAwMDAwMDE.GtestX.test-bot-token-0123456789abcdef"
OPS = "1150000000000000099"
NO_TRIGGER = FakeWorkflow(id=1, name="Diagnose", dispatchable=False)


@pytest.fixture
def stack(tmp_path: Path, signer: InteractionSigner) -> Iterator[tuple[LocalRuntime, FakeGitHub, FakeDiscord]]:
    with (
        FakeGitHub(GITHUB_TOKEN, "acme/delivery", {"diagnose.yml": NO_TRIGGER}) as github,
        FakeDiscord(signer.application_id, bot_token=BOT_TOKEN) as discord,
    ):
        settings = load_settings(
            {
                "DISCORD_PUBLIC_KEY": signer.public_key_hex,
                "DISCORD_APPLICATION_ID": signer.application_id,
                "DISCORD_API_URL": discord.api_url,
                "DISCORD_BOT_TOKEN": BOT_TOKEN,
                "GITHUB_TOKEN": GITHUB_TOKEN,
                "GITHUB_REPOSITORY": "acme/delivery",
                "GITHUB_API_URL": github.url,
                "STATE_STORE": f"sqlite:///{tmp_path / 'state.db'}",
                "ENABLE_ALERTS": "true",
                "ALERT_CHANNEL_ID": OPS,
            },
            in_lambda=False,
        )
        runtime = LocalRuntime(settings, port=0, workers=4)
        runtime.start()
        try:
            yield runtime, github, discord
        finally:
            runtime.stop()


def test_the_same_failure_many_times_at_once_alerts_once(
    stack: tuple[LocalRuntime, FakeGitHub, FakeDiscord], signer: InteractionSigner
) -> None:
    runtime, github, discord = stack
    github.contents_readable = False  # GitHub's own 422, not the worker's check before it

    def command(i: int) -> int:
        payload = signer.application_command("diagnose", {"target": "staging"}, user_id=str(10**17 + i))
        discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=False)
        body = signer.encode(payload)
        with httpx.Client(base_url=runtime.url, timeout=10) as client:
            return client.post("/interactions", content=body, headers=signer.headers(body)).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(command, range(16))) == {200}
    assert runtime.queue.wait_idle(timeout=60)
    [alert] = discord.channel_messages(OPS)
    assert "GitHub refused the dispatch (422)" in alert["embeds"][0]["title"]
    assert len(github.requests_to("POST")) == 16  # every user's command was really tried, and told why
    assert GITHUB_TOKEN not in str(alert) and BOT_TOKEN not in str(alert)
