from __future__ import annotations

from typing import Protocol

from orchestrator.observability.logging import get_logger


class QueueUnavailable(Exception):
    """The message was not queued; the caller must tell the user that nothing was started."""


class JobQueue(Protocol):
    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        """Queue one message; raise QueueUnavailable when it could not be queued."""


def send_best_effort(queue: JobQueue, body: str, *, what: str) -> None:
    """Queue a message the user's answer must not wait on, nor fail with: a failure is logged."""
    try:
        queue.send(body)
    except QueueUnavailable as exc:
        get_logger().warning(f"{what} not queued", extra={"reason": str(exc)})
