"""serve's queue storage, on memory and SQLite alike: SQS's visibility, receipts, retries and dead
letters; on SQLite it outlives the process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.queues.stored import (
    MAX_DEAD_LETTERS,
    MemoryQueueStore,
    QueueStore,
    SqliteQueueStore,
    open_queue_store,
)
from orchestrator.state.sqlite import SqliteDatabase

NOW = 1_700_000_000.0


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueueStore]:
    yield MemoryQueueStore() if request.param == "memory" else SqliteQueueStore(SqliteDatabase(tmp_path / "state.db"))


def test_a_received_message_is_hidden_for_its_visibility_timeout_then_delivered_again(store: QueueStore) -> None:
    store.put("job", visible_at=NOW, sent_at=NOW)
    first = store.receive(NOW, visibility_timeout=30)
    assert first is not None and (first.body, first.receives, first.sent_at) == ("job", 1, NOW)
    assert store.receive(NOW + 29, visibility_timeout=30) is None, "hidden while its job runs"
    again = store.receive(NOW + 30, visibility_timeout=30)  # its worker died: nobody deleted it
    assert again is not None and again.receives == 2 and again.receipt != first.receipt
    store.delete(first)
    assert store.count() == 1, "the first delivery's receipt no longer deletes it"
    store.delete(again)
    assert store.count() == 0 and store.next_visible_at() is None


def test_delayed_messages_wait_and_the_oldest_visible_goes_first(store: QueueStore) -> None:
    store.put("poll later", visible_at=NOW + 60, sent_at=NOW)
    store.put("first", visible_at=NOW, sent_at=NOW)
    store.put("second", visible_at=NOW, sent_at=NOW)
    assert store.next_visible_at() == NOW
    received = list(iter(lambda: store.receive(NOW, visibility_timeout=30), None))
    assert [m.body for m in received] == ["first", "second"]
    for message in received:
        store.delete(message)
    late = store.receive(NOW + 60, visibility_timeout=30)
    assert late is not None and late.body == "poll later"


def test_a_failed_message_comes_back_when_asked_and_dead_letters_are_bounded(store: QueueStore) -> None:
    store.put("job", visible_at=NOW, sent_at=NOW)
    message = store.receive(NOW, visibility_timeout=30)
    assert message is not None
    store.hide_until(message, NOW + 2)
    assert store.receive(NOW + 1, visibility_timeout=30) is None
    retried = store.receive(NOW + 2, visibility_timeout=30)
    assert retried is not None and retried.receives == 2
    store.dead_letter(message)  # a stale receipt: nothing moves
    assert store.dead_letters() == [] and store.count() == 1
    store.dead_letter(retried)
    assert store.dead_letters() == ["job"] and store.count() == 0
    for index in range(MAX_DEAD_LETTERS + 5):
        store.put(f"bad {index}", visible_at=NOW, sent_at=NOW)
        bad = store.receive(NOW, visibility_timeout=30)
        assert bad is not None
        store.dead_letter(bad)
    kept = store.dead_letters()
    assert len(kept) == MAX_DEAD_LETTERS and kept[-1] == f"bad {MAX_DEAD_LETTERS + 4}"


def test_on_sqlite_messages_outlive_the_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    before = open_queue_store(url)
    before.put("in flight", visible_at=NOW, sent_at=NOW)
    before.put("queued", visible_at=NOW, sent_at=NOW)
    in_flight = before.receive(NOW, visibility_timeout=30)
    assert in_flight is not None and in_flight.body == "in flight"
    after = open_queue_store(url)  # a new process on the same file
    assert after.count() == 2
    assert [m.body for m in iter(lambda: after.receive(NOW + 30, visibility_timeout=30), None)] == [
        "queued",
        "in flight",
    ], "the one in flight when the process died comes back after its visibility timeout"


def test_memory_urls_keep_the_queue_in_memory_and_dynamodb_beside_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(open_queue_store("memory://"), MemoryQueueStore)
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_queue_store("dynamodb://orchestrator-state"), SqliteQueueStore)
    assert (tmp_path / ".orchestrator" / "queue.db").exists()


def test_a_full_queue_keeps_nothing_more(store: QueueStore) -> None:
    assert store.put("first", visible_at=NOW, sent_at=NOW, limit=1)
    assert not store.put("second", visible_at=NOW, sent_at=NOW, limit=1)
    assert store.count() == 1
