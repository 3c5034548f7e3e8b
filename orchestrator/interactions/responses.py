"""Our answers to Discord's POST (interaction callback bodies)."""

from __future__ import annotations

from typing import Any

from orchestrator.discord.components import action_row
from orchestrator.discord.wire import EPHEMERAL, NO_MENTIONS, ResponseType
from orchestrator.messages.limits import CONTENT as MAX_CONTENT
from orchestrator.observability.redaction import active_redactor


def pong() -> dict[str, Any]:
    return {"type": ResponseType.PONG}


def ephemeral_message(text: str) -> dict[str, Any]:
    text = active_redactor().text(text)
    if len(text) > MAX_CONTENT:
        text = text[: MAX_CONTENT - 1] + "…"
    return {
        "type": ResponseType.CHANNEL_MESSAGE_WITH_SOURCE,
        "data": {"content": text, "flags": EPHEMERAL, "allowed_mentions": NO_MENTIONS},
    }


def deferred(*, ephemeral: bool) -> dict[str, Any]:
    # The loading state; the worker edits it into the real message. EPHEMERAL is the only flag allowed.
    return {"type": ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, "data": {"flags": EPHEMERAL if ephemeral else 0}}


def ephemeral_with_buttons(text: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    message = ephemeral_message(text)
    message["data"]["components"] = [action_row(*buttons)]
    return message


def update_message(text: str) -> dict[str, Any]:
    """Replace the message a button sits on (its buttons gone), as the answer to the press."""
    return {
        "type": ResponseType.UPDATE_MESSAGE,
        "data": {"content": active_redactor().text(text)[:MAX_CONTENT], "components": [], "embeds": []},
    }


def deferred_update() -> dict[str, Any]:
    """Acknowledge a press; the worker follows up."""
    return {"type": ResponseType.DEFERRED_UPDATE_MESSAGE}
