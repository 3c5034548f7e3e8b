"""Where a command and its workflow disagree, found before GitHub's 422 "Unexpected inputs
provided" (or a required input missing) meets a user. One line per problem, naming the fix.
"""

from __future__ import annotations

import re
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
    """What would make dispatching `spec` to this workflow fail, or its runs hard to find."""
    where = f"{spec.workflow} (at {spec.ref})"
    if not trigger.dispatchable:
        return [Drift(spec.name, f"{where} has no workflow_dispatch trigger: add `on: workflow_dispatch` to it")]
    found = []
    sent = dict(spec.inputs)
    for name in sent:
        if name not in trigger.inputs:
            found.append(
                Drift(
                    spec.name,
                    f"sends input {name!r}, which {where} does not declare (GitHub answers 422): declare it under "
                    f"on.workflow_dispatch.inputs, or remove it from the command's inputs",
                )
            )
    for name, declared in trigger.inputs.items():
        if declared.required and not declared.has_default and name not in sent:
            found.append(
                Drift(
                    spec.name,
                    f'never sends {name!r}, which {where} requires: add `{name}: "{{...}}"` to the command\'s '
                    f"inputs, or give the input a default",
                )
            )
        elif declared.type == "choice" and name in sent:
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
