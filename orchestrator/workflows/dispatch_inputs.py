"""What a workflow file says it accepts from `workflow_dispatch`: its inputs and its run-name.

Read with PyYAML's base loader (workflow_yaml.py): every scalar stays the text written, as GitHub compares it
(`options: [yes, 1.10]` are the strings `yes` and `1.10`, which YAML 1.1's resolver would turn
into true and 1.1; `on:` stays the key `on`). Anchors and aliases resolve as GitHub's do. A file
that is not a mapping, has no `workflow_dispatch` trigger, or declares an input GitHub would not
take, is described as such, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

INPUT_TYPES = frozenset({"string", "boolean", "choice", "number", "environment"})
MAX_WORKFLOW_CHARS = 1_000_000  # GitHub's contents API returns files up to 1 MB inline
_TRUE = frozenset({"true", "True", "TRUE"})
_NULL = frozenset({"~", "null", "Null", "NULL"})  # as written; `''` is a default: the empty string


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
    if len(text) > MAX_WORKFLOW_CHARS:
        raise WorkflowFileError(f"the file is over {MAX_WORKFLOW_CHARS:,} characters")
    from orchestrator.workflows.workflow_yaml import NotWorkflowYaml, read_workflow_yaml

    try:
        document = read_workflow_yaml(text)
    except NotWorkflowYaml as exc:
        raise WorkflowFileError(f"not valid YAML: {exc}") from None
    if not isinstance(document, Mapping):
        raise WorkflowFileError("not a workflow: the file is not a mapping of keys")
    triggers = document.get("on")
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
    if "<<" in spec:
        raise WorkflowFileError(
            f"input {name!r}: GitHub Actions takes anchors and aliases but not merge keys (<<): write the keys out"
        )
    kind = spec.get("type") or "string"
    if kind not in INPUT_TYPES:
        raise WorkflowFileError(f"input {name!r}: type {kind!r} is not one of {', '.join(sorted(INPUT_TYPES))}")
    options = spec.get("options") if kind == "choice" else None
    if kind == "choice" and (not isinstance(options, list) or not options):
        raise WorkflowFileError(f"input {name!r}: a choice input needs a list of options")
    if options is not None and not all(isinstance(option, str) for option in options):
        raise WorkflowFileError(f"input {name!r}: each option must be a plain value, not a list or a mapping")
    default = spec.get("default")
    if default is not None and not isinstance(default, str):
        raise WorkflowFileError(f"input {name!r}: the default must be a plain value, not a list or a mapping")
    description = spec.get("description")
    has_default = default is not None and default not in _NULL
    return DispatchInput(
        name=name,
        type=str(kind),
        required=spec.get("required") in _TRUE,
        has_default=has_default,
        options=tuple(options or ()),
        description=" ".join(description.split()) if isinstance(description, str) else "",
        # An expression (`${{ … }}`) only GitHub can evaluate: the input has a default, not shown.
        default=default if has_default and default is not None and "${{" not in default else None,
    )
