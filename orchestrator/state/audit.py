"""Audit events in the state store, kept `AUDIT_RETENTION_DAYS` (90 by default), newest first on reads."""

from __future__ import annotations

from typing import Protocol

from orchestrator.audit.model import AuditEvent

DEFAULT_AUDIT_RETENTION_DAYS = 90
# The longest AUDIT_RETENTION_DAYS may be (the template's bound too): no event is older, so reads
# never look further back (on DynamoDB, a query per day).
MAX_AUDIT_RETENTION_DAYS = 3650
MAX_AUDIT_READ = 10_000


class AuditStore(Protocol):
    def record(self, event: AuditEvent, *, expires_at: float) -> None: ...

    def query(self, *, since: float, user_id: str | None = None, limit: int = 100) -> list[AuditEvent]:
        """Events at or after `since` (of one user, if given), newest first, at most `limit`."""
