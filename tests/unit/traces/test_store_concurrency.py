"""Many threads saving traces at once: afterwards the bounds hold exactly and every eviction was counted."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence

import pytest

from orchestrator.state.traces import MAX_TRACES_PER_USER, MAX_TRACES_TOTAL, TraceStore
from orchestrator.traces.model import Trace
from tests.unit.traces.conftest import TraceBackend
from tests.unit.traces.support import make_trace, present

THREADS = 8


def run_together(workers: Sequence[Callable[[], None]]) -> None:
    """Start every worker at the same moment; re-raise the first failure."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if errors:
        raise errors[0]


def saver(store: TraceStore, traces: list[Trace]) -> Callable[[], None]:
    def work() -> None:
        for trace in traces:
            store.save(trace)

    return work


def reader(store: TraceStore, users: list[str], stop: threading.Event) -> Callable[[], None]:
    """Reads while others write: every answer is one of the reader's own traces, whole."""

    def work() -> None:
        while not stop.is_set():
            for user in users:
                latest = store.latest(user)
                assert latest is None or latest.user_id == user
                if latest is not None:
                    found = store.find(user, latest.trace_id[:8])
                    assert found is None or found.user_id == user

    return work


def assert_bounds(
    store: TraceStore, traces: list[Trace], per_user: int, total: int, expected_total: int | None = None
) -> None:
    owners = {t.trace_id: t.user_id for t in traces}
    kept = present(store, owners)
    per_owner = Counter(owners[tid] for tid in kept)
    assert len(kept) == (total if expected_total is None else expected_total)
    assert max(per_owner.values()) <= per_user
    assert store.evictions() == len(traces) - len(kept)
    for user in set(owners.values()):
        latest = store.latest(user)
        if per_owner[user]:
            assert latest is not None and latest.trace_id in kept
        else:
            assert latest is None


def plan(count: int, users: int) -> list[list[Trace]]:
    """`count` traces round-robin over `users` users, dealt out to THREADS threads."""
    traces = [make_trace(n, f"user{n % users}") for n in range(count)]
    return [traces[i::THREADS] for i in range(THREADS)]


@pytest.mark.parametrize("trace_backend", ["memory", "sqlite"], indirect=True)
def test_small_bounds_hold_exactly_under_concurrent_saves(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(5, 12)
    shares = plan(THREADS * 40, users=4)  # 4 users x 5 = 20 > 12: both bounds are in play
    stop = threading.Event()
    readers = [reader(store, [f"user{i}" for i in range(4)], stop)]

    def savers_then_stop() -> None:
        try:
            run_together([saver(store, share) for share in shares])
        finally:
            stop.set()

    run_together([savers_then_stop, *readers])

    assert_bounds(store, [t for share in shares for t in share], 5, 12)


@pytest.mark.parametrize("trace_backend", ["memory", "sqlite"], indirect=True)
def test_per_user_bound_holds_exactly_under_concurrent_saves(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(7, 1000)
    shares = plan(THREADS * 30, users=3)  # only the per-user bound is in play

    run_together([saver(store, share) for share in shares])

    assert_bounds(store, [t for share in shares for t in share], 7, 1000, expected_total=3 * 7)


@pytest.mark.parametrize("trace_backend", ["memory", "sqlite"], indirect=True)
def test_default_bounds_hold_exactly_under_concurrent_saves(trace_backend: TraceBackend) -> None:
    store = trace_backend.open()
    users = 12
    shares = plan(users * MAX_TRACES_PER_USER, users=users)  # 1,200 traces, 100 a user

    run_together([saver(store, share) for share in shares])

    assert_bounds(store, [t for share in shares for t in share], MAX_TRACES_PER_USER, MAX_TRACES_TOTAL)


@pytest.mark.parametrize("trace_backend", ["sqlite"], indirect=True)
def test_sqlite_bounds_hold_with_two_connections_to_one_file(trace_backend: TraceBackend) -> None:
    """As two local processes sharing the file: each its own connection, serialised by SQLite itself."""
    one, two = trace_backend.open(5, 12), trace_backend.open(5, 12)
    shares = plan(THREADS * 25, users=4)

    run_together([saver(one if i % 2 else two, share) for i, share in enumerate(shares)])

    traces = [t for share in shares for t in share]
    assert_bounds(one, traces, 5, 12)
    assert_bounds(two, traces, 5, 12)
