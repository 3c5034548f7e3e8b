"""Open the state store a STATE_STORE URL names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.state.url import parse_state_store_url

if TYPE_CHECKING:  # types only: the interactions function opens a store lazily, if ever
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from orchestrator.state.alerts import AlertStateStore
    from orchestrator.state.jobs import JobStore
    from orchestrator.state.pending import PendingStore
    from orchestrator.state.traces import TraceStore


@dataclass(frozen=True)
class StateStore:
    jobs: JobStore
    idempotency: BasePersistenceLayer
    traces: TraceStore
    pending: PendingStore
    alerts: AlertStateStore


def open_state_store(url: str) -> StateStore:
    parsed = parse_state_store_url(url)
    if parsed.kind == "memory":
        from orchestrator.state import memory

        return StateStore(
            memory.MemoryJobStore(),
            memory.MemoryIdempotencyLayer(),
            memory.MemoryTraceStore(),
            memory.MemoryPendingStore(),
            memory.MemoryAlertStore(),
        )
    if parsed.kind == "sqlite":
        from orchestrator.state import sqlite

        assert parsed.sqlite_path is not None
        db = sqlite.SqliteDatabase(parsed.sqlite_path)
        return StateStore(
            sqlite.SqliteJobStore(db),
            sqlite.SqliteIdempotencyLayer(db),
            sqlite.SqliteTraceStore(db),
            sqlite.SqlitePendingStore(db),
            sqlite.SqliteAlertStore(db),
        )
    import boto3

    from orchestrator.state import dynamodb

    assert parsed.table is not None
    client = boto3.client("dynamodb")
    return StateStore(
        dynamodb.DynamoJobStore(client, parsed.table),
        dynamodb.dynamo_idempotency_layer(client, parsed.table),
        dynamodb.DynamoTraceStore(client, parsed.table),
        dynamodb.DynamoPendingStore(client, parsed.table),
        dynamodb.DynamoAlertStore(client, parsed.table),
    )
