"""Where `serve`'s queue keeps its messages, with SQS's semantics: a message is claimed for a
visibility timeout, deleted when its job is done, made visible again later when it failed, and
dead-lettered after its last receive. A claim whose holder died (a crash, `kill -9`) simply runs
out, and the message is delivered again: the worker looks for the run before dispatching again.

On SQLite (the state file) messages survive a restart; in memory (`memory://`) they do not.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from orchestrator.state.sqlite import SqliteDatabase
from orchestrator.state.url import parse_state_store_url

MAX_DEAD_LETTERS = 1_000
# Where the queue lives when the state is in DynamoDB: `serve` still needs a local file.
QUEUE_FILE_BESIDE_DYNAMODB = Path(".orchestrator/queue.db")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    visible_at REAL NOT NULL,
    sent_at REAL NOT NULL,
    receives INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS queue_by_visibility ON queue (visible_at, id);
CREATE TABLE IF NOT EXISTS queue_dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Received:
    id: int
    body: str
    receives: int  # this delivery included
    sent_at: float  # wall clock, like SQS's SentTimestamp
    receipt: str  # this delivery's: a later delivery of the same message has another


class QueueStore(Protocol):
    def put(self, body: str, *, visible_at: float, sent_at: float, limit: int | None = None) -> bool:
        """Keep the message; False, keeping nothing, when `limit` messages are already queued."""

    def receive(self, now: float, *, visibility_timeout: float) -> Received | None:
        """The oldest visible message, now invisible for `visibility_timeout` seconds."""

    def delete(self, message: Received) -> None:
        """Done with: gone, unless another delivery has claimed it since."""

    def hide_until(self, message: Received, visible_at: float) -> None:
        """Visible again at `visible_at` (a retry's backoff, or a job still running), unless
        another delivery has claimed it since."""

    def dead_letter(self, message: Received) -> None: ...

    def count(self) -> int: ...

    def next_visible_at(self) -> float | None: ...

    def dead_letters(self) -> list[str]: ...


def open_queue_store(state_store_url: str) -> QueueStore:
    """Beside the state: in the same SQLite file, or in memory for `memory://`."""
    parsed = parse_state_store_url(state_store_url)
    if parsed.kind == "memory":
        return MemoryQueueStore()
    path = parsed.sqlite_path if parsed.kind == "sqlite" else QUEUE_FILE_BESIDE_DYNAMODB
    assert path is not None
    return SqliteQueueStore(SqliteDatabase(path))


class SqliteQueueStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        with db.transaction() as conn:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                conn.execute(statement)

    def put(self, body: str, *, visible_at: float, sent_at: float, limit: int | None = None) -> bool:
        with self._db.transaction() as conn:
            if limit is not None and conn.execute("SELECT COUNT(*) FROM queue").fetchone()[0] >= limit:
                return False
            conn.execute("INSERT INTO queue (body, visible_at, sent_at) VALUES (?, ?, ?)", (body, visible_at, sent_at))
            return True

    def receive(self, now: float, *, visibility_timeout: float) -> Received | None:
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT id, body, receives, sent_at FROM queue WHERE visible_at <= ? ORDER BY visible_at, id LIMIT 1",
                (now,),
            ).fetchone()
            if row is None:
                return None
            message = Received(row[0], row[1], row[2] + 1, row[3], secrets.token_hex(8))
            conn.execute(
                "UPDATE queue SET visible_at = ?, receives = ?, receipt = ? WHERE id = ?",
                (now + visibility_timeout, message.receives, message.receipt, message.id),
            )
            return message

    def delete(self, message: Received) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM queue WHERE id = ? AND receipt = ?", (message.id, message.receipt))

    def hide_until(self, message: Received, visible_at: float) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE queue SET visible_at = ? WHERE id = ? AND receipt = ?",
                (visible_at, message.id, message.receipt),
            )

    def dead_letter(self, message: Received) -> None:
        with self._db.transaction() as conn:
            moved = conn.execute("DELETE FROM queue WHERE id = ? AND receipt = ?", (message.id, message.receipt))
            if moved.rowcount:
                conn.execute("INSERT INTO queue_dead_letters (body) VALUES (?)", (message.body,))
                conn.execute(
                    "DELETE FROM queue_dead_letters WHERE id <= (SELECT MAX(id) FROM queue_dead_letters) - ?",
                    (MAX_DEAD_LETTERS,),
                )

    def count(self) -> int:
        with self._db.transaction() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM queue").fetchone()[0])

    def next_visible_at(self) -> float | None:
        with self._db.transaction() as conn:
            row = conn.execute("SELECT MIN(visible_at) FROM queue").fetchone()
            return None if row[0] is None else float(row[0])

    def dead_letters(self) -> list[str]:
        with self._db.transaction() as conn:
            return [body for (body,) in conn.execute("SELECT body FROM queue_dead_letters ORDER BY id")]


@dataclass(frozen=True)
class _Stored:
    body: str
    visible_at: float
    sent_at: float
    receives: int = 0
    receipt: str | None = None


class MemoryQueueStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[int, _Stored] = {}
        self._ids: Callable[[], int] = itertools.count(1).__next__
        self._dead: list[str] = []

    def put(self, body: str, *, visible_at: float, sent_at: float, limit: int | None = None) -> bool:
        with self._lock:
            if limit is not None and len(self._messages) >= limit:
                return False
            self._messages[self._ids()] = _Stored(body, visible_at, sent_at)
            return True

    def receive(self, now: float, *, visibility_timeout: float) -> Received | None:
        with self._lock:
            visible = [(m.visible_at, key) for key, m in self._messages.items() if m.visible_at <= now]
            if not visible:
                return None
            key = min(visible)[1]
            stored = self._messages[key]
            message = Received(key, stored.body, stored.receives + 1, stored.sent_at, secrets.token_hex(8))
            self._messages[key] = replace(
                stored, visible_at=now + visibility_timeout, receives=message.receives, receipt=message.receipt
            )
            return message

    def delete(self, message: Received) -> None:
        with self._lock:
            self._take(message)

    def hide_until(self, message: Received, visible_at: float) -> None:
        with self._lock:
            stored = self._messages.get(message.id)
            if stored is not None and stored.receipt == message.receipt:
                self._messages[message.id] = replace(stored, visible_at=visible_at)

    def dead_letter(self, message: Received) -> None:
        with self._lock:
            if self._take(message):
                self._dead = [*self._dead, message.body][-MAX_DEAD_LETTERS:]

    def _take(self, message: Received) -> bool:
        stored = self._messages.get(message.id)
        if stored is None or stored.receipt != message.receipt:
            return False
        del self._messages[message.id]
        return True

    def count(self) -> int:
        with self._lock:
            return len(self._messages)

    def next_visible_at(self) -> float | None:
        with self._lock:
            return min((m.visible_at for m in self._messages.values()), default=None)

    def dead_letters(self) -> list[str]:
        with self._lock:
            return list(self._dead)
