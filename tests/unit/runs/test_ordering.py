"""Webhooks and polls in any order, twice, late or at the same time: the message never goes backwards."""

from __future__ import annotations

import itertools
import queue
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from orchestrator.clients import discord_api
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.retries import DEFAULT_TIMEOUT
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.jobs.envelopes import Job
from orchestrator.runs.model import RunSnapshot
from orchestrator.runs.tracker import RENDER_LEASE_SECONDS, RunTracker
from tests.fixtures.worker import context, http_client
from tests.unit.runs.conftest import (
    APPLICATION_ID,
    BUTTON_SECRET,
    GITHUB_TOKEN,
    IN_PROGRESS,
    QUEUED,
    REPO,
    RESULT,
    FakeClock,
    Rig,
    RigFactory,
    build_worker,
    embed_of,
    stage_of,
)


def shown(message: dict[str, Any]) -> tuple[Any, ...]:
    """What a user sees of a message."""
    return message.get("content"), message.get("embeds"), message.get("components")


def assert_forward_only(history: list[dict[str, Any]]) -> None:
    """Each version is a real change, and the stage never goes back (queued < in progress < result)."""
    stages = [stage_of(message) for message in history]
    assert stages == sorted(stages), stages
    for before, after in itertools.pairwise(history):
        assert shown(before) != shown(after), "the message was edited to show the same thing"


def jobs_done(message: dict[str, Any]) -> int:
    return str(embed_of(message).get("description", "")).count("✅")


def run_in_threads(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def guarded(target: Callable[[], None]) -> None:
        try:
            start.wait()
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not [thread for thread in threads if thread.is_alive()]
    assert errors == []


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("seed", [1, 2])
def test_webhooks_and_polls_racing_never_move_the_message_backwards(
    rig_factory: RigFactory, backend: str, seed: int
) -> None:
    rig = rig_factory(backend=backend, webhooks=True)
    job = rig.job()
    run_id = rig.dispatch(job)
    changes: queue.Queue[dict[str, Any] | None] = queue.Queue()
    seen: list[dict[str, Any]] = []
    chance = random.Random(seed)
    finished = threading.Event()
    polled: list[int] = []

    def github() -> None:
        """The run goes on, one step at a time (GitHub's side)."""
        while rig.github.run(run_id)["status"] != "completed":
            changes.put(rig.github.advance_job(run_id))
            time.sleep(0.005)  # long enough for a poll or two to land between changes
        changes.put(None)

    def webhooks() -> None:
        """Each change delivered, some twice (a redelivery), some again much later (an old snapshot)."""
        while (run := changes.get()) is not None:
            seen.append(run)
            delivery = f"delivery-{len(seen)}"
            rig.event(run, delivery)
            if chance.random() < 0.3:
                rig.event(run, delivery)
            if chance.random() < 0.3:
                rig.event(chance.choice(seen))  # late: an old snapshot under a new delivery id
        finished.set()

    def polls() -> None:
        """The poll path at the same time, reading the run from GitHub."""
        # At least twice, however the threads are scheduled: a poll after the end must not move it back either.
        while len(polled) < 2 or not finished.is_set() or rig.record(job).conclusion is None:
            rig.poll(job, len(polled))
            polled.append(len(polled))
            if len(polled) > 300:
                return

    run_in_threads(github, webhooks, polls)
    assert len(seen) >= 8
    assert len(polled) >= 2  # the poll path really ran alongside
    for old in seen[::-1]:  # and every old snapshot once more, after the end
        rig.event(old)

    history = rig.history(job)
    assert_forward_only(history)
    final = history[-1]
    assert stage_of(final) == RESULT
    assert embed_of(final)["title"] == "/diagnose · ✅ succeeded"
    assert jobs_done(final) == 2
    record = rig.record(job)
    assert (record.run_status, record.conclusion) == ("completed", "success")
    assert record.render_pending is False
    assert record.render_owner is None


def test_a_late_in_progress_after_completed_is_dropped(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    in_progress = rig.github.run(run_id)
    rig.github.set_run_status(run_id, "completed", "success")
    completed = rig.github.run(run_id)

    rig.event(completed)
    edits = len(rig.edits(job))
    job_lists = len([r for r in rig.github.requests if r.path.endswith("/jobs")])
    rig.event(in_progress)  # GitHub's earlier delivery, arriving last

    assert len(rig.edits(job)) == edits
    assert len([r for r in rig.github.requests if r.path.endswith("/jobs")]) == job_lists  # not even looked at
    record = rig.record(job)
    assert (record.run_status, record.conclusion) == ("completed", "success")
    assert [stage_of(m) for m in rig.history(job)] == [0, QUEUED, RESULT]


def test_in_progress_then_queued_is_dropped(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    queued = rig.github.run(run_id)
    rig.github.advance_job(run_id)
    rig.event(rig.github.run(run_id))

    rig.event(queued)

    assert [stage_of(m) for m in rig.history(job)] == [0, QUEUED, IN_PROGRESS]


def test_a_redelivery_with_the_same_delivery_id_is_applied_once(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    run = rig.github.run(run_id)

    rig.event(run, "6d3f0a00-2a3b-11ef-9e5f-0123456789ab")
    version = rig.record(job).version
    rig.event(run, "6d3f0a00-2a3b-11ef-9e5f-0123456789ab")

    assert rig.record(job).version == version  # replayed, not applied: nothing was even read
    assert len(rig.edits(job)) == 2
    assert len([r for r in rig.github.requests if r.path.endswith("/jobs")]) == 1


def test_the_same_snapshot_twice_edits_the_message_once(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    run = rig.github.run(run_id)

    rig.event(run)
    rig.event(run)  # another delivery id, same snapshot (a poll and a webhook that saw the same thing)
    rig.poll(job, 0)  # and a poll that finds nothing new

    assert len(rig.edits(job)) == 2  # the queued message, then in progress: once
    assert_forward_only(rig.history(job))


def test_a_newer_snapshot_that_shows_nothing_new_does_not_edit(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.event(rig.github.run(run_id))
    edits = len(rig.edits(job))
    run = rig.github.run(run_id)
    run["updated_at"] = "2099-01-01T00:00:00Z"  # newer, but the same jobs and status

    rig.event(run)

    assert len(rig.edits(job)) == edits


class Interleaving(DiscordClient):
    """A Discord client that, while one edit is in flight, lets another worker apply the next snapshot."""

    def __init__(self, *args: Any, during_edit: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._during_edit = during_edit

    def edit_original(self, interaction_token: str, message: dict[str, Any]) -> str | None:
        self._during_edit()
        return super().edit_original(interaction_token, message)


SLOW_EDIT_SECONDS = 100  # an edit that waits out a few 429s: realistic, and longer than a renderer may keep going


def overtaken_edit(rig: Rig, job: Job, run_id: int, clock: FakeClock, other: RunTracker) -> Callable[[], None]:
    """The first edit in flight is slow, and meanwhile the run completes and another worker applies that
    (it finds the render lease taken, so it leaves the rendering to the slow one)."""
    done: list[bool] = []

    def meanwhile() -> None:
        if not done:
            done.append(True)
            clock.advance(SLOW_EDIT_SECONDS)
            completed = rig.github.set_run_status(run_id, "completed", "success")
            other.observe(rig.record(job), RunSnapshot.from_api(completed))

    return meanwhile


def test_a_completion_arriving_during_a_slow_edit_is_shown_in_the_end(rig: Rig) -> None:
    """A webhook's worker renders; whatever it then decides (render again, or let go), once the
    messages already due have been processed the message shows the result."""
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    first = RunSnapshot.from_api(rig.github.run(run_id))
    signer = ButtonSigner(BUTTON_SECRET.encode())
    clock = FakeClock()

    with http_client() as github_http, http_client() as discord_http, http_client() as other_http:
        github = GitHubClient(github_http, rig.github.url, GITHUB_TOKEN, REPO)
        other = RunTracker(
            rig.state.jobs, github, DiscordClient(other_http, rig.discord.api_url, APPLICATION_ID), signer
        )
        meanwhile = overtaken_edit(rig, job, run_id, clock, other)
        ours = RunTracker(
            rig.state.jobs,
            github,
            Interleaving(discord_http, rig.discord.api_url, APPLICATION_ID, during_edit=meanwhile),
            signer,
            clock=clock,
        )
        ours.observe(rig.record(job), first)

    assert rig.record(job).conclusion == "success"
    rig.run_due(rig.clock() + 3600)  # the polls already scheduled
    record = rig.record(job)
    assert_forward_only(rig.history(job))
    assert stage_of(rig.message(job)) == RESULT
    assert (record.render_pending, record.render_owner) == (False, None)


def test_a_poll_whose_slow_edit_is_overtaken_by_the_completion_still_ends_with_the_result(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    signer = ButtonSigner(BUTTON_SECRET.encode())

    with http_client() as github_http, http_client() as poll_http, http_client() as other_http:
        github = GitHubClient(github_http, rig.github.url, GITHUB_TOKEN, REPO)
        other = RunTracker(
            rig.state.jobs, github, DiscordClient(other_http, rig.discord.api_url, APPLICATION_ID), signer
        )
        meanwhile = overtaken_edit(rig, job, run_id, rig.clock, other)
        poller = build_worker(
            rig.state,
            rig.github,
            rig.discord,
            rig.commands_path,
            rig.queue,
            clock=rig.clock,
            webhooks=False,
            discord_client=Interleaving(poll_http, rig.discord.api_url, APPLICATION_ID, during_edit=meanwhile),
            clients=[],
        )
        entry = rig.queue.pop()  # the first poll, whose edit is the slow one
        rig.clock.now = entry.due
        poller.process(entry.body, context=context(), final_attempt=False)

    assert rig.record(job).conclusion == "success"
    rig.run_due(rig.clock() + 3600)  # whatever the chain scheduled
    record = rig.record(job)
    assert_forward_only(rig.history(job))
    assert stage_of(rig.message(job)) == RESULT
    assert (record.render_pending, record.render_owner) == (False, None)


def inconsistent(run: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**run, **fields}


def test_completed_without_a_conclusion_neither_goes_backwards_nor_hides_the_result(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.event(rig.github.run(run_id))
    rig.github.set_run_status(run_id, "completed", "success")
    done = rig.github.run(run_id)

    rig.event(inconsistent(done, conclusion=None))  # GitHub's data is not always consistent
    rig.event(done)  # then the same moment, with its conclusion
    rig.poll(job, 0)  # and a poll, which reads the same

    assert_forward_only(rig.history(job))
    assert stage_of(rig.message(job)) == RESULT
    assert rig.record(job).conclusion == "success"


def slowest_edit_seconds() -> float:
    """How long one message edit may take: every attempt times out or waits out the longest 429 we accept."""
    policy = discord_api.EDIT_POLICY
    per_attempt = (DEFAULT_TIMEOUT.read or 0.0) + policy.max_wait_seconds
    backoffs = sum(0.5 * 2**n for n in range(policy.max_attempts - 1))  # as shipped: 0.5 s, doubling
    return float(policy.max_attempts * per_attempt + backoffs)


def test_the_render_lease_outlasts_the_slowest_edit() -> None:
    assert slowest_edit_seconds() < RENDER_LEASE_SECONDS


def test_an_edit_as_slow_as_an_edit_can_be_never_overwrites_a_newer_one(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    in_progress = RunSnapshot.from_api(rig.github.run(run_id))
    signer = ButtonSigner(BUTTON_SECRET.encode())
    slow_clock = FakeClock()
    other_clock = FakeClock(slow_clock.now)

    with http_client() as github_http, http_client() as discord_http, http_client() as other_http:
        github = GitHubClient(github_http, rig.github.url, GITHUB_TOKEN, REPO)
        other = RunTracker(
            rig.state.jobs,
            github,
            DiscordClient(other_http, rig.discord.api_url, APPLICATION_ID),
            signer,
            clock=other_clock,
        )

        def meanwhile() -> None:
            """Our edit is as slow as one can be (timeouts, 429s waited out); the run completes meanwhile
            and another worker sees it."""
            other_clock.now = slow_clock.now + slowest_edit_seconds()
            done = RunSnapshot.from_api(rig.github.set_run_status(run_id, "completed", "success"))
            other.observe(rig.record(job), done)

        slow = RunTracker(
            rig.state.jobs,
            github,
            Interleaving(discord_http, rig.discord.api_url, APPLICATION_ID, during_edit=meanwhile),
            signer,
            clock=slow_clock,
        )
        slow.observe(rig.record(job), in_progress)

    assert rig.record(job).conclusion == "success"
    assert_forward_only(rig.history(job))
    assert stage_of(rig.message(job)) == RESULT
