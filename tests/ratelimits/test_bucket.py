"""The token bucket's arithmetic, which every store shares."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.ratelimits.bucket import BucketRule, BucketState, take_token, whole_seconds

RULE = BucketRule(per_minute=6, burst=3)  # a token every 10 s, three at once


def test_a_new_bucket_is_full_and_a_burst_empties_it() -> None:
    state = None
    for expected_left in (2.0, 1.0, 0.0):
        decision = take_token(state, RULE, 100.0)
        assert decision.allowed and decision.retry_after == 0
        state = decision.state
        assert state.tokens == pytest.approx(expected_left)
    refused = take_token(state, RULE, 100.0)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(10.0)
    assert refused.state == state, "a refusal changes nothing"


def test_tokens_come_back_at_the_rate_and_never_past_the_burst() -> None:
    empty = BucketState(0.0, 100.0)
    assert take_token(empty, RULE, 105.0).retry_after == pytest.approx(5.0)
    assert take_token(empty, RULE, 110.0).allowed
    assert take_token(empty, RULE, 10_000.0).state.tokens == pytest.approx(2.0), "refilled to 3, one taken"


def test_a_clock_that_went_backwards_refills_nothing() -> None:
    state = BucketState(0.5, 200.0)
    decision = take_token(state, RULE, 150.0)
    assert not decision.allowed and decision.retry_after == pytest.approx(5.0)


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError):
        BucketRule(0, 1)
    with pytest.raises(ValueError):
        BucketRule(1, 0)


@given(
    per_minute=st.floats(0.1, 600),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 120), min_size=1, max_size=60),
)
def test_never_more_than_burst_plus_the_refill(per_minute: float, burst: int, gaps: list[float]) -> None:
    rule = BucketRule(per_minute, burst)
    state, now, allowed = None, 0.0, 0
    for gap in gaps:
        now += gap
        decision = take_token(state, rule, now)
        state = decision.state
        allowed += decision.allowed
        assert 0.0 <= state.tokens <= burst
    assert allowed <= burst + now * per_minute / 60 + 1e-6


def test_waits_are_shown_in_whole_seconds_never_zero() -> None:
    assert whole_seconds(0.01) == 1
    assert whole_seconds(9.2) == 10
