"""The exactly-once paths again, on the DynamoDB state the Lambda uses (moto, table as in template.yaml)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from orchestrator.clients.discord_api import EDIT_POLICY, DiscordUnavailable
from orchestrator.state.dynamodb import PARTITION_KEY
from orchestrator.state.store import StateStore, open_state_store
from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.state import TABLE, create_state_table, make_moto_writes_atomic
from tests.fixtures.worker import Harness, HarnessFactory, link_button
from tests.unit.jobs.scenarios import assert_linked_to_the_one_run, kill_mid_dispatch, process_until_done


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> Iterator[StateStore]:
    """Overrides the memory/SQLite parametrisation for this module."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    make_moto_writes_atomic(monkeypatch)
    with mock_aws():
        create_state_table(boto3.client("dynamodb"))
        yield open_state_store(f"dynamodb://{TABLE}")


def test_happy_path_and_duplicate_delivery(harness: Harness) -> None:
    job = harness.job()

    harness.process(job)
    harness.process(job)

    assert len(harness.dispatch_posts()) == 1
    assert_linked_to_the_one_run(harness, job)
    assert len(harness.patches(job)) == 1
    keys = {item[PARTITION_KEY]["S"] for item in boto3.client("dynamodb").scan(TableName=TABLE)["Items"]}
    run_id = harness.state.jobs.get(job.invocation.interaction_id).run_id  # type: ignore[union-attr]
    [event] = harness.state.audit.query(since=time.time() - 3600)
    assert (event.outcome, event.run_id) == ("accepted", run_id), "the duplicate delivery recorded nothing more"
    audit_day = datetime.fromtimestamp(event.at, UTC).date().isoformat()
    assert keys == {
        f"job#{job.invocation.interaction_id}",
        "idempotency",
        f"trace#{job.invocation.user_id}",
        "traces",
        f"run#{run_id}",
        f"audit#{audit_day}",
        "cache#workflow#acme/ops#diagnose.yml#main",  # its inputs, read before the dispatch
    }


def test_two_lambda_instances_deliver_concurrently(make_harness: HarnessFactory) -> None:
    first, second = make_harness(), make_harness()
    job = first.job()
    first.github.inject(Fault(method="POST", path=r"/dispatches$", delay=0.3))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    refusals: list[int] = []

    def deliver(harness: Harness) -> None:
        barrier.wait(timeout=5)
        process_until_done(harness, job, errors, refusals)

    threads = [threading.Thread(target=deliver, args=(h,)) for h in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    assert refusals
    assert len(first.dispatch_posts()) == 1
    assert_linked_to_the_one_run(first, job)


def test_discord_down_then_redelivery_replays_from_dynamodb(harness: Harness) -> None:
    job = harness.job()
    harness.discord.inject(*(Fault(method="PATCH", status=500) for _ in range(EDIT_POLICY.max_attempts)))
    with pytest.raises(DiscordUnavailable):
        harness.process(job)

    harness.process(job)

    assert len(harness.dispatch_posts()) == 1
    assert link_button(harness.message(job)) is not None


def test_redelivery_after_a_kill_finds_the_run(make_harness: HarnessFactory) -> None:
    """The in-progress claim a killed Lambda left in DynamoDB expires with its deadline and is taken over."""
    doomed, job = kill_mid_dispatch(make_harness)

    make_harness().process(job)

    assert len(doomed.dispatch_posts()) == 1
    assert_linked_to_the_one_run(doomed, job)
