"""The polling fallback: delayed queue messages 10, 20, 40, 60, 60 s apart, until the run ends or the limit."""

from __future__ import annotations

import io
import threading

import httpx
import pytest

from orchestrator.clients.discord_api import EDIT_POLICY, DiscordError
from orchestrator.jobs.envelopes import PollRequest
from orchestrator.runs.polling import WATCHDOG_DELAY_SECONDS
from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.worker import http_client
from tests.unit.runs.conftest import (
    IN_PROGRESS,
    QUEUED,
    RESULT,
    Rig,
    RigFactory,
    log_lines,
    stage_of,
)

MAX_QUEUE_DELAY_SECONDS = 900  # SQS DelaySeconds' maximum
RUN_PATH = r"/actions/runs/\d+$"
JOBS_PATH = r"/actions/runs/\d+/jobs$"


def run_reads(rig: Rig) -> int:
    return len([r for r in rig.github.requests_to("GET") if r.path.rsplit("/", 2)[-2] == "runs"])


def test_first_poll_is_a_delayed_message_ten_seconds_after_the_dispatch(rig: Rig) -> None:
    job = rig.job()
    rig.dispatch(job)

    assert rig.queue.polls() == [(PollRequest(job.invocation.interaction_id, 0), 10)]
    assert rig.queue.of_kind("poll")[0].delay == 10


def test_poll_delays_double_from_ten_seconds_and_cap_at_sixty(rig: Rig) -> None:
    job = rig.job()
    rig.dispatch(job)

    for _ in range(6):  # the run stays queued: every poll schedules the next
        entry = rig.queue.next_due()
        assert entry is not None
        rig.run_due(entry.due)

    polls = rig.queue.polls()
    assert [delay for _, delay in polls] == [10, 20, 40, 60, 60, 60, 60]
    assert [poll.attempt for poll, _ in polls] == [0, 1, 2, 3, 4, 5, 6]
    assert {poll.interaction_id for poll, _ in polls} == {job.invocation.interaction_id}
    assert run_reads(rig) == 6
    # Nothing changed on GitHub: no job lists were fetched and the message was not edited again.
    assert not [r for r in rig.github.requests if r.path.endswith("/jobs")]
    assert len(rig.edits(job)) == 1


def test_polls_follow_the_run_and_stop_when_it_completes(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)

    rig.github.advance_job(run_id)  # in progress
    rig.run_due(rig.clock() + 10)
    assert stage_of(rig.message(job)) == IN_PROGRESS

    rig.github.set_run_status(run_id, "completed", "success")
    rig.run_due(rig.clock() + 20)
    assert stage_of(rig.message(job)) == RESULT
    assert rig.record(job).conclusion == "success"
    assert rig.queue.pending() == []  # the chain ended
    assert len(rig.queue.polls()) == 2

    # A poll message that arrives anyway (a duplicate) costs no API call.
    before = len(rig.github.requests)
    rig.poll(job, 2)
    rig.poll(job, 0)
    assert len(rig.github.requests) == before


def test_polls_stop_at_the_poll_limit(rig_factory: RigFactory, logs: io.StringIO) -> None:
    rig = rig_factory(poll_limit=3)
    job = rig.job()
    rig.dispatch(job)

    rig.run_due(rig.clock() + 3600)  # an hour passes; the run never starts

    assert run_reads(rig) == 3
    assert [poll.attempt for poll, _ in rig.queue.polls()] == [0, 1, 2]
    assert rig.queue.pending() == []
    assert rig.record(job).polls == 3
    assert any("poll limit reached" in line["msg"] for line in log_lines(logs))
    assert stage_of(rig.message(job)) == QUEUED


def test_with_webhooks_only_a_five_minute_safety_poll_is_scheduled(rig_factory: RigFactory) -> None:
    rig = rig_factory(webhooks=True)
    job = rig.job()
    rig.dispatch(job)

    assert rig.queue.polls() == [(PollRequest(job.invocation.interaction_id, 0), WATCHDOG_DELAY_SECONDS)]


GITHUB_FAILURES = {
    "5xx on every attempt": (
        [Fault(method="GET", path=RUN_PATH, status=502, body={"message": "Server Error"})] * 4,
        20,
    ),
    "429 with a long Retry-After": (
        [Fault(method="GET", path=RUN_PATH, status=429, body={"message": "slow down"}, headers={"Retry-After": "120"})],
        120,
    ),
    "403 primary rate limit": (
        [
            Fault(
                method="GET",
                path=RUN_PATH,
                status=403,
                body={"message": "API rate limit exceeded"},
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"},
            )
        ],
        MAX_QUEUE_DELAY_SECONDS,  # the reset is far away: as late as a queue message can be delayed
    ),
    "connection reset on every attempt": ([Fault(method="GET", path=RUN_PATH, drop=True)] * 4, 20),
    "job list fails after the run was read": ([Fault(method="GET", path=JOBS_PATH, status=500)] * 4, 20),
    "run body that is not a run": ([Fault(method="GET", path=RUN_PATH, status=200, body={"message": "hi"})], 20),
}


@pytest.mark.parametrize(("faults", "next_delay"), GITHUB_FAILURES.values(), ids=GITHUB_FAILURES.keys())
def test_github_failures_during_a_poll_never_escape_and_the_next_poll_is_scheduled(
    rig: Rig, faults: list[Fault], next_delay: int, logs: io.StringIO
) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.github.inject(*faults)

    rig.run_due(rig.clock() + 10)  # no exception

    # The next poll comes as usual, or no sooner than GitHub asked (a rate limit's Retry-After or reset).
    assert rig.queue.polls()[-1] == (PollRequest(job.invocation.interaction_id, 1), next_delay)
    assert any("poll failed; will poll again" in line["msg"] for line in log_lines(logs))
    assert rig.github.pending_faults == []
    # The next poll, with GitHub back, catches up (past 14 minutes, in the channel).
    rig.run_due(rig.clock() + next_delay)
    assert stage_of(rig.shown(job)) == IN_PROGRESS


def test_a_short_retry_after_is_waited_out_within_the_same_poll(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.github.inject(Fault(method="GET", path=RUN_PATH, status=429, body={}, headers={"Retry-After": "0.05"}))

    rig.run_due(rig.clock() + 10)

    first, second = [r for r in rig.github.requests_to("GET") if r.path.endswith(f"/runs/{run_id}")]
    assert second.time - first.time >= 0.05
    assert stage_of(rig.message(job)) == IN_PROGRESS


def test_read_timeouts_during_a_poll_never_escape(rig_factory: RigFactory) -> None:
    rig = rig_factory(github_http=http_client(timeout=httpx.Timeout(0.25, connect=1.0)))
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.github.inject(*[Fault(method="GET", path=RUN_PATH, delay=1.0)] * 4)  # every attempt times out

    rig.run_due(rig.clock() + 10)

    assert rig.queue.polls()[-1] == (PollRequest(job.invocation.interaction_id, 1), 20)
    assert stage_of(rig.message(job)) == QUEUED
    rig.run_due(rig.clock() + 20)
    assert stage_of(rig.message(job)) == IN_PROGRESS


def test_duplicate_poll_chains_only_one_proceeds(rig: Rig) -> None:
    job = rig.job()
    rig.dispatch(job)
    reads = run_reads(rig)
    rig.queue.send(
        PollRequest(job.invocation.interaction_id, 0).to_message(), delay_seconds=10
    )  # e.g. the job delivered twice

    rig.run_due(rig.clock() + 10)

    assert run_reads(rig) == reads + 1
    assert [poll.attempt for poll, _ in rig.queue.polls()] == [0, 0, 1]


def test_duplicate_poll_messages_at_the_same_moment_read_the_run_once(rig_factory: RigFactory) -> None:
    rig = rig_factory(backend="sqlite")
    job = rig.job()
    rig.dispatch(job)
    start = threading.Barrier(3)

    def poll() -> None:
        start.wait()
        rig.poll(job, 0)

    threads = [threading.Thread(target=poll) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert run_reads(rig) == 1
    assert [poll.attempt for poll, _ in rig.queue.polls()] == [0, 1]
    rig.run_due(rig.clock() + 10 + 20 + 40)  # and the one chain goes on alone
    assert [poll.attempt for poll, _ in rig.queue.polls()] == [0, 1, 2, 3]


def test_discord_down_during_a_poll_does_not_end_the_chain(rig: Rig) -> None:
    """Either the poll schedules its successor itself, or it raises and the queue's redelivery of the
    same message (SQS retries a failed item) does; the message catches up once Discord is back."""
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.discord.inject(*[Fault(method="PATCH", status=503)] * EDIT_POLICY.max_attempts)
    entry = rig.queue.pop()
    rig.clock.now = entry.due

    try:
        rig.process(entry.body)
    except DiscordError:
        rig.process(entry.body)  # the queue delivers the failed message again

    assert rig.queue.polls()[-1] == (PollRequest(job.invocation.interaction_id, 1), 20)
    assert rig.record(job).run_status == "in_progress"
    rig.run_due(rig.clock() + 20)  # Discord is back by the next poll
    assert stage_of(rig.message(job)) == IN_PROGRESS


def test_a_rate_limited_poll_waits_as_long_as_github_asks_before_the_next(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.github.inject(
        Fault(method="GET", path=RUN_PATH, status=429, body={"message": "slow down"}, headers={"Retry-After": "120"})
    )

    rig.run_due(rig.clock() + 10)

    [(_, delay)] = [(poll, delay) for poll, delay in rig.queue.polls() if poll.attempt == 1]
    assert delay >= 120
