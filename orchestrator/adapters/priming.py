"""Priming: at init, each client the ACK uses runs its operations once against a canned answer,
so that the first command pays none of botocore's first-call costs (operation models,
serialisers, endpoint rules, the signer, the credentials). Nothing leaves the process: the answer
comes from botocore's own `before-send` hook, registered on that client alone for the call.

Measured by `python -m orchestrator.bench` ("whole handler, first command after init"). With
SnapStart, priming runs before the snapshot, so restored environments start primed too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from botocore import xform_name
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.client import BaseClient

from orchestrator.observability.logging import get_logger

# What each operation the ACK path sends is primed with: its parameters (never sent) and the answer.
_QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/priming"
_PRIMING_KEY = {"pk": {"S": "priming"}, "sk": {"S": "priming"}}


def prime_queue(client: BaseClient) -> None:
    body = "priming"
    _prime(
        client,
        "SendMessage",
        {"QueueUrl": _QUEUE_URL, "MessageBody": body},
        {"MessageId": "priming", "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest()},  # noqa: S324 - SQS's checksum
    )


def prime_state(client: BaseClient, table: str) -> None:
    """The rate limit's writes: UpdateItem for one bucket, TransactWriteItems for several."""
    update = {
        "TableName": table,
        "Key": _PRIMING_KEY,
        "UpdateExpression": "SET full_at = :full_at",
        "ConditionExpression": "attribute_not_exists(full_at)",
        "ExpressionAttributeValues": {":full_at": {"N": "0"}},
    }
    _prime(client, "UpdateItem", update, {})
    _prime(client, "TransactWriteItems", {"TransactItems": [{"Update": update}, {"Update": update}]}, {})


def _prime(client: BaseClient, operation: str, params: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    priming = True

    def answer_instead(request: Any, **_: Any) -> AWSResponse | None:
        return canned_response(request, answer) if priming else None  # once primed: send as usual

    # Left registered, answering nothing once primed: unregistering would empty botocore's cache of
    # which handlers each event has, and the first command would pay for filling it again.
    canned: Any = answer_instead  # botocore's stubs type handlers as returning None; before-send's may answer
    client.meta.events.register_first(event, canned)
    try:
        getattr(client, xform_name(operation))(**params)
    except Exception as exc:  # noqa: BLE001 - priming is an optimisation: the first command then pays instead
        get_logger().warning("priming skipped", extra={"operation": operation, "error": type(exc).__name__})
    finally:
        priming = False


def canned_response(request: Any, answer: Mapping[str, Any]) -> AWSResponse:
    """A 200 with `answer` as its JSON body, for a `before-send` handler to return instead of
    sending `request`: botocore parses it as the service's own."""
    headers = HTTPHeaders()
    headers["x-amzn-requestid"] = "canned"
    return AWSResponse(request.url, 200, headers, _Body(json.dumps(answer).encode()))


class _Body:
    """What botocore reads a response body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data
