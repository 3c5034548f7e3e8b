"""What the run tracker's live server writes to the audit trail: each command attempt once, with who,
what, where, when, trace, run and outcome, and each press on a run with its presser."""

from __future__ import annotations

import time

import pytest

from orchestrator.audit.model import AuditEvent
from orchestrator_dev.standins.signing import InteractionSigner
from tests.unit.runs.conftest import ALICE, BOB, CAROL, Live, LiveFactory, cancel_id
from tests.unit.runs.test_confirmations import ask, data

ROLE = "1150000000000000099"


@pytest.fixture
def live(live_factory: LiveFactory) -> Live:
    return live_factory(webhook_secret=False, deliver_webhooks=False)


def events(live: Live) -> list[AuditEvent]:
    live.settle()
    return list(reversed(live.runtime.state.audit.query(since=0)))  # oldest first


def test_an_accepted_command_is_audited_once_with_its_run(live: Live) -> None:
    payload = live.start_run()
    [event] = events(live)
    record = live.record(payload)
    assert event.outcome == "accepted"
    assert (event.invocation.user_id, event.invocation.user_name, event.invocation.command) == (
        ALICE["user_id"],
        "Alice",
        "diagnose",
    )
    assert (event.invocation.guild_id, event.invocation.channel_id) == (payload["guild_id"], payload["channel_id"])
    assert (event.invocation.trace_id, event.invocation.interaction_id, event.run_id) == (
        record.invocation.trace_id,
        payload["id"],
        record.run_id,
    )
    assert event.invocation.options == {"target": "staging"}
    assert event.detail == "dispatched"
    assert event.at == record.received_at, "stamped with when the user ran it"


def test_refusals_are_audited_with_what_the_user_sent(live: Live) -> None:
    live.command("diagnose", {})  # invalid: target missing
    live.command("nonexistent", {"x": "y"})
    live.settle()
    outcomes = [(e.outcome, e.invocation.command, e.invocation.options) for e in events(live)]
    assert outcomes == [("invalid", "diagnose", {}), ("unknown_command", "nonexistent", {"x": "y"})]
    assert all(e.detail for e in events(live)), "the reply the user got is kept"


def test_confirmed_and_cancelled_confirmations_are_audited(live: Live) -> None:
    _, confirm_buttons = ask(live)
    data(live.press(confirm_buttons["Confirm"])[1])
    _, cancel_buttons = ask(live)
    data(live.press(cancel_buttons["Cancel"])[1])
    confirmed, cancelled = events(live)
    assert (confirmed.outcome, confirmed.invocation.command, confirmed.detail) == ("confirmed", "deploy", "dispatched")
    assert confirmed.run_id is not None
    assert (cancelled.outcome, cancelled.run_id) == ("cancelled", None)
    assert cancelled.invocation.options == {"environment": "production"}


def test_cancel_presses_on_a_live_run_are_audited_with_the_presser(live: Live) -> None:
    payload = live.start_run()
    record = live.record(payload)
    assert record.run_id is not None
    live.github.advance_job(record.run_id)
    live.settle()
    custom_id = cancel_id(live.message(payload))
    live.press(custom_id, BOB)
    live.settle()
    live.press(custom_id, CAROL)
    accepted, denied, cancelled = events(live)
    assert accepted.outcome == "accepted"
    assert (denied.outcome, denied.invocation.user_id, denied.run_id) == ("denied", BOB["user_id"], record.run_id)
    assert (cancelled.outcome, cancelled.invocation.user_id, cancelled.invocation.user_name) == (
        "run_cancelled",
        CAROL["user_id"],
        "Carol",
    )
    assert cancelled.invocation.roles == tuple(sorted(CAROL["roles"]))
    assert cancelled.invocation.trace_id == record.invocation.trace_id
    assert accepted.at <= denied.at <= cancelled.at <= time.time(), "stamped with when each press was made"


def test_signer_is_importable_for_the_live_rig() -> None:
    assert InteractionSigner.generate().public_key_hex
