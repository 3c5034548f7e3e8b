"""Discord's side of an interactions endpoint: Ed25519-signed, realistic interaction payloads."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from nacl.signing import SigningKey

DISCORD_EPOCH_MS = 1_420_070_400_000
INTERACTION_TOKEN_PREFIX = "aW50ZXJhY3Rpb246"  # noqa: S105 - base64 of "interaction:", no secret
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, APPLICATION_COMMAND_AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
OPTION_STRING, OPTION_INTEGER, OPTION_BOOLEAN, OPTION_NUMBER = 3, 4, 5, 10
_TOKEN_CHARS = 180
# Permissions strings as Discord sends them for an ordinary member and for the app.
_MEMBER_PERMISSIONS = "2248473465835073"
_APP_PERMISSIONS = "562949953601536"

_last_snowflake = 0
_snowflake_lock = threading.Lock()

OptionValue = str | int | float | bool


def snowflake(at: float | None = None) -> str:
    """A Discord id: milliseconds since Discord's epoch << 22, plus worker, process and increment bits.

    Ids made for "now" strictly increase, so they stay unique even past 4096 in one millisecond.
    """
    global _last_snowflake  # noqa: PLW0603 - one process-wide sequence, as Discord's worker has
    ms = int((time.time() if at is None else at) * 1000)
    value = ((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17)
    if at is not None:
        return str(value)
    with _snowflake_lock:
        _last_snowflake = max(value, _last_snowflake + 1)
        return str(_last_snowflake)


def interaction_token(interaction_id: str) -> str:
    """A token shaped like Discord's: base64url of "interaction:<id>:<random>", ~180 characters."""
    head = f"interaction:{interaction_id}:".encode()
    # 3 bytes make 4 characters: pad the random tail so the token has the usual length.
    tail = secrets.token_urlsafe(_TOKEN_CHARS)[: _TOKEN_CHARS * 3 // 4 - len(head)].encode()
    return base64.urlsafe_b64encode(head + tail).decode().rstrip("=")


def encode(payload: Mapping[str, Any]) -> bytes:
    """Compact JSON as Discord sends it; sign and send these same bytes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _option(name: str, value: OptionValue) -> dict[str, Any]:
    # bool before int: True is an int to Python but a BOOLEAN option to Discord.
    if isinstance(value, bool):
        kind = OPTION_BOOLEAN
    elif isinstance(value, int):
        kind = OPTION_INTEGER
    elif isinstance(value, float):
        kind = OPTION_NUMBER
    else:
        kind = OPTION_STRING
    return {"name": name, "type": kind, "value": value}


class InteractionSigner:
    """Signs request bodies with an application's key pair and builds interactions for it."""

    def __init__(self, signing_key: SigningKey, application_id: str | None = None) -> None:
        self._key = signing_key
        self.application_id = application_id or snowflake()
        self._command_ids: dict[str, str] = {}

    @classmethod
    def generate(cls, application_id: str | None = None) -> InteractionSigner:
        return cls(SigningKey.generate(), application_id)

    @property
    def public_key_hex(self) -> str:
        return str(self._key.verify_key.encode().hex())

    encode = staticmethod(encode)

    def signature(self, body: bytes, timestamp: str) -> str:
        return str(self._key.sign(timestamp.encode() + body).signature.hex())

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": "application/json",
            "X-Signature-Ed25519": self.signature(body, stamp),
            "X-Signature-Timestamp": stamp,
        }

    def ping(self) -> dict[str, Any]:
        """What Discord sends when the endpoint URL is saved, and now and then afterwards."""
        interaction_id = snowflake()
        return {
            "application_id": self.application_id,
            "id": interaction_id,
            "token": interaction_token(interaction_id),
            "type": PING,
            "version": 1,
            "entitlements": [],
        }

    def button_press(
        self,
        custom_id: str,
        *,
        message: Mapping[str, Any] | None = None,
        guild_id: str | None = "1150000000000000001",
        channel_id: str = "1150000000000000002",
        user_id: str = "1150000000000000003",
        username: str = "tester",
        global_name: str | None = "Tester",
        roles: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A MESSAGE_COMPONENT interaction: someone pressed the button with this custom_id."""
        payload = self.application_command(
            "unused",
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            username=username,
            global_name=global_name,
            roles=roles,
        )
        payload["type"] = MESSAGE_COMPONENT
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        payload["message"] = dict(message or {"id": snowflake(), "channel_id": channel_id, "content": ""})
        return payload

    def form_submit(self, custom_id: str, values: Mapping[str, str], **who: Any) -> dict[str, Any]:
        """A MODAL_SUBMIT interaction: someone filled in the form with this custom_id (one text input a row)."""
        payload = self.button_press(custom_id, **who)
        payload["type"] = MODAL_SUBMIT
        payload["data"] = {
            "custom_id": custom_id,
            "components": [
                {"type": 1, "components": [{"type": 4, "custom_id": name, "value": value}]}
                for name, value in values.items()
            ],
        }
        return payload

    def application_command(
        self,
        name: str,
        options: Mapping[str, OptionValue] | None = None,
        *,
        guild_id: str | None = "1150000000000000001",
        channel_id: str = "1150000000000000002",
        user_id: str = "1150000000000000003",
        username: str = "tester",
        global_name: str | None = "Tester",
        roles: Sequence[str] = (),
        locale: str = "en-US",
        interaction_id: str | None = None,
        focused: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """A slash command (CHAT_INPUT) interaction; `guild_id=None` makes it a DM. With `focused`
        (an option's name, what is typed in it), the autocomplete interaction Discord sends as the
        user types, the other options as filled so far."""
        interaction_id = interaction_id or snowflake()
        user = {
            "id": user_id,
            "username": username,
            "global_name": global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
            "avatar_decoration_data": None,
        }
        data: dict[str, Any] = {
            "id": self._command_ids.setdefault(name, snowflake()),
            "name": name,
            "type": 1,
        }
        if options:
            # Discord leaves `options` out entirely when none were given.
            data["options"] = [_option(key, value) for key, value in options.items()]
        if focused is not None:
            # Autocomplete: what is typed so far in the focused option (a string whatever its type).
            data.setdefault("options", []).append(
                {"name": focused[0], "type": OPTION_STRING, "value": focused[1], "focused": True}
            )
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": APPLICATION_COMMAND if focused is None else APPLICATION_COMMAND_AUTOCOMPLETE,
            "token": interaction_token(interaction_id),
            "version": 1,
            "channel_id": channel_id,
            "data": data,
            "locale": locale,
            "app_permissions": _APP_PERMISSIONS,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10_485_760,
        }
        if guild_id is None:
            payload.update(
                user=user,
                channel={"id": channel_id, "type": 1, "flags": 0, "recipients": [user]},
                authorizing_integration_owners={"1": user_id},
                context=1,  # BOT_DM
            )
        else:
            payload.update(
                guild_id=guild_id,
                guild={"id": guild_id, "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel={"id": channel_id, "type": 0, "guild_id": guild_id, "name": "ops"},
                member={
                    "user": user,
                    "roles": list(roles),
                    "permissions": _MEMBER_PERMISSIONS,
                    "nick": None,
                    "avatar": None,
                    "joined_at": datetime.now(UTC).isoformat(),
                    "premium_since": None,
                    "deaf": False,
                    "mute": False,
                    "pending": False,
                    "flags": 0,
                    "communication_disabled_until": None,
                },
                authorizing_integration_owners={"0": guild_id},
                context=0,  # GUILD
            )
        return payload
