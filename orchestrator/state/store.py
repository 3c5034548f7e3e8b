"""Open the state store a STATE_STORE URL names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING

from orchestrator.state.url import parse_state_store_url

if TYPE_CHECKING:  # types only: each backend's modules are imported when it is opened
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from mypy_boto3_dynamodb import DynamoDBClient

    from orchestrator.state.alerts import AlertStateStore
    from orchestrator.state.audit import AuditStore
    from orchestrator.state.caches import CacheStore
    from orchestrator.state.jobs import JobStore
    from orchestrator.state.pending import PendingStore
    from orchestrator.state.ratelimits import RateLimitStore
    from orchestrator.state.traces import TraceStore


@dataclass(frozen=True)
class StateStore:
    jobs: JobStore
    open_idempotency: Callable[[], BasePersistenceLayer]
    traces: TraceStore
    pending: PendingStore
    alerts: AlertStateStore
    rate_limits: RateLimitStore
    audit: AuditStore
    caches: CacheStore

    @cached_property
    def idempotency(self) -> BasePersistenceLayer:
        """Opened on first use: only the worker uses it, and importing Powertools Idempotency costs
        the interactions function's cold start ~9 ms (`python -X importtime`, docs/architecture.md)."""
        return self.open_idempotency()


def open_state_store(url: str) -> StateStore:
    parsed = parse_state_store_url(url)
    if parsed.kind == "memory":
        from orchestrator.state import memory

        return StateStore(
            memory.MemoryJobStore(),
            memory.MemoryIdempotencyLayer,
            memory.MemoryTraceStore(),
            memory.MemoryPendingStore(),
            memory.MemoryAlertStore(),
            memory.MemoryRateLimitStore(),
            memory.MemoryAuditStore(),
            memory.MemoryCacheStore(),
        )
    if parsed.kind == "sqlite":
        from orchestrator.state import sqlite, sqlite_idempotency

        assert parsed.sqlite_path is not None
        db = sqlite.SqliteDatabase(parsed.sqlite_path)
        return StateStore(
            sqlite.SqliteJobStore(db),
            partial(sqlite_idempotency.SqliteIdempotencyLayer, db),
            sqlite.SqliteTraceStore(db),
            sqlite.SqlitePendingStore(db),
            sqlite.SqliteAlertStore(db),
            sqlite.SqliteRateLimitStore(db),
            sqlite.SqliteAuditStore(db),
            sqlite.SqliteCacheStore(db),
        )
    import boto3

    assert parsed.table is not None
    return dynamodb_state_store(boto3.client("dynamodb"), parsed.table)


def dynamodb_state_store(client: DynamoDBClient, table: str) -> StateStore:
    """Every store on one DynamoDB table, through one client (tests hand in one that misbehaves)."""
    from orchestrator.state import dynamodb, dynamodb_ratelimits, dynamodb_traces

    return StateStore(
        dynamodb.DynamoJobStore(client, table),
        partial(dynamodb.dynamo_idempotency_layer, client, table),
        dynamodb_traces.DynamoTraceStore(client, table),
        dynamodb.DynamoPendingStore(client, table),
        dynamodb.DynamoAlertStore(client, table),
        dynamodb_ratelimits.DynamoRateLimitStore(client, table),
        dynamodb.DynamoAuditStore(client, table),
        dynamodb.DynamoCacheStore(client, table),
    )
