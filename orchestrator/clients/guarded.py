"""The worker's httpx clients: each API behind its own circuit breaker, with the project's timeouts."""

from __future__ import annotations

import httpx

from orchestrator.clients.breaker import BreakerTransport, CircuitBreaker
from orchestrator.clients.retries import DEFAULT_TIMEOUT
from orchestrator.settings import Settings


def breaker_from_settings(settings: Settings, service: str) -> CircuitBreaker:
    return CircuitBreaker(
        service, failures=settings.breaker_failures, cooldown_seconds=float(settings.breaker_cooldown_seconds)
    )


def guarded_client(breaker: CircuitBreaker) -> httpx.Client:
    """An httpx client whose every request passes through `breaker`."""
    return httpx.Client(timeout=DEFAULT_TIMEOUT, transport=BreakerTransport(breaker))
