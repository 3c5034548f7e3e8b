"""A stand-in for the parts of Discord's v10 HTTP API that answer interactions and post to channels."""

from __future__ import annotations

import copy
import hashlib
import math
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestrator.discord.wire import EPHEMERAL, ButtonStyle
from orchestrator_dev.standins.fake_commands import command_form_errors, overwrite
from orchestrator_dev.standins.form_errors import INVALID_FORM_BODY, FormErrors
from orchestrator_dev.standins.http_standin import Fault, Request, Response, StandinServer
from orchestrator_dev.standins.signing import snowflake

API_PREFIX = "/api/v10"
LOADING = 1 << 7  # message flag: the deferred "thinking…" state
MESSAGE_DEFAULT, MESSAGE_REPLY, MESSAGE_CHAT_INPUT_COMMAND = 0, 19, 20

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_FIELDS = 25
MAX_ACTION_ROWS = 5
MAX_ROW_WIDTH = 5
MAX_LABEL = 80
CUSTOM_ID_LENGTH = (1, 100)
# (key path inside an embed, limit); all of these count towards the 6000 total.
_EMBED_TEXT_LIMITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("title",), 256),
    (("description",), 4096),
    (("footer", "text"), 2048),
    (("author", "name"), 256),
)
_FIELD_LIMITS = (("name", 256), ("value", 1024))

_UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
_UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}
_MISSING_ACCESS = {"message": "Missing Access", "code": 50001}
_EMPTY_MESSAGE = {"message": "Cannot send an empty message", "code": 50006}
_INVALID_JSON = {"message": "The request body contains invalid JSON.", "code": 50109}
_ALREADY_ACKNOWLEDGED = {"message": "Interaction has already been acknowledged.", "code": 40060}

# Interaction callback types (POST /interactions/{id}/{token}/callback).
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
CALLBACK_TYPES: tuple[int, ...] = (
    PONG,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    UPDATE_MESSAGE,
    AUTOCOMPLETE_RESULT,
    MODAL,
)
DEFAULT_CHANNEL = "0"  # where a callback's message goes when the test did not say (expect_interaction)
APPLICATION_COMMAND = 2  # interaction type, echoed in a callback's `with_response` answer


@dataclass(frozen=True)
class _Expected:
    token: str
    channel_id: str
    interaction_type: int


@dataclass
class _Interaction:
    channel_id: str
    expired: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def form_errors(body: Mapping[str, Any]) -> dict[str, Any]:
    """What Discord's "Invalid Form Body" would list for a message body; empty when it is valid."""
    errors = FormErrors()
    content = body.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT:
        errors.too_long(("content",), MAX_CONTENT)
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        if len(embeds) > MAX_EMBEDS:
            errors.too_long(("embeds",), MAX_EMBEDS)
        total = sum(_check_embed(embed, ("embeds", i), errors) for i, embed in enumerate(embeds))
        if total > MAX_EMBED_TOTAL:
            errors.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}")
    components = body.get("components")
    if isinstance(components, list):
        if len(components) > MAX_ACTION_ROWS:
            errors.too_long(("components",), MAX_ACTION_ROWS)
        custom_ids: set[str] = set()
        for i, row in enumerate(components):
            if isinstance(row, dict) and row.get("type") == 1:
                _check_row(row, ("components", i), errors, custom_ids)
    return errors.tree


def _check_embed(embed: Any, path: tuple[str | int, ...], errors: FormErrors) -> int:
    """Record the embed's errors and return how many characters it counts towards the total."""
    if not isinstance(embed, dict):
        errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return 0
    size = 0
    for keys, limit in _EMBED_TEXT_LIMITS:
        value: Any = embed
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            size += len(value)
            if len(value) > limit:
                errors.too_long((*path, *keys), limit)
    fields = embed.get("fields")
    if isinstance(fields, list):
        if len(fields) > MAX_FIELDS:
            errors.too_long((*path, "fields"), MAX_FIELDS)
        for j, item in enumerate(fields):
            for key, limit in _FIELD_LIMITS:
                value = item.get(key) if isinstance(item, dict) else None
                if not isinstance(value, str) or not value.strip():
                    errors.add((*path, "fields", j, key), "BASE_TYPE_REQUIRED", "This field is required")
                    continue
                size += len(value)
                if len(value) > limit:
                    errors.too_long((*path, "fields", j, key), limit)
    return size


def _check_row(row: Mapping[str, Any], path: tuple[str | int, ...], errors: FormErrors, custom_ids: set[str]) -> None:
    children = row.get("components")
    if not isinstance(children, list) or not children:
        errors.bad_length((*path, "components"), 1, MAX_ROW_WIDTH)
        return
    for j, child in enumerate(children):
        child_path = (*path, "components", j)
        if j >= MAX_ROW_WIDTH:
            errors.add(
                child_path, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width"
            )
        if isinstance(child, dict) and child.get("type") == 2:
            _check_button(child, child_path, errors, custom_ids)


def _check_button(
    button: Mapping[str, Any], path: tuple[str | int, ...], errors: FormErrors, custom_ids: set[str]
) -> None:
    label, custom_id = button.get("label"), button.get("custom_id")
    if isinstance(label, str) and len(label) > MAX_LABEL:
        errors.too_long((*path, "label"), MAX_LABEL)
    if button.get("style") == ButtonStyle.LINK:
        if not button.get("url"):
            errors.add((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
        if custom_id is not None:
            errors.add(
                (*path, "custom_id"), "BUTTON_COMPONENT_LINK_HAS_CUSTOM_ID", "Link buttons cannot have a custom_id"
            )
        return
    low, high = CUSTOM_ID_LENGTH
    if custom_id is None:
        errors.add((*path, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required")
    elif not isinstance(custom_id, str) or not low <= len(custom_id) <= high:
        errors.bad_length((*path, "custom_id"), low, high)
    elif custom_id in custom_ids:
        errors.add(
            (*path, "custom_id"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            f"Component custom id cannot be duplicated: {custom_id}",
        )
    else:
        custom_ids.add(custom_id)


def _is_empty(message: Mapping[str, Any]) -> bool:
    return not (message.get("content") or message.get("embeds") or message.get("components"))


class FakeDiscord(StandinServer):
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
        self._interactions: dict[str, _Interaction] = {}
        self._channels: dict[str, list[dict[str, Any]]] = {}
        self._commands: dict[str | None, list[dict[str, Any]]] = {}  # by guild id, None: global
        self._expected: dict[str, _Expected] = {}  # by interaction id
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

    # -- what tests drive and read ------------------------------------------------

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
            self._expected[interaction_id] = _Expected(token, channel_id, interaction_type)

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

    def registered_commands(self, guild_id: str | None = None) -> list[dict[str, Any]]:
        """The application commands as Discord holds them: one guild's, or the global ones."""
        with self._state:
            return copy.deepcopy(self._commands.get(guild_id, []))

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

    # -- StandinServer hooks -----------------------------------------------------------

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

    # -- routes ------------------------------------------------------------------------------

    def _on_edit_original(self, request: Request, params: dict[str, str]) -> Response:
        with self._state:
            interaction = self._live_interaction(params)
            if interaction is None:
                return Response(404, _UNKNOWN_WEBHOOK)
            problem = _body_problem(request)
            if problem is not None:
                return problem
            merged = _edited(interaction.history[-1], request.json)
            if merged is None:
                return Response(400, _EMPTY_MESSAGE)
            interaction.history.append(merged)
            return Response(200, copy.deepcopy(merged))

    def _on_edit_followup(self, request: Request, params: dict[str, str]) -> Response:
        with self._state:
            interaction = self._live_interaction(params)
            if interaction is None:
                return Response(404, _UNKNOWN_WEBHOOK)
            problem = _body_problem(request)
            if problem is not None:
                return problem
            return _replace_by_id(interaction.followups, params["message_id"], request.json)

    def _on_edit_channel_message(self, request: Request, params: dict[str, str]) -> Response:
        if not self._bot_authorized(request):
            return Response(401, _UNAUTHORIZED)
        problem = _body_problem(request)
        if problem is not None:
            return problem
        with self._state:
            return _replace_by_id(self._channels.get(params["channel_id"], []), params["message_id"], request.json)

    def _on_followup(self, request: Request, params: dict[str, str]) -> Response:
        with self._state:
            interaction = self._live_interaction(params)
            if interaction is None:
                return Response(404, _UNKNOWN_WEBHOOK)
            problem = _body_problem(request, new_message=True)
            if problem is not None:
                return problem
            flags = EPHEMERAL if _int_flags(request.json) & EPHEMERAL else 0
            message = self._message(interaction.channel_id, MESSAGE_DEFAULT, request.json, flags, webhook=True)
            interaction.followups.append(message)
            return Response(200, copy.deepcopy(message))

    def _bot_authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return (
            self.bot_token is not None
            and scheme == "Bot"
            and secrets.compare_digest(token.encode(), self.bot_token.encode())
        )

    def _on_channel_message(self, request: Request, params: dict[str, str]) -> Response:
        if not self._bot_authorized(request):
            return Response(401, _UNAUTHORIZED)
        problem = _body_problem(request, new_message=True)
        if problem is not None:
            return problem
        channel_id = params["channel_id"]
        reference = request.json.get("message_reference")
        kind = MESSAGE_REPLY if isinstance(reference, dict) else MESSAGE_DEFAULT
        message = self._message(channel_id, kind, request.json, _int_flags(request.json), webhook=False)
        if kind == MESSAGE_REPLY:
            message["message_reference"] = {"type": 0, "channel_id": channel_id, **copy.deepcopy(reference)}
        with self._state:
            self._channels.setdefault(channel_id, []).append(message)
        return Response(200, copy.deepcopy(message))

    def _identity_authorized(self, request: Request) -> bool:
        """/users/@me and /applications/@me: the bot token when the fake has one, anything otherwise."""
        return self.bot_token is None or self._bot_authorized(request)

    def _on_get_me(self, request: Request, params: dict[str, str]) -> Response:
        if not self._identity_authorized(request):
            return Response(401, _UNAUTHORIZED)
        me = {
            **self._author,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "mfa_enabled": False,
            "locale": "en-US",
            "premium_type": 0,
            "email": None,
            "verified": True,
        }
        return Response(200, me)

    def _on_get_application(self, request: Request, params: dict[str, str]) -> Response:
        if not self._identity_authorized(request):
            return Response(401, _UNAUTHORIZED)
        owner = {**self._author, "id": self._owner_id, "username": "owner", "discriminator": "0", "bot": False}
        application: dict[str, Any] = {
            "id": self.application_id,
            "name": self._author["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": self.verify_key,
            "flags": 0,
            "flags_new": "0",
            "bot": dict(self._author),
            "owner": owner,
            "team": None,
            "redirect_uris": [],
            "rpc_origins": [],
            "tags": [],
            "interactions_endpoint_url": self.interactions_endpoint_url,
            "role_connections_verification_url": None,
            "event_webhooks_url": None,
            "event_webhooks_status": 1,
            "event_webhooks_types": [],
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "eligible_oauth2_scopes": [],
            "integration_types_config": {"0": {}},
        }
        return Response(200, application)

    def _on_interaction_callback(self, request: Request, params: dict[str, str]) -> Response:
        """The bot's answer to an interaction: 204, or 200 with what it created under `?with_response=true`."""
        interaction_id, token, body = params["interaction_id"], params["token"], request.json
        with self._state:
            self._callbacks.append((interaction_id, token, copy.deepcopy(body)))
            if not isinstance(body, dict):
                return Response(400, _INVALID_JSON)
            kind = body.get("type")
            if isinstance(kind, bool) or kind not in CALLBACK_TYPES:
                errors = FormErrors()
                choices = ", ".join(str(t) for t in CALLBACK_TYPES)
                errors.add(("type",), "BASE_TYPE_CHOICES", f"Value must be one of ({choices}).")
                return Response(400, {**INVALID_FORM_BODY, "errors": errors.tree})
            raw_data = body.get("data")
            data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
            if kind == CHANNEL_MESSAGE:
                problem = _message_problem(data, new_message=True)
                if problem is not None:
                    return problem
            if interaction_id in self._acknowledged:
                return Response(400, _ALREADY_ACKNOWLEDGED)
            self._acknowledged.add(interaction_id)
            expected = self._expected.get(interaction_id, _Expected(token, DEFAULT_CHANNEL, APPLICATION_COMMAND))
            ephemeral = _int_flags(data) & EPHEMERAL
            opened = None
            if kind == DEFERRED_CHANNEL_MESSAGE:
                opened = self._opened(expected.channel_id, {"content": ""}, LOADING | ephemeral)
            elif kind == CHANNEL_MESSAGE:
                opened = self._opened(expected.channel_id, data, ephemeral)
            if opened is not None:
                self._interactions[token] = opened
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return Response(204)
        answer: dict[str, Any] = {"id": interaction_id, "type": expected.interaction_type}
        if expected.channel_id != DEFAULT_CHANNEL:
            answer["channel_id"] = expected.channel_id
        if opened is not None:
            message = opened.history[-1]
            answer.update(
                response_message_id=message["id"],
                response_message_loading=kind == DEFERRED_CHANNEL_MESSAGE,
                response_message_ephemeral=bool(ephemeral),
            )
        result: dict[str, Any] = {"interaction": answer}
        if kind == CHANNEL_MESSAGE and opened is not None:
            result["resource"] = {"type": CHANNEL_MESSAGE, "message": copy.deepcopy(opened.history[-1])}
        return Response(200, result)

    def _on_list_commands(self, request: Request, params: dict[str, str]) -> Response:
        refused = self._commands_refused(request, params)
        if refused is not None:
            return refused
        return Response(200, self.registered_commands(params.get("guild_id")))

    def _on_overwrite_commands(self, request: Request, params: dict[str, str]) -> Response:
        refused = self._commands_refused(request, params)
        if refused is not None:
            return refused
        errors = command_form_errors(request.json)
        if errors:
            return Response(400, {**INVALID_FORM_BODY, "errors": errors})
        guild_id = params.get("guild_id")
        with self._state:
            self._commands[guild_id] = overwrite(
                self._commands.get(guild_id, []), request.json, application_id=self.application_id, guild_id=guild_id
            )
            return Response(200, copy.deepcopy(self._commands[guild_id]))

    def _commands_refused(self, request: Request, params: Mapping[str, str]) -> Response | None:
        """401 for a wrong bot token; 403 for another application, or a server the bot cannot register in."""
        if not self._bot_authorized(request):
            return Response(401, _UNAUTHORIZED)
        guild_id = params.get("guild_id")
        if params["application_id"] != self.application_id or (guild_id is not None and guild_id not in self.guilds):
            return Response(403, _MISSING_ACCESS)
        return None

    # -- helpers ---------------------------------------------------------------------------------

    def _live_interaction(self, params: Mapping[str, str]) -> _Interaction | None:
        """The interaction behind a webhook URL, if it can still be used; the caller holds `_state`."""
        interaction = self._interactions.get(params["token"])
        if params["application_id"] != self.application_id or interaction is None or interaction.expired:
            return None
        return interaction

    def _opened(self, channel_id: str, body: Mapping[str, Any], flags: int) -> _Interaction:
        """An interaction whose original message (`body`, with `flags`) now exists."""
        interaction = _Interaction(channel_id=channel_id)
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
            "embeds": [_rich(embed) for embed in body.get("embeds") or []],
            "timestamp": _now(),
            "edited_timestamp": None,
            "flags": flags,
            "components": _numbered(body.get("components") or []),
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


def _edited(current: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The message after an edit: the fields the body names replaced, the others kept (None if empty)."""
    merged = copy.deepcopy(dict(current))
    if "content" in body:
        merged["content"] = body["content"] or ""
    if "embeds" in body:
        merged["embeds"] = [_rich(embed) for embed in body["embeds"] or []]
    if "components" in body:
        merged["components"] = _numbered(body["components"] or [])
    if _is_empty(merged):
        return None
    merged["flags"] = current["flags"] & ~LOADING
    merged["edited_timestamp"] = _now()
    return merged


def _replace_by_id(messages: list[dict[str, Any]], message_id: str, body: Mapping[str, Any]) -> Response:
    for index, message in enumerate(messages):
        if message["id"] == message_id:
            merged = _edited(message, body)
            if merged is None:
                return Response(400, _EMPTY_MESSAGE)
            messages[index] = merged
            return Response(200, copy.deepcopy(merged))
    return Response(404, {"message": "Unknown Message", "code": 10008})


def _body_problem(request: Request, *, new_message: bool = False) -> Response | None:
    """The 400 Discord would answer for this message body, if any."""
    return _message_problem(request.json, new_message=new_message)


def _message_problem(body: Any, *, new_message: bool = False) -> Response | None:
    if not isinstance(body, dict):
        return Response(400, _INVALID_JSON)
    errors = form_errors(body)
    if errors:
        return Response(400, {**INVALID_FORM_BODY, "errors": errors})
    if new_message and _is_empty(body):
        return Response(400, _EMPTY_MESSAGE)
    return None


def _int_flags(body: Mapping[str, Any]) -> int:
    flags = body.get("flags")
    return flags if isinstance(flags, int) else 0


def _rich(embed: Mapping[str, Any]) -> dict[str, Any]:
    """An embed as Discord echoes it: typed "rich", every field with its `inline` flag."""
    echoed: dict[str, Any] = {"type": "rich", **copy.deepcopy(dict(embed))}
    if isinstance(echoed.get("fields"), list):
        echoed["fields"] = [{"inline": False, **item} for item in echoed["fields"]]
    return echoed


def _numbered(components: list[Any]) -> list[Any]:
    """Components as Discord echoes them: each gets a numeric `id`, depth first, unless the bot set one."""
    echoed = copy.deepcopy(components)
    taken: set[int] = set()
    nodes: list[dict[str, Any]] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, dict):
                nodes.append(item)
                if isinstance(item.get("id"), int):
                    taken.add(item["id"])
                walk(item.get("components") or [])

    walk(echoed)
    next_id = 1
    for node in nodes:
        if not isinstance(node.get("id"), int):
            while next_id in taken:
                next_id += 1
            node["id"] = next_id
            taken.add(next_id)
    return echoed
