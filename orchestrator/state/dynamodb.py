"""State in one DynamoDB table (pk, sk; TTL on `expiration`), shared by every Lambda instance."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from orchestrator.audit.model import AuditEvent
from orchestrator.ratelimits.bucket import KEPT_AFTER_FULL_SECONDS
from orchestrator.serialization import dumps_text, loads
from orchestrator.state.alerts import Claim
from orchestrator.state.audit import MAX_AUDIT_READ, MAX_AUDIT_RETENTION_DAYS
from orchestrator.state.bounded import BoundedMap
from orchestrator.state.caches import CACHE_RETENTION_SECONDS, Cached
from orchestrator.state.jobs import (
    JOB_RETENTION_SECONDS,
    MAX_UPDATE_ATTEMPTS,
    Change,
    JobRecord,
    UpdateConflict,
    apply_change,
)
from orchestrator.state.ratelimits import Bucket, RateLimitConflict, Refused, decide
from orchestrator.state.traces import MAX_TRACES_PER_USER, MAX_TRACES_TOTAL, TRACE_RETENTION_SECONDS, matches
from orchestrator.traces.model import Trace

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expiration"  # also Powertools Idempotency's default expiry attribute


class DynamoJobStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, interaction_id: str) -> JobRecord | None:
        item = self._client.get_item(TableName=self._table, Key=_job_key(interaction_id), ConsistentRead=True).get(
            "Item"
        )
        # TTL deletes lazily (up to two days late): an expired item is treated as gone.
        if not item or int(item[TTL_ATTRIBUTE]["N"]) < time.time():
            return None
        record = JobRecord.from_json(item["data"]["S"])
        record.version = int(item.get("version", {}).get("N", "0"))
        return record

    def get_by_run(self, run_id: int) -> JobRecord | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={PARTITION_KEY: {"S": f"run#{run_id}"}, SORT_KEY: {"S": "run"}},
            ConsistentRead=True,
        ).get("Item")
        return self.get(item["interaction_id"]["S"]) if item else None

    def update(self, interaction_id: str, change: Change) -> JobRecord | None:
        for _ in range(MAX_UPDATE_ATTEMPTS):
            current = self.get(interaction_id)
            changed = apply_change(current, change)
            if changed is None:
                return current
            expires = {"N": str(int(time.time()) + JOB_RETENTION_SECONDS)}
            if changed.run_id is not None and (current is None or current.run_id != changed.run_id):
                # The run's index first: a failure here (throttling) leaves the record without the run, so
                # the retry writes both. Written after, a lost index write was never retried, and webhook
                # deliveries for the run were ignored. Put twice by a lost compare-and-set race: harmless.
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        PARTITION_KEY: {"S": f"run#{changed.run_id}"},
                        SORT_KEY: {"S": "run"},
                        "interaction_id": {"S": interaction_id},
                        TTL_ATTRIBUTE: expires,
                    },
                )
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        **_job_key(interaction_id),
                        "data": {"S": changed.to_json()},
                        "version": {"N": str(changed.version)},
                        TTL_ATTRIBUTE: expires,
                    },
                    # Compare-and-set: only over the version we read (or nothing at all).
                    ConditionExpression="attribute_not_exists(#pk) OR version = :read",
                    ExpressionAttributeNames={"#pk": PARTITION_KEY},
                    ExpressionAttributeValues={":read": {"N": str(current.version if current else 0)}},
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                continue
            return changed
        raise UpdateConflict(interaction_id)

    def put(self, record: JobRecord) -> None:
        self.update(record.interaction_id, lambda _: record)


class DynamoAlertStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def claim(self, fingerprint: str, *, now: float, window: float) -> Claim:
        key = _alert_key(fingerprint)
        try:
            # Conditional on the window having passed: of any number of instances, one wins.
            old = self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET suppress_until = :until, suppressed = :zero, #ttl = :expires REMOVE since",
                ConditionExpression="attribute_not_exists(suppress_until) OR suppress_until <= :now",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":until": {"N": str(now + window)},
                    ":zero": {"N": "0"},
                    ":now": {"N": str(now)},
                    ":expires": {"N": str(int(now + window + 86400))},
                },
                ReturnValues="ALL_OLD",
            ).get("Attributes", {})
        except self._client.exceptions.ConditionalCheckFailedException:
            new = self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="ADD suppressed :one SET since = if_not_exists(since, :now)",
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": str(now)}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
            return Claim(False, int(new["suppressed"]["N"]), float(new["since"]["N"]))
        since = old.get("since")
        return Claim(True, int(old.get("suppressed", {}).get("N", "0")), float(since["N"]) if since else None)

    def release(self, fingerprint: str, claim: Claim) -> None:
        values: dict[str, Any] = {":zero": {"N": "0"}, ":n": {"N": str(claim.suppressed)}}
        update = "SET suppress_until = :zero ADD suppressed :n"
        if claim.since is not None:
            update = "SET suppress_until = :zero, since = if_not_exists(since, :since) ADD suppressed :n"
            values[":since"] = {"N": str(claim.since)}
        self._client.update_item(
            TableName=self._table,
            Key=_alert_key(fingerprint),
            UpdateExpression=update,
            ExpressionAttributeValues=values,
        )

    def take_slot(self, minute: int, limit: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": f"alertrate#{minute}"}, SORT_KEY: {"S": "rate"}},
                UpdateExpression="ADD used :one SET #ttl = :expires",
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(minute * 60 + 3600)},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True


class DynamoPendingStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, ref: str, body: str, expires_at: float) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={**_pending_key(ref), "body": {"S": body}, TTL_ATTRIBUTE: {"N": str(int(expires_at))}},
        )

    def take(self, ref: str) -> str | None:
        # Delete returning the old item: of two presses at once, only one gets it back.
        old = self._client.delete_item(TableName=self._table, Key=_pending_key(ref), ReturnValues="ALL_OLD").get(
            "Attributes"
        )
        if not old or int(old[TTL_ATTRIBUTE]["N"]) < time.time():
            return None
        return old["body"]["S"]


class DynamoCacheStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, key: str) -> Cached | None:
        # Eventually consistent (half the read's cost): a list a second old suggests as well.
        item = self._client.get_item(TableName=self._table, Key=_cache_key(key)).get("Item")
        if not item or "body" not in item:
            return None
        etag = item.get("etag", {}).get("S")
        return Cached(item["body"]["S"], float(item["fetched_at"]["N"]), etag)

    def put(self, key: str, entry: Cached) -> None:
        values: dict[str, Any] = {
            ":body": {"S": entry.body},
            ":at": {"N": str(entry.fetched_at)},
            ":expires": {"N": str(int(entry.fetched_at) + CACHE_RETENTION_SECONDS)},
        }
        update = "SET body = :body, fetched_at = :at, #ttl = :expires"
        if entry.etag is not None:
            update += ", etag = :etag"
            values[":etag"] = {"S": entry.etag}
        else:
            update += " REMOVE etag"
        self._client.update_item(
            TableName=self._table,
            Key=_cache_key(key),
            UpdateExpression=update,
            ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues=values,
        )

    def claim_refresh(self, key: str, *, now: float, interval: float) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_cache_key(key),
                UpdateExpression="SET claimed_at = :now, #ttl = if_not_exists(#ttl, :expires)",
                ConditionExpression="attribute_not_exists(claimed_at) OR claimed_at <= :before",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":now": {"N": str(now)},
                    ":before": {"N": str(now - interval)},
                    ":expires": {"N": str(int(now) + CACHE_RETENTION_SECONDS)},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def _cache_key(key: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"cache#{key}"}, SORT_KEY: {"S": "cache"}}


# Between tries of a take another instance's write got in the way of: at most 20 tries, ~0.2 s.
CONFLICT_BACKOFF_SECONDS = 0.02


class DynamoRateLimitStore:
    """One item per bucket holding when it is full again (`full_at`). A take is one conditional
    write: UpdateItem for one bucket, TransactWriteItems for several (all or none).

    Each write's condition is the bucket as this instance last saw it (`_seen`, kept for the buckets
    it used lately): full (no `full_at`, or one past) or `full_at` equal to what it saw. A wrong guess
    fails the condition and DynamoDB returns the item as it is, from which the take is decided again:
    a second call, only when another instance took from the bucket meanwhile. A `full_at` seen
    already too far ahead refuses with no call at all: it only ever grows.
    """

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table
        self._lock = threading.Lock()
        self._seen: BoundedMap[float | None] = BoundedMap("rate-limit buckets seen")

    def take(self, buckets: Sequence[Bucket], now: float) -> Refused | None:
        for _ in range(MAX_UPDATE_ATTEMPTS):
            with self._lock:
                seen = {bucket.key: self._seen.get(bucket.key) for bucket in buckets}
            outcome = decide(buckets, seen, now)
            if isinstance(outcome, Refused):
                return outcome
            attempt = secrets.token_hex(8)
            written = self._write([self._update(b.key, seen[b.key], outcome[b.key], now, attempt) for b in buckets])
            found = None
            ours = bool(written) and all(taker == attempt for _, taker in (written or {}).values())
            if written is not None and not ours:
                found = {key: full_at for key, (full_at, _) in written.items()}
            # (All "found" with our own attempt's mark: the write landed, its answer was lost and
            # botocore's retry failed its condition on it. Taken.)
            with self._lock:
                for key, full_at in (outcome if found is None else found).items():
                    self._seen.set(key, full_at)
            if found is None:
                return None
            # Contended (a hot bucket, such as the bot's): wait a little, at random, before trying again.
            time.sleep(random.uniform(0.0, CONFLICT_BACKOFF_SECONDS))  # noqa: S311 - jitter, not a secret
        raise RateLimitConflict([bucket.key for bucket in buckets])

    def _update(self, key: str, seen: float | None, full_at: float, now: float, attempt: str) -> dict[str, Any]:
        values = {
            ":full_at": {"N": repr(full_at)},
            ":expiration": {"N": str(int(full_at + KEPT_AFTER_FULL_SECONDS) + 1)},
            ":attempt": {"S": attempt},
        }
        if seen is None or seen <= now:
            condition = "attribute_not_exists(full_at) OR full_at <= :now"
            values[":now"] = {"N": repr(now)}
        else:
            condition = "full_at = :seen"
            values[":seen"] = {"N": repr(seen)}
        return {
            "TableName": self._table,
            "Key": _bucket_key(key),
            "UpdateExpression": f"SET full_at = :full_at, {TTL_ATTRIBUTE} = :expiration, taken_by = :attempt",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _write(self, updates: list[dict[str, Any]]) -> dict[str, tuple[float | None, str | None]] | None:
        """None when every update was made; else each bucket found otherwise than seen, as it is:
        its `full_at` and the attempt that wrote it (empty after a transaction conflict: nothing
        learnt, try again)."""
        if len(updates) == 1:
            try:
                self._client.update_item(**updates[0])
            except self._client.exceptions.ConditionalCheckFailedException as exc:
                item: Any = exc.response.get("Item")
                return {_bucket_name(updates[0]): _as_found(item)}
            return None
        try:
            items: Any = [{"Update": update} for update in updates]
            self._client.transact_write_items(TransactItems=items)
        except self._client.exceptions.TransactionCanceledException as exc:
            reasons: list[Any] = exc.response.get("CancellationReasons") or []
            return {
                _bucket_name(update): _as_found(reason.get("Item"))
                for update, reason in zip(updates, reasons, strict=False)
                if reason.get("Code") == "ConditionalCheckFailed"
            }
        return None


def _bucket_key(key: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"ratelimit#{key}"}, SORT_KEY: {"S": "bucket"}}


def _bucket_name(update: dict[str, Any]) -> str:
    return str(update["Key"][PARTITION_KEY]["S"]).removeprefix("ratelimit#")


def _as_found(item: dict[str, Any] | None) -> tuple[float | None, str | None]:
    """A bucket item's `full_at` (None for a missing item, or one written before `full_at`
    existed: both are full buckets) and the attempt that wrote it."""
    full_at, taken_by = (item or {}).get("full_at"), (item or {}).get("taken_by")
    return (float(full_at["N"]) if full_at else None, str(taken_by["S"]) if taken_by else None)


class DynamoAuditStore:
    """Items by UTC day (pk audit#YYYY-MM-DD, sk time#interaction#outcome): a day is one query,
    newest first; one user's events are the same queries, filtered."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def record(self, event: AuditEvent, *, expires_at: float) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                PARTITION_KEY: {"S": f"audit#{_day(event.at)}"},
                SORT_KEY: {"S": f"{event.at:017.6f}#{event.interaction_id}#{event.outcome}"},
                "user_id": {"S": event.user_id},
                "data": {"S": dumps_text(event.to_dict())},
                TTL_ATTRIBUTE: {"N": str(int(expires_at))},
            },
        )

    def query(self, *, since: float, user_id: str | None = None, limit: int = 100) -> list[AuditEvent]:
        limit = min(limit, MAX_AUDIT_READ)
        now = time.time()
        found: list[AuditEvent] = []
        day = datetime.fromtimestamp(now, UTC).date()
        first = max(datetime.fromtimestamp(max(since, 0), UTC).date(), day - timedelta(days=MAX_AUDIT_RETENTION_DAYS))
        while day >= first and len(found) < limit:
            found.extend(self._query_day(day.isoformat(), since, user_id, limit - len(found), now))
            day -= timedelta(days=1)
        return found

    def _query_day(self, day: str, since: float, user_id: str | None, limit: int, now: float) -> Iterator[AuditEvent]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk >= :since",
            "ExpressionAttributeValues": {":pk": {"S": f"audit#{day}"}, ":since": {"S": f"{since:017.6f}"}},
            "ScanIndexForward": False,
        }
        if user_id is not None:
            request["FilterExpression"] = "user_id = :user"
            request["ExpressionAttributeValues"][":user"] = {"S": user_id}
        for page in self._client.get_paginator("query").paginate(**request):
            for item in page.get("Items", []):
                if int(item[TTL_ATTRIBUTE]["N"]) < now:
                    continue  # TTL deletes lazily
                yield AuditEvent.from_dict(loads(item["data"]["S"]))
                limit -= 1
                if limit <= 0:
                    return


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


def _alert_key(fingerprint: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"alert#{fingerprint}"}, SORT_KEY: {"S": "alert"}}


def _pending_key(ref: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"pending#{ref}"}, SORT_KEY: {"S": "pending"}}


def _job_key(interaction_id: str) -> dict[str, Any]:
    return {PARTITION_KEY: {"S": f"job#{interaction_id}"}, SORT_KEY: {"S": "job"}}


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


def dynamo_idempotency_layer(client: DynamoDBClient, table: str) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=table,
        key_attr=PARTITION_KEY,
        sort_key_attr=SORT_KEY,
        static_pk_value="idempotency",
        expiry_attr=TTL_ATTRIBUTE,
        boto3_client=client,
    )
