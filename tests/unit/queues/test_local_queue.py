"""serve's queue runner: retries and dead letters as SQS, a bounded drain on stop, and a message
whose worker never finished delivered again (to another process) after its visibility timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest

from orchestrator.queues.base import QueueUnavailable
from orchestrator.queues.local import VISIBILITY_PER_JOB_TIME_LIMIT, LocalQueue
from orchestrator.queues.stored import MemoryQueueStore
from tests.conftest import wait_for


class Severable:
    """The store as one process sees it; severed, that process can no longer write (it is dead)."""

    def __init__(self, store: MemoryQueueStore) -> None:
        self.store = store
        self.severed = False

    def __getattr__(self, name: str) -> Any:
        if self.severed:
            raise sqlite3.OperationalError("the process is gone")
        return getattr(self.store, name)


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.fail_times = fail_times
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()

    def __call__(self, body: str, context: Any, final: bool, sent_at: float) -> None:
        self.calls.append((body, final))
        self.started.set()
        self.release.wait(10)
        if len(self.calls) <= self.fail_times:
            raise RuntimeError("try again")


def test_a_failing_job_is_retried_then_dead_lettered_on_its_last_attempt() -> None:
    handler = Recorder(fail_times=99)
    queue = LocalQueue(handler, MemoryQueueStore(), workers=1, max_attempts=3, retry_delay_seconds=0.01)
    queue.send("job")
    queue.start()
    try:
        wait_for(
            lambda: queue.dead_letters != [], "the dead letter", timeout=10
        )  # retries wait their backoff: not "idle" work
    finally:
        queue.stop()
    assert handler.calls == [("job", False), ("job", False), ("job", True)]
    assert queue.dead_letters == ["job"] and queue.pending() == 0


def test_stop_takes_nothing_new_waits_a_bounded_time_and_keeps_the_rest() -> None:
    handler = Recorder()
    handler.release.clear()  # the first job hangs
    store = MemoryQueueStore()
    queue = LocalQueue(handler, store, workers=1)
    queue.send("first")
    queue.send("second")
    queue.start()
    assert handler.started.wait(5)
    assert queue.stop(0.2) is False, "the hung job did not end within the bound"
    assert store.count() == 2, "neither is lost: the second was never taken, the first is still in flight"
    handler.release.set()


def test_a_message_whose_worker_never_finished_is_delivered_again_to_the_next_process() -> None:
    store = MemoryQueueStore()  # what the state file is to two processes in turn
    through_the_dead_process = Severable(store)
    hung = Recorder()
    hung.release.clear()
    dead = LocalQueue(hung, through_the_dead_process, workers=1, job_time_limit=0.2)
    dead.send("job")
    dead.start()
    assert hung.started.wait(5)
    through_the_dead_process.severed = True  # the process is gone: its job never ends, nor renews
    dead.stop(0)
    assert 0.2 * VISIBILITY_PER_JOB_TIME_LIMIT < 1
    handler = Recorder()
    restarted = LocalQueue(handler, store, workers=1, job_time_limit=0.2)
    restarted.start()
    try:
        wait_for(lambda: store.count() == 0, "the queue emptied", timeout=10)
    finally:
        restarted.stop()
        hung.release.set()  # the first delivery ends late: its receipt no longer deletes anything
    assert handler.calls == [("job", False)] and store.count() == 0


def test_a_job_running_past_its_visibility_timeout_is_not_delivered_again() -> None:
    handler = Recorder()
    handler.release.clear()
    store = MemoryQueueStore()
    queue = LocalQueue(handler, store, workers=2, job_time_limit=0.2)  # hidden 0.3 s, renewed every 0.1 s
    queue.send("slow job")
    queue.start()
    try:
        assert handler.started.wait(5)
        time.sleep(1.0)  # three visibility timeouts
        handler.release.set()
        wait_for(lambda: store.count() == 0, "the queue emptied", timeout=10)
    finally:
        queue.stop()
    assert handler.calls == [("slow job", False)]


def test_a_job_ending_during_the_drain_can_still_queue_its_next_poll() -> None:
    store = MemoryQueueStore()
    queue = LocalQueue(Recorder(), store, workers=1)
    queue.start()
    queue.stop()
    queue.send("next poll", delay_seconds=10)
    assert store.count() == 1, "kept for the next start"


def test_a_store_busy_past_its_timeout_does_not_stop_the_workers() -> None:
    class BusyOnce(MemoryQueueStore):
        busy = 3

        def next_visible_at(self) -> float | None:
            if self.busy:
                self.busy -= 1
                raise sqlite3.OperationalError("database is locked")
            return super().next_visible_at()

    handler = Recorder()
    queue = LocalQueue(handler, BusyOnce(), workers=1)
    queue.start()
    try:
        time.sleep(0.1)  # the idle worker meets the busy store
        queue.send("job")
        wait_for(lambda: handler.calls == [("job", False)], "the job run", timeout=10)
    finally:
        queue.stop()


def test_a_full_queue_refuses_what_it_cannot_keep() -> None:
    queue = LocalQueue(Recorder(), MemoryQueueStore(), max_pending=1)
    queue.send("first")
    with pytest.raises(QueueUnavailable, match="local queue full"):
        queue.send("second")
    assert queue.pending() == 1


class CountedLooks:
    """The store, counting how often the workers look for a message."""

    def __init__(self, store: MemoryQueueStore) -> None:
        self.store = store
        self.receives = 0

    def receive(self, *args: Any, **kwargs: Any) -> Any:
        self.receives += 1
        return self.store.receive(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_idle_workers_wait_for_a_message_instead_of_waking_each_other() -> None:
    """Each worker's look once woke the other idle one, which looked and woke the first: an empty
    queue kept a core busy. Idle, a worker looks when a message comes, else once a second."""
    store = CountedLooks(MemoryQueueStore())
    queue = LocalQueue(Recorder(), store, workers=2)
    queue.start()
    try:
        time.sleep(0.5)  # a count over a pause, not a bound on how long anything takes
        looks_while_idle = store.receives
        queue.send("job")
        wait_for(lambda: queue.pending() == 0, "the job")
    finally:
        queue.stop()
    assert looks_while_idle <= 2 * 2  # each worker: its first look, and at most one a second after
