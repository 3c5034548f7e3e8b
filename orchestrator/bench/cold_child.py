"""Run in a fresh interpreter by the benchmark: a cold Lambda instance answering its first command(s).

The handler module is imported exactly as Lambda imports it (settings, commands file, the real
SQS client, and the DynamoDB client the per-user rate limit opens on the first command). Only the
network sends are stubbed, through botocore's own `before-send` hook, so serialising and signing
the SendMessage, GetItem and PutItem calls still happen.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext


class _Context(LambdaContext):
    def __init__(self) -> None:
        self._function_name = "bench-interactions"
        self._memory_limit_in_mb = 1024
        self._invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-interactions"
        self._aws_request_id = "00000000-0000-4000-8000-000000000000"


def _sent(request: Any, **_: Any) -> Any:
    body = json.loads(request.body)["MessageBody"]
    return _answer(request, {"MessageId": "bench", "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest()})  # noqa: S324


def _stored(request: Any, **_: Any) -> Any:
    """GetItem finds no bucket (a user's first command), PutItem succeeds."""
    return _answer(request, {})


def _answer(request: Any, answer: dict[str, Any]) -> Any:
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    headers = HTTPHeaders()
    headers["x-amzn-requestid"] = "bench"
    return AWSResponse(request.url, 200, headers, _Raw(json.dumps(answer).encode()))


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def peak_rss_kb() -> int:
    """VmHWM: this process's own peak (ru_maxrss would include the parent's, inherited across exec)."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1])


def main() -> int:
    import boto3

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-send.sqs.SendMessage", _sent)
    boto3.DEFAULT_SESSION.events.register("before-send.dynamodb.GetItem", _stored)
    boto3.DEFAULT_SESSION.events.register("before-send.dynamodb.PutItem", _stored)
    import orchestrator.adapters.lambda_interactions as function

    event = json.loads(os.environ["BENCH_EVENT"])
    context = _Context()
    statuses = {
        function.handler(event, context)["statusCode"] for _ in range(int(os.environ.get("BENCH_COMMANDS", "1")))
    }
    sys.stdout.write(json.dumps({"statuses": sorted(statuses), "peak_rss_kb": peak_rss_kb()}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
