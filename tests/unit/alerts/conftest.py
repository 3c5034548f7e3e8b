"""Alert fixtures: a stand-in Discord with a bot token, an injectable clock, Alerters on any store."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
from moto import mock_aws

from orchestrator.alerts.alerter import Alerter
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.observability.metrics import MemoryMetrics
from orchestrator.state.alerts import AlertStateStore
from orchestrator.state.dynamodb import DynamoAlertStore
from orchestrator.state.memory import MemoryAlertStore
from orchestrator.state.sqlite import SqliteAlertStore, SqliteDatabase
from orchestrator_dev.standins.fake_discord import FakeDiscord
from tests.unit.state.conftest import TABLE, create_state_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

APPLICATION_ID = "111111111111111111"
ALERT_CHANNEL = "123456789012345678"
BOT_TOKEN = "alerts-test-bot-token-0123456789"
# A whole minute (1_699_999_980 = 28_333_333 * 60): a burst starting here stays in one rate-limit minute.
T0 = 1_699_999_980.0
BACKENDS = ("memory", "sqlite", "dynamodb")


class Clock:
    """The Alerter's clock, moved by the test."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with FakeDiscord(APPLICATION_ID, bot_token=BOT_TOKEN) as server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0)) as client:
        yield client


@dataclass
class AlerterFactory:
    discord: FakeDiscord
    http: httpx.Client
    clock: Clock
    metrics: MemoryMetrics = field(default_factory=MemoryMetrics)

    def __call__(
        self,
        store: AlertStateStore,
        *,
        enabled: bool = True,
        channel_id: str | None = ALERT_CHANNEL,
        bot_token: str | None = BOT_TOKEN,
        window_seconds: float = 300,
        per_minute: int = 10,
    ) -> Alerter:
        client = DiscordClient(self.http, self.discord.api_url, APPLICATION_ID, bot_token=bot_token)
        return Alerter(
            store,
            client,
            channel_id,
            self.metrics,
            enabled=enabled,
            window_seconds=window_seconds,
            per_minute=per_minute,
            clock=self.clock,
        )

    def posts(self) -> list[dict[str, Any]]:
        return self.discord.channel_messages(ALERT_CHANNEL)

    def count(self, metric: str) -> int:
        return sum(1 for o in self.metrics.observations if o.name == metric)


@pytest.fixture
def make_alerter(discord: FakeDiscord, http: httpx.Client, clock: Clock) -> AlerterFactory:
    return AlerterFactory(discord, http, clock)


def make_moto_updates_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a conditional write atomically per item; moto checks the condition and then
    writes with no lock (UpdateItem as well as PutItem), so threads could both pass. One lock gives
    moto DynamoDB's guarantee; it hides nothing about our code, which is one conditional write each."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("update_item", "put_item", "delete_item", "get_item"):
        unlocked = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, __unlocked: Any = unlocked, **kwargs: Any) -> Any:
            with lock:
                return __unlocked(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    make_moto_updates_atomic(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        create_state_table(boto3.client("dynamodb"))
        yield


@dataclass
class StoreFactory:
    """`new()` opens another AlertStateStore on the same data: another Lambda instance, in effect."""

    name: str
    new: Callable[[], AlertStateStore]


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    name: str = request.param
    if name == "memory":
        shared = MemoryAlertStore()
        yield StoreFactory(name, lambda: shared)
        return
    if name == "sqlite":
        opened: list[SqliteDatabase] = []

        def sqlite_store() -> AlertStateStore:
            db = SqliteDatabase(tmp_path / "state.db")
            opened.append(db)
            return SqliteAlertStore(db)

        yield StoreFactory(name, sqlite_store)
        for db in opened:
            db.close()
        return
    request.getfixturevalue("aws")
    session = boto3.session.Session()

    def dynamo_store() -> AlertStateStore:
        # A client of its own (created here, on one thread: client creation is not thread-safe).
        client: DynamoDBClient = session.client("dynamodb", region_name="us-east-1")
        return DynamoAlertStore(client, TABLE)

    yield StoreFactory(name, dynamo_store)
