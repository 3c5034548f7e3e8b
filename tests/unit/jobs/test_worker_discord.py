"""Editing the user's message: wait out 429s, give up on expired tokens, retry 5xx via the queue."""

from __future__ import annotations

import pytest

from orchestrator.clients.discord_api import EDIT_POLICY, DiscordUnavailable
from orchestrator_dev.standins.fake_discord import LOADING
from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.worker import Harness, link_button


def test_discord_429_is_waited_out_and_the_edit_retried(harness: Harness) -> None:
    job = harness.job()
    harness.discord.rate_limit_next(1, 0.05)

    harness.process(job)

    first, second = harness.patches(job)
    assert second.time - first.time >= 0.05  # it waited the body's precise retry_after, not the header's 1 s
    assert second.time - first.time < 0.9
    button = link_button(harness.message(job))
    assert button is not None
    assert button["url"] == harness.github.runs[0]["html_url"]
    assert len(harness.dispatch_posts()) == 1


def test_discord_404_expired_token_is_not_retried_and_the_dispatch_stands(harness: Harness) -> None:
    job = harness.job()
    harness.discord.expire_interaction(job.interaction_token)

    harness.process(job)  # no exception: there is nobody left to tell, and retrying cannot help

    assert len(harness.patches(job)) == 1
    [run] = harness.github.runs
    record = harness.record(job)
    assert (record.status, record.run_id) == ("dispatched", run["id"])
    # The message stayed as deferred: "thinking…".
    message = harness.message(job)
    assert message["flags"] & LOADING
    assert harness.discord.history_for(job.interaction_token) == [message]


def test_discord_4xx_refusal_is_logged_not_retried(harness: Harness) -> None:
    job = harness.job()
    harness.discord.inject(
        Fault(method="PATCH", status=400, body={"code": 50035, "message": "Invalid Form Body", "errors": {}})
    )

    harness.process(job)

    assert len(harness.patches(job)) == 1
    assert harness.record(job).status == "dispatched"


def test_discord_5xx_every_time_raises_then_a_redelivery_edits_without_dispatching(harness: Harness) -> None:
    job = harness.job()
    harness.discord.inject(*(Fault(method="PATCH", status=500) for _ in range(EDIT_POLICY.max_attempts)))

    with pytest.raises(DiscordUnavailable):
        harness.process(job)  # raising asks the queue to deliver again

    assert len(harness.patches(job)) == EDIT_POLICY.max_attempts
    assert len(harness.dispatch_posts()) == 1
    assert harness.record(job).status == "dispatched"
    assert harness.message(job)["flags"] & LOADING  # the user has not been told yet

    harness.discord.clear_faults()
    harness.process(job)

    assert len(harness.dispatch_posts()) == 1  # the saved outcome is replayed
    assert len(harness.github.runs) == 1
    assert len(harness.patches(job)) == EDIT_POLICY.max_attempts + 1
    button = link_button(harness.message(job))
    assert button is not None
    assert button["url"] == harness.github.runs[0]["html_url"]


def test_discord_5xx_once_is_retried_within_the_same_delivery(harness: Harness) -> None:
    job = harness.job()
    harness.discord.inject(Fault(method="PATCH", status=502))

    harness.process(job)

    assert len(harness.patches(job)) == 2
    assert link_button(harness.message(job)) is not None


def test_discord_connection_dropped_is_retried(harness: Harness) -> None:
    """Editing a message is idempotent: a lost answer is simply sent again."""
    job = harness.job()
    harness.discord.inject(Fault(method="PATCH", drop=True, then_apply=True))

    harness.process(job)

    assert len(harness.patches(job)) == 2
    assert link_button(harness.message(job)) is not None


def test_edit_goes_to_the_interaction_webhook_without_a_bot_token(harness: Harness) -> None:
    job = harness.job()

    harness.process(job)

    [patch] = harness.patches(job)
    assert patch.path == (f"/api/v10/webhooks/{job.application_id}/{job.interaction_token}/messages/@original")
    assert "authorization" not in patch.headers
    assert patch.headers["user-agent"].startswith("DiscordBot (")
    assert patch.json["allowed_mentions"] == {"parse": []}
