"""The components, messages and answers the bot builds: Discord's JSON, and Discord's rules
refused where a message is built rather than by a 400 from Discord."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.discord.components import ActionRow, Button, LinkButton, TextInput, is_linkable
from orchestrator.discord.outbound import Message, choices, deferred, modal, reply, update
from orchestrator.discord.wire import EPHEMERAL, ButtonStyle, TextInputStyle


def wire(value: Any) -> Any:
    return json.loads(json.dumps(value))


def field(custom_id: str = "target") -> TextInput:
    return TextInput(custom_id, "target", TextInputStyle.SHORT, True, "text", 100)


def test_components_are_discords_json() -> None:
    row = ActionRow((LinkButton("Run", "https://github.com/x"), Button("Cancel", "abort:1", ButtonStyle.DANGER)))
    assert wire(row.to_dict()) == {
        "type": 1,
        "components": [
            {"type": 2, "style": 5, "label": "Run", "url": "https://github.com/x"},
            {"type": 2, "style": 4, "label": "Cancel", "custom_id": "abort:1"},
        ],
    }


@pytest.mark.parametrize("custom_id", ["", "x" * 101])
def test_a_custom_id_outside_discords_1_to_100_characters_is_refused(custom_id: str) -> None:
    with pytest.raises(ValueError, match="1 to 100 characters"):
        Button("Press", custom_id, ButtonStyle.PRIMARY)
    with pytest.raises(ValueError, match="1 to 100 characters"):
        field(custom_id)


def test_rows_hold_five_buttons_or_one_text_input() -> None:
    press = Button("Press", "p", ButtonStyle.PRIMARY)
    ActionRow((press,) * 5)
    with pytest.raises(ValueError, match="at most 5"):
        ActionRow((press,) * 6)
    with pytest.raises(ValueError, match="alone"):
        ActionRow((field(), press))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        ActionRow(())


def test_link_buttons_open_only_web_urls_discord_accepts() -> None:
    assert is_linkable("https://github.com/acme/ops/actions/runs/1")
    for url in ("javascript:alert(1)", "ftp://x", "https://x/" + "a" * 510, None, ""):
        assert not is_linkable(url)
    with pytest.raises(ValueError, match="http"):
        LinkButton("Open", "javascript:alert(1)")
    with pytest.raises(ValueError, match="link button"):
        Button("Open", "o", ButtonStyle.LINK)


def test_every_message_has_mentions_off_and_ephemeral_as_its_flag() -> None:
    assert Message("@everyone hi").to_dict() == {"content": "@everyone hi", "allowed_mentions": {"parse": []}}
    assert Message("x", ephemeral=True).to_dict()["flags"] == EPHEMERAL
    cleared = Message("done", embeds=(), components=()).to_dict()
    assert cleared["embeds"] == [] and cleared["components"] == []  # an edit that removes them


def test_a_message_discord_would_refuse_is_refused_when_built() -> None:
    row = ActionRow((Button("Press", "p", ButtonStyle.PRIMARY),))
    with pytest.raises(ValueError, match="2000"):
        Message("x" * 2001)
    with pytest.raises(ValueError, match="5 action rows"):
        Message(components=(row,) * 6)
    with pytest.raises(ValueError, match="10 embeds"):
        Message(embeds=({},) * 11)


def test_interaction_answers() -> None:
    assert wire(reply(Message("hi", ephemeral=True))) == {
        "type": 4,
        "data": {"content": "hi", "flags": 64, "allowed_mentions": {"parse": []}},
    }
    assert wire(update(Message("gone", components=()))["type"]) == 7
    assert wire(deferred(ephemeral=False)) == {"type": 5, "data": {"flags": 0}}
    assert wire(choices(["main"])) == {"type": 8, "data": {"choices": [{"name": "main", "value": "main"}]}}
    with pytest.raises(ValueError, match="25"):
        choices(str(n) for n in range(26))
    form = wire(modal("again-form:x", "Run /deploy again", [field()]))
    assert form["type"] == 9 and form["data"]["components"][0]["components"][0]["custom_id"] == "target"
    with pytest.raises(ValueError, match="1 to 5 fields"):
        modal("again-form:x", "Run again", [field(str(n)) for n in range(6)])
