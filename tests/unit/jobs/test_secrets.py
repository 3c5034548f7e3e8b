"""Credentials never reach a log line: the GitHub token and the interaction token (a webhook credential)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from orchestrator.clients.discord_api import DiscordUnavailable
from orchestrator.dispatch.dispatcher import RetryLater
from orchestrator.jobs.envelopes import Job
from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.worker import GITHUB_TOKEN, Harness, HarnessFactory, free_port

DISPATCH_PATH = r"/dispatches$"


def run_good_and_bad_paths(make_harness: HarnessFactory) -> list[Job]:
    """A happy path and every kind of failure, each leaving its own log lines."""
    harness = make_harness()
    jobs: list[Job] = []

    happy = harness.job()
    harness.process(happy)
    jobs.append(happy)

    rejected = harness.job()
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, status=403, body={"message": "Forbidden"}))
    harness.process(rejected)
    jobs.append(rejected)

    lost = harness.job()
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, drop=True))
    harness.process(lost)
    jobs.append(lost)

    discord_down = harness.job()
    harness.discord.inject(*(Fault(method="PATCH", status=500) for _ in range(4)))
    with pytest.raises(DiscordUnavailable):
        harness.process(discord_down)
    jobs.append(discord_down)

    expired = harness.job()
    harness.discord.expire_interaction(expired.interaction_token)
    harness.process(expired)
    jobs.append(expired)

    down = make_harness(github_url=f"http://127.0.0.1:{free_port()}")
    unreachable = down.job()
    with pytest.raises(RetryLater):
        down.process(unreachable)
    down.process(unreachable, final_attempt=True)
    jobs.append(unreachable)
    return jobs


def test_no_token_in_our_log_lines(make_harness: HarnessFactory, worker_logs: io.StringIO) -> None:
    jobs = run_good_and_bad_paths(make_harness)

    text = worker_logs.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) > 20  # the paths above were logged (at DEBUG and up), so the check below means something
    messages = {line["msg"] for line in lines}
    assert {
        "dispatch finished",
        "user message updated",
        "interaction token no longer valid: continuing in the channel",
    } <= messages
    assert {line["correlation_id"] for line in lines if line["msg"] == "dispatch finished"} == {
        job.invocation.interaction_id for job in jobs
    }
    assert GITHUB_TOKEN not in text
    assert GITHUB_TOKEN.removeprefix("ghp_") not in text
    for job in jobs:
        assert job.interaction_token not in text
        assert job.interaction_token[-40:] not in text  # not even a tail of it


def test_tokens_do_not_appear_in_exception_messages(make_harness: HarnessFactory) -> None:
    """Exceptions end up in logs and dead-letter reports: their text must not carry credentials."""
    harness = make_harness()
    job = harness.job()
    harness.discord.inject(*(Fault(method="PATCH", status=500) for _ in range(4)))
    with pytest.raises(DiscordUnavailable) as discord_error:
        harness.process(job)
    down = make_harness(github_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RetryLater) as github_error:
        down.process(down.job())

    for caught in (discord_error, github_error):
        text = f"{caught.value!r} {caught.value}"
        assert GITHUB_TOKEN not in text
        assert job.interaction_token not in text


def test_no_token_in_any_log_record_of_any_library(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Libraries' records too: httpx logs each request URL at INFO, and the webhook URL holds the token.
    A root handler at INFO (Lambda's JSON log format, logging.basicConfig) would write it out."""
    caplog.set_level(logging.INFO)
    harness = make_harness()
    job = harness.job()

    harness.process(job)

    leaks = [
        f"{record.name}: {record.getMessage()[:120]}"
        for record in caplog.records
        if job.interaction_token in record.getMessage() or GITHUB_TOKEN in record.getMessage()
    ]
    assert leaks == []


def test_harness_sanity_tokens_are_realistic(harness: Harness) -> None:
    job = harness.job()

    assert job.interaction_token.startswith("aW50ZXJhY3Rpb246")  # base64 of "interaction:"
    assert len(job.interaction_token) > 150
    assert GITHUB_TOKEN.startswith("ghp_")
    assert len(GITHUB_TOKEN) == 40
