"""A command answered at once by the interactions function (denied, invalid, unknown, rate
limited): the worker stores its trace and audit event, and counts it, off the ACK's path."""

from __future__ import annotations

from orchestrator.audit.trail import AuditTrail
from orchestrator.jobs.envelopes import TraceOnly
from orchestrator.jobs.reporting import Reporting
from orchestrator.observability import metrics
from orchestrator.observability.logging import log_context

_REFUSAL_METRICS = {
    "denied": metrics.COMMAND_DENIED,
    "invalid": metrics.COMMAND_INVALID,
    "unknown_command": metrics.COMMAND_INVALID,
    "rate_limited": metrics.COMMAND_RATE_LIMITED,
}


def record_refusal(message: TraceOnly, reporting: Reporting, audit: AuditTrail) -> None:
    trace = message.trace
    with log_context(trace_id=trace.trace_id, user_id=trace.user_id, cmd=trace.command):
        reporting.save_trace(trace)
        if message.audit is not None:
            audit.record(message.audit)
        metric = _REFUSAL_METRICS.get(message.outcome)
        if metric is not None:
            reporting.emit(trace.command, [(metric, 1.0)])
