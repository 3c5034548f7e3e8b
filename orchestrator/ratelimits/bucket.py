"""A token bucket as plain arithmetic, shared by every store: the stores only make it atomic.

A bucket holds up to `burst` tokens and gains `per_minute` of them a minute; a command takes one.
Its whole state is one number, the moment it is full again (`full_at`; none, or a moment past, is a
full bucket): `burst - (full_at - now) / interval` tokens are left, and taking one moves `full_at`
an interval later. (This is the token bucket written as the generic cell rate algorithm.) One
number is what lets DynamoDB take a token in one conditional write, and a store that sees a
`full_at` too far ahead refuse without writing at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# `full_at` is a sum of intervals, and sums of floats are not exact (1000.1 + 0.1 + 0.1 is
# 1000.3000000000001): a token due within this many seconds counts as there, or the last token of
# a burst taken at one moment would be refused by a rounding error.
ROUNDING_SLACK_SECONDS = 1e-3


@dataclass(frozen=True)
class BucketRule:
    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")

    @property
    def interval(self) -> float:
        """Seconds for one token to come back."""
        return 60.0 / self.per_minute

    def latest_full_at(self, now: float) -> float:
        """The latest `full_at` that still leaves a token to take at `now`."""
        return now + (self.burst - 1) * self.interval


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until a token is there (0 when allowed)
    full_at: float  # what to store when allowed; as it was when refused


def take_token(full_at: float | None, rule: BucketRule, now: float) -> Decision:
    """Take one token at `now` from the bucket that is full at `full_at`, if it has one."""
    latest = rule.latest_full_at(now)
    # Never more than half an interval: a rate of thousands a second must not gain a token from it.
    if full_at is not None and full_at > latest + min(ROUNDING_SLACK_SECONDS, rule.interval / 2):
        return Decision(False, full_at - latest, full_at)
    start = now if full_at is None else max(full_at, now)
    return Decision(True, 0.0, start + rule.interval)


# A bucket's row may go this long after it is full again: from then on it says nothing a missing row
# does not (the margin covers clocks a little apart).
KEPT_AFTER_FULL_SECONDS = 60.0


def whole_seconds(wait: float) -> int:
    """A wait as users read it: whole seconds, never "0 s"."""
    return max(1, math.ceil(wait))
