"""The run's life in the command's trace: /debug-last goes on past "dispatch" to how the run ended.

Steps are named by stage and attempt, and a stage already in the trace is never added again:
webhooks and polls may report a stage twice or skip one, and the worker's own save of the
dispatch trace may land after a stage was added; whatever arrives next fills in what is missing.
"""

from __future__ import annotations

from orchestrator.observability.logging import get_logger
from orchestrator.observability.redaction import active_redactor
from orchestrator.runs.model import FAILED_CONCLUSIONS, rank_of
from orchestrator.state.jobs import JobRecord
from orchestrator.state.traces import TraceStore
from orchestrator.traces.model import Trace, TraceStep

_OK_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})


def stage_names(record: JobRecord) -> list[str]:
    """The stages the run has reached, in order, as trace step names."""
    names = ["run queued", "run in progress", f"run finished: {record.conclusion}"]
    reached = names[: rank_of(record.run_status, record.conclusion)]
    suffix = f" · attempt {record.run_attempt}" if record.run_attempt > 1 else ""
    return [name + suffix for name in reached]


def follow_in_trace(traces: TraceStore, record: JobRecord, now: float) -> None:
    """Add the stages the trace does not show yet; once finished, the trace's status is the run's.
    Best effort: a trace is for explaining, and never fails the run's tracking."""
    try:
        trace = traces.find(record.invocation.user_id, record.invocation.trace_id)
        if trace is None or not _advance(trace, record, now):
            return
        traces.save(Trace.from_dict(active_redactor().value(trace.to_dict())))
    except Exception as exc:  # noqa: BLE001
        get_logger().warning("trace not updated with the run", extra={"error": type(exc).__name__})


def _advance(trace: Trace, record: JobRecord, now: float) -> bool:
    have = {step.name for step in trace.steps}
    missing = [name for name in stage_names(record) if name not in have]
    if not missing:
        return False
    for name in missing:
        finished = name.startswith("run finished")
        failed = finished and record.conclusion in FAILED_CONCLUSIONS
        details: dict[str, object] = {"run_id": record.run_id, "attempt": record.run_attempt}
        trace.steps.append(TraceStep(name, "failed" if failed else "ok", now, 0.0, details))
    if record.conclusion is not None:
        trace.run_url = record.html_url or trace.run_url
        if record.conclusion in _OK_CONCLUSIONS:
            trace.status, trace.error, trace.failure = "ok", None, None
        elif record.conclusion == "cancelled":
            trace.status = "cancelled"
            trace.error = f"cancelled by {record.cancelled_by}" if record.cancelled_by else "cancelled"
        else:
            trace.fail(f"the run concluded {record.conclusion}")
            trace.failure = record.failure
    return True
