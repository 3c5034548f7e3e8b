"""The live message's Cancel button: who may press it, GitHub's cancel, and what everyone is told."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from orchestrator_dev.standins.http_standin import Fault
from tests.contract.openapi import github_contract, validate_interaction_response
from tests.unit.runs.conftest import (
    ALICE,
    BOB,
    CAROL,
    IN_PROGRESS,
    RESULT,
    Live,
    LiveFactory,
    buttons_of,
    cancel_id,
    embed_of,
    stage_of,
)
from tests.unit.runs.messages import check_requests

EPHEMERAL = 64


@pytest.fixture
def live(live_factory: LiveFactory) -> Live:
    return live_factory()  # webhooks: the stand-in GitHub tells the server about every change


def running(live: Live) -> tuple[dict[str, Any], int, str]:
    """A run in progress: its interaction, run id and the Cancel button's custom_id."""
    payload = live.start_run()
    run_id = live.record(payload).run_id
    assert run_id is not None
    live.github.advance_job(run_id)
    live.settle()
    message = live.message(payload)
    assert stage_of(message) == IN_PROGRESS
    return payload, run_id, cancel_id(message)


def press_cancel(live: Live, custom_id: str, who: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Press Cancel; what the presser was told (ephemeral follow-ups of the press)."""
    press, answer = live.press(custom_id, who)
    assert answer.status_code == 200
    body = answer.json()
    validate_interaction_response(body)
    assert body == {"type": 6}  # acknowledged at once; the worker answers
    live.settle()
    told = live.discord.followups_for(press["token"])
    assert all(message["flags"] & EPHEMERAL for message in told)
    return told


def cancel_requests(live: Live) -> list[Any]:
    return [r for r in live.github.requests_to("POST") if r.path.endswith("/cancel")]


def test_the_invoker_cancels_and_the_message_says_who(live: Live) -> None:
    payload, run_id, custom_id = running(live)

    told = press_cancel(live, custom_id, ALICE)

    [request] = cancel_requests(live)
    github_contract().validate_request("POST", request.path, body=request.json, query=request.query)
    assert request.path == f"/repos/{live.github.repository}/actions/runs/{run_id}/cancel"
    assert live.github.cancels == [run_id]
    assert [m["content"] for m in told] == ["Cancel requested: the message shows the result when GitHub confirms it."]
    message = live.message(payload)
    assert stage_of(message) == RESULT
    assert embed_of(message)["title"] == "/diagnose · ⏹ cancelled by Alice"
    assert "Cancel run" not in buttons_of(message)
    record = live.record(payload)
    assert (record.conclusion, record.cancelled_by) == ("cancelled", "Alice")
    check_requests(live.discord.requests)


def test_a_role_in_the_cancel_list_may_cancel(live: Live) -> None:
    payload, run_id, custom_id = running(live)

    press_cancel(live, custom_id, CAROL)

    assert live.github.cancels == [run_id]
    assert embed_of(live.message(payload))["title"] == "/diagnose · ⏹ cancelled by Carol"


def test_anyone_else_is_refused_and_nothing_is_cancelled(live: Live) -> None:
    payload, _, custom_id = running(live)

    told = press_cancel(live, custom_id, BOB)

    assert [m["content"] for m in told] == [
        "Only Alice, who started this run, or the roles allowed to cancel /diagnose may cancel it."
    ]
    assert cancel_requests(live) == []
    message = live.message(payload)
    assert stage_of(message) == IN_PROGRESS
    assert "Cancel run" in buttons_of(message)
    assert live.record(payload).cancelled_by is None


def test_a_press_after_the_run_finished_is_answered_honestly(live: Live) -> None:
    payload, run_id, custom_id = running(live)
    live.github.set_run_status(run_id, "completed", "success")
    live.settle()
    assert stage_of(live.message(payload)) == RESULT

    told = press_cancel(live, custom_id, ALICE)  # an old copy of the button

    assert [m["content"] for m in told] == ["The run has already finished (success)."]
    assert cancel_requests(live) == []
    assert embed_of(live.message(payload))["title"] == "/diagnose · ✅ succeeded"


def test_github_409_for_a_run_that_finished_unseen_gets_an_honest_reply(live_factory: LiveFactory) -> None:
    live = live_factory(webhook_secret=False, deliver_webhooks=False)  # polls only, the next 10 s away
    payload = live.start_run()
    run_id = live.record(payload).run_id
    assert run_id is not None
    custom_id = cancel_id(live.message(payload))
    live.github.set_run_status(run_id, "completed", "success")  # the bot has not seen it yet

    told = press_cancel(live, custom_id, ALICE)

    [request] = cancel_requests(live)
    github_contract().validate_request("POST", request.path, body=request.json, query=request.query)
    assert [m["content"] for m in told] == ["GitHub says the run can no longer be cancelled: it has already finished."]
    assert live.github.cancels == []
    record = live.record(payload)
    assert record.cancelled_by is None
    # The server is fine: the next command still runs.
    assert live.start_run()["id"] != payload["id"]


def test_github_down_when_cancelling_gets_an_honest_reply(live: Live) -> None:
    payload, _, custom_id = running(live)
    live.github.inject(*[Fault(method="POST", path=r"/cancel$", status=503, body={"message": "down"})] * 4)

    told = press_cancel(live, custom_id, ALICE)

    assert [m["content"] for m in told] == ["GitHub could not be reached, so the run was not cancelled. Try again."]
    assert live.github.cancels == []
    assert stage_of(live.message(payload)) == IN_PROGRESS


def test_a_forged_cancel_button_is_refused_at_once(live: Live) -> None:
    payload, _, custom_id = running(live)
    action, ref, expiry, signature = custom_id.split(":")
    forged = f"{action}:{ref}:{expiry}:{signature[::-1]}"

    _, answer = live.press(forged, ALICE)

    body = answer.json()
    assert body["type"] == 4
    assert body["data"]["flags"] == EPHEMERAL
    assert "not made by this bot" in body["data"]["content"]
    live.settle()
    assert cancel_requests(live) == []
    assert stage_of(live.message(payload)) == IN_PROGRESS


def test_a_replayed_press_is_audited_and_answered_once(live: Live) -> None:
    """A signed request can be sent again for 5 minutes: the same press is one press."""
    _, _, custom_id = running(live)
    pressed, _ = live.press(custom_id, BOB)
    for _ in range(3):
        assert live.send(pressed).json() == {"type": 6}
    live.settle()
    assert len(live.discord.followups_for(pressed["token"])) == 1
    denied = [e for e in live.runtime.state.audit.query(since=0) if e.outcome == "denied"]
    assert len(denied) == 1


def test_a_replayed_refused_command_is_audited_once(live: Live) -> None:
    payload, answer = live.command("diagnose", {}, BOB)  # its required option left out: refused
    body = answer.json()
    assert body["type"] == 4 and "`target` is required" in body["data"]["content"]
    for _ in range(3):
        assert live.send(payload).json() == body
    live.settle()
    events = [e for e in live.runtime.state.audit.query(since=0) if e.invocation.interaction_id == payload["id"]]
    assert [e.outcome for e in events] == ["invalid"]
