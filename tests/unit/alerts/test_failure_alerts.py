"""A failed run's alert: which job, step and error; one alert for one failure however often it
recurs; a new alert for a new error; a resolved one when a re-run recovers."""

from __future__ import annotations

from orchestrator.alerts.bot_alerts import run_failed_alert, run_recovered_alert
from orchestrator.commands.invocation import Invocation
from orchestrator.failures.digest import FailedJob, FailureDigest, fingerprint
from orchestrator.state.jobs import JobRecord


def failed(run_id: int, error: str, *, attempt: int = 1) -> JobRecord:
    job = FailedJob(run_id * 10, "test", None, 3, "Run tests", 5, 72, error, (), None)
    digest = FailureDigest(attempt, "failure", (job,), 0, None, fingerprint("ci.yml", "test", "Run tests", error))
    record = JobRecord(
        invocation=Invocation(
            options={},
            interaction_id=str(run_id),
            trace_id="a" * 32,
            command="diagnose",
            user_id="1",
            user_name="Alice",
            guild_id=None,
            channel_id=None,
        ),
        status="dispatched",
        created_at=0.0,
        updated_at=0.0,
    )
    record.run_id, record.workflow, record.conclusion, record.run_attempt = run_id, "ci.yml", "failure", attempt
    record.failure = digest.to_dict()
    return record


def test_the_alert_names_the_job_step_and_first_error() -> None:
    alert = run_failed_alert(failed(7, "AssertionError: expected 200, got 503 (tests/test_api.py:12)"))
    assert alert.title == '/diagnose run concluded failure: test › step 3/5 "Run tests"'
    assert "First error: `AssertionError: expected 200, got 503 (tests/test_api.py:12)`" in alert.cause


def test_one_failure_is_one_alert_whatever_its_run_and_a_new_error_is_another() -> None:
    first = run_failed_alert(failed(7, "FAILED /home/runner/work/a/t.py:12 in 1.2s at 3f2a9c1d"))
    again = run_failed_alert(failed(8, "FAILED /home/runner/work/b/t.py:40 in 3.4s at 9e8d7c6b", attempt=2))
    other = run_failed_alert(failed(9, "ImportError: no module named requests"))
    assert first.fingerprint() == again.fingerprint() != other.fingerprint()


def test_a_recovery_resolves_under_its_own_fingerprint() -> None:
    record = failed(7, "boom", attempt=2)
    record.conclusion, record.rerun_by = "success", "Alice"
    resolved = run_recovered_alert(record)
    assert resolved.severity == "resolved" and resolved.title == "/diagnose recovered by Alice via re-run"
    assert "attempt 2 succeeded after attempt 1 failed" in resolved.cause
    assert resolved.fingerprint() != run_failed_alert(failed(7, "boom")).fingerprint()
