"""Every backend takes tokens atomically: however many instances race, a burst of N admits N."""

from __future__ import annotations

from collections import Counter
from functools import partial

from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.state.ratelimits import RateLimitStore
from tests.state.conftest import Backend, race

RULE = BucketRule(per_minute=1, burst=4)
NOW = 1_700_000_000.0


def test_buckets_are_per_key_and_refill(backend: Backend) -> None:
    store = backend.store.rate_limits
    assert [store.take("user:1", RULE, NOW).allowed for _ in range(5)] == [True] * 4 + [False]
    assert store.take("user:2", RULE, NOW).allowed, "another user's bucket is untouched"
    refused = store.take("user:1", RULE, NOW + 30)
    assert not refused.allowed and 29 < refused.retry_after <= 30
    assert store.take("user:1", RULE, NOW + 60).allowed


def test_another_instance_sees_the_same_bucket(backend: Backend) -> None:
    first, second = backend.store.rate_limits, backend.another().rate_limits
    for _ in range(2):
        assert first.take("user:1", RULE, NOW).allowed
        assert second.take("user:1", RULE, NOW).allowed
    assert not first.take("user:1", RULE, NOW).allowed
    assert not second.take("user:1", RULE, NOW).allowed


def test_racing_instances_admit_exactly_the_burst(backend: Backend) -> None:
    stores: list[RateLimitStore] = [backend.another().rate_limits for _ in range(8)]

    def take(store: RateLimitStore) -> str:
        return "allowed" if store.take("user:9", RULE, NOW).allowed else "refused"

    assert race([partial(take, store) for store in stores]) == Counter({"allowed": 4, "refused": 4})
