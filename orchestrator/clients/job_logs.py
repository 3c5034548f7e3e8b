"""Download a job's log from the short-lived signed URL GitHub redirects to.

The URL is its own credential and lives on another host (GitHub's log storage): this client
sends no Authorization header and no GitHub headers, so the token never leaves for that host.
The body is streamed: logs can be hundreds of MB, and only a bounded window is ever kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from orchestrator import __version__
from orchestrator.clients.retries import DEFAULT_TIMEOUT

CHUNK_BYTES = 64 * 1024


class LogUnavailable(Exception):
    """The log could not be read (expired, refused, unreachable); `reason` is for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobLogDownloader:
    def __init__(self, http: httpx.Client | None = None) -> None:
        # Its own client, never the GitHub API's: that one carries the token.
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        self._http.headers["User-Agent"] = f"orchestrator-bot/{__version__}"

    @contextmanager
    def open(self, url: str, *, timeout: float) -> Iterator[Iterator[bytes]]:
        """The log's bytes, chunk by chunk; each read waits at most `timeout` seconds."""
        try:
            with self._http.stream("GET", url, timeout=httpx.Timeout(timeout)) as response:
                if response.status_code != 200:
                    raise LogUnavailable(_STATUS_REASONS.get(response.status_code, f"answered {response.status_code}"))
                yield _guarded(response.iter_bytes(CHUNK_BYTES))
        except httpx.TransportError as exc:
            raise LogUnavailable(f"could not be downloaded ({type(exc).__name__})") from exc


def _guarded(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks; a connection that breaks mid-way ends the log as LogUnavailable, not a crash."""
    try:
        yield from chunks
    except httpx.TransportError as exc:
        raise LogUnavailable(f"download broke off ({type(exc).__name__})") from exc


_STATUS_REASONS = {
    403: "link expired",
    404: "not found (expired)",
    410: "expired",
}
