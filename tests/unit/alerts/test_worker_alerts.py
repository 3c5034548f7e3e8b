"""Alerts the worker raises when GitHub refuses a dispatch; the user's outcome never depends on them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.alerts.alerter import Alerter
from orchestrator.clients import discord_api, github_api
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.commands.loader import load_commands
from orchestrator.composition.worker import assemble_worker
from orchestrator.dispatch.dispatcher import Dispatcher
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.observability.metrics import MemoryMetrics
from orchestrator.state.sqlite import SqliteJobStore
from orchestrator.state.store import StateStore, open_state_store
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.http_standin import Fault
from tests.conftest import RecordingQueue
from tests.fixtures.alerts import ALERT_CHANNEL, BOT_TOKEN, Clock
from tests.fixtures.worker import (
    APPLICATION_ID,
    COMMANDS_YAML,
    GITHUB_TOKEN,
    PROMPT,
    REPO,
    WORKFLOWS,
    Harness,
    context,
    http_client,
)

AlertHarnessFactory = Callable[..., Harness]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, name in ((github_api, "DISPATCH_POLICY"), (github_api, "READ_POLICY"), (discord_api, "EDIT_POLICY")):
        policy = getattr(module, name)
        monkeypatch.setattr(module, name, dataclasses.replace(policy, base_backoff_seconds=0.001))


@pytest.fixture(params=["memory", "sqlite"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    store = open_state_store("memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/state.db")
    yield store
    if isinstance(store.jobs, SqliteJobStore):
        store.jobs._db.close()


@pytest.fixture
def bot_discord() -> Iterator[FakeDiscord]:
    with FakeDiscord(APPLICATION_ID, bot_token=BOT_TOKEN) as server:
        yield server


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(GITHUB_TOKEN, REPO, WORKFLOWS, refs={"main"}) as server:
        yield server


@pytest.fixture
def make_harness(
    github: FakeGitHub, bot_discord: FakeDiscord, state: StateStore, tmp_path: Path
) -> Iterator[AlertHarnessFactory]:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "diagnose.md").write_text(PROMPT, encoding="utf-8")
    commands_path = tmp_path / "commands.yaml"
    commands_path.write_text(COMMANDS_YAML, encoding="utf-8")
    clients: list[httpx.Client] = []

    def make(*, alerts: bool = True) -> Harness:
        github_http, discord_http = http_client(), http_client()
        clients.extend([github_http, discord_http])
        github_client = GitHubClient(github_http, github.url, GITHUB_TOKEN, REPO)
        dispatcher = Dispatcher(github_client, state.jobs, REPO, sleep=lambda seconds: None, find_attempts=2)
        discord = DiscordClient(discord_http, bot_discord.api_url, APPLICATION_ID, bot_token=BOT_TOKEN)
        metrics = MemoryMetrics()
        alerter = Alerter(state.alerts, discord, ALERT_CHANNEL, metrics, enabled=True, clock=Clock())
        worker = assemble_worker(
            load_commands(commands_path),
            state,
            github_client,
            discord,
            dispatcher,
            ButtonSigner(b"alerts-harness-signing-secret-01"),
            RecordingQueue(),
            metrics,
            webhooks=False,
            alerter=alerter if alerts else None,
        )
        return Harness(worker, github, bot_discord, state)

    yield make
    for client in clients:
        client.close()


def process(harness: Harness, command: str) -> Any:
    job = harness.job(command, {})
    harness.worker.process(job.to_message(), context=context(), final_attempt=False)
    return job


def alert_posts(discord: FakeDiscord) -> list[dict[str, Any]]:
    return discord.channel_messages(ALERT_CHANNEL)


@pytest.mark.parametrize(
    ("command", "phrase"),
    [
        ("ghost", "GitHub cannot find the workflow (404): missing.yml"),
        ("nightly", "The command and its workflow disagree: nightly.yml"),
    ],
)
def test_refused_dispatch_raises_one_alert_with_the_trace(
    make_harness: AlertHarnessFactory, command: str, phrase: str
) -> None:
    harness = make_harness()
    job = process(harness, command)

    [post] = alert_posts(harness.discord)
    embed = post["embeds"][0]
    assert phrase in embed["title"]
    assert embed["title"].startswith("⚠️ ERROR")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["trace"] == f"`{job.invocation.trace_id[:8]}`"
    assert fields["command"] == f"/{command}"
    assert harness.record(job).status == "rejected"


def test_same_refusal_five_times_posts_once(make_harness: AlertHarnessFactory) -> None:
    harness = make_harness()
    jobs = [process(harness, "ghost") for _ in range(5)]
    assert len(alert_posts(harness.discord)) == 1
    assert len(harness.dispatch_posts()) == 5
    assert all(harness.record(job).status == "rejected" for job in jobs)


def outcome(harness: Harness, job: Any) -> tuple[Any, ...]:
    record = harness.record(job)
    message = harness.message(job)
    text = (
        repr(message["embeds"]).replace(job.invocation.trace_id, "TRACE").replace(job.invocation.trace_id[:8], "TRACE")
    )
    text = text.replace(job.invocation.interaction_id, "ID")
    return record.status, record.detail, record.run_id, text, repr(message.get("components"))


@pytest.mark.parametrize(
    "fault",
    [Fault(method="POST", path=r"/channels/[0-9]+/messages$", status=500), Fault(method="POST", drop=True)],
    ids=["alert-post-500", "alert-post-dropped"],
)
def test_user_outcome_unchanged_when_alert_post_fails(make_harness: AlertHarnessFactory, fault: Fault) -> None:
    baseline = make_harness(alerts=False)
    expected_job = process(baseline, "ghost")
    expected = outcome(baseline, expected_job)

    harness = make_harness()
    harness.discord.inject(fault)
    job = process(harness, "ghost")

    assert alert_posts(harness.discord) == []
    got = outcome(harness, job)
    assert got[:3] == expected[:3]
    assert got[3] == expected[3].replace(expected_job.invocation.interaction_id, "ID")


def test_a_dispatch_whose_outcome_is_unknown_raises_an_alert(make_harness: AlertHarnessFactory) -> None:
    harness = make_harness()
    for _ in range(5):  # every dispatch GitHub is sent answers 502, so no run is ever known
        harness.github.inject(Fault(method="POST", path=r"/dispatches$", status=502))
    job = harness.job("diagnose", {"target": "staging"})
    harness.worker.process(job.to_message(), context=context(), final_attempt=True)
    assert harness.record(job).status == "unknown"
    [post] = alert_posts(harness.discord)
    assert "Dispatch outcome unknown: diagnose.yml" in post["embeds"][0]["title"]
    assert "look for it on GitHub" in post["embeds"][0]["description"]
