"""What we know of a run at one moment, and which of two moments is later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.messages.limits import URL

# Statuses move forward through these ranks; a snapshot of a lower rank than what we have is
# stale (a late webhook, a slow poll) and never shown.
_RANK = {"requested": 1, "pending": 1, "waiting": 1, "queued": 1, "in_progress": 2, "completed": 3}


# The conclusions that mean the run failed: a failure digest is built, an alert may be raised.
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
MAX_RUN_ATTEMPT = 1000  # GitHub keeps re-runs for 30 days; far more attempts than that is not GitHub's data

MAX_TIMESTAMP = 40  # ISO 8601 with fractions and an offset is at most ~35 characters


class BadRunData(ValueError):
    pass


@dataclass(frozen=True)
class RunSnapshot:
    run_id: int
    status: str
    conclusion: str | None
    html_url: str
    run_started_at: str | None
    updated_at: str | None
    run_attempt: int = 1

    @classmethod
    def from_api(cls, raw: object) -> RunSnapshot:
        """From GitHub's workflow-run object (REST or a webhook's `workflow_run`), checked for shape."""
        if not isinstance(raw, dict):
            raise BadRunData("workflow run must be an object")
        run_id, status = raw.get("id"), raw.get("status")
        if not isinstance(run_id, int) or isinstance(run_id, bool) or not isinstance(status, str):
            raise BadRunData("workflow run needs an integer id and a status")
        conclusion = raw.get("conclusion")
        attempt = raw.get("run_attempt")
        return cls(
            run_id=run_id,
            status=status[:40],
            conclusion=conclusion[:40] if isinstance(conclusion, str) else None,
            # Past these lengths a value is not GitHub's (a link Discord would refuse, no timestamp):
            # dropped, so that a 1 MB field cannot make the queue message too big to send.
            html_url=_text(raw.get("html_url"), URL) or "",
            run_started_at=_text(raw.get("run_started_at"), MAX_TIMESTAMP),
            updated_at=_text(raw.get("updated_at"), MAX_TIMESTAMP),
            run_attempt=attempt
            if isinstance(attempt, int) and not isinstance(attempt, bool) and 1 <= attempt <= MAX_RUN_ATTEMPT
            else 1,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.run_id,
            "status": self.status,
            "conclusion": self.conclusion,
            "html_url": self.html_url,
            "run_started_at": self.run_started_at,
            "updated_at": self.updated_at,
            "run_attempt": self.run_attempt,
        }

    @property
    def rank(self) -> int:
        # A conclusion means it is over, whatever the status field (seen: "completed" actions
        # whose status still says "queued").
        return rank_of(self.status, self.conclusion) or 1


def rank_of(status: str | None, conclusion: str | None) -> int:
    if conclusion:
        return 3
    # "completed" without a conclusion is not a result we can show: no further than running.
    return min(_RANK.get(status or "", 0), 2)


def is_stale(
    snapshot: RunSnapshot, status: str | None, conclusion: str | None, updated_at: str | None, attempt: int = 1
) -> bool:
    """True when what we already have is at least as far along as the snapshot.

    A re-run keeps the run id and raises its attempt: any news of a later attempt is newer than
    all of an earlier one (a finished attempt 1 does not make attempt 2's "queued" stale), and
    news of an earlier attempt is stale once a later one is known."""
    if snapshot.run_attempt != attempt:
        return snapshot.run_attempt < attempt
    have = rank_of(status, conclusion)
    if snapshot.rank != have:
        return snapshot.rank < have
    # Same stage: only a strictly newer GitHub timestamp says something changed.
    return bool(updated_at and snapshot.updated_at and snapshot.updated_at <= updated_at)


@dataclass(frozen=True)
class JobLine:
    """One job of the run, as the live message shows it."""

    name: str
    status: str
    conclusion: str | None
    started_at: str | None
    completed_at: str | None
    current_step: str | None
    steps_done: int
    steps_total: int
    job_id: int | None = None

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> JobLine:
        steps = [s for s in raw.get("steps") or [] if isinstance(s, dict)]
        running = next((s for s in steps if s.get("status") == "in_progress"), None)
        return cls(
            name=(_text(raw.get("name")) or "job")[:80],
            status=_text(raw.get("status")) or "queued",
            conclusion=_text(raw.get("conclusion")),
            started_at=_text(raw.get("started_at")),
            completed_at=_text(raw.get("completed_at")),
            current_step=(_text(running.get("name")) or "")[:60] if running else None,
            steps_done=sum(1 for s in steps if s.get("status") == "completed"),
            steps_total=len(steps),
            job_id=raw["id"] if isinstance(raw.get("id"), int) and not isinstance(raw.get("id"), bool) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> JobLine:
        return cls(**{k: raw.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


def seconds_between(start: str | None, end: str | None) -> int | None:
    """Whole seconds from one GitHub timestamp to another; None when either is missing or odd."""
    if not start or not end:
        return None
    try:
        seconds = int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    except (ValueError, TypeError):
        return None
    return seconds if seconds >= 0 else None


def _text(value: object, limit: int | None = None) -> str | None:
    """A non-empty string, at most `limit` characters long; else None."""
    if not isinstance(value, str) or not value or (limit is not None and len(value) > limit):
        return None
    return value
