"""The SQLite file's transactions: a COMMIT that fails leaves the connection usable."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from orchestrator.state.sqlite import SqliteDatabase


class CommitFailsOnce:
    """A connection whose next COMMIT fails, as when the disk is full or the file stays busy."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self.fail = True

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT" and self.fail:
            self.fail = False
            raise sqlite3.OperationalError("database or disk is full")
        return self._connection.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def test_a_failed_commit_is_rolled_back_and_the_next_transaction_works(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "state.db")
    db._connection = CommitFailsOnce(db._connection)  # type: ignore[assignment]
    with pytest.raises(sqlite3.OperationalError), db.transaction() as conn:
        conn.execute("INSERT INTO counters VALUES ('lost', 1)")
    with db.transaction() as conn:
        conn.execute("INSERT INTO counters VALUES ('kept', 2)")
    with db.transaction() as conn:
        assert conn.execute("SELECT name, value FROM counters").fetchall() == [("kept", 2)]
