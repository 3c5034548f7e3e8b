"""The token bucket's arithmetic, which every store shares: one number, when the bucket is full again."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.ratelimits.bucket import BucketRule, take_token, whole_seconds

RULE = BucketRule(per_minute=6, burst=3)  # a token every 10 s, three at once


def test_a_new_bucket_is_full_and_a_burst_empties_it() -> None:
    full_at = None
    for expected in (110.0, 120.0, 130.0):  # each take moves "full again" a token's time later
        decision = take_token(full_at, RULE, 100.0)
        assert decision.allowed and decision.retry_after == 0
        full_at = decision.full_at
        assert full_at == pytest.approx(expected)
    refused = take_token(full_at, RULE, 100.0)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(10.0)
    assert refused.full_at == full_at, "a refusal changes nothing"


def test_tokens_come_back_at_the_rate_and_never_past_the_burst() -> None:
    empty_at_100 = 130.0  # no token left at 100 s
    assert take_token(empty_at_100, RULE, 105.0).retry_after == pytest.approx(5.0)
    assert take_token(empty_at_100, RULE, 110.0).allowed
    long_after = take_token(empty_at_100, RULE, 10_000.0)
    assert long_after.full_at == pytest.approx(10_010.0), "refilled to 3, one taken: full again in 10 s"


def test_a_clock_behind_another_instances_sees_fewer_tokens_never_more() -> None:
    # Another instance, 50 s ahead, left one token at its 200 s; this one's 150 s sees none.
    decision = take_token(220.0, RULE, 150.0)
    assert not decision.allowed and decision.retry_after == pytest.approx(50.0)


@pytest.mark.parametrize("now", [1_000.0, 1_796_400_000.0])  # and at today's epoch seconds
def test_a_whole_burst_taken_at_one_moment_is_admitted_whatever_the_rounding(now: float) -> None:
    """Found by the property below: 1000.1 + 0.1 + 0.1 is 1000.3000000000001, which refused the
    fourth of a burst of four (600 a minute) taken at one moment."""
    rule, full_at = BucketRule(per_minute=600, burst=4), None
    for _ in range(4):
        decision = take_token(full_at, rule, now)
        assert decision.allowed
        full_at = decision.full_at
    assert not take_token(full_at, rule, now).allowed


def test_the_rounding_slack_never_adds_a_token_at_any_rate() -> None:
    rule, full_at = BucketRule(per_minute=120_000, burst=1), None  # a token every half millisecond
    first = take_token(full_at, rule, 100.0)
    assert first.allowed and not take_token(first.full_at, rule, 100.0).allowed


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError):
        BucketRule(0, 1)
    with pytest.raises(ValueError):
        BucketRule(1, 0)


def reference_bucket(per_minute: float, burst: int, gaps: list[float]) -> list[bool]:
    """The same bucket counted the textbook way: tokens refilled by elapsed time, capped at burst."""
    tokens, outcomes = float(burst), []
    for gap in gaps:
        tokens = min(float(burst), tokens + gap * per_minute / 60.0)
        outcomes.append(tokens >= 1.0 - 1e-9)
        tokens -= 1.0 if outcomes[-1] else 0.0
    return outcomes


@given(
    per_minute=st.sampled_from([0.5, 1, 6, 10, 60, 600]),
    burst=st.integers(1, 20),
    gaps=st.lists(st.sampled_from([0.0, 0.25, 1.0, 5.0, 10.0, 30.0, 120.0]), min_size=1, max_size=60),
)
def test_it_admits_exactly_what_a_counted_token_bucket_admits(per_minute: float, burst: int, gaps: list[float]) -> None:
    rule = BucketRule(per_minute, burst)
    full_at, now, outcomes = None, 1_000.0, []
    for gap in gaps:
        now += gap
        decision = take_token(full_at, rule, now)
        full_at = decision.full_at
        outcomes.append(decision.allowed)
        assert full_at - now <= burst * rule.interval + 1e-6, "never more than a burst owed"
    assert outcomes == reference_bucket(per_minute, burst, gaps)


def test_waits_are_shown_in_whole_seconds_never_zero() -> None:
    assert whole_seconds(0.01) == 1
    assert whole_seconds(9.2) == 10
