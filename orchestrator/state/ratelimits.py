"""Token buckets per key ("user:<id>", "cmd:<name>:<id>", "press:<id>", "bot:dispatches"), taken
all or none, atomically, by each backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from orchestrator.ratelimits.bucket import BucketRule, take_token


@dataclass(frozen=True)
class Bucket:
    key: str
    rule: BucketRule


@dataclass(frozen=True)
class Refused:
    bucket: Bucket
    retry_after: float


class RateLimitConflict(Exception):
    """Other instances kept updating these buckets: the take could not be made atomically."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(", ".join(keys))
        self.keys = keys


class RateLimitStore(Protocol):
    def take(self, buckets: Sequence[Bucket], now: float) -> Refused | None:
        """A token from every bucket (each created full) or from none, atomically across instances:
        None when taken, else the first bucket that had none."""


def decide(buckets: Sequence[Bucket], full_at: Mapping[str, float | None], now: float) -> Refused | dict[str, float]:
    """Given when each bucket is full again, the first refusal, or what each holds after the take."""
    taken = {}
    for bucket in buckets:
        decision = take_token(full_at.get(bucket.key), bucket.rule, now)
        if not decision.allowed:
            return Refused(bucket, decision.retry_after)
        taken[bucket.key] = decision.full_at
    return taken
