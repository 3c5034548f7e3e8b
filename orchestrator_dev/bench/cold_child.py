"""Run in a fresh interpreter by the benchmark: a cold Lambda instance answering its first command(s).

The handler module is imported exactly as Lambda imports it (settings, commands file, the real SQS
and DynamoDB clients). Only the network sends are stubbed, through botocore's own `before-send`
hook (the HTTP layer), so building, serialising and signing the SendMessage and the rate limit's
UpdateItem / TransactWriteItems calls (and autocomplete's GetItem of the cache) still happen.

Prints one JSON line: the statuses, the first command's wall time, the warm commands' median wall
time and mean CPU time, a bare PyNaCl verify's CPU time in the same process, and the peak RSS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import statistics
import sys
import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext


class _Context(LambdaContext):
    def __init__(self) -> None:
        self._function_name = "bench-interactions"
        self._memory_limit_in_mb = 1024
        self._invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-interactions"
        self._aws_request_id = "00000000-0000-4000-8000-000000000000"


def _sent(request: Any, **_: Any) -> Any:
    from orchestrator.adapters.priming import canned_response

    body = json.loads(request.body)["MessageBody"]
    return canned_response(request, {"MessageId": "bench", "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest()})  # noqa: S324


def _stored(request: Any, **_: Any) -> Any:
    """Every write succeeds (the bucket had a token)."""
    from orchestrator.adapters.priming import canned_response

    return canned_response(request, {})


def _cached(request: Any, **_: Any) -> Any:
    """The state store's cache as the worker leaves it (BENCH_CACHE: entry body by key prefix)."""
    from orchestrator.adapters.priming import canned_response

    key = json.loads(request.body)["Key"]["pk"]["S"]
    bodies: dict[str, str] = json.loads(os.environ.get("BENCH_CACHE", "{}"))
    body = next((text for prefix, text in bodies.items() if key.startswith(prefix)), None)
    if body is None:
        return canned_response(request, {})
    item = {"pk": {"S": key}, "sk": {"S": "cache"}, "body": {"S": body}, "fetched_at": {"N": str(time.time())}}
    return canned_response(request, {"Item": item})


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
    for operation in ("UpdateItem", "TransactWriteItems", "PutItem"):
        boto3.DEFAULT_SESSION.events.register(f"before-send.dynamodb.{operation}", _stored)
    boto3.DEFAULT_SESSION.events.register("before-send.dynamodb.GetItem", _cached)
    import orchestrator.adapters.lambda_interactions as function

    event = json.loads(os.environ["BENCH_EVENT"])
    context = _Context()
    statuses, walls, cpus = set(), [], []
    for _ in range(int(os.environ.get("BENCH_COMMANDS", "1"))):
        wall, cpu = time.perf_counter(), time.process_time()
        statuses.add(function.handler(event, context)["statusCode"])
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    report = {
        "statuses": sorted(statuses),
        "first_s": walls[0],
        "warm_s": statistics.median(walls[1:]) if len(walls) > 1 else None,
        "warm_cpu_s": statistics.fmean(cpus[1:]) if len(cpus) > 1 else None,
        "verify_cpu_s": _verify_cpu(event, max(1, len(walls) - 1)),
        "peak_rss_kb": peak_rss_kb(),
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


def _verify_cpu(event: dict[str, Any], times: int) -> float:
    """The floor under any command: PyNaCl verifying the same request, CPU per call."""
    from nacl.signing import VerifyKey

    key = VerifyKey(bytes.fromhex(os.environ["DISCORD_PUBLIC_KEY"]))
    headers = event["headers"]
    signed = headers["x-signature-timestamp"].encode() + base64.b64decode(event["body"])
    signature = bytes.fromhex(headers["x-signature-ed25519"])
    started = time.process_time()
    for _ in range(times):
        key.verify(signed, signature)
    return (time.process_time() - started) / times


if __name__ == "__main__":
    raise SystemExit(main())
