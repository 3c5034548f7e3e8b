"""When to look at a run again: the fallback for lost (or no) webhooks, without a sleeping Lambda.

Each poll is a delayed queue message (SQS DelaySeconds; the local queue's delay) that schedules
the next one, until the run completes or the limit is reached.
"""

from __future__ import annotations

FIRST_DELAY_SECONDS = 10
MAX_DELAY_SECONDS = 60
# With webhooks configured, polls only catch a lost delivery: rarely, and never during a short run.
WATCHDOG_DELAY_SECONDS = 300
DEFAULT_POLL_LIMIT = 360  # about six hours at the capped delay


def poll_delay(attempt: int, *, webhooks: bool) -> int:
    """Seconds before poll number `attempt` (0 is the first): 10, 20, 40, 60, 60, ..."""
    if webhooks:
        return WATCHDOG_DELAY_SECONDS
    return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS << min(attempt, 10))
