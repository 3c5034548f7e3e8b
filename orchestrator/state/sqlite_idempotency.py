"""Powertools Idempotency's records in the SQLite state file, with the claim rule DynamoDB applies."""

from __future__ import annotations

import sqlite3
import time

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from orchestrator.state.idempotency_rules import may_overwrite
from orchestrator.state.sqlite import SqliteDatabase


class SqliteIdempotencyLayer(BasePersistenceLayer):
    """Powertools Idempotency's persistence contract on SQLite, with DynamoDB's claim rule."""

    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._db = db

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._db.transaction() as conn:
            record = _read(conn, idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        with self._db.transaction() as conn:
            existing = _read(conn, data_record.idempotency_key)
            if existing is not None and not may_overwrite(existing, now=time.time()):
                raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
            _write(conn, data_record)

    def _update_record(self, data_record: DataRecord) -> None:
        with self._db.transaction() as conn:
            _write(conn, data_record)

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM idempotency WHERE key = ?", (data_record.idempotency_key,))


def _read(conn: sqlite3.Connection, key: str) -> DataRecord | None:
    row = conn.execute(
        "SELECT status, expiry, in_progress_expiry, response_data, payload_hash FROM idempotency WHERE key = ?",
        (key,),
    ).fetchone()
    if row is None:
        return None
    return DataRecord(
        idempotency_key=key,
        status=row[0],
        expiry_timestamp=row[1],
        in_progress_expiry_timestamp=row[2],
        response_data=row[3],
        payload_hash=row[4],
    )


def _write(conn: sqlite3.Connection, record: DataRecord) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO idempotency (key, status, expiry, in_progress_expiry, response_data, payload_hash)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            record.idempotency_key,
            record._status,  # the stored status, not the expiry-adjusted property
            record.expiry_timestamp,
            record.in_progress_expiry_timestamp,
            record.response_data or "",
            record.payload_hash or "",
        ),
    )
