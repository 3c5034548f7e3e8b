"""Who may run a command now: a bucket per user, and one per user and command where configured.

Checked by the interactions function before it queues anything, so a refused command is never
dispatched. When the state store cannot answer (throttled, unreachable), the command is let
through and a warning logged: a rate limit protects GitHub from floods, and it must not become
the outage that stops every command. A take that keeps colliding with other instances' takes is
a flood, not an outage: that command is refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.commands.model import CommandSpec
from orchestrator.observability.logging import get_logger
from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.state.ratelimits import Bucket, RateLimitConflict, RateLimitStore

# A take that kept colliding with other instances' is refused: try again in a second.
CONTENDED_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Refusal:
    retry_after: float
    scope: str  # "command", "user" or "bot": which bucket ran dry


class RateLimiter:
    def __init__(
        self,
        store: RateLimitStore,
        per_user: BucketRule | None,
        *,
        bot_wide: BucketRule | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._per_user = per_user
        self._bot_wide = bot_wide  # every user's commands together: what GitHub sees of the token
        self._clock = clock

    def check(self, user_id: str, spec: CommandSpec) -> Refusal | None:
        """A token from each bucket that applies (the command's own, the user's, the bot's), all or
        none: a command refused by one bucket spends nothing from the others."""
        buckets = []
        if spec.rate_limit is not None:
            buckets.append((Bucket(f"cmd:{spec.name}:{user_id}", spec.rate_limit), "command"))
        if self._per_user is not None:
            buckets.append((Bucket(f"user:{user_id}", self._per_user), "user"))
        if self._bot_wide is not None:
            buckets.append((Bucket("bot:dispatches", self._bot_wide), "bot"))
        return self._take(buckets)

    def check_press(self, user_id: str) -> Refusal | None:
        """Button presses and /debug-last: a bucket of their own per user, twice as roomy as the
        user's command bucket. Each press costs the bot a queue message, a worker run and Discord
        calls, but must not use up the commands the user may run (a Confirm would otherwise cost
        its command twice), and a few quick presses are ordinary."""
        if self._per_user is None:
            return None
        rule = BucketRule(self._per_user.per_minute * 2, self._per_user.burst * 2)
        return self._take([(Bucket(f"press:{user_id}", rule), "user")])

    def _take(self, buckets: list[tuple[Bucket, str]]) -> Refusal | None:
        if not buckets:
            return None
        try:
            refused = self._store.take([bucket for bucket, _ in buckets], self._clock())
        except RateLimitConflict as exc:
            # Not an outage: many takes at once on the same bucket, which is what a limit is for.
            get_logger().warning("rate limit contended: command refused", extra={"buckets": exc.keys})
            return Refusal(CONTENDED_RETRY_SECONDS, "bot" if "bot:dispatches" in exc.keys else "user")
        except Exception as exc:  # noqa: BLE001 - see the module docstring: fail open, loudly
            get_logger().warning("rate limit unavailable: command let through", extra={"error": type(exc).__name__})
            return None
        if refused is None:
            return None
        scope = next(scope for bucket, scope in buckets if bucket == refused.bucket)
        return Refusal(refused.retry_after, scope)
