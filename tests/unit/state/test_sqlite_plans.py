"""What the SQLite stores do on every save, take and record (their upkeep included) finds its rows
through an index: no statement scans a whole table, whose cost would grow with the rows kept."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.audit.model import AuditEvent
from orchestrator.commands.invocation import Invocation
from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.state.ratelimits import Bucket
from orchestrator.state.sqlite import SqliteAuditStore, SqliteDatabase, SqliteRateLimitStore, SqliteTraceStore
from orchestrator.traces.model import Trace

INVOCATION = Invocation("1150000000000000009", "a" * 32, "deploy", {}, "1150000000000000007", "ana", None, None)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "state.db")
    yield database
    database.close()


def statements(db: SqliteDatabase, action: Callable[[], object]) -> list[str]:
    """Each statement `action` runs, with its values, as SQLite ran it."""
    ran: list[str] = []
    with db.transaction() as conn:
        conn.set_trace_callback(ran.append)
    try:
        action()
    finally:
        with db.transaction() as conn:
            conn.set_trace_callback(None)
    return [sql for sql in ran if sql.split()[0].upper() in {"SELECT", "DELETE", "UPDATE"}]


def full_scans(db: SqliteDatabase, sql: str) -> list[str]:
    with db.transaction() as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    return [row[3] for row in plan if row[3].startswith("SCAN ") and "INDEX" not in row[3]]


def trace_saves(db: SqliteDatabase) -> Callable[[], object]:
    store = SqliteTraceStore(db, per_user=3, total=5)
    for number in range(8):  # past both bounds, so that each eviction runs
        store.save(Trace(f"{number:032x}", str(1150000000000000000 + number % 2), "deploy", time.time()))
    return lambda: store.save(Trace("f" * 32, "1150000000000000000", "deploy", time.time()))


def rate_limit_takes(db: SqliteDatabase) -> Callable[[], object]:
    store = SqliteRateLimitStore(db)
    buckets = [Bucket("user:1", BucketRule(per_minute=60, burst=5)), Bucket("bot:dispatches", BucketRule(60, 100))]
    return lambda: store.take(buckets, time.time())


def audit_records(db: SqliteDatabase) -> Callable[[], object]:
    store = SqliteAuditStore(db)
    return lambda: store.record(AuditEvent(time.time(), "accepted", INVOCATION), expires_at=time.time() + 60)


@pytest.mark.parametrize("prepare", [trace_saves, rate_limit_takes, audit_records])
def test_each_statement_of_a_write_uses_an_index(
    db: SqliteDatabase, prepare: Callable[..., Callable[[], object]]
) -> None:
    ran = statements(db, prepare(db))
    assert ran, "the trace callback saw the statements"
    assert {sql: full_scans(db, sql) for sql in ran} == {sql: [] for sql in ran}


def test_an_existing_state_file_gets_the_indexes_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SqliteDatabase(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX traces_by_seq")
    SqliteDatabase(path).close()
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "traces_by_seq" in names
