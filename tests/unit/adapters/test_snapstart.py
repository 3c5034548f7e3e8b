"""SnapStart's hooks, called as Lambda's runtime calls them: through a stand-in `snapshot_restore_py`."""

from __future__ import annotations

import io
import json
import random
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any, ClassVar

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

from orchestrator.adapters.snapstart import (
    connections_dropper,
    forget_cached_parameters,
    log_restored,
    register_hooks,
    reseed_random,
)

Hook = Callable[[], None]


class FakeRuntime(ModuleType):
    """What the managed runtime's `snapshot_restore_py` offers, and runs as Lambda does: before the
    snapshot in reverse order of registration, after a restore in order."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[Hook] = []
        self.after: list[Hook] = []

    def register_before_snapshot(self, hook: Hook) -> Hook:
        self.before.append(hook)
        return hook

    def register_after_restore(self, hook: Hook) -> Hook:
        self.after.append(hook)
        return hook

    def snapshot(self) -> None:
        for hook in reversed(self.before):
            hook()

    def restore(self) -> None:
        for hook in self.after:
            hook()


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    fake = FakeRuntime()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    return fake


def test_hooks_are_registered_with_the_runtime(runtime: FakeRuntime) -> None:
    ran: list[str] = []
    assert register_hooks(before_snapshot=[lambda: ran.append("forget")], after_restore=[lambda: ran.append("reseed")])
    runtime.snapshot()
    runtime.restore()
    assert ran == ["forget", "reseed"]


def logged(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_without_the_runtime_nothing_is_registered(monkeypatch: pytest.MonkeyPatch, log_stream: io.StringIO) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails: not in Lambda
    ran: list[str] = []
    assert not register_hooks(before_snapshot=[lambda: ran.append("x")], after_restore=[lambda: ran.append("y")])
    assert ran == []
    [line] = logged(log_stream)
    assert line["level"] == "debug" and "no SnapStart hooks" in line["msg"]


def test_restored_environments_draw_different_random_numbers() -> None:
    random.seed(7)
    snapshot = random.getstate()  # what every environment restored from one snapshot starts with
    without_hook = [random.random() for _ in range(2)]
    random.setstate(snapshot)
    assert [random.random() for _ in range(2)] == without_hook  # the problem: the same sequence

    drawn = []
    for _ in range(2):
        random.setstate(snapshot)
        reseed_random()
        drawn.append(random.random())
    assert drawn[0] != drawn[1] and without_hook[0] not in drawn


class _Endpoint(BaseHTTPRequestHandler):
    """DynamoDB as far as an UpdateItem with an empty answer goes; remembers each connection."""

    protocol_version = "HTTP/1.1"  # keep-alive: what botocore pools
    connections: ClassVar[list[tuple[str, int]]] = []

    def setup(self) -> None:
        super().setup()
        self.connections.append(self.client_address)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    _Endpoint.connections = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_restored_environments_open_their_own_connections(endpoint: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")

    def call() -> None:
        client.update_item(
            TableName="t",
            Key={"pk": {"S": "k"}},
            UpdateExpression="SET a = :a",
            ExpressionAttributeValues={":a": {"N": "1"}},
        )

    call()
    call()
    assert len(_Endpoint.connections) == 1  # pooled: the connection a snapshot would carry along
    drop = connections_dropper([client])
    drop()
    drop()  # twice is harmless
    call()
    call()
    assert len(_Endpoint.connections) == 2  # a new one after the restore, pooled again


def test_cached_parameters_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DEFAULT_PROVIDERS, "ssm", object())  # a provider and its cache
    forget_cached_parameters()
    forget_cached_parameters()
    assert DEFAULT_PROVIDERS == {}


def test_forgetting_does_not_load_powertools_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read: then there is nothing to forget, and nothing to import on the restore path."""
    name = "aws_lambda_powertools.utilities.parameters"
    monkeypatch.delitem(sys.modules, name)
    forget_cached_parameters()
    assert name not in sys.modules


def test_a_restore_is_logged(captured_logs: io.StringIO) -> None:
    log_restored()
    assert [line["msg"] for line in logged(captured_logs)] == ["restored from snapshot"]
