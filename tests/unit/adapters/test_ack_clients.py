"""The ACK path's clients answer within Discord's 3 seconds even when AWS hangs: the rate limit's
write gets one attempt, the job's send two, each cut off by short timeouts."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ParamValidationError, ReadTimeoutError

from orchestrator.adapters.ack_clients import (
    ACK_QUEUE_CONFIG,
    ACK_STATE_CONFIG,
    DISCORD_ACK_DEADLINE_SECONDS,
    QUEUE_ATTEMPTS,
    STATE_ATTEMPTS,
    worst_case_seconds,
)
from orchestrator.ratelimits.bucket import BucketRule
from orchestrator.state.dynamodb_ratelimits import DynamoRateLimitStore
from orchestrator.state.ratelimits import Bucket

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/work"


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ack-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ack-test")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def hanging(client: Any) -> list[str]:
    """Every attempt the client makes times out (raised where botocore sends, so its retry logic
    sees what a hung connection gives it, without the wait)."""
    attempts: list[str] = []

    def time_out(request: Any, **_: Any) -> None:
        attempts.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register_first(f"before-send.{client.meta.service_model.service_id.hyphenize()}", time_out)
    return attempts


def test_the_write_and_the_send_together_fit_within_discords_deadline() -> None:
    worst = worst_case_seconds(STATE_ATTEMPTS) + worst_case_seconds(QUEUE_ATTEMPTS)
    assert worst < DISCORD_ACK_DEADLINE_SECONDS
    assert (worst_case_seconds(STATE_ATTEMPTS), worst_case_seconds(QUEUE_ATTEMPTS)) == pytest.approx((0.6, 2.2))


def test_a_hanging_rate_limit_gets_one_attempt() -> None:
    """(The limiter then lets the command through: tests/unit/ratelimits.)"""
    client = boto3.client("dynamodb", region_name="us-east-1", config=ACK_STATE_CONFIG)
    attempts = hanging(client)
    store = DynamoRateLimitStore(client, "state")
    with pytest.raises(ReadTimeoutError):
        store.take([Bucket("user:1", BucketRule(per_minute=1, burst=1))], 1_700_000_000.0)
    assert len(attempts) == 1


def test_a_hanging_send_gets_two_attempts() -> None:
    client = boto3.client("sqs", region_name="us-east-1", config=ACK_QUEUE_CONFIG)
    attempts = hanging(client)
    with pytest.raises(ReadTimeoutError):
        client.send_message(QueueUrl=QUEUE_URL, MessageBody="job")
    assert len(attempts) == 2


def test_parameters_are_left_to_the_service_to_check() -> None:
    """botocore's client-side validation is off (a third of its CPU per call): a wrong type goes
    out as it is instead of failing here."""
    client = boto3.client("sqs", region_name="us-east-1", config=ACK_QUEUE_CONFIG)
    hanging(client)
    with pytest.raises(ReadTimeoutError):
        client.send_message(QueueUrl=QUEUE_URL, MessageBody=12)  # type: ignore[arg-type]
    checked = boto3.client("sqs", region_name="us-east-1")
    with pytest.raises(ParamValidationError):
        checked.send_message(QueueUrl=QUEUE_URL, MessageBody=12)  # type: ignore[arg-type]
