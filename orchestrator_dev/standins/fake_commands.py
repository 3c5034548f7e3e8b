"""Application commands in the Discord stand-in: Discord's checks on a bulk overwrite, and what it stores.

The limits are written out here, not imported from the commands-file loader: the
stand-in plays Discord, so it must catch a body the loader wrongly let through.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from orchestrator_dev.standins.form_errors import FormErrors
from orchestrator_dev.standins.signing import snowflake

MAX_COMMANDS = 100  # slash commands per scope
MAX_OPTIONS = 25
MAX_CHOICES = 25
NAME_LENGTH = (1, 32)
DESCRIPTION_LENGTH = (1, 100)
CHOICE_NAME_LENGTH = (1, 100)
MAX_CHOICE_STRING = 100
CHAT_INPUT, USER, MESSAGE = 1, 2, 3
STRING, INTEGER, BOOLEAN, NUMBER = 3, 4, 5, 10
OPTION_TYPES = frozenset(range(1, 12))
CONTEXTS = frozenset({0, 1, 2})
INTEGRATION_TYPES = frozenset({0, 1})
MAX_INT53 = 2**53 - 1
# Discord's rule for slash command and option names (letters and digits of any script, '-', '_', "'").
_NAME = re.compile(r"^[-_'\w]{1,32}$")


def command_form_errors(body: Any) -> dict[str, Any]:
    """The "errors" tree Discord would answer a bulk overwrite with; empty when the body is valid."""
    errors = FormErrors()
    if not isinstance(body, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        return errors.tree
    if len(body) > MAX_COMMANDS:
        errors.too_long((), MAX_COMMANDS)
    seen: set[tuple[object, object]] = set()
    for i, command in enumerate(body):
        if not isinstance(command, dict):
            errors.add((i,), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        _check_command(command, (i,), errors)
        key = (command.get("type", CHAT_INPUT), command.get("name"))
        if key in seen:
            errors.add((i, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
        seen.add(key)
    return errors.tree


def _check_command(command: Mapping[str, Any], path: tuple[str | int, ...], errors: FormErrors) -> None:
    kind = command.get("type", CHAT_INPUT)
    if kind not in (CHAT_INPUT, USER, MESSAGE):
        errors.add((*path, "type"), "BASE_TYPE_CHOICES", _one_of({CHAT_INPUT, USER, MESSAGE}))
    _check_name(command.get("name"), (*path, "name"), errors, slash=kind == CHAT_INPUT)
    if kind == CHAT_INPUT:
        _check_length(command.get("description"), (*path, "description"), DESCRIPTION_LENGTH, errors)
    permissions = command.get("default_member_permissions")
    # Discord takes this bit set as an integer or as a string of digits.
    if permissions is not None and not (
        (isinstance(permissions, int) and not isinstance(permissions, bool) and permissions >= 0)
        or (isinstance(permissions, str) and permissions.isdigit())
    ):
        errors.add((*path, "default_member_permissions"), "NUMBER_TYPE_COERCE", f'Value "{permissions}" is not int.')
    for key, allowed in (("contexts", CONTEXTS), ("integration_types", INTEGRATION_TYPES)):
        values = command.get(key)
        if values is not None and (not isinstance(values, list) or not values or not set(values) <= allowed):
            errors.add((*path, key), "BASE_TYPE_CHOICES", _one_of(allowed))
    options = command.get("options") or []
    if not isinstance(options, list):
        errors.add((*path, "options"), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(options) > MAX_OPTIONS:
        errors.too_long((*path, "options"), MAX_OPTIONS)
    optional_seen = False
    for j, option in enumerate(options):
        if not isinstance(option, dict):
            errors.add((*path, "options", j), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        _check_option(option, (*path, "options", j), errors)
        if option.get("required") and optional_seen:
            errors.add(
                (*path, "options"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            )
        optional_seen = optional_seen or not option.get("required")
    names = [option.get("name") for option in options if isinstance(option, dict)]
    if len(set(map(str, names))) != len(names):
        errors.add((*path, "options"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique")


def _check_option(option: Mapping[str, Any], path: tuple[str | int, ...], errors: FormErrors) -> None:
    kind = option.get("type")
    if kind not in OPTION_TYPES:
        errors.add((*path, "type"), "BASE_TYPE_CHOICES", _one_of(OPTION_TYPES))
    _check_name(option.get("name"), (*path, "name"), errors, slash=True)
    _check_length(option.get("description"), (*path, "description"), DESCRIPTION_LENGTH, errors)
    choices = option.get("choices")
    if choices is None:
        return
    if kind not in (STRING, INTEGER, NUMBER) or not isinstance(choices, list):
        errors.add((*path, "choices"), "APPLICATION_COMMAND_OPTION_CHOICES_INVALID", "Choices are not allowed here")
        return
    if len(choices) > MAX_CHOICES:
        errors.too_long((*path, "choices"), MAX_CHOICES)
    for k, choice in enumerate(choices):
        where = (*path, "choices", k)
        if not isinstance(choice, dict):
            errors.add(where, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        _check_length(choice.get("name"), (*where, "name"), CHOICE_NAME_LENGTH, errors)
        if not _choice_value_fits(kind, choice.get("value")):
            errors.add((*where, "value"), "APPLICATION_COMMAND_OPTION_CHOICE_VALUE_INVALID", "Invalid choice value")


def _choice_value_fits(kind: object, value: object) -> bool:
    if isinstance(value, bool):
        return False
    if kind == STRING:
        return isinstance(value, str) and len(value) <= MAX_CHOICE_STRING
    if kind == INTEGER:
        return isinstance(value, int) and abs(value) <= MAX_INT53
    return isinstance(value, int | float)


def _check_name(name: object, path: tuple[str | int, ...], errors: FormErrors, *, slash: bool) -> None:
    fits = _check_length(name, path, NAME_LENGTH, errors)
    if fits and slash and isinstance(name, str) and (not _NAME.match(name) or name != name.lower()):
        errors.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _one_of(allowed: Collection[int]) -> str:
    return "Value must be one of {" + ", ".join(map(str, sorted(allowed))) + "}."


def _check_length(value: object, path: tuple[str | int, ...], bounds: tuple[int, int], errors: FormErrors) -> bool:
    low, high = bounds
    if not isinstance(value, str) or not low <= len(value) <= high:
        errors.bad_length(path, low, high)
        return False
    return True


def overwrite(
    current: list[dict[str, Any]], body: list[dict[str, Any]], *, application_id: str, guild_id: str | None
) -> list[dict[str, Any]]:
    """The new set after a valid bulk overwrite: a command keeps its id by name, and its version if unchanged."""
    before = {(c["type"], c["name"]): c for c in current}
    stored: list[dict[str, Any]] = []
    for command in body:
        fresh = _stored(command, application_id=application_id, guild_id=guild_id)
        previous = before.get((fresh["type"], fresh["name"]))
        if previous is not None:
            fresh["id"] = previous["id"]
            unchanged = {**fresh, "version": previous["version"]} == previous
            fresh["version"] = previous["version"] if unchanged else snowflake()
        stored.append(fresh)
    return stored


def _stored(command: Mapping[str, Any], *, application_id: str, guild_id: str | None) -> dict[str, Any]:
    """A command as Discord answers with it: ids filled in, permissions as a string, defaults spelled out."""
    permissions = command.get("default_member_permissions")
    contexts = command.get("contexts")
    stored: dict[str, Any] = {
        "id": snowflake(),
        "application_id": application_id,
        "version": snowflake(),
        "default_member_permissions": None if permissions is None else str(permissions),
        "type": command.get("type", CHAT_INPUT),
        "name": command["name"],
        "description": command.get("description") or "",
        "dm_permission": contexts is None or 1 in contexts,
        "contexts": contexts,
        "integration_types": command.get("integration_types") or [0],
        "nsfw": bool(command.get("nsfw")),
    }
    if guild_id is not None:
        stored["guild_id"] = guild_id
        del stored["dm_permission"]  # a guild command is never in a DM
    options = [_stored_option(option) for option in command.get("options") or []]
    if options:
        stored["options"] = options
    return stored


def _stored_option(option: Mapping[str, Any]) -> dict[str, Any]:
    # Discord leaves `required` out when it is false, and `choices` when there are none.
    stored = {key: option[key] for key in ("type", "name", "description") if key in option}
    if option.get("required"):
        stored["required"] = True
    if option.get("choices"):
        stored["choices"] = [{"name": c["name"], "value": c["value"]} for c in option["choices"]]
    return stored
