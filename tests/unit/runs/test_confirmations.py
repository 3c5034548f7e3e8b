"""`confirm: true` commands: Confirm/Cancel buttons only the invoker may press, checked from their signed ids."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.interactions.presses import ButtonHandler
from tests.contract.openapi import validate_interaction_response
from tests.unit.runs.conftest import ALICE, BOB, BUTTON_SECRET, QUEUED, Live, LiveFactory, embed_of, stage_of
from tests.unit.runs.messages import check_requests

EPHEMERAL = 64
FORGED = "This button was not made by this bot (or the bot's signing secret changed). Run the command again."


@pytest.fixture
def live(live_factory: LiveFactory) -> Live:
    return live_factory(webhook_secret=False, deliver_webhooks=False)


def ask(
    live: Live, who: Mapping[str, Any] = ALICE, command: str = "deploy", **kwargs: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Run a confirm: true command; its answer and its buttons' custom_ids by label."""
    payload = live.signer.application_command(command, {"environment": "production"}, **who, **kwargs)
    answer = live.send(payload)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    validate_interaction_response(body)
    [row] = body["data"]["components"]
    return body, {button["label"]: button["custom_id"] for button in row["components"]}


def data(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    validate_interaction_response(body)
    return body


def refusal(answer: httpx.Response) -> str:
    """The text of an ephemeral reply (type 4, flag 64)."""
    body = data(answer)
    assert body["type"] == 4
    assert body["data"]["flags"] == EPHEMERAL
    text: str = body["data"]["content"]
    return text


def test_a_confirm_command_asks_only_its_invoker_with_two_signed_buttons(live: Live) -> None:
    # The longest ids Discord makes (snowflakes up to 2^64 - 1) must still fit in 100 characters.
    body, buttons = ask(live, {**ALICE, "user_id": "18446744073709551615"}, interaction_id="18446744073709551614")

    assert body["type"] == 4
    assert body["data"]["flags"] == EPHEMERAL
    assert "/deploy" in body["data"]["content"]
    assert "deploy.yml" in body["data"]["content"]
    assert list(buttons) == ["Confirm", "Cancel"]
    assert all(1 <= len(custom_id) <= 100 for custom_id in buttons.values())
    styles = [b["style"] for b in body["data"]["components"][0]["components"]]
    assert styles == [3, 2]
    live.settle()
    assert live.github.dispatches == []  # nothing runs before the answer


def test_confirm_by_the_invoker_updates_the_message_and_dispatches_once(live: Live) -> None:
    _, buttons = ask(live)

    press, answer = live.press(buttons["Confirm"])
    body = data(answer)
    assert body["type"] == 7
    assert body["data"]["content"] == "Confirmed: starting /deploy…"
    assert body["data"]["components"] == []
    live.settle()

    [dispatch] = live.github.dispatches
    assert dispatch["inputs"]["environment"] == "production"
    # The run gets a message of its own: a follow-up of the press, which then follows the run.
    [followup] = live.discord.followups_for(press["token"])
    assert stage_of(followup) == QUEUED
    assert embed_of(followup)["title"] == "/deploy · ⏳ queued"
    check_requests(live.discord.requests)


def test_confirm_pressed_twice_dispatches_once(live: Live) -> None:
    _, buttons = ask(live)

    _, first = live.press(buttons["Confirm"])
    _, second = live.press(buttons["Confirm"])

    assert data(first)["type"] == 7
    assert refusal(second) == "This confirmation was already answered or has expired. Nothing more happens."
    live.settle()
    assert len(live.github.dispatches) == 1


def test_confirm_pressed_at_once_from_two_places_dispatches_once(live: Live) -> None:
    _, buttons = ask(live)
    presses = [live.signer.button_press(buttons["Confirm"], **ALICE) for _ in range(2)]
    for press in presses:
        live.discord.open_interaction(press["token"], channel_id=press["channel_id"], ephemeral=True)
    answers: list[httpx.Response] = []
    start = threading.Barrier(2)

    def send(press: dict[str, Any]) -> None:
        start.wait()
        answers.append(live.send(press))

    threads = [threading.Thread(target=send, args=(press,)) for press in presses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(data(answer)["type"] for answer in answers) == [4, 7]
    live.settle()
    assert len(live.github.dispatches) == 1


def test_cancel_dispatches_nothing(live: Live) -> None:
    _, buttons = ask(live)

    _, answer = live.press(buttons["Cancel"])
    _, late_confirm = live.press(buttons["Confirm"])

    body = data(answer)
    assert body["type"] == 7
    assert body["data"]["content"] == "Cancelled: /deploy was not run, and nothing was dispatched."
    assert body["data"]["components"] == []
    assert "already answered" in refusal(late_confirm)
    live.settle()
    assert live.github.dispatches == []


def test_someone_else_is_refused_and_the_invoker_can_still_answer(live: Live) -> None:
    _, buttons = ask(live)

    _, bob_confirms = live.press(buttons["Confirm"], BOB)
    _, bob_cancels = live.press(buttons["Cancel"], BOB)

    assert refusal(bob_confirms) == "Only the person who ran the command can answer this confirmation."
    assert refusal(bob_cancels) == "Only the person who ran the command can answer this confirmation."
    live.settle()
    assert live.github.dispatches == []

    _, alice_confirms = live.press(buttons["Confirm"])
    assert data(alice_confirms)["type"] == 7
    live.settle()
    assert len(live.github.dispatches) == 1


def flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def forgeries(custom_id: str) -> dict[str, str]:
    action, ref, expiry, signature = custom_id.split(":")
    interaction_id, user_id = ref.split(".")
    return {
        "signature char flipped": f"{action}:{ref}:{expiry}:{flip(signature, 5)}",
        "signature cut short": f"{action}:{ref}:{expiry}:{signature[:-1]}",
        "ref altered": f"{action}:{flip(interaction_id, 3)}.{user_id}:{expiry}:{signature}",
        "invoker swapped": f"{action}:{interaction_id}.{BOB['user_id']}:{expiry}:{signature}",
        "expiry pushed back": f"{action}:{ref}:{'zz' + expiry}:{signature}",
        "action swapped": f"abort:{ref}:{expiry}:{signature}",
    }


def test_forged_buttons_are_refused_as_not_made_by_this_bot(live: Live) -> None:
    _, buttons = ask(live)

    for what, custom_id in forgeries(buttons["Confirm"]).items():
        who = BOB if "invoker swapped" in what else ALICE
        _, answer = live.press(custom_id, who)
        assert refusal(answer) == FORGED, what

    live.settle()
    assert live.github.dispatches == []
    _, answer = live.press(buttons["Confirm"])  # the real one still works
    assert data(answer)["type"] == 7


def test_an_expired_button_says_so(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    _, buttons = ask(live)
    handler = live.runtime.app.interactions._buttons
    assert isinstance(handler, ButtonHandler)
    monkeypatch.setattr(handler, "_clock", lambda: time.time() + 6 * 60)  # six minutes later

    _, answer = live.press(buttons["Confirm"])

    assert refusal(answer) == "This button has expired. Run the command again."
    live.settle()
    assert live.github.dispatches == []


def test_a_button_signed_with_the_right_secret_but_past_its_expiry_is_expired(live: Live) -> None:
    _, buttons = ask(live)
    _, ref, _, _ = buttons["Confirm"].split(":")
    stale = ButtonSigner(BUTTON_SECRET.encode()).make("confirm", ref, expires_at=time.time() - 1)

    _, answer = live.press(stale)

    assert refusal(answer) == "This button has expired. Run the command again."


def test_a_press_after_a_restart_still_works(live: Live) -> None:
    _, buttons = ask(live)

    live.restart()  # same state file, same BUTTON_SIGNING_SECRET
    _, answer = live.press(buttons["Confirm"])

    assert data(answer)["type"] == 7
    live.settle()
    assert len(live.github.dispatches) == 1


def test_a_press_after_a_restart_with_another_secret_is_explained(live: Live) -> None:
    _, buttons = ask(live)

    live.restart(BUTTON_SIGNING_SECRET="a-completely-different-secret-0123456789")
    _, answer = live.press(buttons["Confirm"])

    assert refusal(answer) == FORGED
    live.settle()
    assert live.github.dispatches == []


def test_a_confirmed_ephemeral_command_keeps_its_run_message_private(live: Live) -> None:
    _, buttons = ask(live, command="hush-deploy")

    press, answer = live.press(buttons["Confirm"])
    assert data(answer)["type"] == 7
    live.settle()

    [followup] = live.discord.followups_for(press["token"])
    assert followup["flags"] & EPHEMERAL  # the run's own message is a follow-up: it must say so itself
    assert embed_of(followup)["title"] == "/hush-deploy · ⏳ queued"


def test_a_stopped_server_answers_nothing_more(live: Live) -> None:
    assert live.client.get("/healthz").status_code == 200  # a kept-alive connection
    live.runtime.stop()

    try:
        answer = live.client.get("/healthz")
    except httpx.TransportError:
        return
    pytest.fail(f"a stopped server answered {answer.status_code}")


def test_the_confirmed_run_message_is_a_follow_up_that_follows_the_run(live_factory: LiveFactory) -> None:
    live = live_factory()  # webhooks from the stand-in GitHub
    _, buttons = ask(live)
    press, _ = live.press(buttons["Confirm"])
    live.settle()
    run_id = live.github.runs[-1]["id"]
    [followup] = live.discord.followups_for(press["token"])

    live.github.advance_job(run_id)
    live.settle()
    [running] = live.discord.followups_for(press["token"])
    live.github.set_run_status(run_id, "completed", "success")
    live.settle()
    [done] = live.discord.followups_for(press["token"])

    assert running["id"] == done["id"] == followup["id"]  # one message, edited
    assert embed_of(running)["title"] == "/deploy · 🔄 in progress"
    assert embed_of(done)["title"] == "/deploy · ✅ succeeded"
    edits = [r for r in live.discord.requests_to("PATCH") if r.path.endswith(f"/messages/{followup['id']}")]
    assert len(edits) == 2
    assert check_requests(live.discord.requests) == 3  # the follow-up and its two edits, per Discord's contract
