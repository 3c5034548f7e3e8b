"""Fixtures for the trace tests: a TraceStore factory per backend (memory, SQLite, DynamoDB under moto),
the redactor restored after each test, and the worker against the GitHub and Discord stand-ins.

Fixtures of other directories' conftest files are not visible here: these re-declare thin ones over the
same helpers (tests/unit/state/conftest.py, tests/unit/jobs/conftest.py).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest

from orchestrator.clients import discord_api, github_api
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.commands.loader import load_commands
from orchestrator.composition.worker import assemble_worker
from orchestrator.dispatch.dispatcher import Dispatcher
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.observability.metrics import MemoryMetrics
from orchestrator.observability.redaction import Redactor, active_redactor, install
from orchestrator.state.dynamodb import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from orchestrator.state.dynamodb_traces import DynamoTraceStore
from orchestrator.state.memory import MemoryTraceStore
from orchestrator.state.sqlite import SqliteDatabase, SqliteTraceStore
from orchestrator.state.store import StateStore
from orchestrator.state.traces import MAX_TRACES_PER_USER, MAX_TRACES_TOTAL, TraceStore
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub
from tests.conftest import RecordingQueue
from tests.fixtures.state import create_state_table, moto_account
from tests.fixtures.worker import (
    APPLICATION_ID,
    GITHUB_TOKEN,
    REPO,
    WORKFLOWS,
    http_client,
)
from tests.unit.traces.support import TraceHarness

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BACKENDS = ("memory", "sqlite", "dynamodb")


# -- AWS under moto ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """moto's mock of every AWS API, with a region and credentials that cannot reach a real account.

    One mock per module (starting one and making its first client costs ~0.2 s); each test gets a table
    of its own (`dynamodb_table`), so nothing is shared between tests."""
    with pytest.MonkeyPatch.context() as patch, moto_account(patch):
        yield


@pytest.fixture
def dynamodb_table(aws: None) -> Iterator[tuple[DynamoDBClient, str]]:
    """A fresh state table, created as template.yaml defines it, and a client to it."""
    client = boto3.client("dynamodb")
    table = f"orchestrator-state-{uuid.uuid4().hex[:12]}"
    create_state_table(client, table)
    yield client, table
    client.delete_table(TableName=table)


# -- a TraceStore per backend ------------------------------------------------------------------------


@dataclass
class TraceBackend:
    """`open(per_user, total)` gives a store; for SQLite and DynamoDB every store opened shares the same
    data (a file, a table), for memory each is a new, empty store. `expire(user_id)` rewrites that user's
    stored traces as expired, bypassing the store (SQLite and DynamoDB only)."""

    name: str
    _open: Callable[[int, int], TraceStore]
    expire: Callable[[str], None]
    _cleanups: list[Callable[[], None]] = field(default_factory=list)

    def open(self, per_user: int = MAX_TRACES_PER_USER, total: int = MAX_TRACES_TOTAL) -> TraceStore:
        return self._open(per_user, total)


def _memory_backend() -> TraceBackend:
    def expire(user_id: str) -> None:
        raise NotImplementedError("the memory store keeps no expiry to rewrite")

    return TraceBackend("memory", MemoryTraceStore, expire)


def _sqlite_backend(path: Path) -> TraceBackend:
    databases: list[SqliteDatabase] = []

    def open_store(per_user: int, total: int) -> TraceStore:
        db = SqliteDatabase(path)
        databases.append(db)
        return SqliteTraceStore(db, per_user, total)

    def expire(user_id: str) -> None:
        with sqlite3.connect(path, timeout=5.0) as conn:
            conn.execute("UPDATE traces SET expires_at = ? WHERE user_id = ?", (int(time.time()) - 1, user_id))
        conn.close()

    def close_all() -> None:
        for db in databases:
            db.close()

    backend = TraceBackend("sqlite", open_store, expire)
    backend._cleanups.append(close_all)
    return backend


def _dynamodb_backend(client: DynamoDBClient, table: str) -> TraceBackend:
    def open_store(per_user: int, total: int) -> TraceStore:
        # A client of its own, as each Lambda instance has: only the table is shared.
        return DynamoTraceStore(boto3.client("dynamodb"), table, per_user, total)

    def expire(user_id: str) -> None:
        items = client.query(
            TableName=table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": PARTITION_KEY},
            ExpressionAttributeValues={":pk": {"S": f"trace#{user_id}"}},
        )["Items"]
        for item in items:
            client.update_item(
                TableName=table,
                Key={PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]},
                UpdateExpression="SET #ttl = :past",
                ExpressionAttributeNames={"#ttl": TTL_ATTRIBUTE},
                ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
            )

    return TraceBackend("dynamodb", open_store, expire)


@pytest.fixture(params=BACKENDS)
def trace_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TraceBackend]:
    name: str = request.param
    if name == "memory":
        backend = _memory_backend()
    elif name == "sqlite":
        backend = _sqlite_backend(tmp_path / "state.db")
    else:
        backend = _dynamodb_backend(*request.getfixturevalue("dynamodb_table"))
    try:
        yield backend
    finally:
        for cleanup in backend._cleanups:
            cleanup()


# -- redaction -----------------------------------------------------------------------------------------


@pytest.fixture
def use_redactor() -> Iterator[Callable[[Redactor], None]]:
    """Install a redactor for the test; whatever was active before comes back afterwards."""
    previous = active_redactor()
    yield install
    install(previous)


# -- the worker against the stand-ins ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same retry policies, millisecond backoff (as tests/unit/jobs/conftest.py does)."""
    for module, name in ((github_api, "DISPATCH_POLICY"), (github_api, "READ_POLICY"), (discord_api, "EDIT_POLICY")):
        policy = getattr(module, name)
        monkeypatch.setattr(module, name, dataclasses.replace(policy, base_backoff_seconds=0.001))


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    server = FakeGitHub(GITHUB_TOKEN, REPO, WORKFLOWS, refs={"main"}).start()
    yield server
    server.stop()


@pytest.fixture
def harness(
    fake_github: FakeGitHub, fake_discord: FakeDiscord, state: StateStore, commands_path: Path
) -> Iterator[TraceHarness]:
    clients: list[httpx.Client] = [http_client(), http_client()]
    github = GitHubClient(clients[0], fake_github.url, GITHUB_TOKEN, REPO)
    dispatcher = Dispatcher(github, state.jobs, REPO, sleep=lambda seconds: None, find_attempts=2)
    discord = DiscordClient(clients[1], fake_discord.api_url, APPLICATION_ID)
    metrics = MemoryMetrics()
    commands = load_commands(commands_path)
    polls = RecordingQueue()  # the follower schedules polls here; these tests do not run them
    signer = ButtonSigner(b"button-signing-secret-for-tests")
    worker = assemble_worker(
        commands, state, github, discord, dispatcher, signer, polls, metrics, webhooks=False, poll_limit=3
    )
    yield TraceHarness(worker, fake_github, fake_discord, state, metrics)
    for client in clients:
        client.close()
