"""When GitHub's answer is lost: look for the run before sending again, and never claim what is not known."""

from __future__ import annotations

import uuid

import httpx
import pytest

from orchestrator.dispatch.dispatcher import RetryLater
from orchestrator.dispatch.explain import UNREACHABLE
from orchestrator.jobs.envelopes import Job
from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.worker import Harness, HarnessFactory, free_port, http_client, link_button
from tests.unit.jobs.scenarios import assert_linked_to_the_one_run, kill_mid_dispatch

DISPATCH_PATH = r"/dispatches$"


def test_500_but_the_run_started_is_found_not_resent(harness: Harness) -> None:
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, status=500, then_apply=True))
    job = harness.job()

    harness.process(job)

    assert len(harness.dispatch_posts()) == 1
    assert len(harness.run_lookups()) >= 1
    assert_linked_to_the_one_run(harness, job)


def test_500_and_no_run_looks_then_sends_once_more(harness: Harness) -> None:
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, status=500))
    job = harness.job()

    harness.process(job)

    assert len(harness.dispatch_posts()) == 2
    first_resend = harness.dispatch_posts()[1].time
    lookups = harness.run_lookups()
    assert len(lookups) == 2  # find_attempts: it looked, and only then resent
    assert all(lookup.time <= first_resend for lookup in lookups)
    assert all(job.invocation.trace_id not in str(lookup.query) for lookup in lookups)  # filtered by us, not by GitHub
    assert_linked_to_the_one_run(harness, job)


def test_500_twice_without_a_run_says_unknown_and_stops(harness: Harness) -> None:
    harness.github.inject(*(Fault(method="POST", path=DISPATCH_PATH, status=502) for _ in range(2)))
    job = harness.job()

    harness.process(job)

    assert len(harness.dispatch_posts()) == 2
    assert harness.github.runs == []
    assert harness.record(job).status == "unknown"
    embed = harness.embed(job)
    assert embed["title"] == "/diagnose · unknown"
    assert "may or may not have started" in embed["description"]


@pytest.mark.parametrize("run_started", [True, False])
def test_500_without_a_correlation_input_is_honest_and_not_resent(harness: Harness, run_started: bool) -> None:
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, status=500, then_apply=run_started))
    job = harness.job("deploy", {"environment": "production"})

    harness.process(job)

    assert len(harness.dispatch_posts()) == 1
    assert harness.run_lookups() == []  # nothing to recognise the run by
    assert len(harness.github.runs) == int(run_started)
    record = harness.record(job)
    assert record.status == "unknown"
    embed = harness.embed(job)
    assert embed["title"] == "/deploy · unknown"
    assert "may or may not have started" in embed["description"]
    assert "Actions tab of acme/ops" in embed["description"]
    assert link_button(harness.message(job)) is None


@pytest.mark.parametrize("reached_github", [True, False])
def test_connection_dropped_before_the_answer_looks_first(harness: Harness, reached_github: bool) -> None:
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, drop=True, then_apply=reached_github))
    job = harness.job()

    harness.process(job)

    # The lost request is never resent blindly: resent only when the lookup found nothing.
    assert len(harness.dispatch_posts()) == (1 if reached_github else 2)
    assert len(harness.run_lookups()) >= 1
    assert_linked_to_the_one_run(harness, job)


def test_connection_dropped_without_a_correlation_input_is_not_resent(harness: Harness) -> None:
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, drop=True, then_apply=True))
    job = harness.job("deploy", {"environment": "staging"})

    harness.process(job)

    assert len(harness.dispatch_posts()) == 1
    assert len(harness.github.runs) == 1
    assert harness.record(job).status == "unknown"


def test_lookup_failures_are_survived(harness: Harness) -> None:
    """The run list itself failing (5xx on every retry of the first look) is one failed look, not a crash."""
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, status=500, then_apply=True))
    harness.github.inject(*(Fault(method="GET", path=r"/runs$", status=503) for _ in range(4)))
    job = harness.job()

    harness.process(job)

    assert len(harness.dispatch_posts()) == 1
    assert len(harness.run_lookups()) == 5  # 4 failed tries of the first look, then the second look finds it
    assert_linked_to_the_one_run(harness, job)


def test_a_run_pushed_past_the_first_page_is_found_not_resent(make_harness: HarnessFactory) -> None:
    """Under load, more than a page (100) of the workflow's runs can start between the dispatch and the
    look (a redelivery minutes later sees more still): the run is looked for on every page."""
    crowded: list[bool] = []

    def crowd(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/dispatches") and not crowded:
            crowded.append(True)
            for _ in range(150):  # other users' runs of the same workflow, newer than ours
                harness.github.create_run("diagnose.yml", inputs={"trace_id": uuid.uuid4().hex})

    harness = make_harness(github_http=http_client(event_hooks={"response": [crowd]}))
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, status=502, then_apply=True))
    job = harness.job()

    harness.process(job)

    assert len(harness.dispatch_posts()) == 1, "the run was dispatched again"
    [run] = harness.runs_for(job)
    record = harness.record(job)
    assert (record.status, record.run_id) == ("dispatched", run["id"])
    button = link_button(harness.message(job))
    assert button is not None and button["url"] == run["html_url"]


# -- GitHub unreachable: nothing left the building ------------------------------------------------------------


def test_unreachable_github_raises_for_a_queue_retry_and_records_no_attempt(make_harness: HarnessFactory) -> None:
    harness = make_harness(github_url=f"http://127.0.0.1:{free_port()}")
    job = harness.job()

    with pytest.raises(RetryLater):
        harness.process(job, final_attempt=False)

    record = harness.record(job)
    assert record.status == "dispatching"
    assert record.dispatch_attempted_at is None  # a retry need not look for a run first
    assert harness.patches() == []  # the user keeps "thinking…" until the retry
    # The claim was released: the retry is not told "already in progress".
    with pytest.raises(RetryLater):
        harness.process(job, final_attempt=False)


def test_unreachable_github_on_the_last_attempt_tells_the_user(make_harness: HarnessFactory) -> None:
    harness = make_harness(github_url=f"http://127.0.0.1:{free_port()}")
    job = harness.job()

    harness.process(job, final_attempt=True)

    embed = harness.embed(job)
    assert embed["title"] == "/diagnose · not started"
    assert embed["description"] == UNREACHABLE
    assert "could not be reached" in embed["description"]
    record = harness.record(job)
    assert (record.status, record.dispatch_attempted_at) == ("rejected", None)


def test_unreachable_then_reachable_dispatches_once(make_harness: HarnessFactory) -> None:
    down = make_harness(github_url=f"http://127.0.0.1:{free_port()}")
    up = make_harness()
    job = down.job()

    with pytest.raises(RetryLater):
        down.process(job)
    up.process(job)

    assert len(up.dispatch_posts()) == 1
    assert up.run_lookups() == []  # nothing had reached GitHub: no need to look first
    assert_linked_to_the_one_run(up, job)


# -- the worker killed after sending (a Lambda timeout): the next delivery looks first -------------------------


def test_redelivery_after_a_kill_finds_the_run_instead_of_resending(make_harness: HarnessFactory) -> None:
    doomed, job = kill_mid_dispatch(make_harness)
    record = doomed.record(job)
    assert (record.status, record.dispatch_attempted_at is not None) == ("dispatching", True)

    make_harness().process(job)

    assert len(doomed.dispatch_posts()) == 1
    assert_linked_to_the_one_run(doomed, job)


def test_redelivery_after_a_kill_without_correlation_says_unknown(make_harness: HarnessFactory) -> None:
    doomed, job = kill_mid_dispatch(make_harness, "deploy", environment="staging")

    make_harness().process(job)

    assert len(doomed.dispatch_posts()) == 1
    assert len(doomed.github.runs) == 1
    assert doomed.record(job).status == "unknown"
    assert "may or may not have started" in doomed.embed(job)["description"]


def test_unreachable_redelivery_keeps_the_evidence_of_an_earlier_attempt(make_harness: HarnessFactory) -> None:
    """An attempt that never reached GitHub must not erase that an earlier one did, or the next
    delivery skips the lookup and starts a second run."""
    doomed, job = kill_mid_dispatch(make_harness)
    # Second delivery: GitHub is unreachable for a while (nothing of this attempt reaches it).
    down = make_harness(github_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RetryLater):
        down.process(job)
    # Third delivery: GitHub is back.
    make_harness().process(job)

    assert len(doomed.github.runs) == 1, "a second run was dispatched for the same interaction"
    assert doomed.record(job).dispatch_attempted_at is not None


def test_last_attempt_unreachable_after_an_earlier_send_does_not_claim_nothing_started(
    make_harness: HarnessFactory,
) -> None:
    doomed, job = kill_mid_dispatch(make_harness)
    down = make_harness(github_url=f"http://127.0.0.1:{free_port()}")

    down.process(job, final_attempt=True)

    assert len(doomed.github.runs) == 1  # a run exists...
    embed = down.embed(job)
    assert "Nothing was started" not in embed["description"]  # ...so the user must not be told otherwise
    assert down.record(job).status == "unknown"


# -- looking failed is not "looked and found nothing" ----------------------------------------------------------


def every_lookup_fails(harness: Harness, find_attempts: int = 2) -> None:
    """The run list answers 503 to every try of every look (READ_POLICY retries each look 4 times)."""
    harness.github.inject(*(Fault(method="GET", path=r"/runs$", status=503) for _ in range(4 * find_attempts)))


def process_expecting_a_queue_retry(harness: Harness, job: Job) -> None:
    """With no run listing to go on, the job goes back to the queue, its attempt still on record."""
    with pytest.raises(RetryLater):
        harness.process(job)


def test_500_with_the_run_list_failing_too_does_not_resend_blindly(harness: Harness) -> None:
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, status=500, then_apply=True))
    every_lookup_fails(harness)
    job = harness.job()

    process_expecting_a_queue_retry(harness, job)

    assert len(harness.github.runs) == 1, "a second run was started for the same interaction"
    assert len(harness.dispatch_posts()) == 1
    assert harness.record(job).status != "dispatched" or harness.record(job).run_id == harness.github.runs[0]["id"]


def test_redelivery_after_a_kill_with_the_run_list_failing_does_not_resend_blindly(
    make_harness: HarnessFactory,
) -> None:
    doomed, job = kill_mid_dispatch(make_harness)
    every_lookup_fails(doomed)

    process_expecting_a_queue_retry(make_harness(), job)

    assert len(doomed.github.runs) == 1, "a second run was started for the same interaction"
    assert len(doomed.dispatch_posts()) == 1
