"""DynamoDB throttling the state store (the Lambda's backend, under moto) while jobs dispatch.

The SDK retries a throttled call a few times by itself; these are the calls that still fail after that,
as the ClientError botocore raises then. Every call of a job's path is throttled in turn: the job must
go back to the queue and finish on a later receive, with one run and the truth shown.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from orchestrator.state.store import StateStore, dynamodb_state_store
from tests.fixtures.state import TABLE
from tests.integration.faults.conftest import MAX_RECEIVES, FaultRig, assert_no_secrets, assert_truthful

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

THROUGHPUT = "ProvisionedThroughputExceededException"
THROTTLING = "ThrottlingException"
OPERATIONS = frozenset({"get_item", "put_item", "update_item", "delete_item", "query"})


class ThrottledDynamoDB:
    """A DynamoDB client whose chosen calls (counted from 1) fail as throttled; the rest go through."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self.calls: list[str] = []
        self._failing: dict[int, str] = {}

    def throttle(self, call: int, code: str = THROUGHPUT) -> None:
        self._failing[call] = code

    def throttle_next(self, count: int, code: str = THROUGHPUT) -> None:
        for call in range(len(self.calls) + 1, len(self.calls) + count + 1):
            self.throttle(call, code)

    def clear(self) -> None:
        self._failing.clear()

    @property
    def pending(self) -> int:
        return len(self._failing)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name not in OPERATIONS:
            return method

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            code = self._failing.pop(len(self.calls), None)
            if code is not None:
                operation = "".join(part.title() for part in name.split("_"))
                error: Any = {
                    "Error": {"Code": code, "Message": "Rate of requests exceeds the allowed throughput."},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                }
                # The modelled class where DynamoDB has one (ProvisionedThroughputExceeded), else ClientError.
                error_class: type[ClientError] = self._client.exceptions.from_code(code)  # type: ignore[assignment]
                raise error_class(error, operation)
            return method(**kwargs)

        return call


@pytest.fixture
def dynamodb(dynamodb_table: str) -> ThrottledDynamoDB:  # moto, with the state table
    return ThrottledDynamoDB(boto3.client("dynamodb"))


@pytest.fixture
def state(dynamodb: ThrottledDynamoDB) -> Iterator[StateStore]:
    """Overrides the memory store of tests/integration/faults: every store on the throttling client."""
    yield dynamodb_state_store(cast("DynamoDBClient", dynamodb), TABLE)


def calls_of_one_job(rig: FaultRig, dynamodb: ThrottledDynamoDB) -> list[str]:
    """The calls the worker makes for one job that meets no fault (the test's own reads left out)."""
    before = len(dynamodb.calls)
    job = rig.job()
    assert rig.deliver(job) == 0
    calls = dynamodb.calls[before:]
    assert_truthful(rig, job, "started")
    return calls


@pytest.mark.parametrize("code", [THROUGHPUT, THROTTLING])
def test_each_call_of_a_job_throttled_in_turn(
    rig: FaultRig, dynamodb: ThrottledDynamoDB, code: str, worker_logs: io.StringIO
) -> None:
    calls_of_one_job(rig, dynamodb)  # the first job creates what later ones find (the trace index)
    path = calls_of_one_job(rig, dynamodb)
    jobs = []
    for nth in range(1, len(path) + 1):
        job = rig.job()
        jobs.append(job)
        dynamodb.throttle(len(dynamodb.calls) + nth, code)

        failed = rig.deliver(job)

        assert dynamodb.pending == 0, f"call {nth} ({path[nth - 1]}) was not made"
        assert failed <= 1, f"throttling call {nth} ({path[nth - 1]}) cost {failed} receives"
        assert_truthful(rig, job, "started")
    assert len(rig.harness.dispatch_posts()) == len(jobs) + 2
    assert rig.alerts() == []
    assert_no_secrets(rig, worker_logs.getvalue(), jobs)


def test_a_burst_through_a_throttled_table_dispatches_each_once(
    rig: FaultRig, dynamodb: ThrottledDynamoDB, worker_logs: io.StringIO
) -> None:
    """Every call throttled for a while: receives fail and come back until the table answers again."""
    jobs = [rig.job() for _ in range(3)]
    dynamodb.throttle_next(6)
    failed = [rig.deliver(job) for job in jobs]

    assert dynamodb.pending == 0
    assert 1 <= failed[0] < MAX_RECEIVES
    for job in jobs:
        assert_truthful(rig, job, "started")
    assert len(rig.harness.dispatch_posts()) == len(jobs)
    assert rig.alerts() == []
    assert_no_secrets(rig, worker_logs.getvalue(), jobs)


def test_throttled_through_the_last_receive_alerts_at_most_once(
    rig: FaultRig, dynamodb: ThrottledDynamoDB, worker_logs: io.StringIO
) -> None:
    jobs = [rig.job() for _ in range(3)]
    for job in jobs:
        dynamodb.throttle_next(10_000)
        assert rig.deliver(job) == MAX_RECEIVES  # every receive failed: on to the dead-letter queue
        dynamodb.clear()

    for job in jobs:
        assert len(rig.runs_for(job)) <= 1
        assert rig.category(job) in ("nothing shown", "unknown")
    assert len(rig.alerts()) <= 1
    assert_no_secrets(rig, worker_logs.getvalue(), jobs)
