"""What failed in a run and why, as stored on the job record and trace and shown to users.

Every text in a digest has been through the redactor before the digest is built: it is
stored, logged and shown as it is. Its size is bounded, so a record that carries one stays
well within the state store's item limits.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

MAX_FAILED_JOBS = 3  # jobs described in full; past this, "…and N more failed jobs"
MAX_NAME = 100
MAX_ANNOTATION = 300
MAX_LOG_LINES = 40
MAX_LOG_CHARS = 1500
# Parts of an error line that differ between occurrences of one problem: paths, SHAs and other
# hex, UUIDs, numbers, quoted values, timestamps.
_VOLATILE = re.compile(
    r"\d{4}-\d\d-\d\dT[\d:.]+Z?"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|(?:[A-Za-z]:)?(?:[\w.-]*[/\\])+[\w.-]+"
    r"|\b[0-9a-f]{7,}\b|\d+(?:\.\d+)*|`[^`]*`|'[^']*'|\"[^\"]*\"",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FailedJob:
    job_id: int
    name: str
    html_url: str | None
    step_number: int | None  # the first failed step; None when GitHub names none
    step_name: str | None
    steps_total: int
    step_seconds: int | None
    annotation: str | None  # the most specific error annotation
    log: tuple[str, ...]  # the redacted window of the step's log
    log_note: str | None  # why the log is missing or cut, in words for the user

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "log": list(self.log)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FailedJob:
        return cls(
            job_id=_int(raw.get("job_id")) or 0,
            name=_str(raw.get("name"), MAX_NAME) or "job",
            html_url=_str(raw.get("html_url"), 2048),
            step_number=_int(raw.get("step_number")),
            step_name=_str(raw.get("step_name"), MAX_NAME),
            steps_total=_int(raw.get("steps_total")) or 0,
            step_seconds=_int(raw.get("step_seconds")),
            annotation=_str(raw.get("annotation"), MAX_ANNOTATION),
            log=tuple(line for line in raw.get("log") or [] if isinstance(line, str))[-MAX_LOG_LINES:],
            log_note=_str(raw.get("log_note"), MAX_ANNOTATION),
        )

    @property
    def error_line(self) -> str | None:
        """The line that says what went wrong: the annotation, else the log's last error."""
        if self.annotation:
            return self.annotation
        errors = [line for line in self.log if line.startswith("Error: ")]
        return errors[-1] if errors else (self.log[-1] if self.log else None)


@dataclass(frozen=True)
class FailureDigest:
    run_attempt: int
    conclusion: str
    jobs: tuple[FailedJob, ...]
    more_failed: int  # failed jobs past MAX_FAILED_JOBS
    note: str | None  # what the run itself says (a startup failure), or why the digest is partial
    fingerprint: str  # which problem this is: workflow + job + step + the normalised error line

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_attempt": self.run_attempt,
            "conclusion": self.conclusion,
            "jobs": [job.to_dict() for job in self.jobs],
            "more_failed": self.more_failed,
            "note": self.note,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FailureDigest:
        jobs = raw.get("jobs") or []
        return cls(
            run_attempt=_int(raw.get("run_attempt")) or 1,
            conclusion=_str(raw.get("conclusion"), 40) or "failure",
            jobs=tuple(FailedJob.from_dict(job) for job in jobs if isinstance(job, dict))[:MAX_FAILED_JOBS],
            more_failed=_int(raw.get("more_failed")) or 0,
            note=_str(raw.get("note"), MAX_ANNOTATION),
            fingerprint=_str(raw.get("fingerprint"), 64) or "",
        )

    @property
    def first(self) -> FailedJob | None:
        return self.jobs[0] if self.jobs else None

    @property
    def error_line(self) -> str | None:
        first = self.first
        return (first.error_line if first else None) or self.note


def fingerprint(workflow: str | None, job: str | None, step: str | None, error_line: str | None) -> str:
    """The same failure gives the same fingerprint whatever its run, attempt, SHA or paths."""
    text = "|".join((workflow or "", job or "", step or "", normalise_error(error_line or "")))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def normalise_error(line: str) -> str:
    return " ".join(_VOLATILE.sub("#", line.lower()).split())


def _str(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
