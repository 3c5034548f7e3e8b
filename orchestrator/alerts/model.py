"""An alert, and the fingerprint that says which problem it is (not which occurrence)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["critical", "error", "warning", "resolved"]
ICONS: dict[str, str] = {"critical": "🔴", "error": "⚠️", "warning": "🟡", "resolved": "✅"}
# Ids, numbers, hex and quoted values differ between occurrences of one problem.
_VOLATILE = re.compile(r"\b[0-9a-f]{8,}\b|\b\d+\b|`[^`]*`|'[^']*'|\"[^\"]*\"", re.IGNORECASE)


@dataclass(frozen=True)
class Alert:
    severity: Severity
    source: str  # where it comes from: "dispatch", "worker", "alarm:<name>", ...
    title: str
    cause: str
    trace_id: str | None = None
    command: str | None = None
    user_name: str | None = None
    run_url: str | None = None
    links: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (label, url)
    # Which problem this is, when its source knows better than the wording (a failed run's
    # workflow, job, step and normalised error line); else the title and cause, normalised.
    problem_key: str | None = None

    def fingerprint(self) -> str:
        """The same problem gives the same fingerprint whatever its trace id, run or user.
        A `resolved` alert has its own (it must not be swallowed by the alarm it resolves)."""
        problem = self.problem_key or f"{_normalise(self.title)}|{_normalise(self.cause)}"
        text = "|".join((self.severity, self.source, problem))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _normalise(text: str) -> str:
    return " ".join(_VOLATILE.sub("#", text.lower()).split())
