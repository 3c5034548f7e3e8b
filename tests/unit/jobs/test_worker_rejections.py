"""GitHub refuses: nothing started, the user told why in words they can act on, and no retry."""

from __future__ import annotations

import secrets
import string
import time
from pathlib import Path

import pytest

from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.worker import Harness, HarnessFactory, link_button

DISPATCH_PATH = r"/dispatches$"


def assert_not_started(harness: Harness, command: str, *phrases: str) -> str:
    """One dispatch attempt, no run, no lookup, a red "not started" message and a rejected record."""
    assert len(harness.dispatch_posts()) == 1
    assert harness.github.runs == []
    assert harness.run_lookups() == []  # a refusal is certain: nothing to look for
    [patch] = harness.patches()
    embed = patch.json["embeds"][0]
    assert embed["title"] == f"/{command} · not started"
    assert link_button(patch.json) is None
    description: str = embed["description"]
    assert "Nothing was started." in description
    for phrase in phrases:
        assert phrase in description
    return description


def test_401_bad_token(make_harness: HarnessFactory) -> None:
    harness = make_harness(github_token="ghp_" + "R" * 36)
    job = harness.job()

    harness.process(job)

    assert_not_started(harness, "diagnose", "rejected the bot's token (401)", "renew GITHUB_TOKEN")
    record = harness.record(job)
    assert record.status == "rejected"
    assert record.run_id is None
    assert record.detail is not None
    assert "401" in record.detail


def test_403_token_without_permission(harness: Harness) -> None:
    harness.github.inject(
        Fault(
            method="POST",
            path=DISPATCH_PATH,
            status=403,
            body={"message": "Resource not accessible by personal access token", "status": "403"},
        )
    )
    job = harness.job()

    harness.process(job)

    assert_not_started(harness, "diagnose", "(403)", "acme/ops", "Actions: write")
    assert harness.record(job).status == "rejected"


def test_404_unknown_workflow(harness: Harness) -> None:
    job = harness.job("ghost", {})

    harness.process(job)

    assert_not_started(harness, "ghost", "cannot find workflow `missing.yml`", "(404)", "commands file")
    assert harness.record(job).status == "rejected"


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("nightly", ("no `workflow_dispatch` trigger", "`nightly.yml`", "on: workflow_dispatch")),
        ("colourful", ("does not declare the inputs", '"colour"', "/colourful")),
        ("strict", ("requires input `approver`", "/strict does not send", "commands file")),
        ("stale", ("Branch or tag `release-9` does not exist in acme/ops", "`ref`")),
    ],
)
def test_422_explained(harness: Harness, command: str, phrases: tuple[str, ...]) -> None:
    # A token without Contents: read: the worker cannot compare the command with its workflow first.
    harness.github.contents_readable = False
    job = harness.job(command, {})

    harness.process(job)

    assert_not_started(harness, command, *phrases)
    record = harness.record(job)
    assert record.status == "rejected"
    assert record.detail == harness.embed(job)["description"]


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("nightly", ("`nightly.yml` (at main) has no workflow_dispatch trigger", "on: workflow_dispatch")),
        ("colourful", ("sends input 'colour', which", "does not declare", "declare it")),
        ("strict", ("never sends 'approver', which `strict.yml` (at main) requires", "give the input a default")),
    ],
)
def test_drift_is_caught_before_github_refuses(harness: Harness, command: str, phrases: tuple[str, ...]) -> None:
    job = harness.job(command, {})

    harness.process(job)

    assert harness.dispatch_posts() == []  # the workflow was read first: nothing sent for GitHub to refuse
    [patch] = harness.patches()
    description = patch.json["embeds"][0]["description"]
    assert f"/{command} and its workflow disagree" in description
    assert "Nothing was started." in description and "validate --remote" in description
    for phrase in phrases:
        assert phrase.replace("`", "") in description
    assert harness.record(job).status == "rejected"


def test_422_with_a_message_we_do_not_know_still_explains(harness: Harness) -> None:
    harness.github.inject(
        Fault(method="POST", path=DISPATCH_PATH, status=422, body={"message": "Actions has been disabled."})
    )
    job = harness.job()

    harness.process(job)

    assert_not_started(harness, "diagnose", "GitHub refused to start workflow `diagnose.yml`", "Actions has been")


def test_a_rejection_is_final_on_redelivery(harness: Harness) -> None:
    job = harness.job("ghost", {})

    harness.process(job)
    harness.process(job)

    assert len(harness.dispatch_posts()) == 1
    assert len(harness.patches(job)) == 1


# -- rate limits ------------------------------------------------------------------------------------------------


def test_429_with_short_retry_after_is_retried_once_and_succeeds(harness: Harness) -> None:
    harness.github.inject(
        Fault(
            method="POST",
            path=DISPATCH_PATH,
            status=429,
            body={"message": "You have exceeded a secondary rate limit."},
            headers={"Retry-After": "0"},
        )
    )
    job = harness.job()

    harness.process(job)

    assert len(harness.dispatch_posts()) == 2  # a 429 means GitHub did not act: resending is safe
    [run] = harness.github.runs
    record = harness.record(job)
    assert (record.status, record.run_id) == ("dispatched", run["id"])
    assert link_button(harness.message(job)) is not None


def test_403_primary_rate_limit_an_hour_away_is_not_retried(harness: Harness) -> None:
    harness.github.inject(
        Fault(
            method="POST",
            path=DISPATCH_PATH,
            status=403,
            body={"message": "API rate limit exceeded for user ID 1.", "status": "403"},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)},
        )
    )
    job = harness.job()

    harness.process(job)

    description = assert_not_started(harness, "diagnose", "rate limit", "try again")
    assert "in about 60 minute(s)" in description
    assert harness.record(job).status == "rejected"


# -- the command is gone -------------------------------------------------------------------------------------------


def test_job_for_a_command_no_longer_in_the_commands_file(harness: Harness) -> None:
    job = harness.job("retired", {"target": "staging"})

    harness.process(job)

    assert harness.github.requests == []
    embed = harness.embed(job)
    assert embed["title"] == "/retired · not started"
    assert "/retired was removed from the bot's commands" in embed["description"]
    assert "Nothing was started." in embed["description"]
    record = harness.record(job)
    assert (record.status, record.invocation.command) == ("rejected", "retired")


def test_a_refusal_that_echoes_a_token_leaves_no_trace_of_it(harness: Harness, tmp_path: Path) -> None:
    """GitHub's 422 can echo what was sent: the record, the saved outcome and the message stay clean."""
    token = "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
    body = {"message": f'Unexpected inputs provided: ["target={token}"]'}
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, status=422, body=body))
    job = harness.job()

    harness.process(job)

    assert harness.record(job).status == "rejected"
    assert token not in repr(harness.record(job)) and token not in repr(harness.embed(job))
    database = tmp_path / "state.db"
    if database.exists():  # the SQLite backend: every table, the idempotency records included
        assert token.encode() not in database.read_bytes() + b"".join(
            path.read_bytes() for path in tmp_path.glob("state.db-*")
        )
