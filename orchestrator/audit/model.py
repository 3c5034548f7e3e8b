"""One audit event: a command attempt and its outcome, as kept in the state store and logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.commands.invocation import INVOCATION_FIELDS, Invocation

# accepted: queued and dispatched (run_id when GitHub started one); failed: queued, and GitHub
# refused the dispatch; unknown: queued, and whether a run started is not known (a timeout or 5xx,
# no run found). The refusals answered at once (denied, invalid, unknown_command, rate_limited,
# not_in_server: a DM or a user install, as the bot is registered for servers only).
# confirmed / cancelled: a `confirm: true` command's Confirm or Cancel; run_cancelled: a live run's
# Cancel button, by whom; rerun / rerun_failed / rerun_unknown: a failed run's Re-run button, and
# whether GitHub re-ran it, refused, or gave no clear answer.
OUTCOMES = frozenset(
    {
        "accepted",
        "failed",
        "unknown",
        "denied",
        "invalid",
        "unknown_command",
        "rate_limited",
        "not_in_server",
        "confirmed",
        "cancelled",
        "run_cancelled",
        "rerun",
        "rerun_failed",
        "rerun_unknown",
    }
)


@dataclass(frozen=True)
class AuditEvent:
    at: float
    outcome: str
    invocation: Invocation  # who did it (for a button, the presser), the command, where
    run_id: int | None = None
    detail: str | None = None  # what happened, in a few words: the dispatch outcome, the refusal

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {self.outcome!r}")

    def to_dict(self) -> dict[str, Any]:
        """Flat, as stored: the invocation's fields beside the event's own."""
        return {
            "at": self.at,
            "outcome": self.outcome,
            **self.invocation.to_dict(),
            "run_id": self.run_id,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AuditEvent:
        unknown = raw.keys() - INVOCATION_FIELDS - _OWN_FIELDS
        if unknown:
            raise TypeError(f"unknown audit event fields: {', '.join(sorted(unknown))}")
        return cls(raw["at"], raw["outcome"], Invocation.from_dict(raw), raw.get("run_id"), raw.get("detail"))


_OWN_FIELDS = frozenset({"at", "outcome", "run_id", "detail"})
