"""GitHub misbehaving while a burst of interactions dispatches: each fault, the same checks.

For every fault: no exception escapes the Lambda's batch handling (a failed receive is an item failure and
comes back), at most one run per interaction (exactly one where it could start), the user is told the
truth, at most one alert for the whole burst, and no token anywhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.worker import free_port
from tests.integration.faults.conftest import (
    MAX_RECEIVES,
    SLOW,
    Category,
    FaultRig,
    RigFactory,
    assert_no_secrets,
    assert_truthful,
)

DISPATCH = r"/dispatches$"
BURST = 3
SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}
PRIMARY = {"message": "API rate limit exceeded for installation ID 1."}


@dataclass(frozen=True)
class Case:
    faults: tuple[Fault, ...]  # injected before each interaction of the burst
    told: Category
    posts: int  # dispatch requests GitHub saw per interaction
    waited: float | None = None  # a Retry-After the client waited out before sending again


def server_error(status: int, *, took_effect: bool = False) -> Fault:
    return Fault(method="POST", path=DISPATCH, status=status, body={"message": "Server Error"}, then_apply=took_effect)


def limited(status: int, retry_after: str | None, body: dict[str, str]) -> Fault:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Fault(method="POST", path=DISPATCH, status=status, body=body, headers=headers)


CASES = {
    # Not applied: the dispatcher looks for the run, finds none, and only then sends again.
    "500": Case((server_error(500),), "started", posts=2),
    "502": Case((server_error(502),), "started", posts=2),
    "503": Case((server_error(503),), "started", posts=2),
    "503-but-applied": Case((server_error(503, took_effect=True),), "started", posts=1),
    "5xx-twice": Case((server_error(500), server_error(503)), "unknown", posts=2),
    "429-retry-after-1s": Case((limited(429, "1", PRIMARY),), "started", posts=2, waited=1.0),
    "429-retry-after-2min": Case((limited(429, "120", PRIMARY),), "not started", posts=1),
    "403-secondary-retry-after-1s": Case((limited(403, "1", SECONDARY),), "started", posts=2, waited=1.0),
    "403-secondary-retry-after-2min": Case((limited(403, "120", SECONDARY),), "not started", posts=1),
    "403-secondary-no-retry-after": Case((limited(403, None, SECONDARY),), "not started", posts=1),
    # The client gives up before the answer; the run is found, or (never applied) sent once more.
    "slow-but-applied": Case(
        (Fault(method="POST", path=DISPATCH, delay=SLOW, drop=True, then_apply=True),), "started", posts=1
    ),
    "slow-never-applied": Case((Fault(method="POST", path=DISPATCH, delay=SLOW, drop=True),), "started", posts=2),
    "reset-before-applied": Case((Fault(method="POST", path=DISPATCH, drop=True),), "started", posts=2),
    "reset-after-applied": Case((Fault(method="POST", path=DISPATCH, drop=True, then_apply=True),), "started", posts=1),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_github_fault(rig: FaultRig, case: Case, worker_logs: io.StringIO) -> None:
    jobs = [rig.job() for _ in range(BURST)]
    for job in jobs:
        rig.github.inject(*case.faults)
        assert rig.deliver(job) == 0  # settled on its first receive

        assert_truthful(rig, job, case.told)
        posts = [r for r in rig.harness.dispatch_posts() if job.invocation.trace_id in str(r.json)]
        assert len(posts) == case.posts
    assert rig.github.pending_faults == []
    if case.waited is not None:
        assert rig.waits.count(case.waited) == BURST
    # None of these is for an operator to fix, but for an outcome no one can tell: then someone should
    # look for an orphan run, and the burst of them is one alert (the repeats are counted).
    assert len(rig.alerts()) == (1 if case.told == "unknown" else 0)
    assert_no_secrets(rig, worker_logs.getvalue(), jobs)


def test_rate_limited_users_are_told_when_to_try_again(rig: FaultRig) -> None:
    job = rig.job()
    rig.github.inject(limited(403, "120", SECONDARY))

    rig.deliver(job)

    description = rig.harness.embed(job)["description"]
    assert "rate limit" in description
    assert "2 minute" in description
    assert "403" not in description  # not mistaken for the token's permissions


def test_unreachable_github_retries_through_the_queue_and_alerts_once(
    make_rig: RigFactory, worker_logs: io.StringIO
) -> None:
    rig = make_rig(github_url=f"http://127.0.0.1:{free_port()}")
    jobs = [rig.job() for _ in range(BURST)]

    for job in jobs:
        assert rig.deliver(job) == MAX_RECEIVES - 1  # every receive but the last went back to the queue

        assert_truthful(rig, job, "not started")
    [alert] = rig.alerts()
    assert "unreachable" in alert["embeds"][0]["title"]
    assert_no_secrets(rig, worker_logs.getvalue(), jobs)
