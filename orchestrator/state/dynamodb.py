"""State in one DynamoDB table (pk, sk; TTL on `expiration`), shared by every Lambda instance."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from orchestrator.audit.model import AuditEvent
from orchestrator.serialization import dumps_text, loads
from orchestrator.state.alerts import Claim
from orchestrator.state.audit import MAX_AUDIT_READ, MAX_AUDIT_RETENTION_DAYS
from orchestrator.state.caches import CACHE_RETENTION_SECONDS, Cached
from orchestrator.state.jobs import (
    JOB_RETENTION_SECONDS,
    MAX_UPDATE_ATTEMPTS,
    Change,
    JobRecord,
    UpdateConflict,
    apply_change,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
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
        self.update(record.invocation.interaction_id, lambda _: record)


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
                SORT_KEY: {"S": f"{event.at:017.6f}#{event.invocation.interaction_id}#{event.outcome}"},
                "user_id": {"S": event.invocation.user_id},
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


def dynamo_idempotency_layer(client: DynamoDBClient, table: str) -> DynamoDBPersistenceLayer:
    # Imported here, off the interactions function's cold path (StateStore.idempotency).
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=table,
        key_attr=PARTITION_KEY,
        sort_key_attr=SORT_KEY,
        static_pk_value="idempotency",
        expiry_attr=TTL_ATTRIBUTE,
        boto3_client=client,
    )
