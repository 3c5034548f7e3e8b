"""The problems the bot itself reports: what operators must know when a user's command fails."""

from __future__ import annotations

from orchestrator.alerts.model import Alert, Severity
from orchestrator.clients.breaker import BreakerOpened
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.failures.digest import FailureDigest
from orchestrator.jobs.envelopes import Job
from orchestrator.messages.failure_text import code_span, failed_step
from orchestrator.state.jobs import JobRecord

_GITHUB_REFUSALS = {
    "github_401": "GitHub rejected the bot's token",
    "github_403": "GitHub refused the bot's token for this repository",
    "github_404": "GitHub cannot find the workflow",
    "github_422": "GitHub refused the dispatch",
}

# Found by the worker's check before the dispatch (workflows/preflight.py): nothing was sent.
_WORKFLOW_PROBLEMS = {
    "drift": "The command and its workflow disagree",
    "workflow": "The command's workflow cannot be read",
}


def dispatch_alert(job: Job, outcome: DispatchOutcome, workflow: str | None) -> Alert | None:
    """An alert for a dispatch that failed for a reason only an operator can fix, else None."""
    severity: Severity
    if outcome.reason in _GITHUB_REFUSALS:
        title = f"{_GITHUB_REFUSALS[outcome.reason]} ({outcome.reason[-3:]})"
        severity = "error"
    elif outcome.reason in _WORKFLOW_PROBLEMS:
        title, severity = _WORKFLOW_PROBLEMS[outcome.reason], "error"
    elif outcome.reason == "unreachable":
        title, severity = "GitHub unreachable after retries", "critical"
    elif outcome.kind == "unknown":
        # The user was told it may or may not have started: exactly when someone should look for
        # an orphan run (and not press again, which could start a second one).
        return Alert(
            "error",
            "dispatch",
            f"Dispatch outcome unknown: {workflow or job.invocation.command}",
            "GitHub gave no usable answer (a timeout or 5xx) and no run carrying the trace id was found. "
            "A run may have started without the bot knowing: look for it on GitHub (the trace id is in its "
            "name when the workflow echoes it), and cancel or keep it.",
            trace_id=job.invocation.trace_id,
            command=job.invocation.command,
            user_name=job.invocation.user_name,
        )
    else:
        return None
    return Alert(
        severity,
        "dispatch",
        f"{title}: {workflow or job.invocation.command}",
        outcome.detail or title,
        trace_id=job.invocation.trace_id,
        command=job.invocation.command,
        user_name=job.invocation.user_name,
    )


def last_attempt_alert(job: Job | None, error: BaseException) -> Alert:
    """A job failed on its last delivery: it goes to the dead-letter queue."""
    return Alert(
        "critical",
        "worker",
        f"Job failed on its last attempt ({type(error).__name__})",
        "The message goes to the dead-letter queue; the user's command did not finish. "
        "See the logs for this trace, then redrive the DLQ once the cause is fixed.",
        trace_id=job.invocation.trace_id if job else None,
        command=job.invocation.command if job else None,
        user_name=job.invocation.user_name if job else None,
    )


def run_failed_alert(record: JobRecord) -> Alert:
    """A run failed: which job and step, and the first error line, when the digest says."""
    digest = FailureDigest.from_dict(record.failure) if record.failure else None
    first = digest.first if digest else None
    where = f": {first.name}" + (f" › {failed_step(first)}" if failed_step(first) else "") if first else ""
    cause = f"Workflow {record.workflow or record.invocation.command} run #{record.run_id}"
    cause += f" attempt {record.run_attempt}" if record.run_attempt > 1 else ""
    cause += f" concluded {record.conclusion}."
    error = digest.error_line if digest else None
    if error:
        cause += f"\nFirst error: {code_span(error, 300)}"
    return Alert(
        "error",
        "run",
        f"/{record.invocation.command} run concluded {record.conclusion}{where}",
        cause,
        trace_id=record.invocation.trace_id,
        command=record.invocation.command,
        user_name=record.invocation.user_name,
        run_url=record.html_url,
        problem_key=f"failed-run|{digest.fingerprint}" if digest and digest.fingerprint else None,
    )


def run_recovered_alert(record: JobRecord) -> Alert:
    """A later attempt of a failed run succeeded: the failure is resolved."""
    by = f" by {record.rerun_by} via re-run" if record.rerun_by else ""
    return Alert(
        "resolved",
        "run",
        f"/{record.invocation.command} recovered{by}",
        f"Workflow {record.workflow or record.invocation.command} run #{record.run_id} attempt {record.run_attempt} "
        f"succeeded after attempt {record.run_attempt - 1} failed.",
        trace_id=record.invocation.trace_id,
        command=record.invocation.command,
        user_name=record.invocation.user_name,
        run_url=record.html_url,
    )


def breaker_alert(opened: BreakerOpened) -> Alert:
    """Calls to an API are paused: commands fail fast until it answers again."""
    return Alert(
        "critical",
        "breaker",
        f"{opened.service} failing: calls paused",
        f"{opened.failures} failed calls in a row (last: {opened.last_error}); every call fails at once for "
        f"{opened.cooldown_seconds:.0f} s, then one probe is let through. Users are told nothing was started. "
        f"Check {opened.service}'s status page and the bot's logs.",
    )
