"""Ed25519 request signatures, as Discord signs every interaction."""

from __future__ import annotations

import nacl.exceptions
import nacl.signing

# Discord's requests are fresh; anything further from our clock is a replay (or a badly wrong clock).
REPLAY_WINDOW_SECONDS = 300


class SignatureVerifier:
    def __init__(self, public_key_hex: str) -> None:
        # No key (the gateway mode, which needs none): every signed request is refused.
        self._key = nacl.signing.VerifyKey(bytes.fromhex(public_key_hex)) if public_key_hex else None

    def verify(self, timestamp: str | None, body: bytes, signature_hex: str | None, *, now: float) -> bool:
        """True only for a valid signature over timestamp + the exact body, inside the replay window."""
        if self._key is None or not timestamp or not signature_hex or len(signature_hex) != 128:
            return False
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            return False
        if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            return False
        try:
            signature = bytes.fromhex(signature_hex)
            self._key.verify(timestamp.encode() + body, signature)
        except (ValueError, nacl.exceptions.BadSignatureError):
            return False
        return True
