"""STATE_STORE URLs: every accepted form, and errors that say what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.state.dynamodb import DynamoJobStore
from orchestrator.state.memory import MemoryIdempotencyLayer, MemoryJobStore
from orchestrator.state.sqlite import SqliteJobStore
from orchestrator.state.sqlite_idempotency import SqliteIdempotencyLayer
from orchestrator.state.store import open_state_store
from orchestrator.state.url import StateStoreUrl, StateStoreUrlError, parse_state_store_url
from tests.fixtures.state import close_state_store


def test_memory() -> None:
    assert parse_state_store_url("memory://") == StateStoreUrl("memory")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///state.db", Path("state.db")),
        ("sqlite:///.orchestrator/state.db", Path(".orchestrator/state.db")),
        ("sqlite:////var/lib/orchestrator/state.db", Path("/var/lib/orchestrator/state.db")),
        ("sqlite:////tmp/state.db", Path("/tmp/state.db")),
    ],
)
def test_sqlite_three_slashes_relative_four_absolute(url: str, path: Path) -> None:
    parsed = parse_state_store_url(url)

    assert parsed == StateStoreUrl("sqlite", sqlite_path=path)
    assert parsed.sqlite_path is not None
    assert parsed.sqlite_path.is_absolute() == url.startswith("sqlite:////")
    assert parsed.table is None


@pytest.mark.parametrize("table", ["abc", "orchestrator-state", "Stack_StateTable-1A2B3C.v2", "t" * 255])
def test_dynamodb_table_names(table: str) -> None:
    assert parse_state_store_url(f"dynamodb://{table}") == StateStoreUrl("dynamodb", table=table)


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("", "memory://"),
        ("memory", "memory://"),
        ("memory:///", "memory://"),
        ("memory://x", "memory://"),
        ("MEMORY://", "memory://"),
        ("redis://localhost:6379/0", "sqlite:///"),
        ("postgresql://db/state", "dynamodb://TABLE"),
        ("sqlite://state.db", "sqlite:///path/to/state.db"),
        ("sqlite:/state.db", "sqlite:///path/to/state.db"),
        ("sqlite:///", "needs a file path"),
        ("sqlite:////", "needs a file path"),
        ("sqlite:///var/lib/", "needs a file path"),
        ("dynamodb://", "not a DynamoDB table name"),
        ("dynamodb://ab", "not a DynamoDB table name"),
        ("dynamodb://my table", "not a DynamoDB table name"),
        ("dynamodb://stack/table", "not a DynamoDB table name"),
        ("dynamodb://table?region=eu-west-1", "not a DynamoDB table name"),
        ("dynamodb://" + "t" * 256, "not a DynamoDB table name"),
    ],
)
def test_bad_urls_are_refused_with_a_hint(url: str, hint: str) -> None:
    with pytest.raises(StateStoreUrlError) as caught:
        parse_state_store_url(url)

    assert hint in str(caught.value)
    assert isinstance(caught.value, ValueError)  # settings validation catches ValueError


def test_unsupported_url_error_names_the_url_and_every_accepted_form() -> None:
    with pytest.raises(StateStoreUrlError) as caught:
        parse_state_store_url("mongodb://x")

    message = str(caught.value)
    assert "'mongodb://x'" in message
    for form in ("memory://", "sqlite:///", "dynamodb://"):
        assert form in message


def test_open_state_store_builds_the_named_backend(tmp_path: Path, dynamodb_table: str) -> None:
    memory = open_state_store("memory://")
    assert isinstance(memory.jobs, MemoryJobStore)
    assert isinstance(memory.idempotency, MemoryIdempotencyLayer)

    sqlite = open_state_store(f"sqlite:///{tmp_path}/nested/dir/state.db")
    try:
        assert isinstance(sqlite.jobs, SqliteJobStore)
        assert isinstance(sqlite.idempotency, SqliteIdempotencyLayer)
        assert (tmp_path / "nested" / "dir" / "state.db").is_file()  # parent directories are created
    finally:
        close_state_store(sqlite)

    dynamo = open_state_store(f"dynamodb://{dynamodb_table}")
    assert isinstance(dynamo.jobs, DynamoJobStore)
    assert type(dynamo.idempotency).__name__ == "DynamoDBPersistenceLayer"


def test_relative_sqlite_path_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    store = open_state_store("sqlite:///.orchestrator/state.db")
    close_state_store(store)

    assert (tmp_path / ".orchestrator" / "state.db").is_file()


def test_open_state_store_refuses_a_bad_url() -> None:
    with pytest.raises(StateStoreUrlError):
        open_state_store("sqlite://state.db")
