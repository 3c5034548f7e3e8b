"""A token bucket as plain arithmetic, shared by every store: the stores only make it atomic.

A bucket holds up to `burst` tokens and gains `per_minute` of them a minute; a command takes one.
The state is two numbers, the tokens left and when they were counted, so a store can keep it in
one row or item and update it with a compare-and-set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BucketRule:
    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")

    def seconds_to_full(self, tokens: float) -> float:
        return (self.burst - tokens) * 60.0 / self.per_minute


@dataclass(frozen=True)
class BucketState:
    tokens: float
    counted_at: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until a token is there (0 when allowed)
    state: BucketState  # what to store (unchanged when refused)


def take_token(state: BucketState | None, rule: BucketRule, now: float) -> Decision:
    """Refill `state` up to `now`, then take one token if there is one."""
    if state is None:
        tokens = float(rule.burst)
    else:
        # A clock that went backwards (another instance's) refills nothing rather than draining.
        elapsed = max(0.0, now - state.counted_at)
        tokens = min(float(rule.burst), state.tokens + elapsed * rule.per_minute / 60.0)
    if tokens >= 1.0:
        return Decision(True, 0.0, BucketState(tokens - 1.0, now))
    wait = (1.0 - tokens) * 60.0 / rule.per_minute
    return Decision(False, wait, state if state is not None else BucketState(tokens, now))


def whole_seconds(wait: float) -> int:
    """A wait as users read it: whole seconds, never "0 s"."""
    return max(1, math.ceil(wait))
