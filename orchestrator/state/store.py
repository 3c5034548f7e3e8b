"""Open the state store a STATE_STORE URL names."""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from orchestrator.state.jobs import JobStore
from orchestrator.state.traces import TraceStore
from orchestrator.state.url import parse_state_store_url


@dataclass(frozen=True)
class StateStore:
    jobs: JobStore
    idempotency: BasePersistenceLayer
    traces: TraceStore


def open_state_store(url: str) -> StateStore:
    parsed = parse_state_store_url(url)
    if parsed.kind == "memory":
        from orchestrator.state.memory import MemoryIdempotencyLayer, MemoryJobStore, MemoryTraceStore

        return StateStore(MemoryJobStore(), MemoryIdempotencyLayer(), MemoryTraceStore())
    if parsed.kind == "sqlite":
        from orchestrator.state.sqlite import SqliteDatabase, SqliteIdempotencyLayer, SqliteJobStore, SqliteTraceStore

        assert parsed.sqlite_path is not None
        db = SqliteDatabase(parsed.sqlite_path)
        return StateStore(SqliteJobStore(db), SqliteIdempotencyLayer(db), SqliteTraceStore(db))
    import boto3

    from orchestrator.state.dynamodb import DynamoJobStore, DynamoTraceStore, dynamo_idempotency_layer

    assert parsed.table is not None
    client = boto3.client("dynamodb")
    return StateStore(
        DynamoJobStore(client, parsed.table),
        dynamo_idempotency_layer(client, parsed.table),
        DynamoTraceStore(client, parsed.table),
    )
