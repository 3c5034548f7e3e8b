"""The Powertools persistence-layer contract, on every backend, through the calls Powertools makes.

The layer is configured as `idempotent_function` configures it, then driven with
save_inprogress / save_success / get_record / delete_record. The three backends
must agree, because the worker's exactly-once dispatch rests on this contract.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from orchestrator.queues.local import LocalContext
from orchestrator.state.idempotency_rules import may_overwrite
from orchestrator.state.store import StateStore, open_state_store
from tests.fixtures.state import Backend, close_state_store, configured

MINUTE_MS = 60_000
EVENT = {"id": "1283810254398574592", "other": "ignored by the key"}


def worker_config() -> IdempotencyConfig:
    """The config idempotent_function gets in the worker: keyed on `id`, with a Lambda-like deadline."""
    config = IdempotencyConfig(event_key_jmespath="id")
    config.register_lambda_context(LocalContext(time.monotonic() + 60))
    return config


def claim(layer: BasePersistenceLayer, event: dict[str, Any] = EVENT, *, remaining_ms: int = MINUTE_MS) -> None:
    layer.save_inprogress(data=event, remaining_time_in_millis=remaining_ms)


def record_of(layer: BasePersistenceLayer, event: dict[str, Any] = EVENT) -> DataRecord:
    record = layer.get_record(data=event)
    assert record is not None
    return record


def release(layer: BasePersistenceLayer, event: dict[str, Any] = EVENT) -> None:
    layer.delete_record(data=event, exception=RuntimeError("the function failed"))


def test_first_claim_succeeds_and_is_in_progress(layer: BasePersistenceLayer) -> None:
    before_ms = int(time.time() * 1000)

    claim(layer)

    record = record_of(layer)
    assert record.status == "INPROGRESS"
    assert record.response_json_as_dict() is None
    assert record.in_progress_expiry_timestamp is not None
    assert before_ms + MINUTE_MS - 1000 <= record.in_progress_expiry_timestamp <= int(time.time() * 1000) + MINUTE_MS
    assert record.expiry_timestamp is not None
    assert record.expiry_timestamp > time.time() + 3000  # Powertools' default: an hour


def test_get_record_of_an_unknown_key_raises_not_found(layer: BasePersistenceLayer) -> None:
    with pytest.raises(IdempotencyItemNotFoundError):
        layer.get_record(data={"id": "never-claimed"})


def test_second_claim_of_the_same_key_is_refused(layer: BasePersistenceLayer) -> None:
    claim(layer)

    with pytest.raises(IdempotencyItemAlreadyExistsError) as caught:
        claim(layer, {"id": EVENT["id"], "other": "a different payload, same key"})

    # Powertools uses the old record, when given, to skip a read.
    old = caught.value.old_data_record
    if old is not None:
        assert old.status == "INPROGRESS"


def test_other_keys_are_independent(layer: BasePersistenceLayer) -> None:
    claim(layer)

    claim(layer, {"id": "another-interaction"})

    assert record_of(layer, {"id": "another-interaction"}).status == "INPROGRESS"


def test_save_success_completes_the_record_with_the_response(layer: BasePersistenceLayer) -> None:
    claim(layer)
    response = {"kind": "dispatched", "run_id": 16_000_000_000, "html_url": "https://github.com/x", "detail": None}

    layer.save_success(data=EVENT, result=response)

    record = record_of(layer)
    assert record.status == "COMPLETED"
    assert record.response_json_as_dict() == response
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        claim(layer)


def test_completed_record_is_not_reclaimable_once_its_in_progress_time_is_over(layer: BasePersistenceLayer) -> None:
    """The in-progress takeover rule applies to INPROGRESS only: a completed job is never redone."""
    claim(layer, remaining_ms=1)
    layer.save_success(data=EVENT, result={"kind": "dispatched"})
    time.sleep(0.02)

    with pytest.raises(IdempotencyItemAlreadyExistsError):
        claim(layer)
    assert record_of(layer).status == "COMPLETED"


def test_after_delete_the_key_can_be_claimed_again(layer: BasePersistenceLayer) -> None:
    claim(layer)

    release(layer)

    with pytest.raises(IdempotencyItemNotFoundError):
        layer.get_record(data=EVENT)
    claim(layer)
    assert record_of(layer).status == "INPROGRESS"


def test_delete_of_an_unknown_key_is_harmless(layer: BasePersistenceLayer) -> None:
    release(layer, {"id": "never-claimed"})


def test_expired_record_can_be_reclaimed(layer: BasePersistenceLayer) -> None:
    claim(layer)
    # A record saved with an expiry already in the past: what the TTL leaves behind until it deletes it.
    layer.expires_after_seconds = -10
    layer.save_success(data=EVENT, result={"kind": "dispatched"})
    assert record_of(layer).status == "EXPIRED"
    layer.expires_after_seconds = 3600

    claim(layer)

    assert record_of(layer).status == "INPROGRESS"


def test_in_progress_record_whose_holder_ran_out_of_time_can_be_reclaimed(layer: BasePersistenceLayer) -> None:
    """A Lambda killed mid-call leaves INPROGRESS behind; once its remaining time is over, it may be taken."""
    claim(layer, remaining_ms=1)
    time.sleep(0.02)

    claim(layer)

    record = record_of(layer)
    assert record.status == "INPROGRESS"
    assert record.in_progress_expiry_timestamp is not None
    assert record.in_progress_expiry_timestamp > int(time.time() * 1000) + MINUTE_MS // 2


def test_in_progress_record_without_a_deadline_is_not_reclaimable(layer: BasePersistenceLayer) -> None:
    """Without a Lambda context there is no in-progress expiry: only the record's own expiry frees it."""
    with pytest.warns(UserWarning, match="remaining time"):
        layer.save_inprogress(data=EVENT, remaining_time_in_millis=None)
    time.sleep(0.02)

    with pytest.raises(IdempotencyItemAlreadyExistsError):
        claim(layer)


def test_update_with_save_success_without_a_claim_still_records(layer: BasePersistenceLayer) -> None:
    layer.save_success(data=EVENT, result={"kind": "rejected"})

    assert record_of(layer).response_json_as_dict() == {"kind": "rejected"}


def test_key_prefix_and_function_name_separate_functions(store: StateStore) -> None:
    """Two functions configured on the same store never share keys (Powertools prefixes the hash)."""
    layer = configured(store.idempotency)
    claim(layer)
    layer.configure(IdempotencyConfig(event_key_jmespath="id"), function_name="g")  # same layer, other function

    claim(layer)


# -- the whole Powertools flow, as the worker uses it -----------------------------------------------


def test_idempotent_function_runs_once_and_replays_the_saved_result(store: StateStore) -> None:
    calls: list[str] = []

    def work(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(event["id"])
        return {"kind": "dispatched", "n": len(calls)}

    once = idempotent_function(
        data_keyword_argument="event",
        persistence_store=store.idempotency,
        config=worker_config(),
    )(work)

    assert once(event={"id": "a"}) == {"kind": "dispatched", "n": 1}
    assert once(event={"id": "a"}) == {"kind": "dispatched", "n": 1}
    assert once(event={"id": "b"}) == {"kind": "dispatched", "n": 2}
    assert calls == ["a", "b"]


def test_idempotent_function_releases_the_key_when_the_function_raises(store: StateStore) -> None:
    attempts: list[int] = []

    def work(event: dict[str, Any]) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("GitHub unreachable")
        return {"kind": "dispatched"}

    once = idempotent_function(
        data_keyword_argument="event",
        persistence_store=store.idempotency,
        config=worker_config(),
    )(work)

    with pytest.raises(ConnectionError):
        once(event={"id": "a"})
    assert once(event={"id": "a"}) == {"kind": "dispatched"}
    assert len(attempts) == 2


def test_idempotent_function_refuses_while_another_call_holds_the_key(store: StateStore) -> None:
    layer = configured(store.idempotency)
    once = idempotent_function(
        data_keyword_argument="event",
        persistence_store=layer,
        config=worker_config(),
    )(lambda event: {"kind": "dispatched"})
    # Powertools names keys after the function it wraps; claim that key as a concurrent caller would.
    once(event={"id": "warm-up"})
    layer.save_inprogress(data={"id": "busy"}, remaining_time_in_millis=MINUTE_MS)

    with pytest.raises(IdempotencyAlreadyInProgressError):
        once(event={"id": "busy"})


def test_sqlite_claims_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    first = open_state_store(url)
    claim(configured(first.idempotency))
    configured(first.idempotency).save_success(data=EVENT, result={"kind": "dispatched", "run_id": 1})
    close_state_store(first)

    second = open_state_store(url)
    try:
        layer = configured(second.idempotency)
        with pytest.raises(IdempotencyItemAlreadyExistsError):
            claim(layer)
        assert record_of(layer).response_json_as_dict() == {"kind": "dispatched", "run_id": 1}
    finally:
        close_state_store(second)


def test_another_store_on_the_same_data_sees_the_claim(backend: Backend) -> None:
    """What a second Lambda instance (DynamoDB) or a restarted server (SQLite) sees."""
    claim(configured(backend.store.idempotency))

    other = configured(backend.another().idempotency)

    with pytest.raises(IdempotencyItemAlreadyExistsError):
        claim(other)
    assert record_of(other).status == "INPROGRESS"


# -- the shared rule, unit by unit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expiry", "in_progress_expiry_ms", "expected"),
    [
        ("INPROGRESS", +3600, +60_000, False),  # live claim
        ("INPROGRESS", +3600, -1_000, True),  # holder ran out of time
        ("INPROGRESS", +3600, None, False),  # no deadline known
        ("INPROGRESS", -10, +60_000, True),  # expired record
        ("COMPLETED", +3600, -1_000, False),  # done: never redone
        ("COMPLETED", -10, None, True),  # done long ago, TTL not yet run
        ("COMPLETED", None, None, False),  # no expiry at all
    ],
)
def test_may_overwrite(status: str, expiry: int | None, in_progress_expiry_ms: int | None, expected: bool) -> None:
    now = 1_700_000_000.5
    record = DataRecord(
        "k",
        status=status,
        expiry_timestamp=None if expiry is None else int(now) + expiry,
        in_progress_expiry_timestamp=None if in_progress_expiry_ms is None else int(now * 1000) + in_progress_expiry_ms,
    )

    assert may_overwrite(record, now=now) is expected
