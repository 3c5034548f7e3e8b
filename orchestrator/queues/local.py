"""The local stand-in for SQS: `serve`'s queue, feeding the same worker code as the Lambda on a
few threads of the local server.

Its messages are kept in a QueueStore (queues/stored.py; the state's SQLite file by default), so
neither a crash nor a stop loses a command: a message is hidden while its job runs and deleted
when the job is done; a job that failed is tried again with backoff, and dead-lettered after its
last attempt; one whose process died mid-way (`kill -9`) is delivered again once its visibility
timeout has passed, to the worker that looks for the run before dispatching again. A stop takes
no new message, waits a bounded time for the jobs under way, and leaves the rest for the next start.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.observability.logging import get_logger
from orchestrator.queues.base import QueueUnavailable
from orchestrator.queues.stored import QueueStore, Received

# handler(body, context, final_attempt, sent_at); raising asks for a retry, like a failed SQS item.
Handler = Callable[[str, LambdaContext, bool, float], None]

MAX_PENDING = 10_000
# A job's deadline (what Powertools Idempotency's in-progress claim lasts): `serve --job-time-limit`.
JOB_TIME_LIMIT_SECONDS = 60.0
# A message stays hidden this many job time limits after it is received, renewed while its job
# runs: one whose process died is delivered again that long after its last renewal.
VISIBILITY_PER_JOB_TIME_LIMIT = 1.5
# How long a stop waits for the jobs under way (SIGTERM); what is left runs at the next start.
DRAIN_SECONDS = 10.0
# An idle worker looks at the store at least this often: another process may share the file.
_IDLE_LOOK_SECONDS = 1.0


class LocalContext(LambdaContext):
    """A Lambda-like deadline, so Powertools Idempotency can expire a claim a crashed job left."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline
        self._function_name = "local-worker"

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalQueue:
    def __init__(
        self,
        handler: Handler,
        store: QueueStore,
        *,
        workers: int = 2,
        max_attempts: int = 5,
        retry_delay_seconds: float = 1.0,
        max_pending: int = MAX_PENDING,
        poison: tuple[type[Exception], ...] = (),
        job_time_limit: float = JOB_TIME_LIMIT_SECONDS,
    ) -> None:
        self._handler = handler
        self._store = store
        self._workers = workers
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay_seconds
        self._max_pending = max_pending
        # Failures no retry can cure (a message this version cannot read): dead-lettered at once.
        self._poison = poison
        self._job_time_limit = job_time_limit
        # One lock, two conditions: idle workers wait for a message (`_wake`), wait_idle for the jobs
        # under way to end (`_settled`). Sharing one condition made each worker's end of a look wake
        # the other idle one, which looked and woke the first: a core spent while the queue was empty.
        lock = threading.Lock()
        self._wake = threading.Condition(lock)
        self._settled = threading.Condition(lock)
        self._busy = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []

    @property
    def dead_letters(self) -> list[str]:
        return self._store.dead_letters()

    def pending(self) -> int:
        """Messages queued, due or not, in flight included."""
        return self._store.count()

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        # Also while stopping: a job finishing during the drain queues its next poll, which the
        # store keeps for the next start.
        now = time.time()
        try:
            kept = self._store.put(body, visible_at=now + delay_seconds, sent_at=now, limit=self._max_pending)
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"local queue unavailable: {type(exc).__name__}") from exc
        if not kept:
            raise QueueUnavailable("local queue full")
        with self._wake:
            self._wake.notify()

    def start(self) -> None:
        for index in range(self._workers):
            thread = threading.Thread(target=self._run, name=f"local-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Take no new message; wait up to `timeout` for the jobs under way. True when they all
        ended; a job still running is delivered again at a later start, after its visibility timeout."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        end = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        drained = not any(thread.is_alive() for thread in self._threads)
        self._threads.clear()
        return drained

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is running or due (tests and the demo): messages delayed into the
        future, such as the next poll of a run, do not count. False on timeout."""
        end = time.monotonic() + timeout
        with self._settled:
            while self._busy or self._due():
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return False
                self._settled.wait(min(remaining, 0.05))
        return True

    def _due(self) -> bool:
        try:
            next_visible = self._store.next_visible_at()
        except sqlite3.Error:
            return True  # unknown: not idle
        return next_visible is not None and next_visible <= time.time()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                self._busy += 1  # before receiving: wait_idle must never see a message neither due nor busy
            message = None
            try:
                message = self._store.receive(
                    time.time(), visibility_timeout=self._job_time_limit * VISIBILITY_PER_JOB_TIME_LIMIT
                )
                if message is not None:
                    self._deliver(message)
            except sqlite3.Error as exc:
                get_logger().error("local queue unavailable", extra={"error": type(exc).__name__})
            finally:
                with self._settled:
                    self._busy -= 1
                    self._settled.notify_all()
            if message is None:
                self._idle()

    @contextlib.contextmanager
    def _kept_hidden(self, message: Received) -> Iterator[None]:
        """While the job runs, however long, its message stays hidden (SQS's ChangeMessageVisibility
        heartbeat): only a job whose process died is delivered again, never one still running."""
        visibility = self._job_time_limit * VISIBILITY_PER_JOB_TIME_LIMIT
        done = threading.Event()

        def heartbeat() -> None:
            while not done.wait(visibility / 3):
                try:
                    self._store.hide_until(message, time.time() + visibility)
                except sqlite3.Error as exc:
                    get_logger().warning("local queue unavailable", extra={"error": type(exc).__name__})

        beating = threading.Thread(target=heartbeat, name="local-queue-heartbeat", daemon=True)
        beating.start()
        try:
            yield
        finally:
            done.set()
            beating.join()

    def _idle(self) -> None:
        # Under the lock: a message sent after the look below notifies this wait, never before it.
        with self._wake:
            if self._stopping:
                return
            try:
                next_visible = self._store.next_visible_at()
            except sqlite3.Error as exc:  # the file busy past its timeout: look again later
                get_logger().warning("local queue unavailable", extra={"error": type(exc).__name__})
                next_visible = None
            wait = _IDLE_LOOK_SECONDS if next_visible is None else next_visible - time.time()
            self._wake.wait(min(max(wait, 0.0), _IDLE_LOOK_SECONDS))

    def _deliver(self, message: Received) -> None:
        final = message.receives >= self._max_attempts
        context = LocalContext(time.monotonic() + self._job_time_limit)
        try:
            with self._kept_hidden(message):
                self._handler(message.body, context, final, message.sent_at)
        except Exception as exc:  # noqa: BLE001 - any failure is a retry, as with SQS
            log = get_logger()
            if final or isinstance(exc, self._poison):
                log.error("job failed on its last attempt: dead-lettered", extra={"error": type(exc).__name__})
                self._store.dead_letter(message)
                return
            # At debug: the worker has already logged the failure with the job's trace id.
            log.debug("job failed, retrying", extra={"error": type(exc).__name__, "attempt": message.receives})
            self._store.hide_until(message, time.time() + self._retry_delay * 2 ** (message.receives - 1))
            return
        self._store.delete(message)
