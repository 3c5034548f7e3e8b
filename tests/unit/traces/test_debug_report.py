"""/debug-last's text: what happened, step by step, always under Discord's 2,000 characters, cut at whole
lines, and with every secret redacted."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.messages import debug_report as report_module
from orchestrator.messages.debug_report import debug_report, duration
from orchestrator.observability.redaction import Redactor
from orchestrator.traces.model import MAX_STEPS, Trace, TraceStep

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
START = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
RUN_URL = "https://github.com/acme/ops/actions/runs/16000000000"
MORE_LINES = re.compile(r"^… (\d+) more line\(s\)$")
SECRET = "Zx9-configured-Secret-Value-0042"
GITHUB_TOKEN = "ghp_" + "Zq7xK2mR9vT4wY8nB3cF6hJ1pL5sD0gA2eU7"

InstallRedactor = Callable[[Redactor], None]


def sample_trace() -> Trace:
    return Trace(
        trace_id=TRACE_ID,
        user_id="115000000000000003",
        command="diagnose",
        started_at=START,
        steps=[
            TraceStep("verify signature", "ok", START, 0.42),
            TraceStep("check command", "ok", START + 0.001, 3.2),
            TraceStep("wait in queue", "ok", START + 0.01, 40.0),
            TraceStep("dispatch", "failed", START + 0.05, 1534.0, {"error": "GitHub answered 422", "run_id": None}),
            TraceStep("update Discord message", "running", START + 1.6, 0.0),
        ],
        status="failed",
        error="/diagnose was not started: the workflow needs an input",
        run_url=RUN_URL,
    )


# -- nothing to show ----------------------------------------------------------------------------------------


def test_no_trace_yet_is_explained() -> None:
    text = debug_report(None, requested=None)
    assert text == "No trace yet: run a command, then /debug-last shows what happened to it."


def test_an_unknown_requested_id_says_so() -> None:
    text = debug_report(None, requested="deadbeef")
    assert "No trace `deadbeef` of yours was found" in text
    assert "100 most recent" in text and "14 days" in text


def test_a_huge_requested_id_is_clipped() -> None:
    text = debug_report(None, requested="ab" * 5000)
    assert len(text) < 300
    assert "`" + ("ab" * 20)[:39] + "…`" in text


# -- what a report says -------------------------------------------------------------------------------------


def test_the_report_says_what_happened_line_by_line() -> None:
    assert debug_report(sample_trace(), requested=None).splitlines() == [
        "**/diagnose** · ❌ failed",
        f"trace `{TRACE_ID}`",
        "started 2023-11-14 22:13:20 UTC (<t:1700000000:R>) · total 1.6 s",
        "✅ verify signature · 0.42 ms",
        "✅ check command · 3 ms",
        "✅ wait in queue · 40 ms",
        "❌ dispatch · 1.5 s — GitHub answered 422",
        "⏳ update Discord message · 0.00 ms",
        "error: /diagnose was not started: the workflow needs an input",
        f"run: {RUN_URL}",
    ]


def test_the_report_of_a_requested_trace_is_the_same_report() -> None:
    assert debug_report(sample_trace(), requested=TRACE_ID[:8]) == debug_report(sample_trace(), requested=None)


def test_a_successful_trace_has_no_error_line() -> None:
    trace = Trace(TRACE_ID, "u", "deploy", START, [TraceStep("dispatch", "ok", START, 812.0, {"error": "ignored"})])
    trace.status, trace.run_url = "ok", RUN_URL
    lines = debug_report(trace, requested=None).splitlines()
    assert lines[0] == "**/deploy** · ✅ ok"
    assert lines[3] == "✅ dispatch · 812 ms"  # an ok step's details are not shown
    assert not any(line.startswith("error:") for line in lines)
    assert lines[-1] == f"run: {RUN_URL}"


def test_a_trace_without_steps_or_run() -> None:
    lines = debug_report(Trace(TRACE_ID, "u", "diagnose", START), requested=None).splitlines()
    assert lines == [
        "**/diagnose** · ⏳ running",
        f"trace `{TRACE_ID}`",
        "started 2023-11-14 22:13:20 UTC (<t:1700000000:R>) · total 0.00 ms",
    ]


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0.0, "0.00 ms"), (0.456, "0.46 ms"), (1.0, "1 ms"), (999.4, "999 ms"), (1000.0, "1.0 s"), (61_250.0, "61.2 s")],
)
def test_durations_read_naturally(ms: float, text: str) -> None:
    assert duration(ms) == text


def test_a_long_step_error_and_trace_error_are_clipped_on_their_line() -> None:
    trace = sample_trace()
    trace.steps[3].details["error"] = "step\nerror " * 100
    trace.error = "trace error " * 100
    lines = debug_report(trace, requested=None).splitlines()
    [step_line] = [line for line in lines if line.startswith("❌ dispatch")]
    assert step_line.endswith("…") and len(step_line) < len("❌ dispatch · 1.5 s — ") + 201
    [error_line] = [line for line in lines if line.startswith("error: ")]
    assert error_line.endswith("…") and len(error_line) == len("error: ") + 600


# -- always under 2,000 characters, cut at whole lines ---------------------------------------------------------


def uncut_report(trace: Trace) -> str:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_module, "LIMIT", 10**9)
        return debug_report(trace, requested=None)


def assert_cut_at_whole_lines(text: str, uncut: str) -> None:
    assert len(text) < 2000
    if text == uncut:
        return
    lines, full = text.splitlines(), uncut.splitlines()
    *kept, last = lines
    assert kept == full[: len(kept)], "a kept line differs from the report's line"
    match = MORE_LINES.match(last)
    assert match, f"the last line should count what was left out: {last!r}"
    assert int(match.group(1)) == len(full) - len(kept)


HUGE_TEXT = st.text(max_size=3000) | st.just("x" * 5000) | st.just("日本語 " * 900)
STEP = st.builds(
    TraceStep,
    name=st.text(min_size=1, max_size=120),
    status=st.sampled_from(["ok", "failed", "running"]),
    started_at=st.floats(START, START + 1000),
    duration_ms=st.floats(0, 10**7),
    details=st.fixed_dictionaries({"error": HUGE_TEXT}, optional={"run_id": st.integers(1, 10**11)}),
)
GENERATED_TRACES = st.builds(
    Trace,
    trace_id=st.text("0123456789abcdef", min_size=32, max_size=32),
    user_id=st.just("115000000000000003"),
    command=st.from_regex(r"[a-z][a-z0-9_-]{0,31}", fullmatch=True),
    started_at=st.floats(0, 4e9),
    steps=st.lists(STEP, max_size=MAX_STEPS) | st.lists(STEP, min_size=MAX_STEPS, max_size=MAX_STEPS),
    status=st.sampled_from(["ok", "failed", "running"]),
    error=st.none() | HUGE_TEXT,
    run_url=st.none() | st.just(RUN_URL) | st.text(max_size=600).map(lambda s: "https://example.com/" + s),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(trace=GENERATED_TRACES)
def test_any_report_fits_and_cuts_whole_lines(trace: Trace) -> None:
    assert_cut_at_whole_lines(debug_report(trace, requested=None), uncut_report(trace))


def test_fifty_failed_steps_with_long_errors_are_cut_with_a_count() -> None:
    trace = sample_trace()
    trace.steps = [
        TraceStep(f"step {i}", "failed", START + i, 10.0, {"error": f"error {i} " + "e" * 400})
        for i in range(MAX_STEPS)
    ]
    text = debug_report(trace, requested=None)
    uncut = uncut_report(trace)
    assert len(uncut) > 10_000
    assert_cut_at_whole_lines(text, uncut)
    assert text.splitlines()[:3] == uncut.splitlines()[:3]  # the header always survives
    assert MORE_LINES.match(text.splitlines()[-1])


# -- redaction ---------------------------------------------------------------------------------------------------


def test_secrets_in_step_errors_trace_errors_and_links_are_redacted(use_redactor: InstallRedactor) -> None:
    use_redactor(Redactor(secrets=[SECRET]))
    trace = sample_trace()
    trace.steps[3].details["error"] = f"token {GITHUB_TOKEN} and {SECRET} refused"
    trace.error = f"configured {SECRET}; webhook https://discord.com/api/webhooks/123/{'w' * 60}"
    trace.run_url = f"https://user:{SECRET}@example.com/run"

    text = debug_report(trace, requested=None)

    assert SECRET not in text and GITHUB_TOKEN not in text and "w" * 60 not in text
    assert "[redacted:configured_secret]" in text
    assert "[redacted:github_token]" in text
    assert "[redacted:discord_webhook]" in text
    assert TRACE_ID in text  # ids stay readable


def test_the_default_redactor_is_back_after_a_test_installs_another() -> None:
    trace = sample_trace()
    trace.error = f"mentions {SECRET}"
    assert SECRET in debug_report(trace, requested=None)  # not a configured secret any more


def test_a_redacted_key_in_one_step_leaves_the_other_lines_alone() -> None:
    trace = sample_trace()
    trace.steps[3].details["error"] = "GitHub echoed -----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEA"

    lines = debug_report(trace, requested=None).splitlines()

    assert "❌ dispatch · 1.5 s — GitHub echoed [redacted:private_key]" in lines
    assert "MIIEow" not in "\n".join(lines)
    assert lines[-3:] == [
        "⏳ update Discord message · 0.00 ms",
        "error: /diagnose was not started: the workflow needs an input",
        f"run: {RUN_URL}",
    ]


@pytest.mark.parametrize("where", ["step error", "trace error"])
def test_a_secret_straddling_the_clip_point_is_not_partly_shown(use_redactor: InstallRedactor, where: str) -> None:
    use_redactor(Redactor(secrets=[SECRET]))
    trace = sample_trace()
    if where == "step error":
        trace.steps[3].details["error"] = "e" * 185 + SECRET
    else:
        trace.error = "e" * 585 + SECRET

    text = debug_report(trace, requested=None)

    assert SECRET[:8] not in text, text
