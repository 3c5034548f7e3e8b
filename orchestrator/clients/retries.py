"""One retry loop for both APIs: honour Retry-After, back off on 5xx, never resend what is unsafe.

A request that never left (connection refused, connect timeout) is always safe
to send again; one that may have reached the server is retried only when the
caller says it is idempotent. A 429 means the server did not act on it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from orchestrator.clients.breaker import CircuitOpen
from orchestrator.observability.logging import get_logger

# Every call has a deadline: 3 s to connect, 10 s for anything else.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# GitHub's advice for a secondary rate limit that names no time: wait at least a minute.
SECONDARY_LIMIT_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    # The longest single wait we accept; a longer Retry-After is returned to the caller to report.
    max_wait_seconds: float = 30.0
    base_backoff_seconds: float = 0.5
    # True only for requests that do no harm when repeated (GET, PATCH of a message).
    idempotent: bool = True


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object, or {} for anything else (bad JSON, a list, HTML from a proxy)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retry_after_seconds(response: httpx.Response, *, now: float | None = None) -> float | None:
    """How long the server asks us to wait, from Discord's JSON, Retry-After, or GitHub's reset time."""
    retry_after = json_object(response).get("retry_after")
    if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
        return max(0.0, float(retry_after))
    header = response.headers.get("retry-after")
    if header is not None:
        try:
            return max(0.0, float(header))
        except ValueError:
            return None
    if response.headers.get("x-ratelimit-remaining") == "0" and response.headers.get("x-ratelimit-reset"):
        try:
            reset = float(response.headers["x-ratelimit-reset"])
        except ValueError:
            return None
        return max(0.0, reset - (time.time() if now is None else now))
    if _is_secondary_limit(response):
        return SECONDARY_LIMIT_WAIT_SECONDS
    return None


def is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    # GitHub answers some rate limits with 403 and says so in its headers, or only in its message.
    return response.status_code == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in response.headers
        or _is_secondary_limit(response)
    )


def _is_secondary_limit(response: httpx.Response) -> bool:
    """GitHub's secondary rate limit ("You have exceeded a secondary rate limit..."), headers or not."""
    message = json_object(response).get("message")
    return response.status_code in (403, 429) and isinstance(message, str) and "secondary rate limit" in message.lower()


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    json_body: object | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
    timeout: float | None = None,
) -> httpx.Response:
    """Send with retries; return the last response, or raise the last transport error.
    `timeout` bounds each attempt (the client's own timeouts otherwise)."""
    log = get_logger()
    sleep = sleep or time.sleep
    for attempt in range(1, policy.max_attempts + 1):
        last = attempt == policy.max_attempts
        try:
            response = client.request(
                method,
                url,
                json=json_body,
                params=params,
                headers=headers,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout),
            )
        except CircuitOpen:
            raise  # failing fast is the point: waiting here would pile up the retries the breaker stops
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if last:
                raise
            log.warning("connection failed, retrying", extra={"error": type(exc).__name__, "attempt": attempt})
        except httpx.TransportError as exc:
            if last or not policy.idempotent:
                raise
            log.warning("request failed, retrying", extra={"error": type(exc).__name__, "attempt": attempt})
        else:
            if is_rate_limited(response):
                wait = retry_after_seconds(response)
                if last or wait is None or wait > policy.max_wait_seconds:
                    return response
                log.warning("rate limited, waiting", extra={"wait_seconds": round(wait, 3), "attempt": attempt})
                sleep(wait)
                continue
            if response.status_code < 500 or last or not policy.idempotent:
                return response
            log.warning("server error, retrying", extra={"status": response.status_code, "attempt": attempt})
        sleep(policy.base_backoff_seconds * 2 ** (attempt - 1))
    raise AssertionError("unreachable: the last attempt returns or raises")
