"""Record an audit event: one `audit` log line and one item in the state store, both redacted.

The interactions function never calls this: the events it sees ride the queue message it sends
anyway (the job, or the refusal's trace), and the worker records them, with the run id once the
dispatch is done. So the 3-second path makes no extra write for auditing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from orchestrator.audit.model import AuditEvent
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.observability.redaction import active_redactor
from orchestrator.state.audit import DEFAULT_AUDIT_RETENTION_DAYS, AuditStore


class AuditTrail:
    def __init__(
        self,
        store: AuditStore,
        *,
        retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._retention_seconds = retention_days * 86400
        self._clock = clock

    def record(self, event: AuditEvent) -> None:
        """Never raises: a lost audit item is logged (the log line still carries the event)."""
        # Option values are the user's free text: a pasted token must not be kept for 90 days.
        clean = AuditEvent.from_dict(active_redactor().value(event.to_dict()))
        in_context = {"outcome", "trace_id", "user_id", "command", "interaction_id"}
        who = clean.invocation
        with log_context(
            trace_id=who.trace_id, correlation_id=who.interaction_id, user_id=who.user_id, cmd=who.command
        ):
            get_logger().info(
                "audit",
                extra={
                    "outcome": clean.outcome,
                    "audit": {k: v for k, v in clean.to_dict().items() if k not in in_context},
                },
            )
        try:
            self._store.record(clean, expires_at=self._clock() + self._retention_seconds)
        except Exception as exc:  # noqa: BLE001 - auditing must never fail the command it records
            get_logger().error("audit event not stored", extra={"error": type(exc).__name__})
