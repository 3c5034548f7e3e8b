"""Our answers to Discord's POST (interaction callback bodies)."""

from __future__ import annotations

from typing import Any

from orchestrator.observability.redaction import active_redactor

PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
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
