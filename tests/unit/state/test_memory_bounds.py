"""The in-memory backend is bounded: it evicts the oldest entries, counts them, and says so once."""

from __future__ import annotations

import io
import json
import time
from typing import Any

from orchestrator.commands.invocation import Invocation
from orchestrator.state.bounded import MAX_ITEMS, BoundedMap
from orchestrator.state.jobs import JobRecord
from orchestrator.state.memory import MemoryIdempotencyLayer, MemoryJobStore

FULL = "in-memory store full: evicting oldest"


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_evicts_the_oldest_past_its_limit() -> None:
    items: BoundedMap[int] = BoundedMap("test", limit=3)
    for number, key in enumerate("abcd"):
        items.set(key, number)

    assert items.get("a") is None
    assert [items.get(k) for k in "bcd"] == [1, 2, 3]
    assert items.evicted == 1


def test_counts_every_eviction() -> None:
    items: BoundedMap[int] = BoundedMap("test", limit=2)
    for number in range(10):
        items.set(str(number), number)

    assert items.evicted == 8
    assert [items.get(str(n)) for n in range(10)] == [None] * 8 + [8, 9]


def test_rewriting_a_key_makes_it_the_newest() -> None:
    items: BoundedMap[str] = BoundedMap("test", limit=2)
    items.set("a", "1")
    items.set("b", "1")
    items.set("a", "2")  # a is now newer than b

    items.set("c", "1")

    assert items.get("b") is None
    assert items.get("a") == "2"
    assert items.evicted == 1


def test_within_the_limit_nothing_is_evicted(captured_logs: io.StringIO) -> None:
    items: BoundedMap[int] = BoundedMap("test", limit=3)
    for number in range(3):
        items.set(str(number), number)
    items.set("0", 10)

    assert items.evicted == 0
    assert FULL not in captured_logs.getvalue()


def test_pop_removes_and_tolerates_missing_keys() -> None:
    items: BoundedMap[int] = BoundedMap("test", limit=3)
    items.set("a", 1)

    items.pop("a")
    items.pop("never-there")

    assert items.get("a") is None
    assert items.evicted == 0


def test_logs_the_first_eviction_once_as_a_warning(captured_logs: io.StringIO) -> None:
    items: BoundedMap[int] = BoundedMap("idempotency", limit=2)
    for number in range(50):
        items.set(str(number), number)

    warnings = [line for line in log_lines(captured_logs) if line["msg"] == FULL]
    assert len(warnings) == 1
    assert warnings[0]["level"] == "warn"
    assert warnings[0]["store"] == "idempotency"
    assert items.evicted == 48


def test_each_map_warns_once_for_itself(captured_logs: io.StringIO) -> None:
    jobs: BoundedMap[int] = BoundedMap("jobs", limit=1)
    keys: BoundedMap[int] = BoundedMap("idempotency", limit=1)
    for number in range(3):
        jobs.set(str(number), number)
        keys.set(str(number), number)

    stores = [line["store"] for line in log_lines(captured_logs) if line["msg"] == FULL]
    assert sorted(stores) == ["idempotency", "jobs"]


def test_memory_stores_are_bounded_by_default() -> None:
    assert MemoryJobStore()._records.limit == MAX_ITEMS
    assert MemoryIdempotencyLayer()._records.limit == MAX_ITEMS


def test_memory_job_store_evicts_through_its_map() -> None:
    store = MemoryJobStore()
    store._records.limit = 2
    now = time.time()
    records = [
        JobRecord(
            invocation=Invocation(
                options={},
                interaction_id=str(n),
                trace_id="t" * 32,
                command="diagnose",
                user_id="u",
                user_name="user",
                guild_id=None,
                channel_id=None,
            ),
            status="dispatching",
            created_at=now,
            updated_at=now,
        )
        for n in range(3)
    ]
    for record in records:
        store.put(record)

    assert store.get("0") is None
    assert store.get("2") == records[2]
    assert store._records.evicted == 1
