"""Trace history: a ring buffer per user (newest 100) within a global bound (newest 1,000).

The oldest trace goes first when either bound is passed, and every eviction is counted.
Bounds are enforced when writing, on every backend: DynamoDB's TTL deletes lazily (up to
two days late), so it only tidies up; reads also ignore expired traces themselves.
"""

from __future__ import annotations

from typing import Protocol

from orchestrator.traces.model import Trace

MAX_TRACES_PER_USER = 100
MAX_TRACES_TOTAL = 1000
TRACE_RETENTION_SECONDS = 14 * 24 * 3600


class TraceStore(Protocol):
    def save(self, trace: Trace) -> None:
        """Insert or replace (by trace id) the trace; evict past the bounds."""

    def latest(self, user_id: str) -> Trace | None: ...

    def find(self, user_id: str, trace_id: str) -> Trace | None:
        """The user's own trace with this id (or id prefix of 8+ characters); never another user's."""

    def evictions(self) -> int: ...


def matches(trace_id: str, wanted: str) -> bool:
    """A full trace id, or its fingerprint (8+ characters) as users copy it from messages."""
    return trace_id == wanted or (len(wanted) >= 8 and trace_id.startswith(wanted))
