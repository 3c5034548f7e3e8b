"""What every part of the stand-in reads and writes: the interactions it knows (each with its original
message's versions and its follow-ups), channel messages and application commands; who may call it."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator_dev.standins.fake_discord.messages import now, numbered, rich
from orchestrator_dev.standins.http_standin import Request, StandinServer
from orchestrator_dev.standins.signing import snowflake

# Message types: a plain message, a reply, an interaction's original message.
MESSAGE_DEFAULT, MESSAGE_REPLY, MESSAGE_CHAT_INPUT_COMMAND = 0, 19, 20
DEFAULT_CHANNEL = "0"  # where a callback's message goes when the test did not say (expect_interaction)
APPLICATION_COMMAND = 2  # interaction type, echoed in a callback's `with_response` answer


@dataclass(frozen=True)
class Expected:
    """Where a test said an interaction happened (FakeDiscord.expect_interaction)."""

    token: str
    channel_id: str
    interaction_type: int


@dataclass
class Interaction:
    """An interaction whose original message exists: every version of it, and its follow-ups."""

    channel_id: str
    expired: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)


class DiscordState(StandinServer):
    """The state FakeDiscord.__init__ sets up, and what the routes share."""

    # Set up by FakeDiscord.__init__ (server.py).
    application_id: str
    bot_token: str | None
    guilds: frozenset[str]
    interactions_endpoint_url: str | None
    verify_key: str
    _owner_id: str
    _author: dict[str, Any]
    _state: threading.Lock
    _interactions: dict[str, Interaction]
    _channels: dict[str, list[dict[str, Any]]]
    _commands: dict[str | None, list[dict[str, Any]]]
    _expected: dict[str, Expected]
    _acknowledged: set[str]
    _callbacks: list[tuple[str, str, Any]]

    def _bot_authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return (
            self.bot_token is not None
            and scheme == "Bot"
            and secrets.compare_digest(token.encode(), self.bot_token.encode())
        )

    def _identity_authorized(self, request: Request) -> bool:
        """/users/@me and /applications/@me: the bot token when the fake has one, anything otherwise."""
        return self.bot_token is None or self._bot_authorized(request)

    def _live_interaction(self, params: Mapping[str, str]) -> Interaction | None:
        """The interaction behind a webhook URL, if it can still be used; the caller holds `_state`."""
        interaction = self._interactions.get(params["token"])
        if params["application_id"] != self.application_id or interaction is None or interaction.expired:
            return None
        return interaction

    def _opened(self, channel_id: str, body: Mapping[str, Any], flags: int) -> Interaction:
        """An interaction whose original message (`body`, with `flags`) now exists."""
        interaction = Interaction(channel_id=channel_id)
        original = self._message(channel_id, MESSAGE_CHAT_INPUT_COMMAND, body, flags, webhook=True)
        interaction.history.append(original)
        return interaction

    def _message(
        self, channel_id: str, kind: int, body: Mapping[str, Any], flags: int, *, webhook: bool
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": kind,
            "content": body.get("content") or "",
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [rich(embed) for embed in body.get("embeds") or []],
            "timestamp": now(),
            "edited_timestamp": None,
            "flags": flags,
            "components": numbered(body.get("components") or []),
            "id": snowflake(),
            "channel_id": channel_id,
            "author": dict(self._author),
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
        }
        if webhook:
            message.update(webhook_id=self.application_id, application_id=self.application_id)
        return message
