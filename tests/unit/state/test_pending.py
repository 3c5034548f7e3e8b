"""Pending confirmations on every backend: a body is taken once, never after it expires, and of
two presses at once (two instances, racing threads) exactly one gets it."""

from __future__ import annotations

import time
from functools import partial

from orchestrator.state.store import StateStore
from tests.fixtures.state import Backend, race

BODY = '{"v": 1, "kind": "dispatch", "command": "deploy"}'


def test_a_pending_body_is_taken_once(store: StateStore) -> None:
    store.pending.put("ref-1", BODY, time.time() + 300)

    assert store.pending.take("ref-1") == BODY
    assert store.pending.take("ref-1") is None


def test_an_unknown_ref_is_none(store: StateStore) -> None:
    assert store.pending.take("never-put") is None


def test_an_expired_body_is_never_taken(store: StateStore) -> None:
    store.pending.put("ref-2", BODY, time.time() - 1)

    assert store.pending.take("ref-2") is None


def test_refs_are_independent(store: StateStore) -> None:
    store.pending.put("ref-3", BODY, time.time() + 300)
    store.pending.put("ref-4", BODY.replace("deploy", "diagnose"), time.time() + 300)

    assert store.pending.take("ref-4") == BODY.replace("deploy", "diagnose")
    assert store.pending.take("ref-3") == BODY


def test_of_racing_presses_on_several_instances_exactly_one_takes_it(backend: Backend) -> None:
    backend.store.pending.put("ref-5", BODY, time.time() + 300)
    instances = [backend.another() for _ in range(6)]

    def press(instance: StateStore) -> str:
        return "took" if instance.pending.take("ref-5") == BODY else "none"

    outcomes = race([partial(press, instance) for instance in instances])

    assert outcomes == {"took": 1, "none": 5}, outcomes
