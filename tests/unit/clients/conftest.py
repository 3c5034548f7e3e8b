"""The clients' tests drive the worker harness (tests/fixtures/worker.py), with millisecond retries."""

import pytest


@pytest.fixture(autouse=True)
def quick_retries(fast_backoff: None) -> None:
    """The shipped retry policies, without their seconds of backoff."""
