"""The live message: queued → in progress (a line per job) → result, within Discord's limits."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from orchestrator.messages import limits
from orchestrator.messages.job_messages import BLURPLE, LINK_BUTTON, RED, YELLOW, option_fields
from orchestrator.observability.trace_ids import trace_fingerprint
from orchestrator.runs.model import JobLine
from orchestrator.state.jobs import JobRecord

GREEN = 0x57F287
GREY = 0x99AAB5
DANGER_BUTTON = 4
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


def run_message(record: JobRecord, *, cancel_button: str | None) -> dict[str, Any]:
    """The message for the record's run as we now know it; `cancel_button` is a signed custom_id
    (shown only while the run is not finished)."""
    jobs = [JobLine.from_dict(raw) for raw in record.jobs]
    finished = record.conclusion is not None
    if finished:
        state, color = _RESULTS.get(record.conclusion or "", (f"finished: {record.conclusion}", GREY))
        if record.conclusion == "cancelled" and record.cancelled_by:
            state += f" by {record.cancelled_by}"
    elif record.run_status in ("in_progress", "completed"):  # completed, its conclusion not known yet
        state, color = "🔄 in progress", BLURPLE
    else:
        state, color = "⏳ queued", BLURPLE
    lines = job_lines(jobs, record.jobs_total)
    if finished:
        total = duration_between(record.run_started_at, record.run_updated_at)
        if total:
            lines.append(f"\nTotal: {total}")
    description = "\n".join(lines) or "Waiting for GitHub to start the run."
    embed: dict[str, Any] = {
        "title": limits.clip(f"/{record.command} · {state}", limits.EMBED_TITLE),
        "description": limits.fit_lines(description, limits.EMBED_DESCRIPTION),
        "color": color,
        "footer": {
            "text": limits.clip(
                f"trace {trace_fingerprint(record.trace_id)} · started by {record.user_name}", limits.FOOTER
            )
        },
    }
    fields = option_fields(record.options, embed)
    if fields:
        embed["fields"] = fields
    buttons: list[dict[str, Any]] = []
    url = record.html_url
    if url and url.startswith(("https://", "http://")) and len(url) <= limits.URL:
        embed["url"] = url
        label = f"View run #{record.run_id} on GitHub" if record.run_id else "View run on GitHub"
        buttons.append({"type": 2, "style": LINK_BUTTON, "label": label, "url": url})
    if cancel_button and not finished and record.run_id:
        buttons.append({"type": 2, "style": DANGER_BUTTON, "label": "Cancel run", "custom_id": cancel_button})
    message: dict[str, Any] = {"content": "", "embeds": [embed], "allowed_mentions": {"parse": []}}
    message["components"] = [{"type": 1, "components": buttons}] if buttons else []
    return message


def job_lines(jobs: list[JobLine], total: int) -> list[str]:
    """A line per job, whole lines only; past the budget, one line that sums up the rest."""
    lines: list[str] = []
    used = 0
    for index, job in enumerate(jobs):
        line = job_line(job)
        rest = jobs[index:]
        if used + len(line) + 1 > JOB_LINES_BUDGET - 120:
            lines.append(summary_line(rest, total - len(jobs)))
            return lines
        lines.append(line)
        used += len(line) + 1
    if total > len(jobs):
        lines.append(summary_line([], total - len(jobs)))
    return lines


def job_line(job: JobLine) -> str:
    line = f"{job_icon(job)} {job.name}"
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


def duration_between(start: str | None, end: str | None) -> str | None:
    if not start or not end:
        return None
    try:
        seconds = int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    except ValueError:
        return None
    if seconds < 0:
        return None
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
