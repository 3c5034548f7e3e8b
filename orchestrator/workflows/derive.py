"""A command's options derived from its workflow's `workflow_dispatch` inputs (`options_from_workflow`).

Input by input: `choice` is a string with those choices (more than Discord's 25: suggested as the user
types instead), `boolean`, `number` and `string` as themselves, `environment` a string suggesting the
repository's environments. An input with a default is optional (the workflow's default applies when
it is left out, and the description says which). Names follow Discord's rules (lowercase, at most 32
of `-_a-z0-9`); the option → input mapping is the command's `inputs`. Inputs the bot fills itself are
not offered: `trace_id`, `user_id`, `user_name`, `channel_id`, `prompt` (with a prompt file), and any
the command maps under `inputs:` (e.g. `requested_by: "{user_name}"`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from orchestrator.commands.model import (
    CONTEXT_PLACEHOLDERS,
    AutocompleteSource,
    CommandSpec,
    OptionOverride,
    OptionSpec,
    OptionType,
    OptionValue,
)
from orchestrator.discord.wire import MAX_CHOICE_CHARS, MAX_CHOICES, MAX_DESCRIPTION, MAX_NAME, MAX_OPTIONS
from orchestrator.workflows.dispatch_inputs import DispatchInput, DispatchTrigger

_NOT_IN_NAME = re.compile(r"[^-_a-z0-9]+")
_TYPES: dict[str, OptionType] = {"boolean": "boolean", "number": "number"}


class DerivationError(ValueError):
    """The workflow's inputs cannot be offered as this command's options; the message says why and what to do."""


def derive_command(spec: CommandSpec, trigger: DispatchTrigger) -> CommandSpec:
    """The command with its options and inputs filled from the workflow (read at `spec.ref`)."""
    where = f"{spec.workflow} (at {spec.ref})"
    if not trigger.dispatchable:
        raise DerivationError(f"{where} has no workflow_dispatch trigger: add `on: workflow_dispatch` to it")
    filled = {name for name, _ in spec.inputs}
    context = CONTEXT_PLACEHOLDERS if spec.prompt_text is not None else CONTEXT_PLACEHOLDERS - {"prompt"}
    automatic = tuple((name, f"{{{name}}}") for name in trigger.inputs if name in context and name not in filled)
    offered = [declared for name, declared in trigger.inputs.items() if name not in filled | context]
    overrides = {override.name: override for override in spec.overrides}
    unknown = sorted(set(overrides) - {declared.name for declared in offered})
    if unknown:
        raise DerivationError(
            f"options: {', '.join(map(repr, unknown))} is not an input of {where} that users fill: "
            "remove the entry, or declare the input in the workflow"
        )
    if len(offered) > MAX_OPTIONS:
        raise DerivationError(f"{where} declares {len(offered)} inputs for users to fill; Discord offers {MAX_OPTIONS}")
    names = _discord_names([declared.name for declared in offered])
    options = [_option(names[d.name], d, overrides.get(d.name), where) for d in offered]
    # Discord's rule: required options before optional ones (the file's order otherwise).
    options.sort(key=lambda option: not option.required)
    mapped = tuple((declared.name, f"{{{names[declared.name]}}}") for declared in offered)
    return replace(spec, options=tuple(options), inputs=spec.inputs + automatic + mapped)


def _option(name: str, declared: DispatchInput, override: OptionOverride | None, where: str) -> OptionSpec:
    kind: OptionType = _TYPES.get(declared.type, "string")
    choices: tuple[OptionValue, ...] = declared.options
    autocomplete: AutocompleteSource | None = "environments" if declared.type == "environment" else None
    if len(choices) > MAX_CHOICES:
        autocomplete = "choices"
    required = declared.required and not declared.has_default
    description = _description(declared)
    if override is not None:
        kind = override.type or kind
        description = override.description or description
        required = required if override.required is None else override.required
        if override.choices is not None:
            choices, autocomplete = override.choices, None
        if override.autocomplete is not None:
            autocomplete = override.autocomplete
        if autocomplete is not None and autocomplete != "choices" and kind != "string":
            raise DerivationError(f"options: {declared.name!r} is a {kind} in {where}; only strings take suggestions")
    if kind == "boolean":
        choices = ()
    elif override is None or override.choices is None:
        choices = _typed_choices(declared, kind, where)
    return OptionSpec(
        name=name,
        type=kind,
        description=description,
        required=required,
        choices=choices if autocomplete in (None, "choices") else (),
        autocomplete=autocomplete,
    )


def _typed_choices(declared: DispatchInput, kind: OptionType, where: str) -> tuple[OptionValue, ...]:
    """The workflow's options as Discord choices of the option's type (1-100 characters each)."""
    typed: list[OptionValue] = []
    for option in declared.options:
        if not 1 <= len(option) <= MAX_CHOICE_CHARS:
            raise DerivationError(
                f"input {declared.name!r} of {where} has an option of {len(option)} characters; Discord takes 1-100"
            )
        try:
            # A whole number stays one, so that the value sent reads as the option written ("3", not "3.0").
            whole = kind == "integer" or (kind == "number" and option.lstrip("-").isdigit())
            typed.append(int(option) if whole else float(option) if kind == "number" else option)
        except ValueError:
            raise DerivationError(
                f"options: {declared.name!r} is offered as a {kind}, and its option {option!r} in {where} is not one"
            ) from None
    return tuple(typed)


def _description(declared: DispatchInput) -> str:
    text = declared.description or declared.name
    if declared.default is not None and declared.default != "":
        suffix = f" (default: {declared.default})"
        if len(text) + len(suffix) <= MAX_DESCRIPTION:
            return text + suffix
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _discord_names(inputs: list[str]) -> dict[str, str]:
    """Each input's option name: lowercase, other characters as `_`, at most 32; a clash gets `_2`, `_3`…"""
    names: dict[str, str] = {}
    taken = set(CONTEXT_PLACEHOLDERS)  # an option of such a name would read as the value the bot fills
    for input_name in inputs:
        base = _NOT_IN_NAME.sub("_", input_name.lower())[:MAX_NAME] or "input"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base[: MAX_NAME - len(str(n)) - 1]}_{n}"
        taken.add(name)
        names[input_name] = name
    return names
