"""Discord misbehaving while the worker shows a burst of dispatches: each fault, the same checks.

The dispatch itself is never repeated for Discord's sake: a receive that could not show the outcome goes
back to the queue, and the next one replays the saved outcome.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from orchestrator.clients.discord_api import EDIT_POLICY
from orchestrator.jobs.envelopes import Job
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.worker import CHANNEL_ID
from tests.integration.faults.conftest import (
    MAX_RECEIVES,
    SLOW,
    Category,
    FaultRig,
    RigFactory,
    assert_no_secrets,
    assert_truthful,
)

EDIT = r"/messages/@original$"
BURST = 3
Inject = Callable[[FakeDiscord, Job], None]


@dataclass(frozen=True)
class Case:
    inject: Inject  # before each interaction of the burst
    told: Category
    failed_receives: int = 0
    waited: float | None = None  # a retry_after the client waited out before editing again
    alerts: int = 0


def edits_failing(*faults: Fault) -> Inject:
    return lambda discord, job: discord.inject(*faults)


def server_errors(status: int, count: int) -> Inject:
    return edits_failing(*(Fault(method="PATCH", path=EDIT, status=status) for _ in range(count)))


def rate_limited(retry_after: float) -> Inject:
    return lambda discord, job: discord.rate_limit_next(1, retry_after)


def token_expired(discord: FakeDiscord, job: Job) -> None:
    discord.expire_interaction(job.interaction_token)


ONE_RECEIVE = EDIT_POLICY.max_attempts  # every try of one receive's edit

CASES = {
    "500-once": Case(server_errors(500, 1), "started"),
    "502-once": Case(server_errors(502, 1), "started"),
    "503-for-a-receive": Case(server_errors(503, ONE_RECEIVE), "started", failed_receives=1),
    "429-retry-after-50ms": Case(rate_limited(0.05), "started", waited=0.05),
    "429-retry-after-1min": Case(rate_limited(60.0), "started", failed_receives=1),
    "slow": Case(edits_failing(Fault(method="PATCH", path=EDIT, delay=SLOW)), "started"),
    "slow-but-applied": Case(
        edits_failing(Fault(method="PATCH", path=EDIT, delay=SLOW, drop=True, then_apply=True)), "started"
    ),
    "reset": Case(edits_failing(Fault(method="PATCH", path=EDIT, drop=True)), "started"),
    "reset-after-applied": Case(edits_failing(Fault(method="PATCH", path=EDIT, drop=True, then_apply=True)), "started"),
    # The message continues in the channel, with the bot token.
    "404-expired-token": Case(token_expired, "started"),
    # Nothing can be shown; the last receive alerts the operators, once for the burst.
    "down-for-every-receive": Case(
        server_errors(503, ONE_RECEIVE * MAX_RECEIVES), "nothing shown", failed_receives=MAX_RECEIVES, alerts=1
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_discord_fault(rig: FaultRig, case: Case, worker_logs: io.StringIO) -> None:
    jobs = [rig.job() for _ in range(BURST)]
    for job in jobs:
        case.inject(rig.discord, job)
        assert rig.deliver(job) == case.failed_receives

        assert_truthful(rig, job, case.told)
        assert len(rig.harness.dispatch_posts()) == jobs.index(job) + 1  # one dispatch each, never resent
    assert rig.discord.pending_faults == []
    if case.waited is not None:
        assert rig.waits.count(case.waited) == BURST
    assert len(rig.alerts()) == case.alerts
    assert_no_secrets(rig, worker_logs.getvalue(), jobs)


def test_an_expired_token_continues_in_the_channel_with_the_bot_token(rig: FaultRig) -> None:
    job = rig.job()
    token_expired(rig.discord, job)

    rig.deliver(job)

    assert len(rig.harness.patches(job)) == 1  # a 404 is never retried
    [post] = rig.discord.requests_to("POST", f"/api/v10/channels/{CHANNEL_ID}/messages")
    assert post.headers["authorization"].startswith("Bot ")
    [continued] = rig.discord.channel_messages(CHANNEL_ID)
    assert rig.harness.record(job).channel_message_id == continued["id"]


def test_an_expired_token_without_a_bot_token_is_not_a_crash(make_rig: RigFactory) -> None:
    rig = make_rig(bot_token=None)
    job = rig.job()
    token_expired(rig.discord, job)

    assert rig.deliver(job) == 0

    assert len(rig.runs_for(job)) == 1
    assert rig.discord.channel_messages(CHANNEL_ID) == []
