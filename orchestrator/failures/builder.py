"""Build a failed run's digest: which jobs and steps failed, GitHub's annotations, the log window.

Bounded in every direction: at most MAX_FAILED_JOBS jobs are looked into, each with at most
three calls (annotations, the log's location, the log itself), inside one time budget. Any call
that fails or runs out of time leaves its part out and says so; the digest is never the reason
the final message is late or missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.github_errors import GitHubError, GitHubRejected
from orchestrator.clients.job_logs import JobLogDownloader, LogUnavailable
from orchestrator.failures.digest import (
    MAX_ANNOTATION,
    MAX_FAILED_JOBS,
    MAX_LOG_CHARS,
    MAX_LOG_LINES,
    MAX_NAME,
    FailedJob,
    FailureDigest,
    fingerprint,
)
from orchestrator.failures.log_window import excerpt_from_stream
from orchestrator.observability.logging import get_logger
from orchestrator.observability.redaction import active_redactor
from orchestrator.runs.model import seconds_between

DEFAULT_MAX_LOG_BYTES = 20_000_000
DEFAULT_BUDGET_SECONDS = 10.0
FAILED_JOB_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
# GitHub's generic last word on a failed `run:` step; a more specific annotation says more.
GENERIC_EXIT = "process completed with exit code"
STARTUP_FAILURE_NOTE = (
    "GitHub could not start the run (usually an invalid workflow file, or a job that may not run "
    "on this ref); the run's page shows GitHub's exact message."
)


class DigestBuilder:
    def __init__(
        self,
        github: GitHubClient,
        logs: JobLogDownloader,
        *,
        max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._github = github
        self._logs = logs
        self._max_log_bytes = max_log_bytes
        self._budget = budget_seconds
        self._clock = clock
        self._checks_refused = False  # logged once per process: the token lacks "Checks: read"

    def build(
        self, workflow: str | None, conclusion: str, run_attempt: int, raw_jobs: list[dict[str, Any]]
    ) -> FailureDigest:
        deadline = self._clock() + self._budget
        failed = [job for job in raw_jobs if job.get("conclusion") in FAILED_JOB_CONCLUSIONS]
        jobs = [self._job(raw, deadline) for raw in failed[:MAX_FAILED_JOBS]]
        note = STARTUP_FAILURE_NOTE if conclusion == "startup_failure" and not jobs else None
        if self._clock() > deadline:
            note = note or "Part of the failure details could not be read in time."
        first = jobs[0] if jobs else None
        return FailureDigest(
            run_attempt=run_attempt,
            conclusion=conclusion,
            jobs=tuple(jobs),
            more_failed=max(0, len(failed) - MAX_FAILED_JOBS),
            note=note,
            fingerprint=fingerprint(
                workflow,
                first.name if first else None,
                first.step_name if first else None,
                (first.error_line if first else None) or conclusion,
            ),
        )

    def _job(self, raw: dict[str, Any], deadline: float) -> FailedJob:
        redact = active_redactor().text
        job_id = raw.get("id")
        steps = [s for s in raw.get("steps") or [] if isinstance(s, dict)]
        step = next((s for s in steps if s.get("conclusion") in FAILED_JOB_CONCLUSIONS), None)
        step_number = step.get("number") if step else None
        step_name = _name(step.get("name")) if step else None
        annotation: str | None = None
        log: tuple[str, ...] = ()
        log_note: str | None = None
        if isinstance(job_id, int) and not isinstance(job_id, bool):
            annotation = self._annotation(job_id, deadline)
            number = step_number if isinstance(step_number, int) else None
            log, log_note = self._log(job_id, number, step_name, deadline)
        url = raw.get("html_url")
        return FailedJob(
            job_id=job_id if isinstance(job_id, int) else 0,
            name=redact(_name(raw.get("name")) or "job"),
            html_url=url if isinstance(url, str) and url.startswith("https://") and len(url) <= 2048 else None,
            step_number=step_number if isinstance(step_number, int) and not isinstance(step_number, bool) else None,
            step_name=redact(step_name) if step_name else None,
            steps_total=len(steps),
            step_seconds=seconds_between(_stamp(step, "started_at"), _stamp(step, "completed_at")) if step else None,
            annotation=redact(annotation)[:MAX_ANNOTATION] if annotation else None,
            log=log,
            log_note=log_note,
        )

    def _annotation(self, job_id: int, deadline: float) -> str | None:
        remaining = deadline - self._clock()
        if remaining <= 0:
            return None
        try:
            annotations = self._github.list_annotations(job_id, timeout=remaining)
        except GitHubRejected as exc:
            if exc.status == 403 and not self._checks_refused:
                self._checks_refused = True
                get_logger().warning(
                    "annotations refused (403): give the GitHub token 'Checks: read' to show why runs fail",
                    extra={"job_id": job_id},
                )
            elif exc.status != 403:
                get_logger().info("annotations unavailable", extra={"job_id": job_id, "status": exc.status})
            return None
        except GitHubError as exc:
            get_logger().info("annotations unavailable", extra={"job_id": job_id, "error": type(exc).__name__})
            return None
        return most_specific(annotations)

    def _log(
        self, job_id: int, step_number: int | None, step_name: str | None, deadline: float
    ) -> tuple[tuple[str, ...], str | None]:
        log = get_logger()
        remaining = deadline - self._clock()
        if remaining <= 0:
            return (), "log not read: out of time"
        try:
            location = self._github.job_log_location(job_id, timeout=remaining)
            remaining = deadline - self._clock()
            if remaining <= 0:
                return (), "log not read: out of time"
            with self._logs.open(location, timeout=remaining) as chunks:
                excerpt = excerpt_from_stream(
                    chunks,
                    step_number=step_number or 1,
                    step_name=step_name or "",
                    max_bytes=self._max_log_bytes,
                    max_lines=MAX_LOG_LINES,
                    max_chars=MAX_LOG_CHARS,
                    out_of_time=lambda: self._clock() > deadline,
                )
        except (GitHubError, LogUnavailable) as exc:
            reason = exc.reason if isinstance(exc, LogUnavailable) else _github_reason(exc)
            log.info("job log unavailable", extra={"job_id": job_id, "reason": reason})
            return (), f"log unavailable: {reason}"
        redact = active_redactor().text
        lines = tuple(redact(line) for line in excerpt.lines)
        note = None
        if excerpt.cut:
            note = f"log cut after {excerpt.bytes_read // 1_000_000} MB"
        elif not excerpt.step_found:
            note = "the step's part of the log was not found: its last lines"
        return lines, note


def most_specific(annotations: list[dict[str, Any]]) -> str | None:
    """The first failure annotation's message, passing over GitHub's generic "Process completed with
    exit code N" when a more specific one exists."""
    failures = [a for a in annotations if a.get("annotation_level") == "failure" and isinstance(a.get("message"), str)]
    if not failures:
        return None
    specific = [a for a in failures if not str(a["message"]).lower().startswith(GENERIC_EXIT)]
    chosen = (specific or failures)[0]
    message = " ".join(str(chosen["message"]).split())
    path, line = chosen.get("path"), chosen.get("start_line")
    # Annotations on the workflow itself carry the path ".github"; a source file's place helps.
    if isinstance(path, str) and path and path != ".github" and not path.startswith(".github/workflows"):
        message += f" ({path}{f':{line}' if isinstance(line, int) else ''})"
    return message


def _github_reason(exc: GitHubError) -> str:
    if isinstance(exc, GitHubRejected):
        return {404: "expired or not found", 410: "expired", 403: "not allowed"}.get(
            exc.status, f"GitHub answered {exc.status}"
        )
    return type(exc).__name__


def _name(value: object) -> str | None:
    return " ".join(value.split())[:MAX_NAME] if isinstance(value, str) and value.strip() else None


def _stamp(raw: dict[str, Any] | None, key: str) -> str | None:
    value = raw.get(key) if raw else None
    return value if isinstance(value, str) and len(value) <= 40 else None
