"""Options derived from a workflow's `workflow_dispatch` inputs (`options_from_workflow`): each input
type's option, required/default/description rules, Discord's names, the inputs the bot fills itself,
presentation overrides, the errors naming their fix; the workflow file reader behind it; and that a
derived command always passes drift (the shipped examples included)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
import yaml

from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CONTEXT_PLACEHOLDERS, CommandSpec, OptionOverride, OptionSpec
from orchestrator.workflows.derive import DerivationError, derive_command
from orchestrator.workflows.dispatch_inputs import (
    DispatchInput,
    DispatchTrigger,
    WorkflowFileError,
    read_dispatch_trigger,
)
from orchestrator.workflows.drift import drift
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "workflows"
SHIPPED = load_commands(REPO_ROOT / "commands.yaml")
SPEC = CommandSpec(name="ship", description="Ship it", workflow="ship.yml", ref="main", options_from_workflow=True)
RUN_NAME = "ship [${{ inputs.trace_id }}]"
DISCORD_NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


def workflow_text(inputs: dict[str, Any]) -> str:
    document = {"name": "Ship", "run-name": RUN_NAME, "on": {"workflow_dispatch": {"inputs": inputs}}, "jobs": {}}
    return yaml.safe_dump(document, sort_keys=False)


def trigger_of(inputs: dict[str, Any]) -> DispatchTrigger:
    return read_dispatch_trigger(workflow_text(inputs))


def derive(declared: dict[str, Any], **changes: Any) -> CommandSpec:
    """SPEC, with `changes`, derived from a workflow declaring the inputs `declared`."""
    return derive_command(replace(SPEC, **changes), trigger_of(declared))


def only_option(declared: dict[str, Any], **changes: Any) -> OptionSpec:
    [option] = derive(declared, **changes).options
    return option


def errors(spec: CommandSpec, trigger: DispatchTrigger) -> list[str]:
    return [str(problem) for problem in drift(spec, trigger) if problem.error]


# --- each input type -------------------------------------------------------------------------------


def test_each_input_type_becomes_its_option_type() -> None:
    derived = derive(
        {
            "env": {"type": "choice", "options": ["staging", "production"], "required": True},
            "flag": {"type": "boolean"},
            "count": {"type": "number"},
            "note": {"type": "string"},
            "where": {"type": "environment"},
            "untyped": {},
        }
    )

    assert derived.options == (
        OptionSpec("env", "string", "env", required=True, choices=("staging", "production")),
        OptionSpec("flag", "boolean", "flag"),
        OptionSpec("count", "number", "count"),
        OptionSpec("note", "string", "note"),
        OptionSpec("where", "string", "where", autocomplete="environments"),
        OptionSpec("untyped", "string", "untyped"),
    )


def test_a_choice_of_more_than_25_is_suggested_as_typed_and_keeps_its_choices_for_validation() -> None:
    many = [f"region-{n}" for n in range(30)]

    option = only_option({"region": {"type": "choice", "options": many}})

    assert option.autocomplete == "choices"
    assert option.choices == tuple(many)


def test_a_choice_of_exactly_25_is_listed_by_discord() -> None:
    option = only_option({"region": {"type": "choice", "options": [f"r{n}" for n in range(25)]}})

    assert option.autocomplete is None
    assert len(option.choices) == 25


def test_choice_options_reach_the_option_as_github_sends_them() -> None:
    option = only_option({"level": {"type": "choice", "options": [1, 2.5, True, "x"]}})

    assert option.choices == ("1", "2.5", "true", "x")


# --- required, default, description -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "required"),
    [
        ({"required": True}, True),
        ({"required": True, "default": "v1"}, False),
        ({"required": True, "default": ""}, False),
        ({"required": True, "default": "${{ github.ref }}"}, False),
        ({"required": False}, False),
        ({}, False),
        ({"required": "yes"}, False),
    ],
)
def test_an_option_is_required_only_when_its_input_is_required_without_a_default(
    declaration: dict[str, Any], required: bool
) -> None:
    assert only_option({"version": declaration}).required is required


@pytest.mark.parametrize(
    ("declaration", "description"),
    [
        ({"description": "Where to deploy", "default": "staging"}, "Where to deploy (default: staging)"),
        ({"description": "Full logs", "type": "boolean", "default": False}, "Full logs (default: false)"),
        ({"description": "Retries", "type": "number", "default": 3}, "Retries (default: 3)"),
        ({"default": "v1"}, "version (default: v1)"),
        ({"description": "Branch", "default": "${{ github.ref }}"}, "Branch"),
        ({"description": "Branch", "default": "refs/${{ github.ref_name }}"}, "Branch"),
        ({"description": "Label", "default": ""}, "Label"),
        ({"description": "Label"}, "Label"),
        ({"description": "  Two\n  lines  folded "}, "Two lines folded"),
    ],
)
def test_the_default_is_shown_in_the_description_unless_it_is_an_expression(
    declaration: dict[str, Any], description: str
) -> None:
    assert only_option({"version": declaration}).description == description


def test_the_default_is_shown_only_when_it_fits_in_100_characters() -> None:
    fits = "d" * 85  # + " (default: abc)" = 100
    too_long = "d" * 86

    assert only_option({"v": {"description": fits, "default": "abc"}}).description == fits + " (default: abc)"
    assert only_option({"v": {"description": too_long, "default": "abc"}}).description == too_long


def test_a_description_longer_than_100_characters_is_clipped_with_an_ellipsis() -> None:
    description = only_option({"v": {"description": "x" * 150}}).description

    assert description == "x" * 99 + "…"
    assert len(description) == 100
    assert only_option({"v": {"description": "y" * 100}}).description == "y" * 100


# --- names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_name", "option_name"),
    [
        ("version", "version"),
        ("Target-Env", "target-env"),
        ("Build Number", "build_number"),
        ("image.tag", "image_tag"),
        ("Größe", "gr_e"),
        ("a" * 40, "a" * 32),
    ],
)
def test_input_names_become_discord_option_names(input_name: str, option_name: str) -> None:
    derived = derive({input_name: {}})

    assert [o.name for o in derived.options] == [option_name]
    assert derived.inputs == ((input_name, f"{{{option_name}}}"),)


def test_names_that_clash_once_lowercased_or_cut_are_suffixed() -> None:
    long_a, long_b = "b" * 32 + "_first", "b" * 32 + "_second"

    derived = derive({"Env": {}, "ENV": {}, "env": {}, long_a: {}, long_b: {}})

    names = [o.name for o in derived.options]
    assert names == ["env", "env_2", "env_3", "b" * 32, "b" * 30 + "_2"]
    assert all(DISCORD_NAME.match(name) for name in names)
    assert dict(derived.inputs) == {
        "Env": "{env}",
        "ENV": "{env_2}",
        "env": "{env_3}",
        long_a: "{" + "b" * 32 + "}",
        long_b: "{" + "b" * 30 + "_2}",
    }


@pytest.mark.parametrize("placeholder", sorted(CONTEXT_PLACEHOLDERS))
def test_an_option_is_never_named_like_a_value_the_bot_fills(placeholder: str) -> None:
    # Not the placeholder itself (that input is filled automatically), but one that lowercases to it.
    input_name = placeholder.upper()

    option = only_option({input_name: {"required": True}})

    assert option.name == f"{placeholder}_2"
    assert option.name not in CONTEXT_PLACEHOLDERS


# --- inputs the bot fills itself ----------------------------------------------------------------------


def test_inputs_named_like_context_values_are_filled_automatically_and_not_offered() -> None:
    derived = derive(
        {
            "version": {"required": True},
            "trace_id": {},
            "user_id": {},
            "user_name": {},
            "channel_id": {},
        }
    )

    assert [o.name for o in derived.options] == ["version"]
    assert derived.inputs == (
        ("trace_id", "{trace_id}"),
        ("user_id", "{user_id}"),
        ("user_name", "{user_name}"),
        ("channel_id", "{channel_id}"),
        ("version", "{version}"),
    )


def test_a_prompt_input_is_filled_only_when_the_command_has_a_prompt_file() -> None:
    with_prompt = derive({"prompt": {}}, prompt_text="Diagnose things")
    without_prompt = derive({"prompt": {}})

    assert with_prompt.options == ()
    assert with_prompt.inputs == (("prompt", "{prompt}"),)
    assert [o.name for o in without_prompt.options] == ["prompt_2"]
    assert without_prompt.inputs == (("prompt", "{prompt_2}"),)


def test_inputs_the_command_maps_itself_are_not_offered_and_kept_once() -> None:
    derived = derive(
        {"version": {"required": True}, "requested_by": {}, "trace_id": {}},
        inputs=(("requested_by", "{user_name}"), ("trace_id", "{trace_id}")),
    )

    assert [o.name for o in derived.options] == ["version"]
    assert derived.inputs == (
        ("requested_by", "{user_name}"),
        ("trace_id", "{trace_id}"),
        ("version", "{version}"),
    )


def test_required_options_come_before_optional_ones_otherwise_in_file_order() -> None:
    derived = derive(
        {
            "a": {},
            "b": {"required": True},
            "c": {"required": True, "default": "x"},
            "d": {"required": True},
            "e": {},
        }
    )

    assert [(o.name, o.required) for o in derived.options] == [
        ("b", True),
        ("d", True),
        ("a", False),
        ("c", False),
        ("e", False),
    ]
    assert [name for name, _ in derived.inputs] == ["a", "b", "c", "d", "e"]


def test_a_workflow_without_inputs_gives_a_command_without_options() -> None:
    derived = derive_command(SPEC, read_dispatch_trigger("on: workflow_dispatch\n"))

    assert derived.options == ()
    assert derived.inputs == ()


# --- overrides --------------------------------------------------------------------------------------


def test_an_override_changes_only_what_it_names() -> None:
    inputs = {
        "version": {"description": "Tag", "required": True},
        "env": {"type": "choice", "options": ["staging", "production"]},
        "count": {"type": "number", "description": "How many", "default": 2},
    }
    overrides = (
        OptionOverride(name="version", description="Git tag or SHA to deploy"),
        OptionOverride(name="env", required=True),
        OptionOverride(name="count", type="integer"),
    )

    derived = derive(inputs, overrides=overrides)

    assert derived.options == (
        OptionSpec("version", "string", "Git tag or SHA to deploy", required=True),
        OptionSpec("env", "string", "env", required=True, choices=("staging", "production")),
        OptionSpec("count", "integer", "How many (default: 2)"),
    )


def test_an_override_can_make_a_required_input_optional() -> None:
    option = only_option({"version": {"required": True}}, overrides=(OptionOverride(name="version", required=False),))

    assert option.required is False


def test_override_choices_replace_the_workflows_and_end_suggestions_from_them() -> None:
    many = [f"region-{n}" for n in range(30)]
    overrides = (
        OptionOverride(name="region", choices=("region-1", "region-2")),
        OptionOverride(name="note", choices=("a", "b")),
    )

    derived = derive({"region": {"type": "choice", "options": many}, "note": {}}, overrides=overrides)

    assert derived.options == (
        OptionSpec("region", "string", "region", choices=("region-1", "region-2")),
        OptionSpec("note", "string", "note", choices=("a", "b")),
    )


def test_an_autocomplete_override_suggests_from_the_repository_instead_of_choices() -> None:
    overrides = (
        OptionOverride(name="ref", autocomplete="branches"),
        OptionOverride(name="env", autocomplete="environments"),
    )

    derived = derive({"ref": {}, "env": {"type": "choice", "options": ["a", "b"]}}, overrides=overrides)

    assert derived.options == (
        OptionSpec("ref", "string", "ref", autocomplete="branches"),
        OptionSpec("env", "string", "env", autocomplete="environments"),
    )


def test_an_override_names_the_input_not_the_derived_option() -> None:
    option = only_option({"Build Number": {}}, overrides=(OptionOverride(name="Build Number", description="Build"),))

    assert (option.name, option.description) == ("build_number", "Build")


@pytest.mark.parametrize("named", ["nope", "trace_id", "requested_by"])
def test_an_override_of_an_input_users_do_not_fill_is_refused(named: str) -> None:
    with pytest.raises(DerivationError) as raised:
        derive(
            {"version": {}, "trace_id": {}, "requested_by": {}},
            inputs=(("requested_by", "{user_name}"),),
            overrides=(OptionOverride(name=named, description="x"),),
        )

    assert str(raised.value) == (
        f"options: {named!r} is not an input of ship.yml (at main) that users fill: "
        "remove the entry, or declare the input in the workflow"
    )


@pytest.mark.parametrize(
    ("declaration", "override", "kind"),
    [
        ({"type": "boolean"}, OptionOverride(name="v", autocomplete="refs"), "boolean"),
        ({"type": "number"}, OptionOverride(name="v", autocomplete="tags"), "number"),
        ({}, OptionOverride(name="v", type="integer", autocomplete="branches"), "integer"),
        ({"type": "environment"}, OptionOverride(name="v", type="boolean"), "boolean"),
    ],
)
def test_suggestions_on_an_option_that_is_not_a_string_are_refused(
    declaration: dict[str, Any], override: OptionOverride, kind: str
) -> None:
    with pytest.raises(DerivationError) as raised:
        derive({"v": declaration}, overrides=(override,))

    assert str(raised.value) == f"options: 'v' is a {kind} in ship.yml (at main); only strings take suggestions"


# --- what cannot be derived -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["on: push\n", "on: [push, pull_request]\n", "on:\n  push:\n    branches: [main]\n", "name: no triggers\n"],
)
def test_a_workflow_without_workflow_dispatch_cannot_be_derived(text: str) -> None:
    with pytest.raises(DerivationError) as raised:
        derive_command(replace(SPEC, ref="v2"), read_dispatch_trigger(text))

    assert str(raised.value) == ("ship.yml (at v2) has no workflow_dispatch trigger: add `on: workflow_dispatch` to it")


def test_more_than_25_inputs_for_users_is_refused() -> None:
    inputs: dict[str, Any] = {f"input_{n}": {} for n in range(26)}

    with pytest.raises(DerivationError) as raised:
        derive(inputs)

    assert str(raised.value) == "ship.yml (at main) declares 26 inputs for users to fill; Discord offers 25"


def test_25_inputs_for_users_beside_the_ones_the_bot_fills_are_offered() -> None:
    inputs: dict[str, Any] = {f"input_{n}": {} for n in range(25)}
    inputs |= {"trace_id": {}, "requested_by": {}}

    derived = derive(inputs, inputs=(("requested_by", "{user_name}"),))

    assert len(derived.options) == 25


# --- reading the workflow file ------------------------------------------------------------------------


def test_inputs_are_read_with_description_and_default_as_github_sends_them() -> None:
    trigger = trigger_of(
        {
            "env": {"type": "choice", "options": ["a", "b"], "required": True, "description": "Where"},
            "flag": {"type": "boolean", "default": True},
            "count": {"type": "number", "default": 1.5},
            "ref": {"default": "${{ github.ref }}"},
            "none": {"default": None},
        }
    )

    assert trigger.inputs == {
        "env": DispatchInput("env", "choice", required=True, options=("a", "b"), description="Where"),
        "flag": DispatchInput("flag", "boolean", has_default=True, default="true"),
        "count": DispatchInput("count", "number", has_default=True, default="1.5"),
        "ref": DispatchInput("ref", "string", has_default=True, default=None),
        "none": DispatchInput("none", "string"),
    }
    assert trigger.run_name == RUN_NAME


def test_a_trigger_survives_the_json_round_trip_of_the_cache() -> None:
    trigger = trigger_of(
        {
            "env": {"type": "choice", "options": ["a", "b"], "required": True, "description": "Where ✓"},
            "flag": {"type": "boolean", "default": False},
            "ref": {"default": "${{ github.ref }}"},
        }
    )

    assert DispatchTrigger.from_json(json.loads(json.dumps(trigger.to_json()))) == trigger
    not_dispatchable = read_dispatch_trigger("on: push\n")
    assert DispatchTrigger.from_json(json.loads(json.dumps(not_dispatchable.to_json()))) == not_dispatchable


@pytest.mark.parametrize(
    "text",
    [
        "on: workflow_dispatch\n",
        "on: [push, workflow_dispatch]\n",
        "on:\n  push:\n  workflow_dispatch:\n",
        "'on':\n  workflow_dispatch: {}\n",
    ],
)
def test_on_is_read_as_a_string_a_list_or_a_mapping(text: str) -> None:
    trigger = read_dispatch_trigger(text)

    assert trigger.dispatchable
    assert trigger.inputs == {}


def test_a_mapping_trigger_with_inputs_is_read() -> None:
    text = "on:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\n"

    assert read_dispatch_trigger(text).inputs == {"version": DispatchInput("version", required=True)}


def test_inputs_shared_through_yaml_anchors_and_aliases_are_read() -> None:
    text = """
x-text: &text {type: string, required: false, description: Free text}
x-envs: &envs [staging, production]
x-inputs: &inputs
  note: *text
  env:
    type: choice
    options: *envs
    required: true
on:
  workflow_dispatch:
    inputs: *inputs
jobs: {}
"""
    trigger = read_dispatch_trigger(text)

    assert trigger.inputs == {
        "note": DispatchInput("note", "string", description="Free text"),
        "env": DispatchInput("env", "choice", required=True, options=("staging", "production")),
    }
    assert [o.name for o in derive_command(SPEC, trigger).options] == ["env", "note"]


def test_a_merge_key_which_github_does_not_take_is_named() -> None:
    text = """
x-text: &text {type: string, description: Free text}
on:
  workflow_dispatch:
    inputs:
      env:
        <<: *text
        required: true
"""
    with pytest.raises(WorkflowFileError, match=r"merge keys \(<<\)"):
        read_dispatch_trigger(text)


def test_scalars_stay_the_text_written_as_github_reads_them() -> None:
    text = """
on:
  workflow_dispatch:
    inputs:
      answer: {type: choice, options: [yes, no], default: no}
      version: {type: choice, options: ["1.9", 1.10], default: 1.10}
      flag: {type: boolean, default: true, required: yes}
"""
    inputs = read_dispatch_trigger(text).inputs

    assert inputs["answer"].options == ("yes", "no") and inputs["answer"].default == "no"
    assert inputs["version"].options == ("1.9", "1.10") and inputs["version"].default == "1.10"
    assert inputs["flag"].default == "true" and not inputs["flag"].required  # `yes` is not YAML 1.2's true


@pytest.mark.parametrize(
    "declaration", ["{type: choice, options: [[a, b]]}", "{type: choice, options: [{a: 1}]}", "{default: [a]}"]
)
def test_an_option_or_default_that_is_not_a_plain_value_is_named(declaration: str) -> None:
    text = f"on:\n  workflow_dispatch:\n    inputs:\n      x: {declaration}\n"
    with pytest.raises(WorkflowFileError, match="plain value"):
        read_dispatch_trigger(text)


def test_a_file_too_large_for_github_to_return_inline_is_refused() -> None:
    with pytest.raises(WorkflowFileError, match="over 1,000,000 characters"):
        read_dispatch_trigger("#" * 1_000_001)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("on: [unclosed\n", "not valid YAML: "),
        ("key: value\n  nested: wrong\n", "not valid YAML: "),
        ("- on\n- workflow_dispatch\n", "not a workflow: the file is not a mapping of keys"),
        ("just a string\n", "not a workflow: the file is not a mapping of keys"),
        ("", "not a workflow: the file is not a mapping of keys"),
        (
            "on:\n  workflow_dispatch:\n    inputs: [a, b]\n",
            "on.workflow_dispatch.inputs is not a mapping of input names",
        ),
        (
            "on:\n  workflow_dispatch:\n    inputs:\n      env: {type: choice}\n",
            "input 'env': a choice input needs a list of options",
        ),
        (
            "on:\n  workflow_dispatch:\n    inputs:\n      env: {type: choice, options: []}\n",
            "input 'env': a choice input needs a list of options",
        ),
        (
            "on:\n  workflow_dispatch:\n    inputs:\n      env: {type: choice, options: staging}\n",
            "input 'env': a choice input needs a list of options",
        ),
        (
            "on:\n  workflow_dispatch:\n    inputs:\n      f: {type: file}\n",
            "input 'f': type 'file' is not one of boolean, choice, environment, number, string",
        ),
    ],
)
def test_a_file_that_cannot_be_read_as_a_workflow_gets_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(WorkflowFileError) as raised:
        read_dispatch_trigger(text)

    if message.endswith(": "):
        assert str(raised.value).startswith(message)
        assert len(str(raised.value).splitlines()) == 1
    else:
        assert str(raised.value) == message


# --- derivation and drift agree -----------------------------------------------------------------------

AGREEING_WORKFLOWS: dict[str, dict[str, Any]] = {
    "every type": {
        "env": {"type": "choice", "options": ["staging", "production"], "required": True},
        "flag": {"type": "boolean", "default": False},
        "count": {"type": "number", "required": True, "default": 1},
        "note": {"type": "string", "required": True},
        "where": {"type": "environment"},
        "trace_id": {},
    },
    "many choices": {"region": {"type": "choice", "options": [f"r{n}" for n in range(40)], "required": True}},
    "names to map": {"Target-Env": {"required": True}, "Build Number": {}, "USER_NAME": {}, "b" * 40: {}},
    "context only": {"trace_id": {}, "user_id": {}, "user_name": {}, "channel_id": {}, "prompt": {}},
    "required with expression default": {"ref": {"required": True, "default": "${{ github.ref }}"}},
}


@pytest.mark.parametrize("inputs", list(AGREEING_WORKFLOWS.values()), ids=list(AGREEING_WORKFLOWS))
@pytest.mark.parametrize("prompt_text", [None, "A prompt"])
def test_a_derived_command_passes_drift(inputs: dict[str, Any], prompt_text: str | None) -> None:
    trigger = trigger_of(inputs)

    derived = derive_command(replace(SPEC, prompt_text=prompt_text), trigger)

    assert errors(derived, trigger) == []
    assert drift(derived, trigger) == []  # the run-name echoes the trace id: not even a warning


def test_drift_names_an_override_choice_the_workflow_does_not_accept() -> None:
    trigger = trigger_of({"env": {"type": "choice", "options": ["staging", "production"]}})

    derived = derive_command(replace(SPEC, overrides=(OptionOverride(name="env", choices=("staging", "qa")),)), trigger)

    [problem] = errors(derived, trigger)
    assert "option 'env' offers 'qa', which input 'env' of ship.yml (at main) does not accept" in problem


def test_drift_names_an_override_choice_the_workflow_does_not_accept_on_a_hyphenated_option() -> None:
    trigger = trigger_of({"target-env": {"type": "choice", "options": ["staging", "production"]}})
    override = OptionOverride(name="target-env", choices=("staging", "qa"))

    derived = derive_command(replace(SPEC, overrides=(override,)), trigger)

    [problem] = errors(derived, trigger)
    assert "option 'target-env' offers 'qa'" in problem


def shipped_like(name: str) -> CommandSpec:
    """The shipped command with its options left to the workflow: only context values mapped by hand."""
    spec = SHIPPED.commands[name]
    context_only = tuple(
        (input_name, template) for input_name, template in spec.inputs if template.strip("{}") in CONTEXT_PLACEHOLDERS
    )
    return replace(spec, options=(), inputs=context_only, options_from_workflow=True)


HAND_WRITTEN = sorted(name for name, spec in SHIPPED.commands.items() if not spec.options_from_workflow)
FROM_WORKFLOW = sorted(name for name, spec in SHIPPED.commands.items() if spec.options_from_workflow)


def example_trigger(spec: CommandSpec) -> DispatchTrigger:
    return read_dispatch_trigger((EXAMPLES / spec.workflow).read_text(encoding="utf-8"))


@pytest.mark.parametrize("command", HAND_WRITTEN)
def test_the_shipped_examples_derive_the_hand_written_options_and_pass_drift(command: str) -> None:
    hand_written = SHIPPED.commands[command]
    trigger = example_trigger(hand_written)

    derived = derive_command(shipped_like(command), trigger)

    assert errors(derived, trigger) == []
    assert [(o.name, o.type, o.required, o.choices) for o in derived.options] == [
        (o.name, o.type, o.required, o.choices) for o in hand_written.options
    ]
    assert dict(derived.inputs) == dict(hand_written.inputs)


@pytest.mark.parametrize("command", FROM_WORKFLOW)
def test_the_shipped_commands_with_options_from_their_workflow_derive_and_pass_drift(command: str) -> None:
    spec = SHIPPED.commands[command]
    trigger = example_trigger(spec)

    derived = derive_command(spec, trigger)

    assert derived.options
    assert drift(derived, trigger) == []


def test_the_shipped_release_command_offers_the_release_workflows_inputs() -> None:
    spec = SHIPPED.commands["release"]

    derived = derive_command(spec, example_trigger(spec))

    assert derived.options == (
        OptionSpec("source", "string", "Branch or tag to release from", required=True, autocomplete="refs"),
        OptionSpec("version", "string", "Version to publish, e.g. 1.5.0", required=True),
        OptionSpec("channel", "string", "Where to publish (default: beta)", choices=("beta", "stable")),
        OptionSpec("dry_run", "boolean", "Build everything, publish nothing (default: false)"),
    )
    assert dict(derived.inputs) == {
        "requested_by": "{user_name}",
        "trace_id": "{trace_id}",
        "source": "{source}",
        "version": "{version}",
        "channel": "{channel}",
        "dry_run": "{dry_run}",
    }


def test_the_shipped_examples_are_all_run_by_a_command() -> None:
    assert sorted(path.name for path in EXAMPLES.glob("*.yml")) == sorted(
        spec.workflow for spec in SHIPPED.commands.values()
    )
