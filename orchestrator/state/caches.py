"""What the bot read from GitHub and keeps a while: a workflow's inputs (the worker reads the file at
most every few minutes) and the lists autocomplete suggests from (the interactions function answers
from here, never from GitHub). Bodies are JSON text, redacted before they are kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

CACHE_RETENTION_SECONDS = 7 * 86400  # an entry nobody refreshed for a week is gone (DynamoDB TTL)


@dataclass(frozen=True)
class Cached:
    body: str
    fetched_at: float  # when GitHub was last asked (a 304 Not Modified counts)
    etag: str | None = None  # GitHub's, for the next conditional read


class CacheStore(Protocol):
    def get(self, key: str) -> Cached | None: ...

    def put(self, key: str, entry: Cached) -> None: ...

    def claim_refresh(self, key: str, *, now: float, interval: float) -> bool:
        """True for at most one caller per key per `interval` seconds, across every process: that
        caller queues the refresh."""
