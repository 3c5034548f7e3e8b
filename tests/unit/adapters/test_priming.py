"""Priming runs each ACK client's operations once at init without sending anything, and never
stops init: a client that cannot prime (no credentials) is left to pay on its first command."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from botocore import hooks
from botocore.config import Config
from botocore.httpsession import URLLib3Session

from orchestrator.adapters.priming import canned_response, prime_queue, prime_state


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "priming-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "priming-test")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request botocore puts on the wire (its HTTP session's send), answered here instead."""
    sent: list[str] = []

    def send(self: URLLib3Session, request: Any) -> Any:
        sent.append(request.url)
        return canned_response(request, {})

    monkeypatch.setattr(URLLib3Session, "send", send)
    return sent


def test_priming_sends_nothing_and_leaves_the_client_as_it_was(credentials: None, wire: list[str]) -> None:
    queue, table = boto3.client("sqs", region_name="us-east-1"), boto3.client("dynamodb", region_name="us-east-1")
    prime_queue(queue)
    prime_state(table, "orchestrator-state")
    assert wire == []
    key = {"pk": {"S": "x"}, "sk": {"S": "y"}}
    table.update_item(
        TableName="orchestrator-state",
        Key=key,
        UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"N": "1"}},
    )
    assert wire == ["https://dynamodb.us-east-1.amazonaws.com/"], "the real call goes out as before"


def test_a_client_that_cannot_prime_does_not_stop_init(
    monkeypatch: pytest.MonkeyPatch, wire: list[str], captured_logs: io.StringIO
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.session.Session().client("sqs", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    prime_queue(client)
    assert wire == []
    assert '"msg":"priming skipped","operation":"SendMessage","error":"NoCredentialsError"' in captured_logs.getvalue()


def test_after_priming_every_primed_operation_finds_its_handlers_cached(
    credentials: None, wire: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registration between two primed calls would empty botocore's handler cache, and the first
    command would look each of its events up again."""
    table = boto3.client("dynamodb", region_name="us-east-1")
    prime_state(table, "orchestrator-state")
    looked_up: list[str] = []
    trie: Any = vars(hooks)["_PrefixTrie"]  # botocore's lookup on a cache miss (not in its stubs)
    search = trie.prefix_search

    def counted(self: object, key: str) -> Any:
        looked_up.append(key)
        return search(self, key)

    monkeypatch.setattr(trie, "prefix_search", counted)
    update: Any = {
        "TableName": "orchestrator-state",
        "Key": {"pk": {"S": "user:1"}, "sk": {"S": "bucket"}},
        "UpdateExpression": "SET full_at = :full_at",
        "ExpressionAttributeValues": {":full_at": {"N": "1"}},
    }
    table.update_item(**update)
    table.transact_write_items(TransactItems=[{"Update": update}, {"Update": update}])
    assert len(wire) == 2 and looked_up == []
