"""What a workflow file says it accepts from `workflow_dispatch`: its inputs and its run-name.

Read with PyYAML's safe loader, which reads the `on:` key as the boolean true (YAML 1.1): both
spellings are looked up. A file that is not a mapping, or has no `workflow_dispatch` trigger, is
described as such, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
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
    description: str = ""
    # The default as GitHub would send it ("true", "3", "staging"); None when there is none, or it
    # is an expression (`${{ … }}`) only GitHub can evaluate.
    default: str | None = None


@dataclass(frozen=True)
class DispatchTrigger:
    dispatchable: bool  # has `on: workflow_dispatch`
    inputs: dict[str, DispatchInput]
    run_name: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "dispatchable": self.dispatchable,
            "run_name": self.run_name,
            "inputs": [{**asdict(i), "options": list(i.options)} for i in self.inputs.values()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DispatchTrigger:
        """Read back what to_json wrote (the state store's cache); a KeyError or TypeError on anything else."""
        inputs = [DispatchInput(**{**item, "options": tuple(item["options"])}) for item in data["inputs"]]
        return cls(bool(data["dispatchable"]), {i.name: i for i in inputs}, data["run_name"])


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
    if kind == "choice" and (not isinstance(options, list) or not options):
        raise WorkflowFileError(f"input {name!r}: a choice input needs a list of options")
    description = spec.get("description")
    return DispatchInput(
        name=name,
        type=kind,
        required=spec.get("required") is True,
        has_default="default" in spec and spec["default"] is not None,
        options=tuple(_as_input(option) for option in options) if isinstance(options, list) else (),
        description=" ".join(description.split()) if isinstance(description, str) else "",
        default=_default(spec.get("default")),
    )


def _default(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    text = _as_input(value)
    return None if "${{" in text else text


def _as_input(value: Any) -> str:
    """A YAML scalar as GitHub sends it to the workflow: booleans as true/false."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _first_line(exc: yaml.YAMLError) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
