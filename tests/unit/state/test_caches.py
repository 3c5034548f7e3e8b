"""The cache of what the bot read from GitHub, on every backend: entries round trip and are replaced
whole, and a refresh is claimed by one caller per key per interval (also by racing threads)."""

from __future__ import annotations

from collections import Counter
from functools import partial
from pathlib import Path

from orchestrator.state.caches import Cached, CacheStore
from orchestrator.state.store import StateStore, open_state_store
from tests.fixtures.state import Backend, close_state_store, race

KEY = "workflow#acme/ops#release.yml#main"
NOW = 1_750_000_000.0
INTERVAL = 300.0
BODY = '{"dispatchable": true, "run_name": null, "inputs": []}'


def test_a_missing_key_is_none(store: StateStore) -> None:
    assert store.caches.get(KEY) is None


def test_an_entry_round_trips_with_its_etag(store: StateStore) -> None:
    entry = Cached(body=BODY, fetched_at=NOW + 0.25, etag='W/"5f1c0ffee"')

    store.caches.put(KEY, entry)

    assert store.caches.get(KEY) == entry


def test_an_entry_round_trips_without_an_etag(store: StateStore) -> None:
    entry = Cached(body='["main", "release/1.x", "Ünïcödé ✓"]', fetched_at=NOW)

    store.caches.put(KEY, entry)

    assert store.caches.get(KEY) == entry


def test_a_put_replaces_body_fetched_at_and_etag(store: StateStore) -> None:
    store.caches.put(KEY, Cached(body=BODY, fetched_at=NOW, etag='"one"'))
    newer = Cached(body='{"changed": true}', fetched_at=NOW + 60, etag='"two"')

    store.caches.put(KEY, newer)

    assert store.caches.get(KEY) == newer


def test_a_put_without_an_etag_removes_the_previous_one(store: StateStore) -> None:
    store.caches.put(KEY, Cached(body=BODY, fetched_at=NOW, etag='"one"'))

    store.caches.put(KEY, Cached(body=BODY, fetched_at=NOW + 60))

    assert store.caches.get(KEY) == Cached(body=BODY, fetched_at=NOW + 60, etag=None)


def test_keys_are_kept_apart(store: StateStore) -> None:
    store.caches.put("branches#acme/ops", Cached(body='["main"]', fetched_at=NOW))
    store.caches.put("tags#acme/ops", Cached(body='["v1"]', fetched_at=NOW + 1, etag='"t"'))

    assert store.caches.get("branches#acme/ops") == Cached(body='["main"]', fetched_at=NOW)
    assert store.caches.get("tags#acme/ops") == Cached(body='["v1"]', fetched_at=NOW + 1, etag='"t"')
    assert store.caches.get("environments#acme/ops") is None


def test_a_refresh_is_claimed_once_per_interval(store: StateStore) -> None:
    caches = store.caches

    assert caches.claim_refresh(KEY, now=NOW, interval=INTERVAL) is True
    assert caches.claim_refresh(KEY, now=NOW, interval=INTERVAL) is False
    assert caches.claim_refresh(KEY, now=NOW + 1, interval=INTERVAL) is False
    assert caches.claim_refresh(KEY, now=NOW + INTERVAL - 1, interval=INTERVAL) is False
    # The refused claims did not move the window: it still ends INTERVAL after the first.
    assert caches.claim_refresh(KEY, now=NOW + INTERVAL + 1, interval=INTERVAL) is True
    assert caches.claim_refresh(KEY, now=NOW + INTERVAL + 2, interval=INTERVAL) is False
    assert caches.claim_refresh(KEY, now=NOW + 2 * INTERVAL + 2, interval=INTERVAL) is True


def test_claims_on_different_keys_are_independent(store: StateStore) -> None:
    caches = store.caches

    assert caches.claim_refresh("branches#acme/ops", now=NOW, interval=INTERVAL) is True
    assert caches.claim_refresh("tags#acme/ops", now=NOW, interval=INTERVAL) is True
    assert caches.claim_refresh("branches#acme/ops", now=NOW + 1, interval=INTERVAL) is False
    assert caches.claim_refresh("tags#acme/ops", now=NOW + 1, interval=INTERVAL) is False


def test_a_claim_on_a_key_never_put_does_not_make_an_entry(store: StateStore) -> None:
    assert store.caches.claim_refresh(KEY, now=NOW, interval=INTERVAL) is True

    assert store.caches.get(KEY) is None


def test_a_put_after_a_claim_is_read_back(store: StateStore) -> None:
    entry = Cached(body=BODY, fetched_at=NOW + 1, etag='"e"')
    store.caches.claim_refresh(KEY, now=NOW, interval=INTERVAL)

    store.caches.put(KEY, entry)

    assert store.caches.get(KEY) == entry
    assert store.caches.claim_refresh(KEY, now=NOW + 2, interval=INTERVAL) is False


def test_a_claim_after_a_put_leaves_the_entry_alone(store: StateStore) -> None:
    entry = Cached(body=BODY, fetched_at=NOW, etag='"e"')
    store.caches.put(KEY, entry)

    assert store.caches.claim_refresh(KEY, now=NOW + 1, interval=INTERVAL) is True

    assert store.caches.get(KEY) == entry


def test_entries_and_claims_are_seen_by_another_store_on_the_same_data(backend: Backend) -> None:
    entry = Cached(body=BODY, fetched_at=NOW, etag='"e"')
    backend.store.caches.put(KEY, entry)
    assert backend.store.caches.claim_refresh(KEY, now=NOW, interval=INTERVAL) is True

    other = backend.another()

    assert other.caches.get(KEY) == entry
    assert other.caches.claim_refresh(KEY, now=NOW + 1, interval=INTERVAL) is False


def claims(caches: list[CacheStore], key: str) -> Counter[str]:
    """Each cache store claims `key` from its own thread, all released at once."""

    def claim(cache: CacheStore) -> str:
        return "won" if cache.claim_refresh(key, now=NOW, interval=INTERVAL) else "refused"

    return race([partial(claim, cache) for cache in caches])


def test_two_threads_claiming_one_key_on_one_sqlite_store_one_wins(tmp_path: Path) -> None:
    store = open_state_store(f"sqlite:///{tmp_path}/state.db")
    try:
        for round_ in range(10):
            assert claims([store.caches] * 2, f"key-{round_}") == Counter(won=1, refused=1), round_
    finally:
        close_state_store(store)


def test_two_threads_on_two_sqlite_connections_claiming_one_key_one_wins(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    stores = [open_state_store(url), open_state_store(url)]
    try:
        for round_ in range(10):
            assert claims([s.caches for s in stores], f"key-{round_}") == Counter(won=1, refused=1), round_
    finally:
        for store in stores:
            close_state_store(store)
