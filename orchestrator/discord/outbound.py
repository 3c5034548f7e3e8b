"""What the bot sends Discord: a message (sent or edited), and its answers to Discord's POST.

Every message goes through `Message`: mentions are off whatever the text says (echoed user input
must never ping anyone), `ephemeral` becomes Discord's flag, and what Discord would refuse (more
than five rows, ten embeds, 2,000 characters of content) is refused here, where the mistake is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestrator.discord.components import ActionRow, TextInput
from orchestrator.discord.wire import EPHEMERAL, MAX_CHOICES, MAX_CUSTOM_ID, NO_MENTIONS, ResponseType

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_ROWS = 5
MAX_MODAL_TITLE = 45


@dataclass(frozen=True)
class Message:
    """`embeds` and `components` left as None are not sent (an edit keeps what the message has);
    an empty tuple clears them."""

    content: str = ""
    embeds: tuple[dict[str, Any], ...] | None = None
    components: tuple[ActionRow, ...] | None = None
    ephemeral: bool = False

    def __post_init__(self) -> None:
        if len(self.content) > MAX_CONTENT:
            raise ValueError(f"a message's content has at most {MAX_CONTENT} characters, got {len(self.content)}")
        if self.embeds is not None and len(self.embeds) > MAX_EMBEDS:
            raise ValueError(f"a message has at most {MAX_EMBEDS} embeds")
        if self.components is not None and len(self.components) > MAX_ROWS:
            raise ValueError(f"a message has at most {MAX_ROWS} action rows")

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"content": self.content}
        if self.embeds is not None:
            body["embeds"] = list(self.embeds)
        if self.ephemeral:
            body["flags"] = EPHEMERAL
        body["allowed_mentions"] = NO_MENTIONS
        if self.components is not None:
            body["components"] = [row.to_dict() for row in self.components]
        return body


def reply(message: Message) -> dict[str, Any]:
    """Answer an interaction with a message."""
    return {"type": ResponseType.CHANNEL_MESSAGE_WITH_SOURCE, "data": message.to_dict()}


def update(message: Message) -> dict[str, Any]:
    """Answer a button press by replacing the message the button sits on."""
    return {"type": ResponseType.UPDATE_MESSAGE, "data": message.to_dict()}


def pong() -> dict[str, Any]:
    return {"type": ResponseType.PONG}


def deferred(*, ephemeral: bool) -> dict[str, Any]:
    """The loading state; a later edit makes it the real message. EPHEMERAL is the only flag allowed."""
    return {"type": ResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, "data": {"flags": EPHEMERAL if ephemeral else 0}}


def deferred_update() -> dict[str, Any]:
    """Acknowledge a press; a follow-up comes later."""
    return {"type": ResponseType.DEFERRED_UPDATE_MESSAGE}


def choices(names: Iterable[str]) -> dict[str, Any]:
    """An autocomplete answer: each suggestion is sent as itself."""
    suggested = [{"name": name, "value": name} for name in names]
    if len(suggested) > MAX_CHOICES:
        raise ValueError(f"an autocomplete answer has at most {MAX_CHOICES} choices")
    return {"type": ResponseType.APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, "data": {"choices": suggested}}


def modal(custom_id: str, title: str, fields: Iterable[TextInput]) -> dict[str, Any]:
    """A form of up to five text inputs, a row each."""
    rows = tuple(ActionRow((field,)) for field in fields)
    if not 0 < len(rows) <= MAX_ROWS or not 0 < len(custom_id) <= MAX_CUSTOM_ID or len(title) > MAX_MODAL_TITLE:
        raise ValueError("a modal has 1 to 5 fields, a custom_id of 1 to 100 characters, a title of at most 45")
    components = [row.to_dict() for row in rows]
    return {"type": ResponseType.MODAL, "data": {"custom_id": custom_id, "title": title, "components": components}}
