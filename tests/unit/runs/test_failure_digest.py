"""A failed run, end to end through `serve`: the message says which job and step failed and why,
Show log answers with the redacted excerpt, Re-run failed jobs follows attempt 2 to its end."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from orchestrator.messages.debug_report import debug_report
from orchestrator.traces.model import Trace
from orchestrator_dev.standins.http_standin import Fault
from tests.contract.openapi import github_contract, validate_interaction_response
from tests.unit.runs.conftest import (
    ALICE,
    BOB,
    CAROL,
    GITHUB_TOKEN,
    Live,
    LiveFactory,
    buttons_of,
    embed_of,
)
from tests.unit.runs.messages import check_requests

EPHEMERAL = 64


@pytest.fixture
def live(live_factory: LiveFactory) -> Live:
    return live_factory()


def failed_run(live: Live, command: str = "diagnose") -> tuple[dict[str, Any], int]:
    payload = live.start_run(command, {"target": "staging"} if command == "diagnose" else {})
    run_id = live.record(payload).run_id
    assert run_id is not None
    live.github.set_run_status(run_id, "in_progress")
    live.github.set_run_status(run_id, "completed", "failure")
    live.settle()
    return payload, run_id


def button(message: Mapping[str, Any], label: str) -> str:
    return str(buttons_of(message)[label]["custom_id"])


def told_message(live: Live, custom_id: str, who: Mapping[str, Any] = ALICE) -> dict[str, Any]:
    """Press a run button; the message only the presser was then shown (the press's deferred answer)."""
    pressed, answer = live.press(custom_id, who)
    body = answer.json()
    validate_interaction_response(body)
    assert body == {"type": 5, "data": {"flags": EPHEMERAL}}
    live.settle()
    told = live.discord.message_for(pressed["token"])
    assert told is not None
    return told


def press(live: Live, custom_id: str, who: Mapping[str, Any] = ALICE) -> str:
    return str(told_message(live, custom_id, who)["content"])


def digest_calls(live: Live) -> list[str]:
    return [r.path for r in live.github.requests if r.path.endswith(("/annotations", "/logs"))]


def test_the_message_names_the_failed_job_and_step_and_why(live: Live) -> None:
    payload, _ = failed_run(live)
    embed = embed_of(live.message(payload))
    assert "❌ failed" in embed["title"]
    assert '❌ test › step 2/3 "Run"' in embed["description"]
    # The specific annotation, not GitHub's generic "Process completed with exit code 1."
    assert "AssertionError: expected 200, got 503" in embed["description"]
    assert "Process completed" not in embed["description"]
    assert "```" not in embed["description"]  # no log lines in a public message by default
    assert set(buttons_of(live.message(payload))) >= {"Show log", "Re-run failed jobs", "Re-run with debug logging"}
    # One failed job: annotations, the log's location, the log itself.
    assert len(digest_calls(live)) == 2
    assert len(live.github.log_storage.requests) == 1  # type: ignore[union-attr]
    # The token never goes to the log storage host.
    assert all("authorization" not in r.headers for r in live.github.log_storage.requests)  # type: ignore[union-attr]
    for request in live.github.requests:
        github_contract().validate_request(request.method, request.path, body=request.json, query=request.query)
    # How many progress edits came before the final one depends on timing; the final one is checked above.
    assert check_requests(live.discord.requests) >= 1


def test_a_successful_run_costs_no_extra_call(live: Live) -> None:
    payload = live.start_run()
    run_id = live.record(payload).run_id
    assert run_id is not None
    live.github.set_run_status(run_id, "completed", "success")
    live.settle()
    assert digest_calls(live) == []
    assert set(buttons_of(live.message(payload))) == {f"View run #{run_id} on GitHub"}


def test_show_log_answers_only_the_presser_with_the_excerpt(live: Live) -> None:
    payload, _ = failed_run(live)
    told = press(live, button(live.message(payload), "Show log"))
    assert "step 2/3" in told
    assert "FAILED tests/test_api.py::test_health" in told
    assert "Error: Process completed with exit code 1." in told
    assert told.count("```") == 2
    assert len(told) < 2000
    check_requests(live.discord.requests)


def test_show_log_is_for_people_allowed_to_run_the_command(live: Live) -> None:
    payload, _ = failed_run(live, "suite")
    custom_id = button(live.message(payload), "Show log")
    assert "Only people allowed to run /suite" in press(live, custom_id, BOB)
    assert "FAILED tests/test_api.py" in press(live, custom_id, CAROL)


def test_failure_log_public_puts_the_excerpt_in_the_message(live: Live) -> None:
    payload, _ = failed_run(live, "suite")
    description = embed_of(live.message(payload))["description"]
    assert "```" in description
    assert "FAILED tests/test_api.py::test_health" in description


def test_rerun_failed_jobs_follows_attempt_two_to_its_end(live: Live) -> None:
    payload, run_id = failed_run(live)
    custom_id = button(live.message(payload), "Re-run failed jobs")
    assert "Re-running the failed jobs" in press(live, custom_id)
    assert live.github.reruns == [(run_id, False)]
    record = live.record(payload)
    assert record.run_attempt == 2
    assert "attempt 2" in embed_of(live.message(payload))["title"]
    # A second press of the same button re-runs nothing.
    assert "already" in press(live, custom_id)
    assert live.github.reruns == [(run_id, False)]
    live.github.set_run_status(run_id, "in_progress")
    live.github.set_run_status(run_id, "completed", "success")
    live.settle()
    embed = embed_of(live.message(payload))
    assert "✅ succeeded · attempt 2" in embed["title"]
    assert "attempt 1 ❌ → attempt 2 ✅ (re-run by Alice)" in embed["description"]
    assert live.record(payload).failure is None
    check_requests(live.discord.requests)
    for request in live.github.requests_to("POST"):
        github_contract().validate_request(request.method, request.path, body=request.json, query=request.query)


def test_rerun_is_for_the_invoker_and_the_rerun_list(live: Live) -> None:
    payload, run_id = failed_run(live, "suite")
    custom_id = button(live.message(payload), "Re-run with debug logging")
    assert "Only people allowed to run /suite" in press(live, custom_id, BOB)
    assert live.github.reruns == []
    assert "with debug logging" in press(live, custom_id, CAROL)
    assert live.github.reruns == [(run_id, True)]
    outcomes = [event.outcome for event in live.runtime.state.audit.query(since=0, limit=20)]
    assert {"denied", "rerun"} <= set(outcomes)


def test_a_late_webhook_of_attempt_one_does_not_undo_attempt_two(live: Live) -> None:
    payload, run_id = failed_run(live)
    attempt_one = live.github.run(run_id)
    press(live, button(live.message(payload), "Re-run failed jobs"))
    live.github.set_run_status(run_id, "in_progress")
    live.settle()
    body = json.dumps({"action": "completed", "workflow_run": attempt_one}).encode()
    assert live.webhook(body).status_code == 202
    live.settle()
    record = live.record(payload)
    assert (record.run_attempt, record.conclusion) == (2, None)


def test_debug_last_follows_the_run_to_its_failure(live: Live) -> None:
    failed_run(live)
    trace = live.runtime.state.traces.latest(ALICE["user_id"])
    assert isinstance(trace, Trace)
    names = [step.name for step in trace.steps]
    assert names[-3:] == ["run queued", "run in progress", "run finished: failure"]
    assert trace.status == "failed"
    assert trace.failure is not None
    assert trace.failure["jobs"][0]["step_name"] == "Run"


def test_annotations_refused_the_digest_goes_on(live: Live) -> None:
    live.github.checks_readable = False
    payload, _ = failed_run(live)
    description = embed_of(live.message(payload))["description"]
    assert '❌ test › step 2/3 "Run"' in description
    # Without annotations, the log's last error line says why.
    assert "Process completed with exit code 1." in description


def test_secrets_printed_in_the_log_never_leave(live: Live) -> None:
    leaked = f"GITHUB_TOKEN={GITHUB_TOKEN} password=hunter2-{'x' * 12}"
    live.github.failure_output["test"] = (leaked, "Error: boom")
    payload, _ = failed_run(live)
    told = press(live, button(live.message(payload), "Show log"))
    assert GITHUB_TOKEN not in told
    assert "Error: boom" in told
    assert GITHUB_TOKEN not in json.dumps(live.record(payload).failure)
    trace = live.runtime.state.traces.latest(ALICE["user_id"])
    assert trace is not None
    assert GITHUB_TOKEN not in trace.to_json()


def test_github_refusing_the_rerun_is_explained_and_the_button_works_again(live: Live) -> None:
    payload, run_id = failed_run(live)
    custom_id = button(live.message(payload), "Re-run failed jobs")
    refusal = {"message": "Unable to retry this workflow run because it was created over a month ago"}
    live.github.inject(Fault(method="POST", path=r"/rerun-failed-jobs$", status=403, body=refusal))
    assert "GitHub refused the re-run (403)" in press(live, custom_id)
    assert live.github.reruns == []
    assert "Re-running the failed jobs" in press(live, custom_id)
    assert live.github.reruns == [(run_id, False)]


def test_no_clear_answer_from_github_never_reruns_twice(live: Live) -> None:
    payload, _ = failed_run(live)
    custom_id = button(live.message(payload), "Re-run failed jobs")
    live.github.inject(Fault(method="POST", path=r"/rerun-failed-jobs$", status=502, then_apply=True))
    assert "may or may not be re-running" in press(live, custom_id)
    assert "already" in press(live, custom_id)
    assert len(live.github.reruns) == 1


def submit(live: Live, form: Mapping[str, Any], values: Mapping[str, str], who: Mapping[str, Any] = ALICE) -> Any:
    payload = live.signer.form_submit(form["data"]["custom_id"], values, **who)
    live.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=False)
    answer = live.send(payload).json()
    validate_interaction_response(answer)
    live.settle()
    return payload, answer


def test_run_again_opens_the_form_prefilled_and_starts_a_new_run(live: Live) -> None:
    payload, run_id = failed_run(live)
    _, answer = live.press(button(live.message(payload), "Run again…"))
    form = answer.json()
    validate_interaction_response(form)
    assert form["type"] == 9
    [row] = form["data"]["components"]
    assert row["components"][0]["custom_id"] == "target" and row["components"][0]["value"] == "staging"
    submitted, answer = submit(live, form, {"target": "production"})
    assert answer == {"type": 5, "data": {"flags": 0}}
    new = live.record(submitted)
    assert new.run_id not in (None, run_id) and new.invocation.options == {"target": "production"}
    assert new.invocation.trace_id != live.record(payload).invocation.trace_id
    assert [d["inputs"]["target"] for d in live.github.dispatches] == ["staging", "production"]
    assert live.discord.message_for(submitted["token"]) is not None  # the new run's own live message


def test_run_again_goes_through_the_commands_checks(live: Live) -> None:
    payload, _ = failed_run(live, "suite")
    custom_id = button(live.message(payload), "Run again…")
    # Not on /suite's allow list: refused like the command itself.
    _, answer = live.press(custom_id, BOB)
    assert "not allowed to run /suite" in answer.json()["data"]["content"]
    # /suite has no options: no form, the same values behind a Confirm step.
    _, answer = live.press(custom_id, CAROL)
    body = answer.json()
    assert body["data"]["flags"] == EPHEMERAL and "Run **/suite**" in body["data"]["content"]
    confirm = next(c["custom_id"] for c in body["data"]["components"][0]["components"] if c["label"] == "Confirm")
    live.press(confirm, CAROL)
    live.settle()
    assert len(live.github.dispatches) == 2


def test_a_form_that_is_not_ours_is_refused(live: Live) -> None:
    payload, _ = failed_run(live)
    _, answer = live.press(button(live.message(payload), "Run again…"))
    form = answer.json()
    form["data"]["custom_id"] = form["data"]["custom_id"][:-3] + "AAA"
    _, refused = submit(live, form, {"target": "production"})
    assert refused["type"] == 4 and "can no longer be used" in refused["data"]["content"]
    assert len(live.github.dispatches) == 1


def test_a_cancelled_runs_trace_ends_cancelled_by_whom(live: Live) -> None:
    payload = live.start_run()
    run_id = live.record(payload).run_id
    assert run_id is not None
    live.github.set_run_status(run_id, "in_progress")
    live.settle()
    live.press(button(live.message(payload), "Cancel run"), ALICE)
    live.settle()
    trace = live.runtime.state.traces.latest(ALICE["user_id"])
    assert trace is not None
    assert trace.steps[-1].name == "run finished: cancelled"
    assert (trace.status, trace.error) == ("cancelled", "cancelled by Alice")
    report = debug_report(trace, requested=None)
    assert report.startswith("**/diagnose** · ⏹ cancelled") and "✅ ok" not in report


def test_a_confirm_command_asks_before_it_reruns(live: Live) -> None:
    _, answer = live.command("deploy", {"environment": "production"}, ALICE)
    components = answer.json()["data"]["components"][0]["components"]
    pressed, _ = live.press(next(c["custom_id"] for c in components if c["label"] == "Confirm"), ALICE)
    live.settle()
    run_id = live.github.runs[-1]["id"]
    live.github.set_run_status(run_id, "in_progress")
    live.github.set_run_status(run_id, "completed", "failure")
    live.settle()
    live_message = live.discord.followups_for(pressed["token"])[-1]
    asked = told_message(live, button(live_message, "Re-run failed jobs"))
    assert "asks for a confirmation" in asked["content"] and live.github.reruns == []
    assert "Re-running the failed jobs" in press(live, button(asked, "Confirm re-run"))
    assert live.github.reruns == [(run_id, False)]
