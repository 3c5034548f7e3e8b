"""The audit trail on every backend: newest first, by user, since a time, bounded, expiring."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

import orchestrator.state.dynamodb
from orchestrator.audit.model import AuditEvent
from orchestrator.state.store import dynamodb_state_store
from tests.fixtures.state import Backend

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Reads look back day by day on DynamoDB: a week covers every event these tests write, where
# `since=0` would walk the ten years AUDIT_RETENTION_DAYS allows (one test below checks that bound).
A_WEEK = 7 * 86400


def event(at: float, user_id: str = "111111111111111111", outcome: str = "accepted", **extra: object) -> AuditEvent:
    fields: dict[str, object] = {
        "at": at,
        "outcome": outcome,
        "user_id": user_id,
        "user_name": "Alice",
        "roles": ("222222222222222222",),
        "command": "diagnose",
        "options": {"target": "staging"},
        "guild_id": "333333333333333333",
        "channel_id": "444444444444444444",
        "trace_id": "0" * 32,
        "interaction_id": f"5{int(at * 1000):017d}",
        **extra,
    }
    return AuditEvent.from_dict(fields)


def test_query_newest_first_by_user_since_and_limit(backend: Backend) -> None:
    store = backend.store.audit
    now = time.time()
    keep = now + 3600
    # Across two UTC days, so the DynamoDB layout's day partitions are crossed.
    times = [now - 2 * 86400, now - 86400 - 5, now - 60, now - 30, now - 10]
    for at in times:
        store.record(event(at), expires_at=keep)
    store.record(event(now - 20, user_id="999999999999999999", outcome="denied"), expires_at=keep)

    everything = store.query(since=now - A_WEEK)
    assert [e.at for e in everything] == sorted([*times, now - 20], reverse=True)
    assert [e.at for e in store.query(since=now - 45)] == [now - 10, now - 20, now - 30]
    assert [e.outcome for e in store.query(since=now - A_WEEK, user_id="999999999999999999")] == ["denied"]
    assert [e.at for e in store.query(since=now - A_WEEK, limit=2)] == [now - 10, now - 20]
    assert [e.at for e in store.query(since=now - 86400 * 3, user_id="111111111111111111", limit=4)] == [
        now - 10,
        now - 30,
        now - 60,
        now - 86400 - 5,
    ]


def test_events_keep_every_field_and_are_shared_by_instances(backend: Backend) -> None:
    original = event(time.time(), run_id=42, detail="dispatched")
    backend.store.audit.record(original, expires_at=time.time() + 60)
    [read] = backend.another().audit.query(since=time.time() - A_WEEK)
    assert read == original


def test_expired_events_are_not_returned(backend: Backend) -> None:
    backend.store.audit.record(event(time.time() - 100), expires_at=time.time() - 1)
    assert backend.store.audit.query(since=time.time() - A_WEEK) == []


def test_dynamodb_reads_never_look_further_back_than_the_longest_retention(
    dynamodb_client: DynamoDBClient, dynamodb_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orchestrator.state.dynamodb, "MAX_AUDIT_RETENTION_DAYS", 2)
    store = dynamodb_state_store(dynamodb_client, dynamodb_table).audit
    now = time.time()
    for days_ago in (0, 1, 5):
        store.record(event(now - days_ago * 86400), expires_at=now + 3600)
    assert [round((now - e.at) / 86400) for e in store.query(since=0)] == [0, 1]
