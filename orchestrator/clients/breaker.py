"""Circuit breakers around GitHub and Discord: after repeated failures, fail fast instead of retrying.

A breaker sits in the httpx transport, below the retry loop, so every request to one API passes
through it. `BREAKER_FAILURES` failures in a row (a transport error or a 5xx; a 429 is the server
pacing us, not failing) open it: for `BREAKER_COOLDOWN_SECONDS` every request fails at once with
CircuitOpen, which never left this process and so is always safe to report as "nothing was sent".
After the cooldown one request at a time is let through as a probe (half-open): its success closes
the breaker, its failure opens it for another cooldown.

State is kept per Lambda instance, on purpose: a breaker consulted on every request must not add a
state-store round trip to each of them, nor fail when the store does; each instance learns of an
outage from its own first few failures, which bounds the waste at `failures` calls per instance.
What must be shared, the alert that calls are paused, is deduplicated across instances by the
alert store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from orchestrator.observability.logging import get_logger

DEFAULT_FAILURES = 5
DEFAULT_COOLDOWN_SECONDS = 30.0

# What a request refused while the probe is out is told to wait: about one answer's time.
_PROBE_WAIT_SECONDS = 1.0

State = Literal["closed", "open", "half_open"]


class CircuitOpen(httpx.ConnectError):
    """The breaker refused to send: the request never left (a ConnectError, to the retry loop)."""

    def __init__(self, service: str, retry_in: float, request: httpx.Request) -> None:
        super().__init__(f"{service} calls paused for {retry_in:.0f} s after repeated failures", request=request)
        self.service = service
        self.retry_in = retry_in


@dataclass(frozen=True)
class BreakerOpened:
    """What listeners learn when a breaker opens."""

    service: str
    failures: int
    cooldown_seconds: float
    last_error: str


class CircuitBreaker:
    def __init__(
        self,
        service: str,
        *,
        failures: int = DEFAULT_FAILURES,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or cooldown_seconds <= 0:
            raise ValueError("a breaker needs at least one failure and a positive cooldown")
        self.service = service
        self._threshold = failures
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._listeners: list[Callable[[BreakerOpened], object]] = []

    @property
    def state(self) -> State:
        with self._lock:
            return self._current_state()

    def on_open(self, listener: Callable[[BreakerOpened], object]) -> None:
        self._listeners.append(listener)

    def admit(self) -> float | None:
        """None when a request may go now; else the seconds until the breaker lets one through."""
        with self._lock:
            state = self._current_state()
            if state == "closed":
                return None
            if state == "open":
                return self._opened_at + self._cooldown - self._clock()
            if not self._probing:
                self._probing = True  # this request is the probe; the others wait for its answer
                return None
            return _PROBE_WAIT_SECONDS

    def record_success(self) -> None:
        with self._lock:
            if self._state != "closed":
                get_logger().info("circuit closed", extra={"service": self.service})
            self._state, self._failures, self._probing = "closed", 0, False

    def record_failure(self, error: str) -> None:
        with self._lock:
            self._failures += 1
            was_probe, self._probing = self._probing, False
            if not was_probe and (self._state == "open" or self._failures < self._threshold):
                return
            self._state, self._opened_at = "open", self._clock()
            opened = BreakerOpened(self.service, self._failures, self._cooldown, error)
        get_logger().warning(
            "circuit open: failing fast",
            extra={"service": self.service, "failures": opened.failures, "cooldown_seconds": self._cooldown},
        )
        for listener in self._listeners:
            listener(opened)

    def _current_state(self) -> State:
        if self._state == "open" and self._clock() >= self._opened_at + self._cooldown:
            self._state = "half_open"
        return self._state


class BreakerTransport(httpx.BaseTransport):
    """An httpx transport that asks the breaker before each request and tells it how it went."""

    def __init__(self, breaker: CircuitBreaker, inner: httpx.BaseTransport | None = None) -> None:
        self._breaker = breaker
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        retry_in = self._breaker.admit()
        if retry_in is not None:
            raise CircuitOpen(self._breaker.service, retry_in, request)
        try:
            response = self._inner.handle_request(request)
        except BaseException as exc:  # a transport error, or anything else that leaves the probe unanswered
            self._breaker.record_failure(type(exc).__name__)
            raise
        if response.status_code >= 500:
            self._breaker.record_failure(f"HTTP {response.status_code}")
        else:
            self._breaker.record_success()
        return response

    def close(self) -> None:
        self._inner.close()
