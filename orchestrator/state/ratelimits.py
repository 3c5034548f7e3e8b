"""Token-bucket state per key ("user:<id>", "cmd:<name>:<id>"), updated atomically by each backend."""

from __future__ import annotations

from typing import Protocol

from orchestrator.ratelimits.bucket import BucketRule, Decision


class RateLimitConflict(Exception):
    """Another instance kept updating the same bucket: the take could not be made atomically."""


class RateLimitStore(Protocol):
    def take(self, key: str, rule: BucketRule, now: float) -> Decision:
        """Take one token from the bucket `key` (created full), atomically across instances."""


def bucket_ttl(rule: BucketRule, now: float, tokens: float) -> float:
    """When a bucket's row may go: once it is full again it says nothing a missing row does not."""
    return now + rule.seconds_to_full(tokens) + 60.0
