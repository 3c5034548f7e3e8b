"""What a bulk overwrite would change: desired commands beside those Discord has registered.

Both sides are brought to one form before comparing. Fields the server assigns
(ids, version, the localized display names) are dropped, and so are fields at
Discord's default (null, false, an empty list or mapping): Discord leaves some of
them out of its answers and fills others in, so a command registered from this
very body must compare equal to it. `default_member_permissions` is compared as
text (we send an integer, Discord answers with a string). `dm_permission` is
ignored: it is deprecated and Discord derives it from `contexts`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from orchestrator.registration.payload import CHAT_INPUT

_SERVER_FIELDS = frozenset(
    {"id", "application_id", "version", "guild_id", "name_localized", "description_localized", "dm_permission"}
)
# Fields that only global commands have; a guild's commands are compared without them.
_GLOBAL_ONLY_FIELDS = frozenset({"contexts", "integration_types"})
_MAX_VALUE_TEXT = 80


Status = Literal["added", "changed", "removed", "unchanged"]
_MARKS: dict[Status, str] = {"added": "+", "changed": "~", "removed": "-", "unchanged": "="}


@dataclass(frozen=True)
class CommandEntry:
    name: str
    status: Status
    changes: tuple[str, ...] = ()  # for "changed": one line per field that differs


@dataclass(frozen=True)
class CommandDiff:
    entries: tuple[CommandEntry, ...]

    def names(self, status: Status) -> list[str]:
        return [entry.name for entry in self.entries if entry.status == status]

    @property
    def has_changes(self) -> bool:
        return any(entry.status != "unchanged" for entry in self.entries)

    def lines(self) -> list[str]:
        """One line per command (`+` new, `~` changed, `-` removed, `=` unchanged), then a summary."""
        lines: list[str] = []
        for entry in self.entries:
            what = {"added": "new", "removed": "removed (not in the commands file)"}.get(entry.status, entry.status)
            lines.append(f"{_MARKS[entry.status]} /{entry.name}: {what}")
            lines.extend(f"    {change}" for change in entry.changes)
        counts = {status: len(self.names(status)) for status in _MARKS}
        lines.append(
            f"{counts['added']} to add, {counts['changed']} to change, {counts['removed']} to remove, "
            f"{counts['unchanged']} unchanged"
        )
        return lines


def diff_commands(
    desired: Iterable[Mapping[str, Any]], registered: Iterable[Mapping[str, Any]], *, global_scope: bool
) -> CommandDiff:
    """Match commands by type and name; desired ones first in their order, then the removed ones."""
    wanted = {_key(c): _comparable(c, global_scope) for c in desired}
    current = {_key(c): _comparable(c, global_scope) for c in registered}
    entries: list[CommandEntry] = []
    for key, command in wanted.items():
        if key not in current:
            entries.append(CommandEntry(key[1], "added"))
        elif current[key] != command:
            entries.append(CommandEntry(key[1], "changed", tuple(_changes(current[key], command, ""))))
        else:
            entries.append(CommandEntry(key[1], "unchanged"))
    entries.extend(CommandEntry(key[1], "removed") for key in current if key not in wanted)
    return CommandDiff(tuple(entries))


def _key(command: Mapping[str, Any]) -> tuple[int, str]:
    kind = command.get("type")
    return (kind if isinstance(kind, int) else CHAT_INPUT, str(command.get("name")))


def _comparable(command: Mapping[str, Any], global_scope: bool) -> dict[str, Any]:
    ignored = _SERVER_FIELDS if global_scope else _SERVER_FIELDS | _GLOBAL_ONLY_FIELDS
    comparable = {k: _without_defaults(v) for k, v in command.items() if k not in ignored}
    comparable.setdefault("type", CHAT_INPUT)
    permissions = comparable.get("default_member_permissions")
    if permissions is not None:
        comparable["default_member_permissions"] = str(permissions)
    return {k: v for k, v in comparable.items() if not _is_default(v)}


def _without_defaults(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_defaults(v) for k, v in value.items() if k not in _SERVER_FIELDS and not _is_default(v)}
    if isinstance(value, list):
        return [_without_defaults(item) for item in value]
    return value


def _is_default(value: Any) -> bool:
    # `is False`, not `== False`: an integer choice of 0 is a value, not a default.
    return value is None or value is False or value in ([], {})


def _changes(old: Any, new: Any, path: str) -> list[str]:
    """Readable differences, one per line; options are matched by name, not position."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in [*new, *(k for k in old if k not in new)]:
            where = f"{path}.{key}" if path else key
            if key not in old:
                lines.append(f"{where}: added {_text(new[key])}")
            elif key not in new:
                lines.append(f"{where}: removed (was {_text(old[key])})")
            elif old[key] != new[key]:
                lines.extend(_changes(old[key], new[key], where))
        return lines
    if path.endswith("options") and _is_option_list(old) and _is_option_list(new):
        return _option_changes(old, new, path)
    return [f"{path}: {_text(old)} -> {_text(new)}"]


def _is_option_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "name" in item for item in value)


def _option_changes(old: list[dict[str, Any]], new: list[dict[str, Any]], path: str) -> list[str]:
    before = {str(item["name"]): item for item in old}
    after = {str(item["name"]): item for item in new}
    lines: list[str] = []
    for name, item in after.items():
        if name not in before:
            lines.append(f"{path}[{name}]: added")
        elif before[name] != item:
            lines.extend(_changes(before[name], item, f"{path}[{name}]"))
    lines.extend(f"{path}[{name}]: removed" for name in before if name not in after)
    common_before = [name for name in before if name in after]
    common_after = [name for name in after if name in before]
    if common_before != common_after:
        lines.append(f"{path}: order {_text(common_before)} -> {_text(common_after)}")
    return lines


def _text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_VALUE_TEXT else text[: _MAX_VALUE_TEXT - 1] + "…"
