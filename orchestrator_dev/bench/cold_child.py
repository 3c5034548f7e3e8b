"""Run in a fresh interpreter by the benchmark: a cold Lambda instance answering its first command(s).

The handler module is imported exactly as Lambda imports it (settings, commands file, the real SQS
and DynamoDB clients). Only the network sends are stubbed, through botocore's own `before-send`
hook (the HTTP layer), so building, serialising and signing the SendMessage and the rate limit's
UpdateItem / TransactWriteItems calls (and autocomplete's GetItem of the cache) still happen.

Prints one JSON line: the statuses, the first command's wall time, the warm commands' median wall
time and mean CPU time, a bare PyNaCl verify's CPU time in the same process, the libraries' floor
(below), and the peak RSS.

The floor: what a command costs with the required libraries alone. The AWS calls of one more,
untimed command are recorded (operation and parameters, as our code passed them) and replayed,
beside one PyNaCl verify, through plain boto3 clients of the same configuration, answered at the
same HTTP layer: no code of ours runs in it. A goal below the floor cannot be met with these
libraries.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
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


def _answer_at_the_http_layer(session: Any) -> None:
    session.events.register("before-send.sqs.SendMessage", _sent)
    for operation in ("UpdateItem", "TransactWriteItems", "PutItem"):
        session.events.register(f"before-send.dynamodb.{operation}", _stored)
    session.events.register("before-send.dynamodb.GetItem", _cached)


def main() -> int:
    import boto3

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    _answer_at_the_http_layer(boto3.DEFAULT_SESSION)
    # Registered before the clients are built, which copy the session's handlers; it records nothing
    # until armed, after the timed commands.
    recorder = _Recorder()
    boto3.DEFAULT_SESSION.events.register("provide-client-params", recorder)
    import orchestrator.adapters.lambda_interactions as function

    event = json.loads(os.environ["BENCH_EVENT"])
    context = _Context()
    statuses, walls, cpus = set(), [], []
    for _ in range(int(os.environ.get("BENCH_COMMANDS", "1"))):
        wall, cpu = time.perf_counter(), time.process_time()
        statuses.add(function.handler(event, context)["statusCode"])
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    warm = len(walls) > 1
    if warm:
        recorder.armed = True
        function.handler(event, context)
    report = {
        "statuses": sorted(statuses),
        "first_s": walls[0],
        "warm_s": statistics.median(walls[1:]) if len(walls) > 1 else None,
        "warm_cpu_s": statistics.fmean(cpus[1:]) if len(cpus) > 1 else None,
        "verify_cpu_s": _verify_cpu(event, max(1, len(walls) - 1)),
        # Warm runs only: a cold run's whole process is the figure, and building the floor's clients
        # would add to it.
        "floor_cpu_s": _floor_cpu(event, recorder.calls, len(walls) - 1) if warm else None,
        "floor_calls": [operation for _, operation, _ in recorder.calls],
        "peak_rss_kb": peak_rss_kb(),
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


class _Recorder:
    """botocore's provide-client-params, once armed: each call as our code made it (a copy: botocore
    then fills in what it generates, such as TransactWriteItems' ClientRequestToken, which a replay
    generates too). Unarmed during the timed commands, so that copying is not counted as ours."""

    def __init__(self) -> None:
        self.armed = False
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.armed:
            self.calls.append((model.service_model.service_name, model.name, copy.deepcopy(params)))


def _floor_cpu(event: dict[str, Any], calls: list[tuple[str, str, dict[str, Any]]], times: int) -> float:
    """CPU per replay of one PyNaCl verify and `calls`, through plain clients configured as ours."""
    import boto3
    from botocore import xform_name

    from orchestrator.adapters.ack_clients import ACK_QUEUE_CONFIG, ACK_STATE_CONFIG

    session = boto3.session.Session()
    _answer_at_the_http_layer(session)
    configs = {"sqs": ACK_QUEUE_CONFIG, "dynamodb": ACK_STATE_CONFIG}
    clients = {service: session.client(service, config=configs[service]) for service, _, _ in calls}  # type: ignore[call-overload]
    replays = [
        partial(getattr(clients[service], xform_name(operation)), **params) for service, operation, params in calls
    ]
    verify = _verification(event)

    def command() -> None:
        verify()
        for replay in replays:
            replay()

    for _ in range(min(times, 50)):  # warm, as the handler's commands were
        command()
    started = time.process_time()
    for _ in range(times):
        command()
    return (time.process_time() - started) / times


def _verify_cpu(event: dict[str, Any], times: int) -> float:
    """The floor under any command: PyNaCl verifying the same request, CPU per call."""
    verify = _verification(event)
    started = time.process_time()
    for _ in range(times):
        verify()
    return (time.process_time() - started) / times


def _verification(event: dict[str, Any]) -> Callable[[], object]:
    """PyNaCl verifying the event's request with the function's public key, ready to call."""
    from nacl.signing import VerifyKey

    key = VerifyKey(bytes.fromhex(os.environ["DISCORD_PUBLIC_KEY"]))
    headers = event["headers"]
    signed = headers["x-signature-timestamp"].encode() + base64.b64decode(event["body"])
    return partial(key.verify, signed, bytes.fromhex(headers["x-signature-ed25519"]))


if __name__ == "__main__":
    raise SystemExit(main())
