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
from collections.abc import Iterator, Mapping, Sequence
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
    answer = {"MessageId": "priming", "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest()}  # noqa: S324 - SQS's checksum
    _prime(client, [("SendMessage", {"QueueUrl": _QUEUE_URL, "MessageBody": body}, answer)])


def prime_state(client: BaseClient, table: str) -> None:
    """The rate limit's writes: UpdateItem for one bucket, TransactWriteItems for several."""
    update = {
        "TableName": table,
        "Key": _PRIMING_KEY,
        "UpdateExpression": "SET full_at = :full_at",
        "ConditionExpression": "attribute_not_exists(full_at)",
        "ExpressionAttributeValues": {":full_at": {"N": "0"}},
    }
    transaction = {"TransactItems": [{"Update": update}, {"Update": update}]}
    _prime(client, [("UpdateItem", update, {}), ("TransactWriteItems", transaction, {})])


def _prime(client: BaseClient, calls: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]]) -> None:
    """Make each (operation, parameters, answer) call, answered here instead of sent."""
    answers = {operation: answer for operation, _, answer in calls}
    priming = True

    def answer_instead(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        answer = answers.get(event_name.rsplit(".", 1)[-1]) if priming else None
        return None if answer is None else canned_response(request, answer)  # once primed: send as usual

    # One handler for all of the client's operations, registered before the first call and left
    # registered (answering nothing once primed): any registration or unregistration empties
    # botocore's cache of the handlers per event, which these calls fill for the first command.
    canned: Any = answer_instead  # botocore's stubs type handlers as returning None; before-send's may answer
    client.meta.events.register_first(f"before-send.{client.meta.service_model.service_id.hyphenize()}", canned)
    try:
        for operation, params, _ in calls:
            try:
                getattr(client, xform_name(operation))(**params)
            except Exception as exc:  # noqa: BLE001 - an optimisation: the first command then pays instead
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
