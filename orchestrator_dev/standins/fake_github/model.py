"""The repository's workflows as the stand-in knows them, and the workflow file each one stands for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIRST_RUN_ID = 16_000_000_000
FIRST_JOB_ID = 40_000_000_000
# What GitHub accepts in one dispatch's inputs.
MAX_INPUTS = 25
MAX_INPUTS_CHARS = 65_535
# What set_run_status accepts, and the conclusions a job can end with.
RUN_STATUSES = frozenset({"requested", "queued", "in_progress", "waiting", "pending", "completed"})
JOB_CONCLUSIONS = frozenset({"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"})


@dataclass(frozen=True)
class FakeJob:
    """One job of a workflow, with the names of its steps in order."""

    name: str
    steps: tuple[str, ...] = ("Set up job", "Run", "Complete job")

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"job {self.name!r} needs at least one step")


@dataclass(frozen=True)
class FakeWorkflow:
    """A workflow file as far as dispatching is concerned."""

    id: int
    name: str
    inputs: dict[str, bool] = field(default_factory=dict)  # input name → required
    dispatchable: bool = True
    # The input a workflow's `run-name` echoes (e.g. a correlation id), so runs can be told apart.
    run_name_input: str | None = None
    # The jobs each run of it has, in order; none by default (the jobs list is then empty).
    jobs: tuple[FakeJob, ...] = ()


def workflow_yaml(workflow: FakeWorkflow) -> str:
    """The workflow file a FakeWorkflow stands for: its dispatch inputs (all strings) and run-name."""
    lines = [f"name: {workflow.name}"]
    if workflow.run_name_input:
        lines.append(f'run-name: "{workflow.name} [${{{{ inputs.{workflow.run_name_input} }}}}]"')
    if not workflow.dispatchable:
        lines += ["on: push"]
    else:
        lines += ["on:", "  workflow_dispatch:", "    inputs:" if workflow.inputs else ""]
        for name, required in workflow.inputs.items():
            lines += [f"      {name}:", "        type: string", f"        required: {str(required).lower()}"]
    lines += ["jobs:", "  run:", "    runs-on: ubuntu-latest", "    steps:", "      - run: echo ok"]
    return "\n".join(line for line in lines if line) + "\n"


def workflow_file(run: Mapping[str, Any]) -> str:
    return str(run["path"]).removeprefix(".github/workflows/")
