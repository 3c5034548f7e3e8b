"""A failure digest in words: one wording for the live message, Show log and /debug-last.

Everything in a digest was redacted when it was built; what comes from GitHub (job and step
names, annotations, log lines) is still somebody else's text, so it is shown inside code
spans and blocks, where Discord renders no links, mentions or formatting.
"""

from __future__ import annotations

from orchestrator.failures.digest import FailedJob, FailureDigest
from orchestrator.messages.durations import format_seconds
from orchestrator.messages.limits import ELLIPSIS, clip

# A fence inside a log line would end our code block early: shown with look-alike grave accents.
_FENCE, _SAFE_FENCE = "```", "ˋˋˋ"


def failed_step(job: FailedJob) -> str | None:
    """`step 3/5 "Run tests"`, or None when GitHub named no failed step."""
    if job.step_number is None:
        return None
    total = f"/{job.steps_total}" if job.steps_total else ""
    name = f' "{clip(job.step_name, 60)}"' if job.step_name else ""
    return f"step {job.step_number}{total}{name}"


def code_span(text: str, limit: int) -> str:
    return f"`{clip(text.replace('`', 'ˋ'), limit)}`"


def log_block(lines: tuple[str, ...], limit: int) -> str:
    """The last lines of `lines` that fit in `limit` characters, as a code block."""
    room = limit - 8  # the fences and their newlines
    kept: list[str] = []
    used = 0
    for raw in reversed(lines):
        line = raw.replace(_FENCE, _SAFE_FENCE)
        if used + len(line) + 1 > room:
            if not kept:
                kept.append(line[: max(0, room - 1)] + ELLIPSIS)
            break
        kept.append(line)
        used += len(line) + 1
    return "```\n" + "\n".join(reversed(kept)) + "\n```"


def summary_lines(digest: FailureDigest) -> list[str]:
    """Why the run failed, in a few lines: the first specific error, more failed jobs, notes."""
    lines: list[str] = []
    first = digest.first
    if first is not None and first.error_line:
        lines.append(code_span(first.error_line, 300))
    if digest.more_failed:
        lines.append(f"…and {digest.more_failed} more failed job{'s' if digest.more_failed > 1 else ''}")
    if digest.note:
        lines.append(f"⚠️ {digest.note}")
    return lines


def job_heading(job: FailedJob) -> str:
    step = failed_step(job)
    took = format_seconds(job.step_seconds)
    return f"❌ {code_span(job.name, 80)}" + (f" › {step}" if step else "") + (f" · {took}" if took else "")


def log_section(job: FailedJob, limit: int) -> list[str]:
    """The job's heading, its annotation, and its log window (or why there is none)."""
    lines = [job_heading(job)]
    if job.annotation:
        lines.append(code_span(job.annotation, 300))
    if job.log:
        lines.append(log_block(job.log, max(40, limit - sum(len(line) + 1 for line in lines) - 120)))
    if job.log_note:
        lines.append(f"_{job.log_note}_")
    return lines
