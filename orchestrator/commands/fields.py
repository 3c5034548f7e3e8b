"""Checks shared by every part of the commands file: each adds a problem that names its place."""

from __future__ import annotations

import re
from typing import Any

from orchestrator.discord.wire import MAX_DESCRIPTION

# Discord: 1-32 characters of letters, digits, '-', '_' (and a few scripts), lowercase.
_NAME = re.compile(r"^[-_'\w]{1,32}$")
# GitHub: a workflow input's name.
INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")


def description_of(raw: object, where: str, problems: list[str]) -> str:
    if not isinstance(raw, str) or not 1 <= len(raw.strip()) <= MAX_DESCRIPTION:
        problems.append(f"{where}: expected 1-{MAX_DESCRIPTION} characters")
        return ""
    return raw.strip()


def boolean(raw: dict[Any, Any], key: str, where: str, problems: list[str]) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        problems.append(f"{where}.{key}: expected true or false")
        return False
    return value


def unknown_keys(raw: dict[Any, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in raw:
        if key not in allowed:
            problems.append(f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")


def is_discord_name(name: str) -> bool:
    return bool(_NAME.match(name)) and name == name.lower()
