"""Fault injection: the worker of tests/unit/jobs (real parts, loopback stand-ins) with alerts on, short client
timeouts, the clients' retry waits recorded instead of slept, generated tokens, and every job delivered as
SQS delivers it to the Lambda: through `process_batch`, once per receive, until it stops failing.

Fixtures of other directories' conftest files are not visible here: the jobs harness's are imported (the
ones below override its GitHub, Discord and state store with a bot token, generated tokens, memory state).
"""

from __future__ import annotations

import json
import secrets
import string
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest

from orchestrator.adapters.sqs_batch import process_batch
from orchestrator.jobs.envelopes import Job
from orchestrator.state.store import StateStore, open_state_store
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.signing import snowflake
from tests.fixtures.worker import (
    APPLICATION_ID,
    CHANNEL_ID,
    REPO,
    WORKFLOWS,
    Harness,
    HarnessFactory,
    context,
    http_client,
    link_button,
)

_ALNUM = string.ascii_letters + string.digits
# Made afresh for each run, shaped as the real ones are: if one leaks, the search for it cannot miss.
GITHUB_TOKEN = "ghp_" + "".join(secrets.choice(_ALNUM) for _ in range(36))
BOT_TOKEN = ".".join(("MTE" + secrets.token_urlsafe(18), secrets.token_urlsafe(5), secrets.token_urlsafe(28)))
ALERT_CHANNEL = snowflake()
# The queue's maxReceiveCount (template.yaml): the last receive is the worker's final attempt.
MAX_RECEIVES = 5
# Past the clients' timeout, but not by much: a slow answer costs a test this long, not the real 10 s.
CLIENT_TIMEOUT = httpx.Timeout(0.25, connect=1.0)
SLOW = 1.0
# A receive's deadline. Powertools keeps a job "in progress" until then; SQS's visibility timeout is
# longer than the Lambda's, so a redelivery always comes after it.
RECEIVE_SECONDS = 0.05

Category = Literal["started", "not started", "unknown", "nothing shown"]


@pytest.fixture(autouse=True)
def quick_retries(fast_backoff: None) -> None:
    """The shipped retry policies, without their seconds of backoff (the faults make them retry)."""


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(GITHUB_TOKEN, REPO, WORKFLOWS, refs={"main"}) as server:
        yield server


@pytest.fixture
def fake_discord() -> Iterator[FakeDiscord]:
    with FakeDiscord(APPLICATION_ID, bot_token=BOT_TOKEN) as server:
        yield server


@pytest.fixture
def state() -> StateStore:
    """Memory: HTTP faults do not depend on the backend (test_state_throttling.py brings DynamoDB)."""
    return open_state_store("memory://")


def sqs_event(body: str, receive_count: int) -> dict[str, Any]:
    """One SQS record as the event source mapping hands it to the worker function."""
    now_ms = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": f"m-{receive_count}",
                "receiptHandle": f"r-{receive_count}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": now_ms,
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:work",
                "awsRegion": "us-east-1",
            }
        ]
    }


@dataclass
class FaultRig:
    harness: Harness
    waits: list[float] = field(default_factory=list)  # what the clients would have slept, in order

    @property
    def github(self) -> FakeGitHub:
        return self.harness.github

    @property
    def discord(self) -> FakeDiscord:
        return self.harness.discord

    def job(self, command: str = "diagnose", options: Mapping[str, Any] | None = None) -> Job:
        return self.harness.job(command, options)

    def deliver(self, job: Job, receives: int = MAX_RECEIVES) -> int:
        """Receive the job's message until a receive succeeds or `receives` are used; how many failed.

        An exception the batch processor does not turn into an item failure fails the test here."""
        failed = 0
        for count in range(1, receives + 1):
            answer = process_batch(
                self.harness.worker,
                sqs_event(job.to_message(), count),
                context(RECEIVE_SECONDS),
                max_receives=MAX_RECEIVES,
            )
            if not answer["batchItemFailures"]:
                return failed
            failed += 1
            time.sleep(RECEIVE_SECONDS)  # the visibility timeout: the receive's claim has lapsed
        return failed

    def runs_for(self, job: Job) -> list[dict[str, Any]]:
        return self.harness.runs_for(job)

    def alerts(self) -> list[dict[str, Any]]:
        return self.discord.channel_messages(ALERT_CHANNEL)

    def shown(self, job: Job) -> dict[str, Any] | None:
        """What the user sees last: the interaction's message, or its continuation in the channel."""
        record = self.harness.state.jobs.get(job.invocation.interaction_id)
        if record is not None and record.channel_message_id:
            for message in self.discord.channel_messages(CHANNEL_ID):
                if message["id"] == record.channel_message_id:
                    return message
        return self.discord.message_for(job.interaction_token)

    def category(self, job: Job) -> Category:
        """What the user is told, as a category (the exact words may change)."""
        message = self.shown(job)
        if not message or not message.get("embeds"):
            return "nothing shown"
        title = str(message["embeds"][0].get("title", ""))
        if link_button(message) is not None or title.endswith("· started"):
            return "started"
        if title.endswith("· not started"):
            return "not started"
        assert title.endswith("· unknown"), f"a message of no known kind: {title!r}"
        return "unknown"


RigFactory = Callable[..., FaultRig]


@pytest.fixture
def make_rig(make_harness: HarnessFactory) -> RigFactory:
    def make(**options: Any) -> FaultRig:
        waits: list[float] = []
        options.setdefault("github_http", http_client(timeout=CLIENT_TIMEOUT))
        options.setdefault("discord_http", http_client(timeout=CLIENT_TIMEOUT))
        options.setdefault("bot_token", BOT_TOKEN)
        harness = make_harness(github_token=GITHUB_TOKEN, alert_channel=ALERT_CHANNEL, sleep=waits.append, **options)
        return FaultRig(harness, waits)

    return make


@pytest.fixture
def rig(make_rig: RigFactory) -> FaultRig:
    return make_rig()


def assert_truthful(rig: FaultRig, job: Job, expected: Category) -> None:
    """The user is told `expected`, and it is true: at most one run, linked when "started", none when
    "not started"."""
    runs = rig.runs_for(job)
    assert len(runs) <= 1, f"{len(runs)} runs were started for one interaction"
    assert rig.category(job) == expected
    message = rig.shown(job)
    if expected == "started":
        [run] = runs
        button = link_button(message or {})
        assert button is not None and button["url"] == run["html_url"]
        record = rig.harness.record(job)
        assert (record.status, record.run_id) == ("dispatched", run["id"])
        # Webhook deliveries find the job by its run.
        found = rig.harness.state.jobs.get_by_run(run["id"])
        assert found is not None and found.invocation.interaction_id == job.invocation.interaction_id
    if expected == "not started":
        assert runs == [], "the user was told nothing started, but a run did"


def assert_no_secrets(rig: FaultRig, logs: str, jobs: Sequence[Job]) -> None:
    """No token in a log line, in what was sent to Discord (messages and alerts), or in a stored trace."""
    sent = [json.dumps(r.json) for r in rig.discord.requests if r.json is not None]
    traces = [
        json.dumps(t.to_dict())
        for t in filter(None, (rig.harness.state.traces.latest(j.invocation.user_id) for j in jobs))
    ]
    tokens = {"GitHub token": GITHUB_TOKEN, "bot token": BOT_TOKEN}
    tokens.update({f"interaction token {n}": job.interaction_token for n, job in enumerate(jobs)})
    for where, text in (("logs", logs), *(("Discord", body) for body in sent), *(("traces", t) for t in traces)):
        for name, token in tokens.items():
            assert token not in text, f"the {name} appears in {where}"
