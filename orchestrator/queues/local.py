"""The local stand-in for SQS: delayed delivery, retries with backoff, a bounded dead-letter list.

It feeds the same worker code as the Lambda, on a few threads of the local server.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.observability.logging import get_logger
from orchestrator.queues.base import QueueUnavailable

# handler(body, context, final_attempt, sent_at); raising asks for a retry, like a failed SQS item.
Handler = Callable[[str, LambdaContext, bool, float], None]

MAX_PENDING = 10_000
MAX_DEAD_LETTERS = 1_000
JOB_TIME_LIMIT_SECONDS = 60.0


class LocalContext(LambdaContext):
    """A Lambda-like deadline, so Powertools Idempotency can expire a claim a crashed job left."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline
        self._function_name = "local-worker"

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(order=True)
class _Entry:
    due: float
    seq: int
    body: str = ""
    attempt: int = 1
    sent_at: float = 0.0  # wall clock, like SQS's SentTimestamp


class LocalQueue:
    def __init__(
        self,
        handler: Handler,
        *,
        workers: int = 2,
        max_attempts: int = 5,
        retry_delay_seconds: float = 1.0,
        max_pending: int = MAX_PENDING,
        poison: tuple[type[Exception], ...] = (),
    ) -> None:
        self._handler = handler
        self._workers = workers
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay_seconds
        self._max_pending = max_pending
        # Failures no retry can cure (a message this version cannot read): dead-lettered at once.
        self._poison = poison
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self.dead_letters: list[str] = []
        self.dropped_dead_letters = 0

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        with self._cond:
            if self._stopping or len(self._heap) >= self._max_pending:
                raise QueueUnavailable("local queue full" if not self._stopping else "local queue stopped")
            self._push(body, delay_seconds, attempt=1, sent_at=time.time())

    def _push(self, body: str, delay: float, attempt: int, sent_at: float) -> None:
        heapq.heappush(self._heap, _Entry(time.monotonic() + delay, next(self._seq), body, attempt, sent_at))
        self._cond.notify()

    def start(self) -> None:
        for index in range(self._workers):
            thread = threading.Thread(target=self._run, name=f"local-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is running or due (tests and the demo): messages delayed into the
        future, such as the next poll of a run, do not count. False on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._busy or (self._heap and self._heap[0].due <= time.monotonic()):
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                entry = self._next_due()
                if entry is None:
                    return
                self._busy += 1
            try:
                self._deliver(entry)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _next_due(self) -> _Entry | None:
        while not self._stopping:
            if self._heap and self._heap[0].due <= time.monotonic():
                return heapq.heappop(self._heap)
            self._cond.wait(self._heap[0].due - time.monotonic() if self._heap else None)
        return None

    def _deliver(self, entry: _Entry) -> None:
        final = entry.attempt >= self._max_attempts
        context = LocalContext(time.monotonic() + JOB_TIME_LIMIT_SECONDS)
        try:
            self._handler(entry.body, context, final, entry.sent_at)
        except Exception as exc:  # noqa: BLE001 - any failure is a retry, as with SQS
            log = get_logger()
            if final or isinstance(exc, self._poison):
                log.error("job failed on its last attempt: dead-lettered", extra={"error": type(exc).__name__})
                with self._cond:
                    if len(self.dead_letters) >= MAX_DEAD_LETTERS:
                        self.dead_letters.pop(0)
                        self.dropped_dead_letters += 1
                    self.dead_letters.append(entry.body)
                return
            delay = self._retry_delay * 2 ** (entry.attempt - 1)
            # At debug: the worker has already logged the failure with the job's trace id.
            log.debug("job failed, retrying", extra={"error": type(exc).__name__, "attempt": entry.attempt})
            with self._cond:
                self._push(entry.body, delay, entry.attempt + 1, entry.sent_at)
