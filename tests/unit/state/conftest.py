"""State-store fixtures: one StateStore per backend (memory, SQLite, DynamoDB under moto)."""

from __future__ import annotations

import copy
import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import yaml
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from moto import mock_aws

from orchestrator.state.sqlite import SqliteJobStore
from orchestrator.state.store import StateStore, dynamodb_state_store, open_state_store

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REPO_ROOT = Path(__file__).resolve().parents[3]
TABLE = "orchestrator-state"
BACKENDS = ("memory", "sqlite", "dynamodb")


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation's short-form tags (!Ref, !GetAtt, !Sub), reading them as None."""


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


@functools.cache
def _template() -> dict[str, Any]:
    text = (REPO_ROOT / "template.yaml").read_text(encoding="utf-8")
    template: dict[str, Any] = yaml.load(text, Loader=_CloudFormationLoader)
    return template


def state_table_properties() -> dict[str, Any]:
    """The StateTable resource's properties, exactly as template.yaml declares them."""
    properties: dict[str, Any] = copy.deepcopy(_template()["Resources"]["StateTable"]["Properties"])
    return properties


def create_state_table(client: DynamoDBClient, table: str = TABLE) -> None:
    """Create the table as template.yaml defines it (keys, billing mode, TTL attribute)."""
    properties = state_table_properties()
    client.create_table(
        TableName=table,
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        BillingMode=properties["BillingMode"],
    )
    client.update_time_to_live(TableName=table, TimeToLiveSpecification=properties["TimeToLiveSpecification"])


def make_moto_writes_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give moto the guarantee DynamoDB has: a conditional write is checked and applied atomically.

    moto checks a write's condition and then stores the item with no lock in between, so two threads
    can both pass the check (seen: 2 winners out of 10 claimants). DynamoDB serialises writes to an
    item. With this lock, more than one winner can only come from a write that is not conditional.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    lock = threading.RLock()  # re-entered: moto's update and transaction write through put_item

    def locked(unlocked: Callable[..., Any]) -> Callable[..., Any]:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return unlocked(self, *args, **kwargs)

        return write

    monkeypatch.setattr(Table, "put_item", locked(Table.put_item))
    monkeypatch.setattr(DynamoDBBackend, "update_item", locked(DynamoDBBackend.update_item))
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", locked(DynamoDBBackend.transact_write_items))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's mock of every AWS API, with a region and credentials that cannot reach a real account."""
    make_moto_writes_atomic(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


@pytest.fixture
def dynamodb_client(aws: None) -> DynamoDBClient:
    return boto3.client("dynamodb")


@pytest.fixture
def dynamodb_table(dynamodb_client: DynamoDBClient) -> str:
    create_state_table(dynamodb_client)
    return TABLE


def close_state_store(store: StateStore) -> None:
    """Release what a store holds (the SQLite connection; memory and DynamoDB hold nothing to close)."""
    if isinstance(store.jobs, SqliteJobStore):
        store.jobs._db.close()


@dataclass
class Backend:
    """A backend under test: `store` is the first StateStore; `reopen()` opens another on the same data."""

    name: str
    store: StateStore
    reopen: Callable[[], StateStore]
    _opened: list[StateStore] = field(default_factory=list)

    def another(self) -> StateStore:
        store = self.reopen()
        self._opened.append(store)
        return store

    def close(self) -> None:
        for store in [self.store, *self._opened]:
            close_state_store(store)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    name: str = request.param
    if name == "memory":
        store = open_state_store("memory://")
        # One process, one dict: "another" store on the same data is the same store.
        result = Backend(name, store, lambda: store)
    elif name == "sqlite":
        url = f"sqlite:///{tmp_path}/state.db"  # tmp_path is absolute: the four-slash form
        result = Backend(name, open_state_store(url), lambda: open_state_store(url))
    else:
        request.getfixturevalue("dynamodb_table")
        client: DynamoDBClient = request.getfixturevalue("dynamodb_client")
        # Built on the fixture's client, as the Lambda adapter would; reopen() goes through the URL.
        store = dynamodb_state_store(client, TABLE)
        result = Backend(name, store, lambda: open_state_store(f"dynamodb://{TABLE}"))
    try:
        yield result
    finally:
        result.close()


@pytest.fixture
def store(backend: Backend) -> StateStore:
    return backend.store


def configured(layer: BasePersistenceLayer, **config: Any) -> BasePersistenceLayer:
    """Configure a persistence layer the way Powertools' idempotent_function does, keyed on `id`."""
    layer.configure(IdempotencyConfig(event_key_jmespath="id", **config), function_name="f")
    return layer


@pytest.fixture
def layer(store: StateStore) -> BasePersistenceLayer:
    return configured(store.idempotency)


def race(attempts: list[Callable[[], str]]) -> Counter[str]:
    """Each attempt in its own thread, all released at once by a barrier; how many ended which way.
    An attempt that raises counts as `error: ...`, for the assertion to show."""
    barrier = threading.Barrier(len(attempts))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def contender(attempt: Callable[[], str]) -> None:
        barrier.wait(timeout=10)
        try:
            outcome = attempt()
        except Exception as exc:
            outcome = f"error: {exc!r}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=contender, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes
