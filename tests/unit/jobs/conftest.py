"""The worker harness (tests/fixtures/worker.py), with millisecond retries for every test here."""

import pytest


@pytest.fixture(autouse=True)
def quick_retries(fast_backoff: None) -> None:
    """The shipped retry policies, without their seconds of backoff."""
