"""Every backend takes tokens atomically, all buckets or none: however many instances race, a burst
of N admits N."""

from __future__ import annotations

from collections import Counter
from functools import partial

from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.state.ratelimits import Bucket, RateLimitStore, Refused
from tests.fixtures.state import Backend, race

RULE = BucketRule(per_minute=1, burst=4)
NOW = 1_700_000_000.0
USER_1 = Bucket("user:1", RULE)


def allowed(store: RateLimitStore, *buckets: Bucket, now: float = NOW) -> bool:
    return store.take(list(buckets), now) is None


def test_buckets_are_per_key_and_refill(backend: Backend) -> None:
    store = backend.store.rate_limits
    assert [allowed(store, USER_1) for _ in range(5)] == [True] * 4 + [False]
    assert allowed(store, Bucket("user:2", RULE)), "another user's bucket is untouched"
    refused = store.take([USER_1], NOW + 30)
    assert refused is not None and refused.bucket == USER_1 and 29 < refused.retry_after <= 30
    assert allowed(store, USER_1, now=NOW + 60)


def test_several_buckets_are_taken_all_or_none(backend: Backend) -> None:
    store = backend.store.rate_limits
    command = Bucket("cmd:deploy:1", BucketRule(per_minute=1, burst=1))
    bot = Bucket("bot:dispatches", BucketRule(per_minute=60, burst=2))
    assert allowed(store, command, USER_1, bot)
    # The command's bucket is empty: the user's and the bot's keep their tokens.
    assert store.take([command, USER_1, bot], NOW) == Refused(command, 60.0)
    assert allowed(store, USER_1, bot)
    refused = store.take([USER_1, bot], NOW)
    assert refused is not None and refused.bucket == bot, "the bot's burst of 2 is spent"
    assert [allowed(store, USER_1) for _ in range(3)] == [True, True, False], "4 in all, as before"


def test_another_instance_sees_the_same_bucket(backend: Backend) -> None:
    first, second = backend.store.rate_limits, backend.another().rate_limits
    for _ in range(2):
        assert allowed(first, USER_1)
        assert allowed(second, USER_1)
    assert not allowed(first, USER_1)
    assert not allowed(second, USER_1)


def test_racing_instances_admit_exactly_the_burst(backend: Backend) -> None:
    stores: list[RateLimitStore] = [backend.another().rate_limits for _ in range(8)]
    bot = Bucket("bot:dispatches", BucketRule(per_minute=1, burst=100))

    def take(store: RateLimitStore, buckets: list[Bucket]) -> str:
        return "allowed" if store.take(buckets, NOW) is None else "refused"

    assert race([partial(take, store, [USER_1]) for store in stores]) == Counter({"allowed": 4, "refused": 4})
    user_9 = Bucket("user:9", RULE)
    assert race([partial(take, store, [user_9, bot]) for store in stores]) == Counter({"allowed": 4, "refused": 4})
