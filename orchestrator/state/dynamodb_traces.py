"""Traces on the DynamoDB table: per-user items, bounded per user and in all."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from orchestrator.state.dynamodb import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from orchestrator.state.traces import MAX_TRACES_PER_USER, MAX_TRACES_TOTAL, TRACE_RETENTION_SECONDS, matches
from orchestrator.traces.model import Trace

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_EVICTION_COUNTER: dict[str, Any] = {PARTITION_KEY: {"S": "counter"}, SORT_KEY: {"S": "trace_evictions"}}


class DynamoTraceStore:
    """Per-user items (pk trace#USER, sk START#TRACE) plus one index item per trace in a single
    `traces` partition, so both bounds can be counted and the oldest found with one query each.

    Two instances saving at once may both evict the same oldest trace: deletes are idempotent,
    so the bound holds; the eviction counter may then count that trace twice.
    """

    INDEX = "traces"

    def __init__(
        self, client: DynamoDBClient, table: str, per_user: int = MAX_TRACES_PER_USER, total: int = MAX_TRACES_TOTAL
    ) -> None:
        self._client = client
        self._table = table
        self._per_user = per_user
        self._total = total

    def save(self, trace: Trace) -> None:
        sort_key = f"{int(trace.started_at * 1000):013d}#{trace.trace_id}"
        expires = str(int(time.time()) + TRACE_RETENTION_SECONDS)
        old = self._client.put_item(
            TableName=self._table,
            Item={
                PARTITION_KEY: {"S": f"trace#{trace.user_id}"},
                SORT_KEY: {"S": sort_key},
                "data": {"S": trace.to_json()},
                TTL_ATTRIBUTE: {"N": expires},
            },
            ReturnValues="ALL_OLD",
        ).get("Attributes")
        if old:
            return  # an update of a trace already counted against the bounds
        self._client.put_item(
            TableName=self._table,
            Item={
                PARTITION_KEY: {"S": self.INDEX},
                SORT_KEY: {"S": sort_key},
                "user_id": {"S": trace.user_id},
                TTL_ATTRIBUTE: {"N": expires},
            },
        )
        evicted = 0
        mine = self._sort_keys(f"trace#{trace.user_id}")
        for key in mine[: max(0, len(mine) - self._per_user)]:
            self._delete(trace.user_id, key)
            evicted += 1
        everyone = self._sort_keys(self.INDEX, with_user=True)
        for key, user_id in everyone[: max(0, len(everyone) - self._total)]:
            self._delete(user_id, key)
            evicted += 1
        if evicted:
            self._client.update_item(
                TableName=self._table,
                Key=_EVICTION_COUNTER,
                UpdateExpression="ADD evictions :n",
                ExpressionAttributeValues={":n": {"N": str(evicted)}},
            )

    def latest(self, user_id: str) -> Trace | None:
        for item in self._items(user_id, newest_first=True):
            return Trace.from_json(item["data"]["S"])
        return None

    def find(self, user_id: str, trace_id: str) -> Trace | None:
        for item in self._items(user_id, newest_first=True):
            if matches(item[SORT_KEY]["S"].partition("#")[2], trace_id):
                return Trace.from_json(item["data"]["S"])
        return None

    def evictions(self) -> int:
        item = self._client.get_item(TableName=self._table, Key=_EVICTION_COUNTER, ConsistentRead=True).get("Item")
        return int(item["evictions"]["N"]) if item and "evictions" in item else 0

    def _items(self, user_id: str, *, newest_first: bool) -> Iterator[dict[str, Any]]:
        """The user's unexpired traces, page by page (a user's 100 traces may pass 1 MB)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":pk": {"S": f"trace#{user_id}"}},
            "ScanIndexForward": not newest_first,
            "ConsistentRead": True,
        }
        now = time.time()
        while True:
            response = self._client.query(**request)
            yield from (item for item in response.get("Items", []) if int(item[TTL_ATTRIBUTE]["N"]) >= now)
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _sort_keys(self, partition: str, *, with_user: bool = False) -> list[Any]:
        """Oldest first. The partitions are bounded (100, 1,000 items), so pages are few."""
        keys: list[Any] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#sk": SORT_KEY},
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ProjectionExpression": "#sk, user_id" if with_user else "#sk",
            "ConsistentRead": True,
        }
        while True:
            response = self._client.query(**request)
            for item in response.get("Items", []):
                key = item[SORT_KEY]["S"]
                keys.append((key, item["user_id"]["S"]) if with_user else key)
            if "LastEvaluatedKey" not in response:
                return keys
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _delete(self, user_id: str, sort_key: str) -> None:
        for partition in (f"trace#{user_id}", self.INDEX):
            self._client.delete_item(
                TableName=self._table, Key={PARTITION_KEY: {"S": partition}, SORT_KEY: {"S": sort_key}}
            )
