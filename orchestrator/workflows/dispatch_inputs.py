"""What a workflow file says it accepts from `workflow_dispatch`: its inputs and its run-name.

Read with PyYAML's safe loader, which reads the `on:` key as the boolean true (YAML 1.1): both
spellings are looked up. A file that is not a mapping, or has no `workflow_dispatch` trigger, is
described as such, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

INPUT_TYPES = frozenset({"string", "boolean", "choice", "number", "environment"})


class WorkflowFileError(ValueError):
    """The file cannot be read as a workflow; the message says why."""


@dataclass(frozen=True)
class DispatchInput:
    name: str
    type: str = "string"
    required: bool = False
    has_default: bool = False
    options: tuple[str, ...] = ()  # a choice input's


@dataclass(frozen=True)
class DispatchTrigger:
    dispatchable: bool  # has `on: workflow_dispatch`
    inputs: dict[str, DispatchInput]
    run_name: str | None


def read_dispatch_trigger(text: str) -> DispatchTrigger:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WorkflowFileError(f"not valid YAML: {_first_line(exc)}") from None
    if not isinstance(document, Mapping):
        raise WorkflowFileError("not a workflow: the file is not a mapping of keys")
    triggers = document.get("on", document.get(True))
    run_name = document.get("run-name")
    run_name = run_name if isinstance(run_name, str) else None
    if isinstance(triggers, str):
        triggers = {triggers: None}
    elif isinstance(triggers, list):
        triggers = dict.fromkeys(t for t in triggers if isinstance(t, str))
    if not isinstance(triggers, Mapping) or "workflow_dispatch" not in triggers:
        return DispatchTrigger(False, {}, run_name)
    dispatch = triggers.get("workflow_dispatch") or {}
    declared = dispatch.get("inputs") if isinstance(dispatch, Mapping) else None
    if declared is None:
        return DispatchTrigger(True, {}, run_name)
    if not isinstance(declared, Mapping):
        raise WorkflowFileError("on.workflow_dispatch.inputs is not a mapping of input names")
    return DispatchTrigger(True, {str(name): _input(str(name), spec) for name, spec in declared.items()}, run_name)


def _input(name: str, spec: Any) -> DispatchInput:
    spec = spec if isinstance(spec, Mapping) else {}
    kind = str(spec.get("type") or "string")
    if kind not in INPUT_TYPES:
        raise WorkflowFileError(f"input {name!r}: type {kind!r} is not one of {', '.join(sorted(INPUT_TYPES))}")
    options = spec.get("options") if kind == "choice" else None
    return DispatchInput(
        name=name,
        type=kind,
        required=spec.get("required") is True,
        has_default="default" in spec,
        options=tuple(str(option) for option in options) if isinstance(options, list) else (),
    )


def _first_line(exc: yaml.YAMLError) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
