"""Our answers to Discord's POST (interaction callback bodies)."""

from __future__ import annotations

from typing import Any

from orchestrator.observability.redaction import active_redactor

PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
EPHEMERAL = 1 << 6
MAX_CONTENT = 2000
# Echoed user input must never ping @everyone or a role.
NO_MENTIONS: dict[str, list[str]] = {"parse": []}


def pong() -> dict[str, Any]:
    return {"type": PONG}


def ephemeral_message(text: str) -> dict[str, Any]:
    text = active_redactor().text(text)
    if len(text) > MAX_CONTENT:
        text = text[: MAX_CONTENT - 1] + "…"
    return {
        "type": CHANNEL_MESSAGE_WITH_SOURCE,
        "data": {"content": text, "flags": EPHEMERAL, "allowed_mentions": NO_MENTIONS},
    }


def deferred(*, ephemeral: bool) -> dict[str, Any]:
    # The loading state; the worker edits it into the real message. EPHEMERAL is the only flag allowed.
    return {"type": DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, "data": {"flags": EPHEMERAL if ephemeral else 0}}


def ephemeral_with_buttons(text: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    message = ephemeral_message(text)
    message["data"]["components"] = [{"type": 1, "components": buttons}]
    return message


def update_message(text: str) -> dict[str, Any]:
    """Replace the message a button sits on (its buttons gone), as the answer to the press."""
    return {
        "type": UPDATE_MESSAGE,
        "data": {"content": active_redactor().text(text)[:MAX_CONTENT], "components": [], "embeds": []},
    }


def deferred_update() -> dict[str, Any]:
    """Acknowledge a press; the worker follows up."""
    return {"type": DEFERRED_UPDATE_MESSAGE}
