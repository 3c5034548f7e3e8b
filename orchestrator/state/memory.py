"""In-process state: for tests and `memory://`. Bounded, like everything held in memory."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from orchestrator.audit.model import AuditEvent
from orchestrator.state.alerts import Claim
from orchestrator.state.bounded import BoundedMap
from orchestrator.state.caches import Cached
from orchestrator.state.idempotency_rules import may_overwrite
from orchestrator.state.jobs import Change, JobRecord, apply_change
from orchestrator.state.ratelimits import Bucket, Refused, decide
from orchestrator.state.traces import MAX_TRACES_PER_USER, MAX_TRACES_TOTAL, TRACE_RETENTION_SECONDS, matches
from orchestrator.traces.model import Trace


class MemoryJobStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: BoundedMap[str] = BoundedMap("jobs")
        self._runs: BoundedMap[str] = BoundedMap("run index")

    def get(self, interaction_id: str) -> JobRecord | None:
        with self._lock:
            text = self._records.get(interaction_id)
        return JobRecord.from_json(text) if text else None

    def get_by_run(self, run_id: int) -> JobRecord | None:
        with self._lock:
            interaction_id = self._runs.get(str(run_id))
        return self.get(interaction_id) if interaction_id else None

    def update(self, interaction_id: str, change: Change) -> JobRecord | None:
        with self._lock:
            text = self._records.get(interaction_id)
            current = JobRecord.from_json(text) if text else None
            changed = apply_change(current, change)
            if changed is None:
                return current
            self._records.set(interaction_id, changed.to_json())
            if changed.run_id is not None:
                self._runs.set(str(changed.run_id), interaction_id)
            return changed

    def put(self, record: JobRecord) -> None:
        self.update(record.invocation.interaction_id, lambda _: record)


class MemoryIdempotencyLayer(BasePersistenceLayer):
    """Powertools Idempotency's persistence contract, kept in a dict under a lock."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()
        self._records: BoundedMap[DataRecord] = BoundedMap("idempotency")

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            record = self._records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        with self._lock:
            existing = self._records.get(data_record.idempotency_key)
            if existing is not None and not may_overwrite(existing, now=time.time()):
                raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
            self._records.set(data_record.idempotency_key, data_record)

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._records.set(data_record.idempotency_key, data_record)

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._records.pop(data_record.idempotency_key)


class MemoryTraceStore:
    def __init__(self, per_user: int = MAX_TRACES_PER_USER, total: int = MAX_TRACES_TOTAL) -> None:
        self._lock = threading.Lock()
        self._per_user = per_user
        self._total = total
        # user id -> trace id -> (saved at, trace JSON), oldest first
        self._by_user: dict[str, OrderedDict[str, tuple[float, str]]] = {}
        self._order: OrderedDict[str, str] = OrderedDict()  # trace id -> user id, oldest first
        self._evictions = 0

    def save(self, trace: Trace) -> None:
        with self._lock:
            mine = self._by_user.setdefault(trace.user_id, OrderedDict())
            is_new = trace.trace_id not in mine
            mine[trace.trace_id] = (time.time(), trace.to_json())
            if not is_new:
                return
            self._order[trace.trace_id] = trace.user_id
            while len(mine) > self._per_user:
                oldest, _ = mine.popitem(last=False)
                self._order.pop(oldest, None)
                self._evictions += 1
            while len(self._order) > self._total:
                oldest, owner = self._order.popitem(last=False)
                self._by_user[owner].pop(oldest, None)
                if not self._by_user[owner]:
                    del self._by_user[owner]
                self._evictions += 1

    def latest(self, user_id: str) -> Trace | None:
        return self._newest(user_id, lambda _: True)

    def find(self, user_id: str, trace_id: str) -> Trace | None:
        return self._newest(user_id, lambda key: matches(key, trace_id))

    def _newest(self, user_id: str, wanted: Callable[[str], bool]) -> Trace | None:
        oldest_kept = time.time() - TRACE_RETENTION_SECONDS
        with self._lock:
            mine = list((self._by_user.get(user_id) or OrderedDict()).items())
        for key, (saved_at, text) in reversed(mine):
            if saved_at >= oldest_kept and wanted(key):
                return Trace.from_json(text)
        return None

    def evictions(self) -> int:
        with self._lock:
            return self._evictions


class MemoryPendingStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: BoundedMap[tuple[str, float]] = BoundedMap("pending confirmations")

    def put(self, ref: str, body: str, expires_at: float) -> None:
        with self._lock:
            self._items.set(ref, (body, expires_at))

    def take(self, ref: str) -> str | None:
        with self._lock:
            item = self._items.get(ref)
            self._items.pop(ref)
        return item[0] if item and item[1] >= time.time() else None


class MemoryCacheStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: BoundedMap[Cached] = BoundedMap("cached GitHub reads")
        self._claims: BoundedMap[float] = BoundedMap("cache refresh claims")

    def get(self, key: str) -> Cached | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, entry: Cached) -> None:
        with self._lock:
            self._entries.set(key, entry)

    def claim_refresh(self, key: str, *, now: float, interval: float) -> bool:
        with self._lock:
            claimed = self._claims.get(key)
            if claimed is not None and claimed > now - interval:
                return False
            self._claims.set(key, now)
            return True


class MemoryAlertStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # fingerprint -> (suppress until, suppressed count, first suppressed at)
        self._state: BoundedMap[tuple[float, int, float | None]] = BoundedMap("alert state")
        self._slots: BoundedMap[int] = BoundedMap("alert rate", limit=120)

    def claim(self, fingerprint: str, *, now: float, window: float) -> Claim:
        with self._lock:
            until, suppressed, since = self._state.get(fingerprint) or (0.0, 0, None)
            if until <= now:
                self._state.set(fingerprint, (now + window, 0, None))
                return Claim(True, suppressed, since)
            self._state.set(fingerprint, (until, suppressed + 1, since or now))
            return Claim(False, suppressed + 1, since or now)

    def release(self, fingerprint: str, claim: Claim) -> None:
        with self._lock:
            _, suppressed, since = self._state.get(fingerprint) or (0.0, 0, None)
            self._state.set(fingerprint, (0.0, suppressed + claim.suppressed, since or claim.since))

    def take_slot(self, minute: int, limit: int) -> bool:
        with self._lock:
            used = self._slots.get(str(minute)) or 0
            if used >= limit:
                return False
            self._slots.set(str(minute), used + 1)
            return True


class MemoryRateLimitStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._full_at: BoundedMap[float] = BoundedMap("rate limits")

    def take(self, buckets: Sequence[Bucket], now: float) -> Refused | None:
        with self._lock:
            outcome = decide(buckets, {b.key: self._full_at.get(b.key) for b in buckets}, now)
            if isinstance(outcome, Refused):
                return outcome
            for key, full_at in outcome.items():
                self._full_at.set(key, full_at)
            return None


class MemoryAuditStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: BoundedMap[tuple[AuditEvent, float]] = BoundedMap("audit")
        self._seq = 0

    def record(self, event: AuditEvent, *, expires_at: float) -> None:
        with self._lock:
            self._seq += 1
            self._events.set(str(self._seq), (event, expires_at))

    def query(self, *, since: float, user_id: str | None = None, limit: int = 100) -> list[AuditEvent]:
        now = time.time()
        with self._lock:
            kept = [event for event, expires in self._events.values() if expires > now]
        found = [e for e in kept if e.at >= since and (user_id is None or e.invocation.user_id == user_id)]
        return sorted(found, key=lambda e: e.at, reverse=True)[:limit]
