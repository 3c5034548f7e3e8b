"""Check the option values a user sent against the command's definition.

Discord enforces the registered definition, but the registered set can lag
behind the commands file (or be forged by a signed-but-stale client), so the
server re-validates every value.
"""

from __future__ import annotations

import math
import unicodedata

from orchestrator.commands.model import DISCORD_OPTION_TYPES, CommandSpec, OptionSpec, OptionType, OptionValue
from orchestrator.discord.wire import MAX_NAME
from orchestrator.interactions.payload import InvokedOption

MAX_STRING_OPTION = 6000  # Discord's limit for a string option value
MAX_SAFE_INTEGER = 2**53  # Discord's integer options are limited to the JavaScript safe range


def check_options(spec: CommandSpec, invoked: tuple[InvokedOption, ...]) -> tuple[dict[str, OptionValue], list[str]]:
    """Return the values by option name and a list of problems (user-facing, one per option).

    A command whose options come from its workflow, not yet derived (the interactions function never
    reads GitHub), has each value checked for what its Discord type allows; the worker checks them
    again against the derived options before it dispatches."""
    if spec.options_from_workflow and not spec.options:
        return _check_shapes(spec, invoked)
    values: dict[str, OptionValue] = {}
    problems: list[str] = []
    for option in invoked:
        definition = spec.option(option.name)
        if definition is None:
            problems.append(f"`{option.name}` is not an option of /{spec.name}")
            continue
        if option.name in values:
            problems.append(f"`{option.name}` was given twice")
            continue
        value, problem = _check_value(definition, option)
        if problem:
            problems.append(problem)
        elif value is not None:
            values[option.name] = value
    given = {o.name for o in invoked}
    problems.extend(f"`{d.name}` is required" for d in spec.options if d.required and d.name not in given)
    return values, problems


def invoked_options(spec: CommandSpec, values: dict[str, OptionValue]) -> tuple[InvokedOption, ...]:
    """Values kept from an earlier command, as Discord would send them for `spec`'s options: each
    with its option's type where the value is of it, with its own type otherwise (for the checks to
    refuse, saying why)."""
    invoked = []
    for name, value in values.items():
        definition = spec.option(name)
        natural = _natural_type(value)
        fits = definition is not None and (
            natural == definition.type or (definition.type == "number" and natural == "integer")
        )
        kind = definition.type if definition is not None and fits else natural
        invoked.append(InvokedOption(name, DISCORD_OPTION_TYPES[kind], value))
    return tuple(invoked)


def _natural_type(value: OptionValue) -> OptionType:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "number" if isinstance(value, float) else "string"


_BY_DISCORD_TYPE: dict[int, OptionType] = {code: kind for kind, code in DISCORD_OPTION_TYPES.items()}


def _check_shapes(spec: CommandSpec, invoked: tuple[InvokedOption, ...]) -> tuple[dict[str, OptionValue], list[str]]:
    values: dict[str, OptionValue] = {}
    problems: list[str] = []
    for option in invoked:
        kind = _BY_DISCORD_TYPE.get(option.type)
        if kind is None or not 0 < len(option.name) <= MAX_NAME:
            problems.append(f"`{option.name[:MAX_NAME]}` is not an option of /{spec.name}")
        elif option.name in values:
            problems.append(f"`{option.name}` was given twice")
        else:
            value, problem = _check_value(OptionSpec(option.name, kind, ""), option)
            if problem:
                problems.append(problem)
            elif value is not None:
                values[option.name] = value
    return values, problems


_EXPECTED = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false"}


def _check_value(definition: OptionSpec, option: InvokedOption) -> tuple[OptionValue | None, str | None]:
    name, value = definition.name, option.value
    expected = f"`{name}` must be {_EXPECTED[definition.type]}"
    if option.type != DISCORD_OPTION_TYPES[definition.type]:
        return None, expected
    if definition.type == "string":
        if not isinstance(value, str):
            return None, expected
        if len(value) > MAX_STRING_OPTION:
            return None, f"`{name}` is too long (at most {MAX_STRING_OPTION} characters)"
        hidden = next((c for c in value if unicodedata.category(c) == "Cf"), None)
        if hidden is not None:
            # Zero-width and bidirectional controls make a value look unlike what would be sent.
            return None, f"`{name}` holds an invisible character (U+{ord(hidden):04X}): type it again without it"
    elif definition.type == "boolean":
        if not isinstance(value, bool):
            return None, expected
    elif isinstance(value, bool) or not isinstance(value, int if definition.type == "integer" else int | float):
        return None, expected
    elif not math.isfinite(value) or abs(value) > MAX_SAFE_INTEGER:
        return None, f"`{name}` is out of range"
    if definition.choices and value not in definition.choices:
        allowed = ", ".join(f"`{c}`" for c in definition.choices)
        return None, f"`{name}` must be one of {allowed}"
    return value, None
