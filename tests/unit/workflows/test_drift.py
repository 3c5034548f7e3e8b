"""A command and its workflow file, compared offline: the shipped examples match commands.yaml,
and each kind of drift is named with its fix."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSpec
from orchestrator.workflows.derive import derive_command
from orchestrator.workflows.dispatch_inputs import WorkflowFileError, read_dispatch_trigger
from orchestrator.workflows.drift import drift
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "workflows"
COMMANDS = load_commands(REPO_ROOT / "commands.yaml")


def example(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(COMMANDS.commands))
def test_the_example_workflows_match_the_shipped_commands_exactly(command: str) -> None:
    spec = COMMANDS.commands[command]
    trigger = read_dispatch_trigger(example(spec.workflow))
    if spec.options_from_workflow:
        spec = derive_command(spec, trigger)
        assert spec.options, "a derived command offers its workflow's inputs"
    assert drift(spec, trigger) == []


def test_the_readme_snippet_workflow_that_made_diagnose_fail_is_caught() -> None:
    # The shape of the README's earlier snippet: only target and trace_id declared.
    snippet = """
name: Diagnose
run-name: "diagnose ${{ inputs.target }} [${{ inputs.trace_id }}]"
on:
  workflow_dispatch:
    inputs:
      target: {required: true}
      trace_id: {required: false}
"""
    problems = [str(p) for p in drift(COMMANDS.commands["diagnose"], read_dispatch_trigger(snippet))]
    assert [p.split(",")[0] for p in problems] == [
        "error: /diagnose: sends input 'verbose'",
        "error: /diagnose: sends input 'requested_by'",
        "error: /diagnose: sends input 'prompt'",
    ]
    assert all("does not declare (GitHub answers 422)" in p for p in problems)


def test_each_kind_of_drift_names_its_fix() -> None:
    deploy: CommandSpec = COMMANDS.commands["deploy"]
    workflow = example("deploy.yml")
    required_unsent = workflow.replace(
        "      trace_id:\n", "      approver:\n        required: true\n      trace_id:\n"
    )
    [problem] = drift(deploy, read_dispatch_trigger(required_unsent))
    assert "never sends 'approver', which deploy.yml (at main) requires" in str(problem)

    narrower = workflow.replace("options: [staging, production]", "options: [staging]")
    [problem] = drift(deploy, read_dispatch_trigger(narrower))
    assert "option 'environment' offers 'production', which input 'environment'" in str(problem)

    no_trace = workflow.replace(" [${{ inputs.trace_id }}]", "")
    [warning] = drift(deploy, read_dispatch_trigger(no_trace))
    assert not warning.error and "does not echo the trace id in its run-name" in str(warning)

    no_dispatch = "name: CI\non: [push]\njobs: {}\n"
    [problem] = drift(replace(deploy, ref="v2"), read_dispatch_trigger(no_dispatch))
    assert str(problem) == (
        "error: /deploy: deploy.yml (at v2) has no workflow_dispatch trigger: add `on: workflow_dispatch` to it"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("key: [unclosed", "not valid YAML"),
        ("- a list\n", "not a mapping of keys"),
        ("on:\n  workflow_dispatch:\n    inputs: [a, b]\n", "inputs is not a mapping"),
        ("on:\n  workflow_dispatch:\n    inputs:\n      x: {type: file}\n", "type 'file' is not one of"),
    ],
)
def test_a_file_that_is_not_a_workflow_gets_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(WorkflowFileError, match=message):
        read_dispatch_trigger(text)


def test_yaml_anchors_triggers_as_a_string_and_bare_dispatch_are_read() -> None:
    anchored = """
x-input: &text {type: string, required: false}
on:
  workflow_dispatch:
    inputs:
      trace_id: *text
"""
    assert read_dispatch_trigger(anchored).inputs["trace_id"].type == "string"
    assert read_dispatch_trigger("on: workflow_dispatch\n").dispatchable
    assert read_dispatch_trigger("on:\n  workflow_dispatch:\n").inputs == {}
