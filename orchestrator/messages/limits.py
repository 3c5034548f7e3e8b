"""Discord's message limits, and cutting text to fit them without breaking a line in half."""

from __future__ import annotations

CONTENT = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBEDS_TOTAL = 6000
BUTTON_LABEL = 80
URL = 512
ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters; longer text ends with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def fit_lines(text: str, limit: int) -> str:
    """Whole lines up to `limit` characters, then a line saying how many were left out."""
    if len(text) <= limit:
        return text
    lines = text.splitlines()
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        remaining = len(lines) - index
        note = f"{ELLIPSIS} {remaining} more line(s)"
        if used + len(line) + 1 + len(note) > limit:
            if not kept:  # a single overlong first line: cut it rather than show nothing
                return clip(line, limit)
            kept.append(note)
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)
