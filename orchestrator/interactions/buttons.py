"""Signed button ids: `action:ref:expiry:signature`, at most 100 characters (Discord's limit).

A button press arrives days later, on any instance, after restarts: the custom_id itself says
what it is for and proves we made it (HMAC-SHA256 with the bot's signing secret, 132 bits kept),
and until when it may be used. Nothing has to be remembered to check a press.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.discord.wire import MAX_CUSTOM_ID

if TYPE_CHECKING:
    from orchestrator.settings import Secret

_SIGNATURE_CHARS = 22


class ButtonRejected(ValueError):
    """Forged, altered, malformed or expired; `reason` says which, for the user's reply."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ButtonRef:
    action: str
    ref: str
    expires_at: int


class ButtonSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the button signing secret must be at least 16 bytes")
        self._secret = secret

    def make(self, action: str, ref: str, *, expires_at: float) -> str:
        if ":" in action or ":" in ref:
            raise ValueError("action and ref may not contain ':'")
        payload = f"{action}:{ref}:{_base36(int(expires_at))}"
        custom_id = f"{payload}:{self._sign(payload)}"
        if len(custom_id) > MAX_CUSTOM_ID:
            raise ValueError("custom_id would exceed Discord's 100 characters")
        return custom_id

    def read(self, custom_id: str, *, now: float) -> ButtonRef:
        parts = custom_id.split(":")
        if len(parts) != 4 or len(custom_id) > MAX_CUSTOM_ID:
            raise ButtonRejected("malformed")
        action, ref, expiry, signature = parts
        expected = self._sign(f"{action}:{ref}:{expiry}")
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise ButtonRejected("forged")
        try:
            expires_at = int(expiry, 36)
        except ValueError:
            raise ButtonRejected("malformed") from None
        if now > expires_at:
            raise ButtonRejected("expired")
        return ButtonRef(action, ref, expires_at)

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, remainder = divmod(number, 36)
        text = digits[remainder] + text
        if not number:
            return text


def signer_from_secret(secret: Secret | None) -> ButtonSigner:
    """The configured secret's signer (read now, from SSM if need be); without one (local runs
    only: Lambda requires it), a random per-process key, so buttons stop working across restarts
    and say so when pressed."""
    if secret is None:
        import secrets

        from orchestrator.observability.logging import get_logger

        get_logger().warning("BUTTON_SIGNING_SECRET not set: buttons will not survive a restart")
        return ButtonSigner(secrets.token_bytes(32))
    return ButtonSigner(secret.get().encode())
