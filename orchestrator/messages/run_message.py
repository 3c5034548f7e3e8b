"""The live message: queued → in progress (a line per job) → result, within Discord's limits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from orchestrator.discord.components import ActionRow, Button, LinkButton, is_linkable
from orchestrator.discord.outbound import Message
from orchestrator.discord.wire import ButtonStyle
from orchestrator.failures.digest import FailedJob, FailureDigest
from orchestrator.messages import limits
from orchestrator.messages.durations import duration_between
from orchestrator.messages.failure_text import failed_step, log_block, summary_lines
from orchestrator.messages.job_messages import BLURPLE, RED, YELLOW, option_fields
from orchestrator.observability.trace_ids import trace_fingerprint
from orchestrator.runs.model import JobLine
from orchestrator.state.jobs import JobRecord

GREEN = 0x57F287
GREY = 0x99AAB5
PUBLIC_LOG_CHARS = 1600  # the excerpt in the live message (failure_log: public), fences included
# Room the job lines may take in the description, leaving space for the total and the fields.
JOB_LINES_BUDGET = 3500

_RESULTS: dict[str, tuple[str, int]] = {
    "success": ("✅ succeeded", GREEN),
    "failure": ("❌ failed", RED),
    "timed_out": ("❌ timed out", RED),
    "startup_failure": ("❌ failed to start", RED),
    "cancelled": ("⏹ cancelled", GREY),
    "skipped": ("⏭ skipped", GREY),
    "neutral": ("✅ finished", GREEN),
    "action_required": ("⚠️ needs approval", YELLOW),
    "stale": ("⚠️ stale", YELLOW),
}


def job_icon(job: JobLine) -> str:
    if job.status != "completed":
        return "⏳"
    return {"success": "✅", "skipped": "⏭", "cancelled": "⏹", "neutral": "✅"}.get(job.conclusion or "", "❌")


@dataclass(frozen=True)
class RunButtons:
    """Signed custom_ids of the buttons the message offers now (None: not offered)."""

    cancel: str | None = None
    show_log: str | None = None
    rerun: str | None = None
    rerun_debug: str | None = None
    run_again: str | None = None


def run_message(record: JobRecord, buttons: RunButtons) -> dict[str, Any]:
    """The message for the record's run as we now know it."""
    jobs = [JobLine.from_dict(raw) for raw in record.jobs]
    finished = record.conclusion is not None
    digest = FailureDigest.from_dict(record.failure) if record.failure and finished else None
    if finished:
        state, color = _RESULTS.get(record.conclusion or "", (f"finished: {record.conclusion}", GREY))
        if record.conclusion == "cancelled" and record.cancelled_by:
            state += f" by {record.cancelled_by}"
    elif record.run_status in ("in_progress", "completed"):  # completed, its conclusion not known yet
        state, color = "🔄 in progress", BLURPLE
    else:
        state, color = "⏳ queued", BLURPLE
    if record.run_attempt > 1:
        state += f" · attempt {record.run_attempt}"
    lines = job_lines(jobs, record.jobs_total, {job.job_id: job for job in digest.jobs} if digest else {})
    if digest is not None:
        summary = summary_lines(digest)
        lines += ["", *summary] if summary else []
        if record.failure_log_public and digest.first and digest.first.log:
            lines.append(log_block(digest.first.log, PUBLIC_LOG_CHARS))
    if finished:
        total = duration_between(record.run_started_at, record.run_updated_at)
        if total:
            lines.append(f"\nTotal: {total}")
    if record.attempts:
        lines.append(attempt_history(record))
    description = "\n".join(lines) or "Waiting for GitHub to start the run."
    embed: dict[str, Any] = {
        "title": limits.clip(f"/{record.invocation.command} · {state}", limits.EMBED_TITLE),
        "description": limits.fit_lines(description, limits.EMBED_DESCRIPTION),
        "color": color,
        "footer": {
            "text": limits.clip(
                f"trace {trace_fingerprint(record.invocation.trace_id)} · started by {record.invocation.user_name}",
                limits.FOOTER,
            )
        },
    }
    fields = option_fields(record.invocation.options, embed)
    if fields:
        embed["fields"] = fields
    row: list[Button | LinkButton] = []
    url = record.html_url
    if url and is_linkable(url):
        embed["url"] = url
        label = f"View run #{record.run_id} on GitHub" if record.run_id else "View run on GitHub"
        row.append(LinkButton(label, url))
    if record.run_id:
        offered = (
            (buttons.cancel if not finished else None, ButtonStyle.DANGER, "Cancel run"),
            (buttons.show_log, ButtonStyle.SECONDARY, "Show log"),
            (buttons.rerun, ButtonStyle.PRIMARY, "Re-run failed jobs"),
            (buttons.rerun_debug, ButtonStyle.SECONDARY, "Re-run with debug logging"),
            (buttons.run_again, ButtonStyle.SECONDARY, "Run again…"),
        )
        row += [Button(label, custom_id, style) for custom_id, style, label in offered if custom_id]
    return Message(embeds=(embed,), components=(ActionRow(tuple(row)),) if row else ()).to_dict()


def attempt_history(record: JobRecord) -> str:
    """`attempt 1 ❌ → attempt 2 ✅ (re-run by Alice)`: every attempt, the current one last."""
    past = [(int(a.get("attempt") or 0), a.get("conclusion")) for a in record.attempts if isinstance(a, dict)]
    steps = [f"attempt {n} {_conclusion_icon(c)}" for n, c in past[-5:]]
    steps.append(f"attempt {record.run_attempt} {_conclusion_icon(record.conclusion)}")
    by = f" (re-run by {record.rerun_by})" if record.rerun_by else ""
    return limits.clip(" → ".join(steps) + by, 300)


def _conclusion_icon(conclusion: object) -> str:
    if conclusion is None:
        return "🔄"
    return {"success": "✅", "neutral": "✅", "cancelled": "⏹", "skipped": "⏭"}.get(str(conclusion), "❌")


def job_lines(jobs: list[JobLine], total: int, failed: dict[int, FailedJob] | None = None) -> list[str]:
    """A line per job, whole lines only; past the budget, one line that sums up the rest."""
    lines: list[str] = []
    used = 0
    for index, job in enumerate(jobs):
        line = job_line(job, (failed or {}).get(job.job_id) if job.job_id is not None else None)
        rest = jobs[index:]
        if used + len(line) + 1 > JOB_LINES_BUDGET - 120:
            lines.append(summary_line(rest, total - len(jobs)))
            return lines
        lines.append(line)
        used += len(line) + 1
    if total > len(jobs):
        lines.append(summary_line([], total - len(jobs)))
    return lines


def job_line(job: JobLine, failed: FailedJob | None = None) -> str:
    """`❌ tests › step 3/5 "Run tests" · 1m 12s` for a failed job the digest describes."""
    line = f"{job_icon(job)} {job.name}"
    step = failed_step(failed) if failed is not None else None
    if step:
        line += f" › {step}"
    took = duration_between(job.started_at, job.completed_at)
    if job.status == "completed":
        return f"{line} · {took}" if took else line
    if job.current_step:
        return f"{line} — step {job.steps_done + 1}/{job.steps_total}: {job.current_step}"
    return line


def summary_line(rest: list[JobLine], unseen: int) -> str:
    counts = Counter(job_icon(job) for job in rest)
    parts = [f"{count} {icon}" for icon, count in counts.most_common()]
    if unseen > 0:
        parts.append(f"{unseen} not listed by GitHub")
    return f"…and {len(rest) + max(unseen, 0)} more jobs: " + ", ".join(parts)
