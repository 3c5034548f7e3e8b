"""Many claimants, one key: exactly one may win, on every backend and across connections."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

import boto3
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from orchestrator.state.dynamodb import dynamo_idempotency_layer
from orchestrator.state.store import StateStore, open_state_store
from tests.fixtures.state import TABLE, close_state_store, configured, race

MINUTE_MS = 60_000


def race_for(layers: list[BasePersistenceLayer], key: str) -> Counter[str]:
    """Each layer claims `key` from its own thread, all released at once."""

    def claim(layer: BasePersistenceLayer) -> str:
        try:
            layer.save_inprogress(data={"id": key}, remaining_time_in_millis=MINUTE_MS)
        except IdempotencyItemAlreadyExistsError:
            return "refused"
        return "won"

    return race([partial(claim, layer) for layer in layers])


def test_fifty_threads_on_every_backend_one_winner(store: StateStore) -> None:
    """Memory and SQLite: threads of one process sharing the store (one dict, one connection)."""
    layer = configured(store.idempotency)

    assert race_for([layer] * 50, "k") == Counter(won=1, refused=49)


def test_sqlite_two_connections_on_one_file_interleaved_one_winner(tmp_path: Path) -> None:
    """Two StateStores (two connections, as two processes would have) on the same file."""
    url = f"sqlite:///{tmp_path}/state.db"
    stores = [open_state_store(url), open_state_store(url)]
    try:
        layers = [configured(store.idempotency) for store in stores]
        for round_ in range(5):
            # Interleaved: neighbouring threads use different connections.
            contenders = [layers[i % 2] for i in range(20)]
            assert race_for(contenders, f"key-{round_}") == Counter(won=1, refused=19), round_
    finally:
        for store in stores:
            close_state_store(store)


def test_dynamodb_ten_clients_one_winner(dynamodb_table: str) -> None:
    """Ten Lambda instances, each with its own boto3 client, racing on the same table."""
    layers = [
        configured(dynamo_idempotency_layer(boto3.session.Session().client("dynamodb"), TABLE)) for _ in range(10)
    ]

    assert race_for(layers, "k") == Counter(won=1, refused=9)


def test_dynamodb_claim_is_visible_to_another_client(dynamodb_table: str) -> None:
    first = configured(dynamo_idempotency_layer(boto3.session.Session().client("dynamodb"), TABLE))
    second = configured(dynamo_idempotency_layer(boto3.session.Session().client("dynamodb"), TABLE))
    first.save_inprogress(data={"id": "k"}, remaining_time_in_millis=MINUTE_MS)

    record = second.get_record(data={"id": "k"})

    assert record is not None
    assert record.status == "INPROGRESS"
