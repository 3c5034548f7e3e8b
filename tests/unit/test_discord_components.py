"""The buttons and rows the bot builds, as Discord's JSON."""

from __future__ import annotations

import json

import pytest

from orchestrator.discord.components import action_row, button, link_button
from orchestrator.discord.wire import ButtonStyle


def test_components_are_discords_json() -> None:
    row = action_row(link_button("Run", "https://github.com/x"), button("Cancel", "abort:1", ButtonStyle.DANGER))
    assert json.loads(json.dumps(row)) == {
        "type": 1,
        "components": [
            {"type": 2, "style": 5, "label": "Run", "url": "https://github.com/x"},
            {"type": 2, "style": 4, "label": "Cancel", "custom_id": "abort:1"},
        ],
    }


@pytest.mark.parametrize("custom_id", ["", "x" * 101])
def test_a_custom_id_outside_discords_1_to_100_characters_is_refused(custom_id: str) -> None:
    with pytest.raises(ValueError, match="1 to 100 characters"):
        button("Press", custom_id, ButtonStyle.PRIMARY)
