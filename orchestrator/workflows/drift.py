"""Where a command and its workflow disagree, found before GitHub's 422 "Unexpected inputs
provided" (or a required input missing) meets a user. One line per problem, naming the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.commands.model import CommandSpec
from orchestrator.workflows.dispatch_inputs import DispatchTrigger

_TRACE_ID_IN_BRACKETS = re.compile(r"\[\$\{\{\s*(?:inputs|github\.event\.inputs)\.trace_id\s*\}\}\]")
_OPTION_ONLY = re.compile(r"^\{([^{}]+)\}$")


@dataclass(frozen=True)
class Drift:
    command: str
    problem: str
    error: bool = True  # False: a warning (the command works, with less)

    def __str__(self) -> str:
        return f"{'error' if self.error else 'warning'}: /{self.command}: {self.problem}"


def drift(spec: CommandSpec, trigger: DispatchTrigger) -> list[Drift]:
    """What could make dispatching `spec` to this workflow fail, whatever the user gives, or its runs
    hard to find (`validate --remote`)."""
    where = f"{spec.workflow} (at {spec.ref})"
    if not trigger.dispatchable:
        return [_not_dispatchable(spec, where)]
    sent = dict(spec.inputs)
    found = _undeclared_and_missing(spec, trigger, sent, where)
    for name, declared in trigger.inputs.items():
        if declared.type == "choice" and name in sent:
            found += _choice_drift(spec, name, sent[name], declared.options, where)
    if "trace_id" in sent and (trigger.run_name is None or not _TRACE_ID_IN_BRACKETS.search(trigger.run_name)):
        found.append(
            Drift(
                spec.name,
                f"{where} does not echo the trace id in its run-name: add "
                f'`run-name: "… [${{{{ inputs.trace_id }}}}]"` so that its runs can be found where GitHub does not '
                f"return their id (GitHub Enterprise Server)",
                error=False,
            )
        )
    return found


def sent_drift(spec: CommandSpec, trigger: DispatchTrigger, inputs: Mapping[str, str]) -> list[Drift]:
    """What GitHub would refuse in this one dispatch, its inputs as rendered for it (the worker's
    check before dispatching): an input left out because its option was, is not drift."""
    where = f"{spec.workflow} (at {spec.ref})"
    if not trigger.dispatchable:
        return [_not_dispatchable(spec, where)]
    found = _undeclared_and_missing(spec, trigger, inputs, where)
    for name, value in inputs.items():
        declared = trigger.inputs.get(name)
        refused = declared is not None and (
            (declared.type == "choice" and value not in declared.options)
            or (declared.type == "boolean" and value not in ("true", "false"))
        )
        if declared is not None and refused:
            accepted = ", ".join(declared.options) if declared.type == "choice" else "true, false"
            found.append(
                Drift(
                    spec.name,
                    f"sends {value!r} for input {name!r}, which {where} takes only as one of {accepted}: make the "
                    "command's choices and the workflow's agree",
                )
            )
    return found


def _not_dispatchable(spec: CommandSpec, where: str) -> Drift:
    return Drift(spec.name, f"{where} has no workflow_dispatch trigger: add `on: workflow_dispatch` to it")


def _undeclared_and_missing(
    spec: CommandSpec, trigger: DispatchTrigger, sent: Mapping[str, str], where: str
) -> list[Drift]:
    found = [
        Drift(
            spec.name,
            f"sends input {name!r}, which {where} does not declare (GitHub answers 422): declare it under "
            f"on.workflow_dispatch.inputs, or remove it from the command's inputs",
        )
        for name in sent
        if name not in trigger.inputs
    ]
    mapped = {name for name, _ in spec.inputs}
    for name, declared in trigger.inputs.items():
        if not declared.required or declared.has_default or name in sent:
            continue
        if name in mapped:  # mapped, but its option was left out this time
            problem = (
                f"leaves out {name!r}, which {where} requires, when its option is not given: make the option "
                "required, or give the input a default"
            )
        else:
            problem = (
                f'never sends {name!r}, which {where} requires: add `{name}: "{{...}}"` to the command\'s '
                "inputs, or give the input a default"
            )
        found.append(Drift(spec.name, problem))
    return found


def _choice_drift(spec: CommandSpec, name: str, template: str, accepted: tuple[str, ...], where: str) -> list[Drift]:
    """A choice input fed straight from an option: each of the option's choices must be accepted."""
    matched = _OPTION_ONLY.match(template)
    option = spec.option(matched.group(1)) if matched else None
    if option is None or not option.choices:
        return []
    refused = [str(choice) for choice in option.choices if str(choice) not in accepted]
    if not refused:
        return []
    return [
        Drift(
            spec.name,
            f"option {option.name!r} offers {', '.join(map(repr, refused))}, which input {name!r} of {where} does "
            f"not accept (its options: {', '.join(accepted) or 'none'}): make the two lists agree",
        )
    ]
