"""Many claimants, one key: exactly one may win, on every backend and across connections."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import boto3
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from orchestrator.state.dynamodb import dynamo_idempotency_layer
from orchestrator.state.store import StateStore, open_state_store
from tests.state.conftest import TABLE, close_state_store, configured

MINUTE_MS = 60_000


def race(layers: list[BasePersistenceLayer], key: str) -> Counter[str]:
    """Each layer claims `key` from its own thread, all released at once by a barrier."""
    barrier = threading.Barrier(len(layers))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def contender(layer: BasePersistenceLayer) -> None:
        barrier.wait(timeout=10)
        try:
            layer.save_inprogress(data={"id": key}, remaining_time_in_millis=MINUTE_MS)
            outcome = "won"
        except IdempotencyItemAlreadyExistsError:
            outcome = "refused"
        except Exception as exc:  # anything else is a failure the assertion will show
            outcome = f"error: {exc!r}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=contender, args=(layer,)) for layer in layers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_fifty_threads_on_every_backend_one_winner(store: StateStore) -> None:
    """Memory and SQLite: threads of one process sharing the store (one dict, one connection)."""
    layer = configured(store.idempotency)

    assert race([layer] * 50, "k") == Counter(won=1, refused=49)


def test_sqlite_two_connections_on_one_file_interleaved_one_winner(tmp_path: Path) -> None:
    """Two StateStores (two connections, as two processes would have) on the same file."""
    url = f"sqlite:///{tmp_path}/state.db"
    stores = [open_state_store(url), open_state_store(url)]
    try:
        layers = [configured(store.idempotency) for store in stores]
        for round_ in range(5):
            # Interleaved: neighbouring threads use different connections.
            contenders = [layers[i % 2] for i in range(20)]
            assert race(contenders, f"key-{round_}") == Counter(won=1, refused=19), round_
    finally:
        for store in stores:
            close_state_store(store)


def test_dynamodb_ten_clients_one_winner(dynamodb_table: str) -> None:
    """Ten Lambda instances, each with its own boto3 client, racing on the same table."""
    layers = [
        configured(dynamo_idempotency_layer(boto3.session.Session().client("dynamodb"), TABLE)) for _ in range(10)
    ]

    assert race(layers, "k") == Counter(won=1, refused=9)


def test_dynamodb_claim_is_visible_to_another_client(dynamodb_table: str) -> None:
    first = configured(dynamo_idempotency_layer(boto3.session.Session().client("dynamodb"), TABLE))
    second = configured(dynamo_idempotency_layer(boto3.session.Session().client("dynamodb"), TABLE))
    first.save_inprogress(data={"id": "k"}, remaining_time_in_millis=MINUTE_MS)

    record = second.get_record(data={"id": "k"})

    assert record is not None
    assert record.status == "INPROGRESS"
