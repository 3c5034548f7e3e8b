"""State in one SQLite file: the local server's default, surviving restarts."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from orchestrator.audit.model import AuditEvent
from orchestrator.ratelimits.bucket import KEPT_AFTER_FULL_SECONDS
from orchestrator.serialization import dumps_text, loads
from orchestrator.state.alerts import Claim
from orchestrator.state.audit import MAX_AUDIT_READ
from orchestrator.state.caches import Cached
from orchestrator.state.jobs import JOB_RETENTION_SECONDS, TOKEN_LIFETIME_SECONDS, Change, JobRecord, apply_change
from orchestrator.state.ratelimits import Bucket, Refused, decide
from orchestrator.state.traces import MAX_TRACES_PER_USER, MAX_TRACES_TOTAL, TRACE_RETENTION_SECONDS, matches
from orchestrator.traces.model import Trace

TOKEN_SWEEP_SECONDS = 60  # how often expired interaction tokens are blanked in the file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    interaction_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_state (
    fingerprint TEXT PRIMARY KEY,
    suppress_until REAL NOT NULL,
    suppressed INTEGER NOT NULL,
    since REAL
);
CREATE TABLE IF NOT EXISTS alert_rate (
    minute INTEGER PRIMARY KEY,
    used INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pending (
    ref TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_index (
    run_id INTEGER PRIMARY KEY,
    interaction_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS traces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    trace_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_by_user ON traces (user_id, seq);
-- The ring's global bound walks the newest 1,000 seqs on every save: through this index, a few pages,
-- instead of the table's leaves, which hold the bodies (0.7 ms at 1,000 traces of ~2 KB).
CREATE INDEX IF NOT EXISTS traces_by_seq ON traces (seq);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
DROP TABLE IF EXISTS rate_buckets;
CREATE TABLE IF NOT EXISTS token_buckets (
    key TEXT PRIMARY KEY,
    full_at REAL NOT NULL
);
-- Every take, audit record and so on deletes what has expired: found through an index, not a scan.
CREATE INDEX IF NOT EXISTS token_buckets_by_full_at ON token_buckets (full_at);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit (user_id, at);
CREATE INDEX IF NOT EXISTS audit_by_expiry ON audit (expires_at);
CREATE TABLE IF NOT EXISTS caches (
    key TEXT PRIMARY KEY,
    body TEXT,
    fetched_at REAL,
    etag TEXT,
    claimed_at REAL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expiry INTEGER,
    in_progress_expiry INTEGER,
    response_data TEXT NOT NULL DEFAULT '',
    payload_hash TEXT NOT NULL DEFAULT ''
);
"""


def _private_file(path: Path) -> None:
    """The state file holds user ids, names and interaction tokens: readable by its owner only
    (0600, in a 0700 folder when the bot makes the folder), whatever the umask. SQLite gives its
    -wal and -shm files the database file's permissions."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


class SqliteDatabase:
    """One connection per store, serialised by a lock; transactions are IMMEDIATE so that two
    processes sharing the file cannot both claim the same key."""

    def __init__(self, path: Path) -> None:
        if str(path) != ":memory:":
            _private_file(path)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=5.0)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA busy_timeout=5000")
        self._connection.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
                self._connection.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT (busy, disk full): a transaction left open would make
                # every later BEGIN on this connection fail.
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class SqliteJobStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._next_sweep = 0.0

    def get(self, interaction_id: str) -> JobRecord | None:
        with self._db.transaction() as conn:
            return _read_job(conn, interaction_id)

    def get_by_run(self, run_id: int) -> JobRecord | None:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT interaction_id FROM run_index WHERE run_id = ?", (run_id,)).fetchone()
            return _read_job(conn, row[0]) if row else None

    def update(self, interaction_id: str, change: Change) -> JobRecord | None:
        # One IMMEDIATE transaction: no other writer, in this process or another, comes between.
        with self._db.transaction() as conn:
            current = _read_job(conn, interaction_id)
            changed = apply_change(current, change)
            if changed is None:
                return current
            conn.execute(
                "INSERT OR REPLACE INTO jobs (interaction_id, body, expires_at) VALUES (?, ?, ?)",
                (interaction_id, changed.to_json(), int(time.time()) + JOB_RETENTION_SECONDS),
            )
            self._drop_expired_tokens(conn)
            if changed.run_id is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO run_index (run_id, interaction_id) VALUES (?, ?)",
                    (changed.run_id, interaction_id),
                )
            return changed

    def put(self, record: JobRecord) -> None:
        self.update(record.invocation.interaction_id, lambda _: record)

    def _drop_expired_tokens(self, conn: sqlite3.Connection) -> None:
        """Records whose run ended while their token still worked are not written again: at most
        once a minute, their expired tokens are blanked in the file itself."""
        now = time.time()
        if now < self._next_sweep:
            return
        self._next_sweep = now + TOKEN_SWEEP_SECONDS
        conn.execute(
            "UPDATE jobs SET body = json_set(body, '$.reply_token', NULL) "
            "WHERE json_extract(body, '$.reply_token') IS NOT NULL "
            "AND COALESCE(json_extract(body, '$.received_at'), json_extract(body, '$.created_at')) < ?",
            (now - TOKEN_LIFETIME_SECONDS,),
        )


def _read_job(conn: sqlite3.Connection, interaction_id: str) -> JobRecord | None:
    row = conn.execute(
        "SELECT body FROM jobs WHERE interaction_id = ? AND expires_at >= ?", (interaction_id, int(time.time()))
    ).fetchone()
    return JobRecord.from_json(row[0]) if row else None


class SqliteTraceStore:
    def __init__(self, db: SqliteDatabase, per_user: int = MAX_TRACES_PER_USER, total: int = MAX_TRACES_TOTAL) -> None:
        self._db = db
        self._per_user = per_user
        self._total = total

    def save(self, trace: Trace) -> None:
        expires = int(time.time()) + TRACE_RETENTION_SECONDS
        with self._db.transaction() as conn:
            updated = conn.execute(
                "UPDATE traces SET body = ?, expires_at = ? WHERE trace_id = ? AND user_id = ?",
                (trace.to_json(), expires, trace.trace_id, trace.user_id),
            ).rowcount
            if updated:
                return
            conn.execute(
                "INSERT OR REPLACE INTO traces (trace_id, user_id, body, expires_at) VALUES (?, ?, ?, ?)",
                (trace.trace_id, trace.user_id, trace.to_json(), expires),
            )
            # The newest row past each bound, found by walking an index from the newest end; then one
            # range delete. (NOT IN over a subquery scanned the whole table on every save.)
            evicted = 0
            past_user = conn.execute(
                "SELECT seq FROM traces WHERE user_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                (trace.user_id, self._per_user),
            ).fetchone()
            if past_user:
                evicted += conn.execute(
                    "DELETE FROM traces WHERE user_id = ? AND seq <= ?", (trace.user_id, past_user[0])
                ).rowcount
            past_total = conn.execute(
                "SELECT seq FROM traces ORDER BY seq DESC LIMIT 1 OFFSET ?", (self._total,)
            ).fetchone()
            if past_total:
                evicted += conn.execute("DELETE FROM traces WHERE seq <= ?", (past_total[0],)).rowcount
            if evicted:
                conn.execute(
                    "INSERT INTO counters (name, value) VALUES ('trace_evictions', ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                    (evicted,),
                )

    def latest(self, user_id: str) -> Trace | None:
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT body FROM traces WHERE user_id = ? AND expires_at >= ? ORDER BY seq DESC LIMIT 1",
                (user_id, int(time.time())),
            ).fetchone()
        return Trace.from_json(row[0]) if row else None

    def find(self, user_id: str, trace_id: str) -> Trace | None:
        with self._db.transaction() as conn:
            rows = conn.execute(
                "SELECT trace_id, body FROM traces WHERE user_id = ? AND expires_at >= ? ORDER BY seq DESC",
                (user_id, int(time.time())),
            ).fetchall()
        return next((Trace.from_json(body) for key, body in rows if matches(key, trace_id)), None)

    def evictions(self) -> int:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT value FROM counters WHERE name = 'trace_evictions'").fetchone()
        return int(row[0]) if row else 0


class SqlitePendingStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def put(self, ref: str, body: str, expires_at: float) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pending (ref, body, expires_at) VALUES (?, ?, ?)", (ref, body, expires_at)
            )

    def take(self, ref: str) -> str | None:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT body, expires_at FROM pending WHERE ref = ?", (ref,)).fetchone()
            conn.execute("DELETE FROM pending WHERE ref = ?", (ref,))
        return row[0] if row and row[1] >= time.time() else None


class SqliteCacheStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def get(self, key: str) -> Cached | None:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT body, fetched_at, etag FROM caches WHERE key = ?", (key,)).fetchone()
        return Cached(row[0], row[1], row[2]) if row and row[0] is not None else None

    def put(self, key: str, entry: Cached) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO caches (key, body, fetched_at, etag) VALUES (?, ?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at, etag = excluded.etag",
                (key, entry.body, entry.fetched_at, entry.etag),
            )

    def claim_refresh(self, key: str, *, now: float, interval: float) -> bool:
        with self._db.transaction() as conn:
            changed = conn.execute(
                "INSERT INTO caches (key, claimed_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                "claimed_at = excluded.claimed_at WHERE claimed_at IS NULL OR claimed_at <= ?",
                (key, now, now - interval),
            ).rowcount
        return changed == 1


class SqliteAlertStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def claim(self, fingerprint: str, *, now: float, window: float) -> Claim:
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT suppress_until, suppressed, since FROM alert_state WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            until, suppressed, since = row if row else (0.0, 0, None)
            if until <= now:
                conn.execute("INSERT OR REPLACE INTO alert_state VALUES (?, ?, 0, NULL)", (fingerprint, now + window))
                return Claim(True, suppressed, since)
            conn.execute(
                "UPDATE alert_state SET suppressed = ?, since = ? WHERE fingerprint = ?",
                (suppressed + 1, since or now, fingerprint),
            )
            return Claim(False, suppressed + 1, since or now)

    def release(self, fingerprint: str, claim: Claim) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE alert_state SET suppress_until = 0, suppressed = suppressed + ?, since = COALESCE(since, ?) "
                "WHERE fingerprint = ?",
                (claim.suppressed, claim.since, fingerprint),
            )

    def take_slot(self, minute: int, limit: int) -> bool:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT used FROM alert_rate WHERE minute = ?", (minute,)).fetchone()
            if row and row[0] >= limit:
                return False
            conn.execute("INSERT OR REPLACE INTO alert_rate VALUES (?, ?)", (minute, (row[0] if row else 0) + 1))
            conn.execute("DELETE FROM alert_rate WHERE minute < ?", (minute - 60,))
            return True


class SqliteRateLimitStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def take(self, buckets: Sequence[Bucket], now: float) -> Refused | None:
        # IMMEDIATE: read, decide and take with no other writer (process or thread) in between.
        with self._db.transaction() as conn:
            keys = [bucket.key for bucket in buckets]
            marks = ", ".join("?" * len(keys))
            rows = conn.execute(f"SELECT key, full_at FROM token_buckets WHERE key IN ({marks})", keys)  # noqa: S608 - placeholders only
            outcome = decide(buckets, dict(rows.fetchall()), now)
            if isinstance(outcome, Refused):
                return outcome
            conn.executemany("INSERT OR REPLACE INTO token_buckets VALUES (?, ?)", outcome.items())
            conn.execute("DELETE FROM token_buckets WHERE full_at < ?", (now - KEPT_AFTER_FULL_SECONDS,))
            return None


class SqliteAuditStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def record(self, event: AuditEvent, *, expires_at: float) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO audit (at, user_id, body, expires_at) VALUES (?, ?, ?, ?)",
                (event.at, event.invocation.user_id, dumps_text(event.to_dict()), expires_at),
            )
            conn.execute("DELETE FROM audit WHERE expires_at < ?", (time.time(),))

    def query(self, *, since: float, user_id: str | None = None, limit: int = 100) -> list[AuditEvent]:
        args: list[object] = [since, time.time()]
        where = "at >= ? AND expires_at >= ?"
        if user_id is not None:
            where, args = f"user_id = ? AND {where}", [user_id, *args]
        with self._db.transaction() as conn:
            rows = conn.execute(
                f"SELECT body FROM audit WHERE {where} ORDER BY at DESC, seq DESC LIMIT ?",  # noqa: S608 - fixed text
                (*args, min(limit, MAX_AUDIT_READ)),
            ).fetchall()
        return [AuditEvent.from_dict(loads(body)) for (body,) in rows]
