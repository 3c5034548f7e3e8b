"""State-store fixtures: one StateStore per backend (memory, SQLite, DynamoDB under moto)."""

from __future__ import annotations

import io
import logging
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

from orchestrator.observability.logging import configure_logging, get_logger
from orchestrator.state.sqlite import SqliteJobStore
from orchestrator.state.store import StateStore, open_state_store

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REPO_ROOT = Path(__file__).resolve().parents[2]
TABLE = "orchestrator-state"
BACKENDS = ("memory", "sqlite", "dynamodb")


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation's short-form tags (!Ref, !GetAtt, !Sub), reading them as None."""


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def state_table_properties() -> dict[str, Any]:
    """The StateTable resource's properties, exactly as template.yaml declares them."""
    template = yaml.load((REPO_ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=_CloudFormationLoader)
    properties: dict[str, Any] = template["Resources"]["StateTable"]["Properties"]
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


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's mock of every AWS API, with a region and credentials that cannot reach a real account."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


@pytest.fixture
def dynamodb_table(aws: None) -> str:
    create_state_table(boto3.client("dynamodb"))
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
        url = f"dynamodb://{TABLE}"
        result = Backend(name, open_state_store(url), lambda: open_state_store(url))
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


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything our logger writes during the test; the handler's previous stream is restored after."""
    handler = get_logger().registered_handler
    previous = handler.stream if isinstance(handler, logging.StreamHandler) else None
    stream = io.StringIO()
    configure_logging("test", stream=stream)
    try:
        yield stream
    finally:
        handler = get_logger().registered_handler
        if isinstance(handler, logging.StreamHandler):
            usable = previous is not None and not getattr(previous, "closed", False)
            handler.setStream(previous if usable else io.StringIO())
