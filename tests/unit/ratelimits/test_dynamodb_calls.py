"""On DynamoDB a take is one conditional write, whatever the number of buckets: a second call only
when another instance took from a bucket meanwhile, none when the bucket is known to be empty."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.state import dynamodb_ratelimits
from orchestrator.state.dynamodb_ratelimits import DynamoRateLimitStore
from orchestrator.state.ratelimits import Bucket
from tests.fixtures.state import TABLE, create_state_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOW = 1_700_000_000.0
USER = Bucket("user:1", BucketRule(per_minute=1, burst=2))
BOT = Bucket("bot:dispatches", BucketRule(per_minute=60, burst=100))
COMMAND = Bucket("cmd:deploy:1", BucketRule(per_minute=1, burst=5))


@pytest.fixture
def calls(dynamodb_client: DynamoDBClient) -> list[str]:
    create_state_table(dynamodb_client)
    made: list[str] = []

    def record(model: Any, **_: Any) -> None:
        made.append(model.name)

    dynamodb_client.meta.events.register("before-call.dynamodb", record)
    return made


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Each backoff the store sleeps (recorded, not slept)."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def store(client: DynamoDBClient) -> DynamoRateLimitStore:
    return DynamoRateLimitStore(client, TABLE)


def test_one_write_per_take_and_none_for_a_bucket_known_empty(
    dynamodb_client: DynamoDBClient, calls: list[str]
) -> None:
    limits = store(dynamodb_client)
    assert limits.take([USER], NOW) is None
    assert limits.take([USER], NOW + 1) is None
    assert calls == ["UpdateItem", "UpdateItem"]
    refused = limits.take([USER], NOW + 2)
    assert refused is not None and refused.retry_after == pytest.approx(58.0)
    assert calls == ["UpdateItem", "UpdateItem"], "known empty: refused without a call"


def test_several_buckets_are_one_transaction(dynamodb_client: DynamoDBClient, calls: list[str]) -> None:
    limits = store(dynamodb_client)
    assert limits.take([COMMAND, USER, BOT], NOW) is None
    assert limits.take([COMMAND, USER, BOT], NOW) is None
    assert calls == ["TransactWriteItems", "TransactWriteItems"]


def test_a_bucket_another_instance_took_from_costs_one_more_call(
    dynamodb_client: DynamoDBClient, calls: list[str], waits: list[float]
) -> None:
    mine, theirs = store(dynamodb_client), store(dynamodb_client)
    assert mine.take([USER, BOT], NOW) is None
    assert theirs.take([USER, BOT], NOW) is None  # theirs guessed "full": told otherwise, then took
    assert calls == ["TransactWriteItems"] * 3
    assert waits == [], "a new instance's first guess is not contention: no backoff before the second call"
    del calls[:]
    refused = mine.take([USER, BOT], NOW)  # mine saw one token left; DynamoDB says none
    assert refused is not None and refused.bucket == USER
    assert calls == ["TransactWriteItems"]
    assert theirs.take([BOT], NOW) is None, "the refusal spent nothing from the bot's bucket"


def test_a_refusal_is_learnt_from_the_failed_write(dynamodb_client: DynamoDBClient, calls: list[str]) -> None:
    theirs = store(dynamodb_client)
    assert theirs.take([USER], NOW) is None
    assert theirs.take([USER], NOW) is None
    del calls[:]
    refused = store(dynamodb_client).take([USER], NOW + 30)
    assert refused is not None and refused.retry_after == pytest.approx(30.0)
    assert calls == ["UpdateItem"]


def test_a_bucket_written_by_the_previous_version_counts_as_full(
    dynamodb_client: DynamoDBClient, calls: list[str]
) -> None:
    dynamodb_client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "ratelimit#user:1"},
            "sk": {"S": "bucket"},
            "tokens": {"N": "0"},
            "counted_at": {"N": repr(NOW)},
            "version": {"N": "7"},
            "expiration": {"N": str(int(NOW) + 120)},
        },
    )
    del calls[:]
    assert store(dynamodb_client).take([USER], NOW) is None
    assert calls == ["UpdateItem"]
    item = dynamodb_client.get_item(TableName=TABLE, Key={"pk": {"S": "ratelimit#user:1"}, "sk": {"S": "bucket"}})
    assert float(item["Item"]["full_at"]["N"]) == NOW + 60
    assert int(item["Item"]["expiration"]["N"]) == int(NOW) + 121, "kept a minute after it is full again"


class RetriedAfterLanding:
    """botocore's retry of an UpdateItem whose first try landed but whose answer was lost."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self.exceptions = client.exceptions

    def update_item(self, **request: Any) -> Any:
        self._client.update_item(**request)  # landed
        return self._client.update_item(**request)  # the retry: its condition now fails on our own write


def test_a_retried_write_that_had_landed_takes_one_token_not_two(
    dynamodb_client: DynamoDBClient, calls: list[str]
) -> None:
    retried = DynamoRateLimitStore(RetriedAfterLanding(dynamodb_client), TABLE)  # type: ignore[arg-type]
    assert retried.take([USER], NOW) is None
    other = store(dynamodb_client)
    assert other.take([USER], NOW) is None, "the burst of 2 had one token left"
    assert other.take([USER], NOW) is not None


class ConflictOnce:
    """A transaction cancelled by another one in flight on the same item: nothing learnt, nothing written."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self.exceptions = client.exceptions
        self.conflicts = 1

    def transact_write_items(self, **request: Any) -> Any:
        if self.conflicts:
            self.conflicts -= 1
            reasons: Any = [{"Code": "TransactionConflict"}, {"Code": "None"}]
            raise self.exceptions.TransactionCanceledException(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": reasons,
                },
                "TransactWriteItems",
            )
        return self._client.transact_write_items(**request)


def test_a_transaction_conflict_is_tried_again_not_counted_as_taken(
    dynamodb_client: DynamoDBClient, calls: list[str]
) -> None:
    conflicted = ConflictOnce(dynamodb_client)
    assert DynamoRateLimitStore(conflicted, TABLE).take([USER, BOT], NOW) is None  # type: ignore[arg-type]
    assert conflicted.conflicts == 0
    other = store(dynamodb_client)
    assert other.take([USER], NOW) is None
    assert other.take([USER], NOW) is not None, "the first take did land, once: one token of two was left"


def test_a_write_lost_to_another_instance_backs_off_before_trying_again(
    dynamodb_client: DynamoDBClient, calls: list[str], waits: list[float]
) -> None:
    mine, theirs = store(dynamodb_client), store(dynamodb_client)
    assert mine.take([BOT], NOW) is None
    assert theirs.take([BOT], NOW) is None  # learns the bucket (no backoff), then takes
    assert waits == []
    assert mine.take([BOT], NOW) is None  # mine's guess is stale now: contended
    assert calls == ["UpdateItem"] * 5
    assert len(waits) == 1 and 0 <= waits[0] <= dynamodb_ratelimits.CONFLICT_BACKOFF_SECONDS


def test_a_transaction_conflict_backs_off(
    dynamodb_client: DynamoDBClient, calls: list[str], waits: list[float]
) -> None:
    assert DynamoRateLimitStore(ConflictOnce(dynamodb_client), TABLE).take([USER, BOT], NOW) is None  # type: ignore[arg-type]
    assert len(waits) == 1, "nothing learnt from a conflict: it is contention"
