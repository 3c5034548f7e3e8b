"""Commands waiting for their Confirm button: kept a few minutes, taken at most once."""

from __future__ import annotations

from typing import Protocol

CONFIRM_WINDOW_SECONDS = 5 * 60


class PendingStore(Protocol):
    def put(self, ref: str, body: str, expires_at: float) -> None: ...

    def take(self, ref: str) -> str | None:
        """Remove and return the pending body; None when absent, expired or already taken.
        Atomic: of two presses at once, exactly one gets it."""
