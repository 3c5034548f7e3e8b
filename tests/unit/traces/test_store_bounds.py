"""The TraceStore contract on every backend: a ring buffer per user within a global bound, the oldest evicted
first and counted, updates free, reads limited to the caller's own unexpired traces."""

from __future__ import annotations

import time
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.state import dynamodb_traces, memory, sqlite
from orchestrator.state.memory import MemoryTraceStore
from orchestrator.state.sqlite import SqliteDatabase, SqliteTraceStore
from orchestrator.state.store import open_state_store
from orchestrator.state.traces import MAX_TRACES_PER_USER, MAX_TRACES_TOTAL, TRACE_RETENTION_SECONDS, TraceStore
from orchestrator.traces.model import Trace, TraceStep
from tests.unit.traces.conftest import TraceBackend
from tests.unit.traces.support import make_trace, present, save_all, trace_id

PER_USER = 5
TOTAL = 12


def ids(*numbers: int) -> set[str]:
    return {trace_id(n) for n in numbers}


def latest_id(store: TraceStore, user_id: str) -> str | None:
    trace = store.latest(user_id)
    return trace.trace_id if trace else None


# -- the per-user ring buffer ------------------------------------------------------------------------------


def test_keeps_the_newest_per_user_evicting_the_oldest_first(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    owners: dict[str, str] = {}

    for n in range(9):
        owners |= save_all(store, [make_trace(n)])
        # After each save: exactly the newest five, and one eviction per trace past the fifth.
        assert present(store, owners) == ids(*range(max(0, n + 1 - PER_USER), n + 1))
        assert store.evictions() == max(0, n + 1 - PER_USER)
        assert latest_id(store, "u1") == trace_id(n)


def test_each_user_has_a_buffer_of_their_own(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    owners = save_all(store, [make_trace(n, "busy") for n in range(7)])
    owners |= save_all(store, [make_trace(100, "quiet")])

    assert present(store, owners) == ids(2, 3, 4, 5, 6, 100)
    assert store.evictions() == 2
    assert latest_id(store, "busy") == trace_id(6)
    assert latest_id(store, "quiet") == trace_id(100)


# -- the global bound ---------------------------------------------------------------------------------------


def test_the_global_bound_evicts_the_globally_oldest(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    users = ["a", "b", "c", "d"]
    # Twelve traces, three per user, interleaved: a b c d a b c d ...
    owners = save_all(store, [make_trace(n, users[n % 4]) for n in range(TOTAL)])
    assert present(store, owners) == ids(*range(TOTAL))
    assert store.evictions() == 0

    # A fifth user's traces each push out the oldest trace in the store, whoever it belongs to.
    for n in range(TOTAL, TOTAL + PER_USER):
        owners |= save_all(store, [make_trace(n, "e")])
        assert present(store, owners) == ids(*range(n + 1 - TOTAL, n + 1))
        assert store.evictions() == n + 1 - TOTAL
    # a, b, c and d lost their oldest traces; their latest are untouched.
    assert [latest_id(store, user) for user in users] == [trace_id(n) for n in (8, 9, 10, 11)]


def test_a_user_can_be_evicted_entirely_by_the_global_bound(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    owners = save_all(store, [make_trace(0, "early")])
    owners |= save_all(store, [make_trace(n, user) for n, user in zip(range(1, 13), ["x", "y", "z"] * 4, strict=True)])

    assert store.latest("early") is None
    assert store.find("early", trace_id(0)) is None
    assert present(store, owners) == ids(*range(1, 13))
    assert store.evictions() == 1


def test_a_per_user_eviction_at_the_global_bound_evicts_exactly_one(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    owners = save_all(store, [make_trace(n, "a") for n in range(5)])
    owners |= save_all(store, [make_trace(n, "b") for n in range(5, 10)])
    owners |= save_all(store, [make_trace(n, "c") for n in range(10, 12)])
    assert store.evictions() == 0

    owners |= save_all(store, [make_trace(12, "a")])  # a's sixth: a's own oldest goes, and that is enough

    assert present(store, owners) == ids(*range(1, 13))
    assert store.evictions() == 1


# -- updates --------------------------------------------------------------------------------------------------


def test_updating_a_trace_neither_evicts_nor_counts_nor_makes_it_newest(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    owners = save_all(store, [make_trace(n) for n in range(PER_USER)])

    oldest = make_trace(0)
    oldest.steps.append(TraceStep("dispatch", "ok", oldest.started_at + 1, 120.0, {"run_id": 42}))
    oldest.status, oldest.run_url = "ok", "https://github.com/acme/ops/actions/runs/42"
    store.save(oldest)
    store.save(oldest)  # the worker saves the same trace more than once

    assert store.evictions() == 0
    assert present(store, owners) == ids(*range(PER_USER))
    updated = store.find("u1", trace_id(0))
    assert updated is not None
    assert (updated.status, updated.run_url, [s.name for s in updated.steps]) == (
        "ok",
        "https://github.com/acme/ops/actions/runs/42",
        ["verify signature", "dispatch"],
    )
    assert latest_id(store, "u1") == trace_id(PER_USER - 1)

    # Still the oldest: the next new trace evicts it.
    owners |= save_all(store, [make_trace(PER_USER)])
    assert present(store, owners) == ids(*range(1, PER_USER + 1))
    assert store.evictions() == 1


def test_updating_at_the_global_bound_evicts_nothing(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    owners = save_all(store, [make_trace(n, f"user{n % 3}") for n in range(TOTAL)])

    for n in (0, 5, 11):
        trace = make_trace(n, f"user{n % 3}")
        trace.fail("changed")
        store.save(trace)

    assert store.evictions() == 0
    assert present(store, owners) == ids(*range(TOTAL))
    changed = store.find("user0", trace_id(0))
    assert changed is not None
    assert (changed.status, changed.error) == ("failed", "changed")


# -- reads ----------------------------------------------------------------------------------------------------


def test_latest_is_the_newest_and_none_for_a_stranger(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    assert store.latest("u1") is None
    save_all(store, [make_trace(1), make_trace(2, "u2"), make_trace(3)])

    newest = store.latest("u1")
    assert newest is not None
    assert newest == make_trace(3)  # the whole trace comes back, not only its id
    assert latest_id(store, "u2") == trace_id(2)
    assert store.latest("nobody") is None


def test_find_by_full_id_or_a_prefix_of_8_or_more(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    wanted = "0123456789abcdef0123456789abcdef"
    save_all(store, [make_trace(1, tid=wanted), make_trace(2, tid="f" * 32)])

    for query in (wanted, wanted[:8], wanted[:9], wanted[:20], wanted[:31]):
        found = store.find("u1", query)
        assert found is not None, query
        assert found.trace_id == wanted
    for query in (wanted[:7], wanted[:1], "", wanted[:31] + "0", wanted + "0", "89abcdef", "ffffffff0"):
        assert store.find("u1", query) is None, query


def test_a_shared_fingerprint_finds_the_newest_and_a_longer_prefix_the_other(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    older, newer = "abcdef01" + "1" * 24, "abcdef01" + "2" * 24
    save_all(store, [make_trace(1, tid=older), make_trace(2, tid=newer)])

    found = store.find("u1", "abcdef01")
    assert found is not None and found.trace_id == newer
    found = store.find("u1", "abcdef011")
    assert found is not None and found.trace_id == older


def test_never_another_users_trace(trace_backend: TraceBackend) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    alices = trace_id(1, prefix="aaaaaaaa")
    bobs = trace_id(2, prefix="aaaaaaaa")  # the same fingerprint as Alice's
    save_all(store, [make_trace(1, "alice", tid=alices), make_trace(2, "bob", tid=bobs)])

    assert store.find("bob", alices) is None
    assert store.find("mallory", alices) is None
    assert store.find("mallory", "aaaaaaaa") is None
    assert store.latest("mallory") is None
    mine = store.find("bob", "aaaaaaaa")
    assert mine is not None and mine.trace_id == bobs
    hers = store.find("alice", alices)
    assert hers is not None and hers.user_id == "alice"


# -- expiry ---------------------------------------------------------------------------------------------------


def shift_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the trace stores' clock (only theirs: moto and botocore keep the real one)."""
    now = time.time() + seconds
    fake = types.SimpleNamespace(time=lambda: now)
    for module in (memory, sqlite, dynamodb_traces):
        monkeypatch.setattr(module, "time", fake)


@pytest.mark.parametrize("trace_backend", ["memory", "sqlite", "dynamodb"], indirect=True)
def test_traces_past_their_retention_are_not_returned(
    trace_backend: TraceBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = trace_backend.open(PER_USER, TOTAL)
    save_all(store, [make_trace(1), make_trace(2)])

    shift_clock(monkeypatch, TRACE_RETENTION_SECONDS - 3600)  # an hour before they expire: still there
    assert latest_id(store, "u1") == trace_id(2)
    assert store.find("u1", trace_id(1)) is not None

    shift_clock(monkeypatch, TRACE_RETENTION_SECONDS + 60)
    assert store.latest("u1") is None
    assert store.find("u1", trace_id(1)) is None
    assert store.find("u1", trace_id(2)[:8]) is None


@pytest.mark.parametrize("trace_backend", ["sqlite", "dynamodb"], indirect=True)
def test_rows_written_as_expired_are_not_returned(trace_backend: TraceBackend) -> None:
    """DynamoDB's TTL deletes up to two days late: the store itself must skip what has expired."""
    store = trace_backend.open(PER_USER, TOTAL)
    save_all(store, [make_trace(1, "gone"), make_trace(2, "gone"), make_trace(3, "kept")])

    trace_backend.expire("gone")

    assert store.latest("gone") is None
    assert store.find("gone", trace_id(1)) is None
    assert store.find("gone", trace_id(2)[:8]) is None
    assert latest_id(store, "kept") == trace_id(3)
    # A newer trace of the same user is returned, past the expired ones.
    save_all(store, [make_trace(4, "gone")])
    assert latest_id(store, "gone") == trace_id(4)
    assert store.find("gone", trace_id(1)) is None


# -- sharing and durability -------------------------------------------------------------------------------------


def test_sqlite_traces_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = SqliteDatabase(path)
    owners = save_all(SqliteTraceStore(first, PER_USER, TOTAL), [make_trace(n) for n in range(7)])
    first.close()

    reopened = open_state_store(f"sqlite:///{path}")  # as the local server opens it on restart
    try:
        store = reopened.traces
        assert latest_id(store, "u1") == trace_id(6)
        assert store.evictions() == 2
        found = store.find("u1", trace_id(2)[:8])
        assert found == make_trace(2)
    finally:
        assert isinstance(reopened.traces, SqliteTraceStore)
        reopened.traces._db.close()

    again = SqliteDatabase(path)
    try:
        store = SqliteTraceStore(again, PER_USER, TOTAL)
        owners |= save_all(store, [make_trace(7)])  # the ring buffer carries on where it was
        assert present(store, owners) == ids(3, 4, 5, 6, 7)
        assert store.evictions() == 3
    finally:
        again.close()


@pytest.mark.parametrize("trace_backend", ["dynamodb"], indirect=True)
def test_dynamodb_clients_share_one_history(trace_backend: TraceBackend) -> None:
    """Every Lambda instance has a client of its own; the history is the table's."""
    one, two = trace_backend.open(PER_USER, TOTAL), trace_backend.open(PER_USER, TOTAL)
    owners = save_all(one, [make_trace(n) for n in range(3)])

    assert latest_id(two, "u1") == trace_id(2)
    assert two.find("u1", trace_id(0)[:8]) is not None

    owners |= save_all(two, [make_trace(n) for n in range(3, 7)])

    for store in (one, two):
        assert present(store, owners) == ids(2, 3, 4, 5, 6)
        assert store.evictions() == 2
        assert latest_id(store, "u1") == trace_id(6)


@pytest.mark.parametrize("trace_backend", ["sqlite", "dynamodb"], indirect=True)
def test_a_save_brings_a_store_over_its_bound_back_within_it(trace_backend: TraceBackend) -> None:
    """A shared store can be over its global bound (concurrent writers racing, or a bound lowered between
    deploys); "bounds are enforced when writing" means the next save repairs it, even one that also evicts
    one of its own user's traces."""
    roomy = trace_backend.open(PER_USER, TOTAL + 1)
    owners = save_all(roomy, [make_trace(n, ["a", "b", "c"][n % 3]) for n in range(TOTAL + 1)])  # a has 5
    assert roomy.evictions() == 0

    store = trace_backend.open(PER_USER, TOTAL)
    owners |= save_all(store, [make_trace(TOTAL + 1, "a")])  # a's sixth: a's oldest (#0) goes, and #1

    assert present(store, owners) == ids(*range(2, TOTAL + 2))
    assert store.evictions() == 2


@pytest.mark.parametrize("trace_backend", ["dynamodb"], indirect=True)
def test_dynamodb_finds_old_traces_past_the_first_page(trace_backend: TraceBackend) -> None:
    """Traces within the model's own bounds (50 steps, 500-character details) are ~30 KB each: 40 of a
    user's traces fill more than one 1 MB page of a Query."""
    store = trace_backend.open(40, MAX_TRACES_TOTAL)
    traces = []
    for n in range(40):
        trace = make_trace(n)
        trace.steps = [TraceStep(f"step {i}", "ok", trace.started_at, 1.0, {"error": "z" * 500}) for i in range(50)]
        traces.append(trace)
    save_all(store, traces)

    assert store.evictions() == 0
    assert latest_id(store, "u1") == trace_id(39)
    # Newest first, the oldest traces are on the second page.
    oldest = store.find("u1", trace_id(0))
    assert oldest is not None and oldest.trace_id == trace_id(0)


# -- the real bounds ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trace_backend", ["memory", "sqlite"], indirect=True)
def test_default_bounds_keep_a_users_newest_100(trace_backend: TraceBackend) -> None:
    store = trace_backend.open()
    owners = save_all(store, [make_trace(n) for n in range(MAX_TRACES_PER_USER + 5)])

    assert present(store, owners) == ids(*range(5, MAX_TRACES_PER_USER + 5))
    assert store.evictions() == 5
    assert latest_id(store, "u1") == trace_id(MAX_TRACES_PER_USER + 4)


@pytest.mark.parametrize("trace_backend", ["memory", "sqlite"], indirect=True)
def test_default_bounds_keep_the_newest_1000_overall(trace_backend: TraceBackend) -> None:
    store = trace_backend.open()
    users = [f"user{i}" for i in range(11)]
    # 11 users x 100 traces, interleaved: nobody passes 100, everyone together passes 1,000 by 100.
    count = len(users) * MAX_TRACES_PER_USER
    owners = save_all(store, [make_trace(n, users[n % len(users)]) for n in range(count)])

    assert present(store, owners) == ids(*range(count - MAX_TRACES_TOTAL, count))
    assert store.evictions() == count - MAX_TRACES_TOTAL
    assert [latest_id(store, user) for user in users] == [trace_id(n) for n in range(count - 11, count)]


# -- against a reference model ------------------------------------------------------------------------------------


class ReferenceStore:
    """The contract, plainly: insertion order, per-user bound first, then the global bound."""

    def __init__(self, per_user: int, total: int) -> None:
        self.per_user, self.total = per_user, total
        self.order: list[tuple[str, str]] = []  # (trace id, user), oldest first
        self.bodies: dict[str, Trace] = {}
        self.evictions = 0

    def save(self, trace: Trace) -> None:
        self.bodies[trace.trace_id] = trace
        if (trace.trace_id, trace.user_id) in self.order:
            return
        self.order.append((trace.trace_id, trace.user_id))
        mine = [entry for entry in self.order if entry[1] == trace.user_id]
        for entry in mine[: max(0, len(mine) - self.per_user)]:
            self.order.remove(entry)
            self.evictions += 1
        while len(self.order) > self.total:
            self.order.pop(0)
            self.evictions += 1


# Each operation: (user index, None for a new trace or an index into what was saved before, to update it).
OPERATIONS = st.lists(st.tuples(st.integers(0, 3), st.none() | st.integers(0, 60)), max_size=60)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=60, deadline=None)
@given(per_user=st.integers(1, 6), total=st.integers(1, 15), operations=OPERATIONS)
def test_any_sequence_of_saves_matches_the_reference(
    kind: str, per_user: int, total: int, operations: list[tuple[int, int | None]]
) -> None:
    db = SqliteDatabase(Path(":memory:")) if kind == "sqlite" else None
    store: TraceStore = SqliteTraceStore(db, per_user, total) if db else MemoryTraceStore(per_user, total)
    reference = ReferenceStore(per_user, total)
    saved: list[Trace] = []
    try:
        for n, (user, update) in enumerate(operations):
            if update is not None and saved:
                trace = saved[update % len(saved)]
                trace = Trace.from_dict({**trace.to_dict(), "status": "ok", "run_url": f"https://run/{n}"})
            else:
                trace = make_trace(n, f"user{user}")
                saved.append(trace)
            store.save(trace)
            reference.save(trace)

        kept = {tid for tid, _ in reference.order}
        assert present(store, {t.trace_id: t.user_id for t in saved}) == kept
        assert store.evictions() == reference.evictions
        for tid in kept:
            assert store.find(reference.bodies[tid].user_id, tid) == reference.bodies[tid]
        for user_id in {t.user_id for t in saved}:
            theirs = [tid for tid, owner in reference.order if owner == user_id]
            assert latest_id(store, user_id) == (theirs[-1] if theirs else None)
    finally:
        if db:
            db.close()
