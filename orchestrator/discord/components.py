"""The message components the bot builds: buttons and the rows that hold them."""

from __future__ import annotations

from typing import Any

from orchestrator.discord.wire import MAX_CUSTOM_ID, ButtonStyle, ComponentType


def link_button(label: str, url: str) -> dict[str, Any]:
    """A button that opens `url`; pressing it never reaches the bot."""
    return {"type": ComponentType.BUTTON, "style": ButtonStyle.LINK, "label": label, "url": url}


def button(label: str, custom_id: str, style: ButtonStyle) -> dict[str, Any]:
    """A button whose press comes back to the bot with `custom_id`."""
    if not 0 < len(custom_id) <= MAX_CUSTOM_ID:
        raise ValueError(f"a custom_id has 1 to {MAX_CUSTOM_ID} characters, got {len(custom_id)}")
    return {"type": ComponentType.BUTTON, "style": style, "label": label, "custom_id": custom_id}


def action_row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": ComponentType.ACTION_ROW, "components": list(components)}
