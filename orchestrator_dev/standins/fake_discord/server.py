"""FakeDiscord: the stand-in's constructor and route table, rate-limit headers and 429s, error
bodies, and what tests read and drive."""

from __future__ import annotations

import copy
import hashlib
import math
import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any

from orchestrator.discord.wire import EPHEMERAL
from orchestrator_dev.standins.fake_discord.bot import BotRoutes
from orchestrator_dev.standins.fake_discord.interactions import InteractionRoutes
from orchestrator_dev.standins.fake_discord.messages import (
    LOADING,
)
from orchestrator_dev.standins.fake_discord.state import (
    APPLICATION_COMMAND,
    Expected,
    Interaction,
)
from orchestrator_dev.standins.http_standin import Fault, Request, Response
from orchestrator_dev.standins.signing import snowflake

API_PREFIX = "/api/v10"


class FakeDiscord(InteractionRoutes, BotRoutes):
    """Discord's REST API under `url + "/api/v10"`, keeping the messages a user would see."""

    server_header = "cloudflare"

    def __init__(
        self,
        application_id: str,
        bot_token: str | None = None,
        *,
        bot_username: str = "Orchestrator",
        guilds: Iterable[str] = (),
        interactions_endpoint_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`guilds`: the servers the bot was added to with the applications.commands scope.

        `interactions_endpoint_url`: the application's setting as /applications/@me reports it; while
        it is set, real Discord sends interactions over HTTP only, never as gateway events.
        """
        super().__init__(host=host, port=port)
        self.application_id = application_id
        self.bot_token = bot_token
        self.guilds = frozenset(guilds)
        self.interactions_endpoint_url = interactions_endpoint_url
        self.verify_key = secrets.token_hex(32)  # the application's Ed25519 public key, as hex
        self._owner_id = snowflake()
        self._author = {
            "id": application_id,
            "username": bot_username,
            "global_name": None,
            "avatar": None,
            "discriminator": "0000",
            "public_flags": 0,
            "flags": 0,
            "bot": True,
            "primary_guild": None,
        }
        self._state = threading.Lock()
        self._interactions: dict[str, Interaction] = {}
        self._channels: dict[str, list[dict[str, Any]]] = {}
        self._commands: dict[str | None, list[dict[str, Any]]] = {}  # by guild id, None: global
        self._expected: dict[str, Expected] = {}  # by interaction id
        self._acknowledged: set[str] = set()  # interaction ids that got a callback
        self._callbacks: list[tuple[str, str, Any]] = []

        webhook = API_PREFIX + r"/webhooks/(?P<application_id>[^/]+)/(?P<token>[^/]+)"
        self.add_route("PATCH", webhook + "/messages/@original", self._on_edit_original)
        self.add_route("POST", webhook, self._on_followup)
        self.add_route("PATCH", webhook + r"/messages/(?P<message_id>[0-9]+)", self._on_edit_followup)
        self.add_route(
            "PATCH",
            API_PREFIX + r"/channels/(?P<channel_id>[^/]+)/messages/(?P<message_id>[0-9]+)",
            self._on_edit_channel_message,
        )
        self.add_route("POST", API_PREFIX + r"/channels/(?P<channel_id>[^/]+)/messages", self._on_channel_message)
        commands = API_PREFIX + r"/applications/(?P<application_id>[0-9]+)"
        for scope in ("", r"/guilds/(?P<guild_id>[0-9]+)"):
            self.add_route("GET", commands + scope + "/commands", self._on_list_commands)
            self.add_route("PUT", commands + scope + "/commands", self._on_overwrite_commands)
        self.add_route("GET", API_PREFIX + "/users/@me", self._on_get_me)
        for path in ("/oauth2/applications/@me", "/applications/@me"):
            self.add_route("GET", API_PREFIX + path, self._on_get_application)
        self.add_route(
            "POST",
            API_PREFIX + r"/interactions/(?P<interaction_id>[^/]+)/(?P<token>[^/]+)/callback",
            self._on_interaction_callback,
        )

    @property
    def api_url(self) -> str:
        """The base URL a client should use (the real one is https://discord.com/api/v10)."""
        return self.url + API_PREFIX

    def open_interaction(self, token: str, *, channel_id: str, ephemeral: bool) -> None:
        """Register a token whose deferred "thinking…" message exists (the bot's type 5 answer)."""
        interaction = self._opened(channel_id, {"content": ""}, LOADING | (EPHEMERAL if ephemeral else 0))
        with self._state:
            self._interactions[token] = interaction

    def expect_interaction(
        self, interaction_id: str, token: str, channel_id: str, *, interaction_type: int = APPLICATION_COMMAND
    ) -> None:
        """Say where an interaction happened (call it when dispatching one), for its callback's message."""
        with self._state:
            self._expected[interaction_id] = Expected(token, channel_id, interaction_type)

    @property
    def callbacks(self) -> list[tuple[str, str, Any]]:
        """Every interaction callback received, refused ones too: (interaction id, token, JSON body)."""
        with self._state:
            return copy.deepcopy(self._callbacks)

    def expire_interaction(self, token: str) -> None:
        """From now on the token answers 404, as after its 15 minutes."""
        with self._state:
            self._interactions[token].expired = True

    def message_for(self, token: str) -> dict[str, Any] | None:
        with self._state:
            interaction = self._interactions.get(token)
            return copy.deepcopy(interaction.history[-1]) if interaction else None

    def history_for(self, token: str) -> list[dict[str, Any]]:
        """Every version of the original message, the deferred one first."""
        with self._state:
            interaction = self._interactions.get(token)
            return copy.deepcopy(interaction.history) if interaction else []

    def followups_for(self, token: str) -> list[dict[str, Any]]:
        with self._state:
            interaction = self._interactions.get(token)
            return copy.deepcopy(interaction.followups) if interaction else []

    def channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Messages posted with the bot token to a channel (not interaction replies)."""
        with self._state:
            return copy.deepcopy(self._channels.get(channel_id, []))

    def rate_limit_next(
        self,
        n: int,
        retry_after: float,
        *,
        is_global: bool = False,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `n` requests (those matching `method` and the `path` regex) with 429, as Discord does."""
        headers = {
            # Retry-After is whole seconds, rounded up; the body has the precise float.
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": "global" if is_global else "user",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        self.inject(*(Fault(method, path, status=429, body=body, headers=headers) for _ in range(n)))

    def common_headers(self, request: Request, status: int) -> dict[str, str]:
        # Webhook id and token are "major parameters": each interaction has a bucket of its own.
        bucket = hashlib.sha256(f"{request.method} {request.path}".encode()).hexdigest()[:32]
        # Remaining stays above 0 so that clients never wait pre-emptively; use rate_limit_next for 429s.
        return {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": bucket,
        }

    def not_found(self, request: Request) -> Response:
        return Response(404, {"message": "404: Not Found", "code": 0})

    def server_error(self, request: Request) -> Response:
        return Response(500, {"message": "500: Internal Server Error", "code": 0})
