"""The `options:` of a command in the commands file: its slash-command options, or, for a command
whose options come from its workflow, how each input is offered (overrides)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from orchestrator.commands.fields import INPUT_NAME, boolean, description_of, is_discord_name, unknown_keys
from orchestrator.commands.model import (
    CONTEXT_PLACEHOLDERS,
    LISTED_SOURCES,
    AutocompleteSource,
    OptionOverride,
    OptionSpec,
    OptionType,
    OptionValue,
)
from orchestrator.discord.wire import MAX_CHOICE_CHARS, MAX_CHOICES, MAX_OPTIONS

_OPTION_KEYS = {"name", "type", "description", "required", "choices", "autocomplete"}
_OPTION_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def parse_options(raw: object, where: str, problems: list[str]) -> tuple[OptionSpec, ...]:
    if not isinstance(raw, list):
        problems.append(f"{where}: expected a list")
        return ()
    if len(raw) > MAX_OPTIONS:
        problems.append(f"{where}: {len(raw)} options, Discord allows at most {MAX_OPTIONS}")
    options: list[OptionSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        option = _parse_option(item, f"{where}[{index}]", problems)
        if option is None:
            continue
        if option.name in seen:
            problems.append(f"{where}[{index}].name: duplicate option name {option.name!r}")
        seen.add(option.name)
        if option.required and any(not o.required for o in options):
            problems.append(f"{where}[{index}]: required options must come before optional ones (Discord's rule)")
        options.append(option)
    return tuple(options)


def _parse_option(raw: object, where: str, problems: list[str]) -> OptionSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping")
        return None
    before = len(problems)
    unknown_keys(raw, _OPTION_KEYS, where, problems)
    name = raw.get("name")
    if not isinstance(name, str) or not is_discord_name(name):
        problems.append(f"{where}.name: bad option name: use 1-32 lowercase letters, digits, '-' or '_'")
    elif name in CONTEXT_PLACEHOLDERS:
        problems.append(
            f"{where}.name: {name!r} is a value the bot fills in itself ({{{name}}}): an option of that name "
            "could pretend to be it; rename the option"
        )
    option_type = raw.get("type", "string")
    if option_type not in _OPTION_TYPES:
        problems.append(f"{where}.type: {option_type!r} is not one of {', '.join(_OPTION_TYPES)}")
        option_type = "string"
    description = description_of(raw.get("description"), f"{where}.description", problems)
    required = boolean(raw, "required", where, problems)
    choices = _parse_choices(raw.get("choices", []), cast(OptionType, option_type), f"{where}.choices", problems)
    autocomplete = _parse_autocomplete(raw, cast(OptionType, option_type), bool(choices), where, problems)
    if len(problems) > before:
        return None
    return OptionSpec(
        name=cast(str, name),
        type=cast(OptionType, option_type),
        description=description,
        required=required,
        choices=choices,
        autocomplete=autocomplete,
    )


def _parse_autocomplete(
    raw: dict[Any, Any], option_type: OptionType, has_choices: bool, where: str, problems: list[str]
) -> AutocompleteSource | None:
    source = raw.get("autocomplete")
    if source is None:
        return None
    if source not in LISTED_SOURCES:
        problems.append(f"{where}.autocomplete: expected one of {', '.join(LISTED_SOURCES)}")
        return None
    if option_type != "string":
        problems.append(f"{where}.autocomplete: only string options can suggest {source}")
    if has_choices:
        problems.append(f"{where}.autocomplete: Discord does not allow choices and autocomplete together: keep one")
    return cast(AutocompleteSource, source)


def parse_overrides(raw: object, where: str, problems: list[str]) -> tuple[OptionOverride, ...]:
    """With options_from_workflow, each `options:` entry changes how one workflow input is offered."""
    if not isinstance(raw, list):
        problems.append(f"{where}: expected a list")
        return ()
    overrides: list[OptionOverride] = []
    for index, item in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: expected a mapping")
            continue
        before = len(problems)
        unknown_keys(item, _OPTION_KEYS, at, problems)
        name = item.get("name")
        if not isinstance(name, str) or not INPUT_NAME.match(name):
            problems.append(f"{at}.name: expected the name of one of the workflow's inputs")
        elif name in {o.name for o in overrides}:
            problems.append(f"{at}.name: {name!r} is overridden twice")
        option_type = item.get("type")
        if option_type is not None and option_type not in _OPTION_TYPES:
            problems.append(f"{at}.type: {option_type!r} is not one of {', '.join(_OPTION_TYPES)}")
            option_type = None
        given = item.get("description")
        description = None if given is None else description_of(given, f"{at}.description", problems)
        required = boolean(item, "required", at, problems) if "required" in item else None
        kind = cast(OptionType, option_type or "string")
        choices = _parse_choices(item["choices"], kind, f"{at}.choices", problems) if "choices" in item else None
        autocomplete = _parse_autocomplete(item, kind, bool(choices), at, problems)
        if len(problems) == before:
            overrides.append(
                OptionOverride(
                    name=cast(str, name),
                    type=cast(OptionType | None, option_type),
                    description=description,
                    required=required,
                    choices=choices,
                    autocomplete=autocomplete,
                )
            )
    return tuple(overrides)


def _parse_choices(raw: object, option_type: OptionType, where: str, problems: list[str]) -> tuple[OptionValue, ...]:
    if not isinstance(raw, list):
        problems.append(f"{where}: expected a list")
        return ()
    if raw and option_type == "boolean":
        problems.append(f"{where}: boolean options cannot have choices")
        return ()
    if len(raw) > MAX_CHOICES:
        problems.append(f"{where}: {len(raw)} choices, Discord allows at most {MAX_CHOICES}")
    fits = _OPTION_TYPES[option_type]
    for index, value in enumerate(raw):
        if not fits(value):
            problems.append(f"{where}[{index}]: {value!r} is not a {option_type}")
        elif isinstance(value, str) and not 1 <= len(value) <= MAX_CHOICE_CHARS:
            problems.append(f"{where}[{index}]: choice must be 1-{MAX_CHOICE_CHARS} characters")
    if len(set(map(repr, raw))) != len(raw):
        problems.append(f"{where}: duplicate choices")
    return tuple(cast(list[OptionValue], raw))
