"""Text for an operator's terminal: what came from outside (option values, display names, a
commands file, Discord's answers) cannot move the cursor, retitle the window or hide text."""

from __future__ import annotations

import unicodedata

# Tab and newline are layout; every other control (C0, DEL, C1) and format character (bidi
# overrides, zero-width) is shown as an escape instead of acting on the terminal.
_KEPT = frozenset("\t\n")


def terminal_safe(text: str) -> str:
    return "".join(
        char if char in _KEPT or unicodedata.category(char) not in ("Cc", "Cf") else _escaped(char) for char in text
    )


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
