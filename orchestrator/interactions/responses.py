"""The bot's short answers to Discord's POST: text only the invoker sees, or the text that
replaces a pressed button's message. Redacted and clipped here, as every text we echo back."""

from __future__ import annotations

from typing import Any

from orchestrator.discord.components import ActionRow, Button
from orchestrator.discord.outbound import MAX_CONTENT, Message, reply, update
from orchestrator.observability.redaction import active_redactor


def _fitted(text: str) -> str:
    text = active_redactor().text(text)
    return text if len(text) <= MAX_CONTENT else text[: MAX_CONTENT - 1] + "…"


def ephemeral_message(text: str, buttons: tuple[Button, ...] = ()) -> dict[str, Any]:
    rows = (ActionRow(buttons),) if buttons else None
    return reply(Message(_fitted(text), components=rows, ephemeral=True))


def update_message(text: str) -> dict[str, Any]:
    """Replace the message a button sits on (its buttons gone), as the answer to the press."""
    return update(Message(_fitted(text), embeds=(), components=()))
