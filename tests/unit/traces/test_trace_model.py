"""Trace and TraceStep: a JSON round trip that loses nothing, timed steps, and bounded size."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.traces.model import MAX_DETAIL_CHARS, MAX_STEPS, Trace, TraceStep, step


def full_trace() -> Trace:
    return Trace(
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        user_id="115000000000000003",
        command="diagnose",
        started_at=1_700_000_000.125,
        steps=[
            TraceStep("verify signature", "ok", 1_700_000_000.125, 0.412),
            TraceStep("dispatch", "failed", 1_700_000_000.5, 812.25, {"run_id": 16_000_000_000, "error": "boom ✨"}),
            TraceStep("update Discord message", "running", 1_700_000_001.5, 0.0, {"flag": True, "none": None}),
        ],
        status="failed",
        error="GitHub said no — “quoted” 日本語",
        run_url="https://github.com/acme/ops/actions/runs/16000000000",
    )


# -- round trips -------------------------------------------------------------------------------------------


def test_dict_round_trip_keeps_everything() -> None:
    trace = full_trace()
    raw = trace.to_dict()
    assert raw == {
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "user_id": "115000000000000003",
        "command": "diagnose",
        "started_at": 1_700_000_000.125,
        "steps": [
            {
                "name": "verify signature",
                "status": "ok",
                "started_at": 1_700_000_000.125,
                "duration_ms": 0.412,
                "details": {},
            },
            {
                "name": "dispatch",
                "status": "failed",
                "started_at": 1_700_000_000.5,
                "duration_ms": 812.25,
                "details": {"run_id": 16_000_000_000, "error": "boom ✨"},
            },
            {
                "name": "update Discord message",
                "status": "running",
                "started_at": 1_700_000_001.5,
                "duration_ms": 0.0,
                "details": {"flag": True, "none": None},
            },
        ],
        "status": "failed",
        "error": "GitHub said no — “quoted” 日本語",
        "run_url": "https://github.com/acme/ops/actions/runs/16000000000",
        "failure": None,
    }
    assert Trace.from_dict(raw) == trace


def test_json_round_trip_keeps_everything_and_is_plain_json() -> None:
    trace = full_trace()
    text = trace.to_json()
    assert json.loads(text) == trace.to_dict()
    assert "日本語" in text  # UTF-8, not \\u escapes
    assert Trace.from_json(text) == trace


def test_from_dict_fills_in_what_an_older_or_minimal_record_leaves_out() -> None:
    trace = Trace.from_dict({"trace_id": "t", "user_id": 5, "command": "c", "started_at": 3})
    assert trace == Trace("t", "5", "c", 3.0, [], "running", None, None)
    assert isinstance(trace.started_at, float)
    bare = TraceStep.from_dict({"name": "n", "status": "ok", "started_at": 1, "duration_ms": 2, "details": None})
    assert bare == TraceStep("n", "ok", 1.0, 2.0, {})


def test_durations_are_kept_to_the_microsecond() -> None:
    trace = Trace("t", "u", "c", 1.0, [TraceStep("s", "ok", 1.0, 1.23456789)])
    assert trace.to_dict()["steps"][0]["duration_ms"] == 1.235
    assert Trace.from_json(trace.to_json()).steps[0].duration_ms == 1.235


def test_step_count_is_capped_both_ways() -> None:
    steps = [TraceStep(f"s{i}", "ok", 1.0, 1.0) for i in range(MAX_STEPS + 10)]
    trace = Trace("t", "u", "c", 1.0, steps)
    assert [s["name"] for s in trace.to_dict()["steps"]] == [f"s{i}" for i in range(MAX_STEPS)]
    raw = {**trace.to_dict(), "steps": [s.to_dict() for s in steps]}
    assert len(Trace.from_dict(raw).steps) == MAX_STEPS


DETAIL_VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(-(2**53), 2**53),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
STEPS = st.builds(
    TraceStep,
    name=st.text(min_size=1, max_size=30),
    status=st.sampled_from(["ok", "failed", "running"]),
    started_at=st.floats(0, 4e9, allow_nan=False),
    # to_dict rounds durations to the microsecond: whole microseconds survive exactly.
    duration_ms=st.integers(0, 10**10).map(lambda us: us / 1000),
    details=st.dictionaries(st.text(max_size=10), DETAIL_VALUES, max_size=4),
)
TRACES = st.builds(
    Trace,
    trace_id=st.text(min_size=1, max_size=40),
    user_id=st.text(min_size=1, max_size=20),
    command=st.text(min_size=1, max_size=32),
    started_at=st.floats(0, 4e9, allow_nan=False),
    steps=st.lists(STEPS, max_size=MAX_STEPS),
    status=st.sampled_from(["ok", "failed", "running"]),
    error=st.none() | st.text(max_size=100),
    run_url=st.none() | st.text(max_size=100),
)


@settings(max_examples=150, deadline=None)
@given(trace=TRACES)
def test_any_trace_survives_the_json_round_trip(trace: Trace) -> None:
    assert Trace.from_json(trace.to_json()) == trace
    assert Trace.from_dict(trace.to_dict()) == trace


# -- step() ---------------------------------------------------------------------------------------------------


def test_a_step_is_timed_and_ok_when_its_body_returns() -> None:
    trace = Trace("t", "u", "c", time.time())
    before = time.time()
    with step(trace, "dispatch", workflow="diagnose.yml") as handle:
        [running] = trace.steps
        assert running.status == "running"  # visible while it runs
        time.sleep(0.02)
        handle.note(run_id=42, outcome="dispatched")

    [done] = trace.steps
    assert done.name == "dispatch" and done.status == "ok"
    assert before <= done.started_at <= time.time()
    assert 20 <= done.duration_ms <= (time.time() - before) * 1000 + 1  # at least the sleep, at most the test
    assert done.details == {"workflow": "diagnose.yml", "run_id": 42, "outcome": "dispatched"}
    assert trace.status == "running"  # a step does not decide for the trace


@pytest.mark.parametrize("error", [ValueError("secret details stay out"), KeyError("k"), KeyboardInterrupt()])
def test_an_exception_fails_the_step_records_its_type_and_propagates(error: BaseException) -> None:
    trace = Trace("t", "u", "c", time.time())
    with pytest.raises(type(error)), step(trace, "dispatch"):
        raise error

    [failed] = trace.steps
    assert failed.status == "failed"
    assert failed.details == {"error": type(error).__name__}
    assert failed.duration_ms >= 0


def test_fail_marks_the_step_without_an_exception_and_truncates_the_reason() -> None:
    trace = Trace("t", "u", "c", time.time())
    with step(trace, "update Discord message") as handle:
        handle.fail("x" * (MAX_DETAIL_CHARS * 3))

    [failed] = trace.steps
    assert failed.status == "failed"
    assert failed.details["error"] == "x" * MAX_DETAIL_CHARS


def test_note_truncates_text_and_keeps_scalars() -> None:
    trace = Trace("t", "u", "c", time.time())
    with step(trace, "s", initial="i" * 1000) as handle:
        handle.note(long="é" * 1000, number=12.5, count=3, flag=False, nothing=None, other=["a", 1])

    details: dict[str, Any] = trace.steps[0].details
    assert details["initial"] == "i" * MAX_DETAIL_CHARS
    assert details["long"] == "é" * MAX_DETAIL_CHARS
    assert (details["number"], details["count"], details["flag"], details["nothing"]) == (12.5, 3, False, None)
    assert details["other"] == ["a", 1]  # small structures stay structures (redacted by key and value)


def test_steps_past_the_cap_still_run_but_are_not_recorded() -> None:
    trace = Trace("t", "u", "c", time.time())
    ran: list[int] = []
    for i in range(MAX_STEPS + 5):
        with step(trace, f"s{i}"):
            ran.append(i)
    assert len(ran) == MAX_STEPS + 5
    assert [s.name for s in trace.steps] == [f"s{i}" for i in range(MAX_STEPS)]
    with pytest.raises(RuntimeError), step(trace, "one too many"):
        raise RuntimeError("still propagates")
    assert len(trace.steps) == MAX_STEPS


def test_trace_fail_sets_status_and_truncates_the_error() -> None:
    trace = Trace("t", "u", "c", 1.0)
    trace.fail("e" * (MAX_DETAIL_CHARS + 1))
    assert trace.status == "failed"
    assert trace.error == "e" * MAX_DETAIL_CHARS


# -- duration ---------------------------------------------------------------------------------------------------


def test_duration_is_from_the_trace_start_to_the_last_step_end() -> None:
    trace = Trace("t", "u", "c", 100.0)
    assert trace.duration_ms == 0.0
    trace.steps = [
        TraceStep("a", "ok", 100.0, 250.0),  # ends at +250 ms
        TraceStep("b", "ok", 100.5, 100.0),  # ends at +600 ms: the last to end
        TraceStep("c", "ok", 100.2, 10.0),
    ]
    assert trace.duration_ms == pytest.approx(600.0)


def test_duration_is_never_negative() -> None:
    trace = Trace("t", "u", "c", 100.0, [TraceStep("clock skew", "ok", 99.0, 5.0)])
    assert trace.duration_ms == 0.0


def test_duration_of_timed_steps_covers_them() -> None:
    trace = Trace("t", "u", "c", time.time())
    with step(trace, "a"):
        time.sleep(0.01)
    with step(trace, "b"):
        time.sleep(0.01)
    assert trace.duration_ms >= sum(s.duration_ms for s in trace.steps) - 1
