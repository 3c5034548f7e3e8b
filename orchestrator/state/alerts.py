"""Alert deduplication and rate limiting, atomic across every Lambda instance.

`claim` is one conditional write: the first caller after a window has passed wins the right to
post (and learns how many repeats were suppressed meanwhile); everyone else adds one to the
count. `release` gives a claim back when the post failed, so the next occurrence retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Claim:
    won: bool
    suppressed: int  # repeats suppressed since the last post (for the winner's "N more since")
    since: float | None  # when the first of them happened


class AlertStateStore(Protocol):
    def claim(self, fingerprint: str, *, now: float, window: float) -> Claim: ...

    def release(self, fingerprint: str, claim: Claim) -> None:
        """Undo a won claim whose post failed: the window is open again, the counts kept."""

    def take_slot(self, minute: int, limit: int) -> bool:
        """One of the `limit` posts allowed in this minute (True), or none left (False)."""
