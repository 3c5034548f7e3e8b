"""Rate-limit buckets on the DynamoDB table: one conditional write per take (GCRA), all or none."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.ratelimits.bucket import KEPT_AFTER_FULL_SECONDS
from orchestrator.state.bounded import BoundedMap
from orchestrator.state.dynamodb import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from orchestrator.state.jobs import MAX_UPDATE_ATTEMPTS
from orchestrator.state.ratelimits import Bucket, RateLimitConflict, Refused, decide

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

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
            if found and all(seen[key] is None for key in found):
                # Not contended: this instance had not seen these buckets yet (a new instance, the
                # first take of a while). It knows them now; decide again at once. (Nothing found is a
                # transaction conflict: contended.)
                continue
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
