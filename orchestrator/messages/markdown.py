"""User-supplied text in a message: shown as typed, never as Discord formatting.

An option value like `[Approve](https://evil.example)` would otherwise render as a link under
the bot's name; a backslash before each markdown character makes Discord show the character
itself. Mentions are off in every message anyway (allowed_mentions), so @ is left alone.
"""

from __future__ import annotations

import re

from orchestrator.messages.limits import ELLIPSIS

# Formatting anywhere in a line; headings and lists only at its start.
_MARKDOWN = re.compile(r"([\\*_~`|>\[\]()<])|^([#-])", re.MULTILINE)


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(lambda match: "\\" + (match.group(1) or match.group(2)), text)


def clip_escaped(text: str, limit: int) -> str:
    """`text` on one line, escaped, at most `limit` characters: cut on whole characters (never
    between a backslash and what it escapes), ending with an ellipsis when cut."""
    text = " ".join(text.split())
    escaped = escape_markdown(text)
    if len(escaped) <= limit:
        return escaped
    kept: list[str] = []
    used = 0
    for char in text:
        piece = escape_markdown(char)
        if used + len(piece) > limit - 1:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + ELLIPSIS
