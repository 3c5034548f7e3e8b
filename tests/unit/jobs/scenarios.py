"""Scenarios shared by the worker tests: queue-like redelivery, a worker killed mid-dispatch, outcome checks."""

from __future__ import annotations

import time

import httpx
import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from orchestrator.jobs.envelopes import Job
from tests.fixtures.worker import Harness, HarnessFactory, http_client, link_button


def assert_linked_to_the_one_run(harness: Harness, job: Job) -> None:
    [run] = harness.github.runs
    assert job.invocation.trace_id in run["display_title"]
    record = harness.record(job)
    assert (record.status, record.run_id, record.html_url) == ("dispatched", run["id"], run["html_url"])
    button = link_button(harness.message(job))
    assert button is not None
    assert button["url"] == run["html_url"]


def process_until_done(harness: Harness, job: Job, errors: list[BaseException], refusals: list[int]) -> None:
    """Deliver like a queue: a delivery refused while another holds the job is retried shortly after."""
    for _ in range(200):
        try:
            harness.process(job)
            return
        except IdempotencyAlreadyInProgressError:
            refusals.append(1)
            time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)
            return
    errors.append(TimeoutError("still in progress after 200 tries"))


class SimulatedKill(BaseException):
    """What a Lambda timeout looks like from inside: the process stops; no handler or cleanup runs."""


def killed_after_first_dispatch() -> httpx.Client:
    """An httpx client whose process "dies" once GitHub has answered the first dispatch POST."""
    fired: list[bool] = []

    def hook(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/dispatches") and not fired:
            fired.append(True)
            raise SimulatedKill

    return http_client(event_hooks={"response": [hook]})


def kill_mid_dispatch(make_harness: HarnessFactory, command: str = "diagnose", **options: str) -> tuple[Harness, Job]:
    doomed = make_harness(github_http=killed_after_first_dispatch())
    job = doomed.job(command, options or None)
    with pytest.raises(SimulatedKill):
        doomed.process(job, seconds=0.05)  # its in-progress claim expires with its deadline
    time.sleep(0.1)
    assert len(doomed.github.runs) == 1  # the run did start
    return doomed, job
