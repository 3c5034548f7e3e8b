"""/debug-last: the caller's own trace, as a message only they see."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestrator.failures.digest import FailureDigest
from orchestrator.messages.failure_text import log_section
from orchestrator.messages.limits import CONTENT, clip, fit_lines
from orchestrator.observability.redaction import active_redactor
from orchestrator.traces.model import Trace

ICONS = {"ok": "✅", "failed": "❌", "running": "⏳", "cancelled": "⏹"}
# "Under 2,000 characters", strictly.
LIMIT = CONTENT - 1


def debug_report(trace: Trace | None, *, requested: str | None) -> str:
    if trace is None:
        if requested:
            return (
                f"No trace `{clip(requested, 40)}` of yours was found. The bot keeps your 100 most recent "
                "commands for 14 days; run /debug-last without an id to see the latest."
            )
        return "No trace yet: run a command, then /debug-last shows what happened to it."
    started = datetime.fromtimestamp(trace.started_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"**/{trace.command}** · {ICONS.get(trace.status, '⏳')} {trace.status}",
        f"trace `{trace.trace_id}`",
        f"started {started} (<t:{int(trace.started_at)}:R>) · total {duration(trace.duration_ms)}",
    ]
    # Redacted again here, whatever was stored (this text leaves the system), field by field and
    # before any cut: a secret cut in half would no longer be recognised.
    redact = active_redactor().text
    for step in trace.steps:
        line = f"{ICONS.get(step.status, '⏳')} {step.name} · {duration(step.duration_ms)}"
        error = step.details.get("error")
        if step.status == "failed" and error:
            line += f" — {clip(redact(str(error)), 200)}"
        lines.append(line)
    if trace.error:
        lines.append(f"error: {clip(redact(trace.error), 600)}")
    if trace.run_url:
        lines.append(f"run: {trace.run_url}")
    lines = [redact(line) for line in lines]
    digest = FailureDigest.from_dict(trace.failure) if trace.failure else None
    if digest is not None and digest.first is not None:
        # Last, in the room the rest leaves: the log block is sized to fit, never cut mid-block.
        room = LIMIT - sum(len(line) + 1 for line in lines) - 40
        if room > 200:
            lines += [redact(line) for line in log_section(digest.first, room)]
    return fit_lines("\n".join(lines), LIMIT)


def duration(ms: float) -> str:
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"
