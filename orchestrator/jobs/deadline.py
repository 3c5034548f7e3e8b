"""How long the job this thread runs may still live (its Lambda invocation's time left, or `serve`'s
job time limit). A lease taken inside a job lasts no longer: once the job is past its deadline it
is dead (Lambda) or its work is redone by another delivery (`serve`), so its lease means nothing,
and a crashed holder must not keep others out beyond it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("job_deadline", default=None)  # time.monotonic()


@contextmanager
def job_deadline(seconds_left: float) -> Iterator[None]:
    token = _deadline.set(time.monotonic() + seconds_left)
    try:
        yield
    finally:
        _deadline.reset(token)


def lease_seconds(longest: float) -> float:
    """`longest`, or less when the job running this has less time left (never below a second)."""
    deadline = _deadline.get()
    if deadline is None:
        return longest
    return max(1.0, min(longest, deadline - time.monotonic()))
