from __future__ import annotations

from typing import Protocol


class QueueUnavailable(Exception):
    """The message was not queued; the caller must tell the user that nothing was started."""


class JobQueue(Protocol):
    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        """Queue one message; raise QueueUnavailable when it could not be queued."""
