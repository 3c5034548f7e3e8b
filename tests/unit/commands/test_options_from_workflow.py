"""The commands file's `options_from_workflow: true`: the command carries presentation overrides
instead of options, each override problem is reported at its place, the workflow must be named by
its file, and `inputs:` may only map values the bot fills. Also the `autocomplete:` key of a
hand-written option: which sources, on which options."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.loader import check_commands
from orchestrator.commands.model import LISTED_SOURCES, AutocompleteSource, CommandSpec, OptionOverride, OptionSpec

HEADER = "commands:\n  x:\n    description: Release it\n    workflow: release.yml\n"
FROM_WORKFLOW = HEADER + "    options_from_workflow: true\n"


def check(tmp_path: Path, text: str) -> tuple[CommandSpec | None, list[str]]:
    path = tmp_path / "commands.yaml"
    path.write_text(text, encoding="utf-8")
    commands, problems = check_commands(path)
    return (commands.get("x") if commands is not None else None), problems


def loaded(tmp_path: Path, text: str) -> CommandSpec:
    spec, problems = check(tmp_path, text)
    assert problems == []
    assert spec is not None
    return spec


def problems_of(tmp_path: Path, text: str) -> list[str]:
    spec, problems = check(tmp_path, text)
    assert spec is None
    return problems


# --- options_from_workflow ----------------------------------------------------------------------------


def test_a_command_with_options_from_its_workflow_has_no_options_of_its_own(tmp_path: Path) -> None:
    spec = loaded(tmp_path, FROM_WORKFLOW)

    assert spec.options_from_workflow is True
    assert spec.options == ()
    assert spec.overrides == ()
    assert spec.inputs == ()


def test_options_from_workflow_is_off_unless_asked_for(tmp_path: Path) -> None:
    assert loaded(tmp_path, HEADER).options_from_workflow is False
    assert loaded(tmp_path, HEADER + "    options_from_workflow: false\n").options_from_workflow is False


def test_its_options_entries_are_overrides_in_which_only_the_name_is_required(tmp_path: Path) -> None:
    spec = loaded(
        tmp_path,
        FROM_WORKFLOW
        + "    options:\n"
        + "      - name: source\n"
        + "        autocomplete: refs\n"
        + "      - name: Build-Number\n"
        + "        type: integer\n"
        + "        description: Which build\n"
        + "        required: true\n"
        + "      - name: channel\n"
        + "        choices: [beta, stable]\n"
        + "        required: false\n"
        + "      - {name: bare}\n",
    )

    assert spec.options == ()
    assert spec.overrides == (
        OptionOverride(name="source", autocomplete="refs"),
        OptionOverride(name="Build-Number", type="integer", description="Which build", required=True),
        OptionOverride(name="channel", required=False, choices=("beta", "stable")),
        OptionOverride(name="bare"),
    )


def test_an_override_may_name_an_input_a_hand_written_option_could_not_be_named(tmp_path: Path) -> None:
    # Overrides name the workflow's inputs: uppercase and long names are theirs to have.
    name = "Deploy_Target_Environment_For_This_Release"

    spec = loaded(tmp_path, FROM_WORKFLOW + f"    options:\n      - name: {name}\n")

    assert spec.overrides == (OptionOverride(name=name),)


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ("      - {description: d}\n", "commands.x.options[0].name: expected the name of one of the workflow's inputs"),
        ("      - {name: '9lives'}\n", "commands.x.options[0].name: expected the name of one of the workflow's inputs"),
        (
            "      - {name: 'two words'}\n",
            "commands.x.options[0].name: expected the name of one of the workflow's inputs",
        ),
        ("      - {name: a}\n      - {name: a}\n", "commands.x.options[1].name: 'a' is overridden twice"),
        (
            "      - {name: a, type: str}\n",
            "commands.x.options[0].type: 'str' is not one of string, integer, number, boolean",
        ),
        ("      - {name: a, description: ''}\n", "commands.x.options[0].description: expected 1-100 characters"),
        (
            f"      - {{name: a, description: {'d' * 101}}}\n",
            "commands.x.options[0].description: expected 1-100 characters",
        ),
        ("      - {name: a, required: yes please}\n", "commands.x.options[0].required: expected true or false"),
        ("      - {name: a, choices: staging}\n", "commands.x.options[0].choices: expected a list"),
        (
            "      - {name: a, type: integer, choices: [1, two]}\n",
            "commands.x.options[0].choices[1]: 'two' is not a integer",
        ),
        (
            "      - {name: a, type: boolean, choices: [true]}\n",
            "commands.x.options[0].choices: boolean options cannot have choices",
        ),
        ("      - {name: a, choices: [s, s]}\n", "commands.x.options[0].choices: duplicate choices"),
        (
            "      - {name: a, autocomplete: users}\n",
            "commands.x.options[0].autocomplete: expected one of refs, branches, tags, environments",
        ),
        (
            "      - {name: a, type: number, autocomplete: refs}\n",
            "commands.x.options[0].autocomplete: only string options can suggest refs",
        ),
        (
            "      - {name: a, choices: [s], autocomplete: refs}\n",
            "commands.x.options[0].autocomplete: Discord does not allow choices and autocomplete together: keep one",
        ),
        ("      - just-a-name\n", "commands.x.options[0]: expected a mapping"),
        (
            "      - {name: ok}\n      - {name: a, colour: red}\n",
            "commands.x.options[1]: unknown key 'colour' (allowed: ",
        ),
    ],
)
def test_an_override_problem_is_reported_at_its_place(tmp_path: Path, entries: str, problem: str) -> None:
    problems = problems_of(tmp_path, FROM_WORKFLOW + "    options:\n" + entries)

    assert any(p.startswith(problem) for p in problems), problems


def test_options_that_are_not_a_list_are_a_problem(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, FROM_WORKFLOW + "    options: {name: a}\n")

    assert problems == ["commands.x.options: expected a list"]


def test_every_override_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        FROM_WORKFLOW + "    options:\n      - {name: a, type: str}\n      - {name: b, required: maybe}\n",
    )

    assert problems == [
        "commands.x.options[0].type: 'str' is not one of string, integer, number, boolean",
        "commands.x.options[1].required: expected true or false",
    ]


def test_options_from_workflow_must_be_true_or_false(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, HEADER + "    options_from_workflow: sometimes\n")

    assert problems == ["commands.x.options_from_workflow: expected true or false"]


@pytest.mark.parametrize("workflow", ["161335", "'161335'"])
def test_a_workflow_named_by_its_numeric_id_cannot_give_the_options(tmp_path: Path, workflow: str) -> None:
    text = f"commands:\n  x:\n    description: d\n    workflow: {workflow}\n    options_from_workflow: true\n"

    problems = problems_of(tmp_path, text)

    assert problems == [
        "commands.x.workflow: options_from_workflow reads the workflow's file: name it (deploy.yml), not its numeric id"
    ]


def test_a_numeric_workflow_id_is_still_fine_with_hand_written_options(tmp_path: Path) -> None:
    spec = loaded(tmp_path, "commands:\n  x:\n    description: d\n    workflow: 161335\n")

    assert spec.workflow == "161335"


def test_its_inputs_may_map_the_values_the_bot_fills(tmp_path: Path) -> None:
    (tmp_path / "prompt.md").write_text("Release carefully.\n", encoding="utf-8")
    text = (
        FROM_WORKFLOW
        + "    prompt: prompt.md\n"
        + "    inputs:\n"
        + '      requested_by: "{user_name}"\n'
        + '      who: "{user_name} ({user_id}) in {channel_id}"\n'
        + '      trace_id: "{trace_id}"\n'
        + '      prompt: "{prompt}"\n'
        + "      fixed: production\n"
    )

    spec = loaded(tmp_path, text)

    assert spec.inputs == (
        ("requested_by", "{user_name}"),
        ("who", "{user_name} ({user_id}) in {channel_id}"),
        ("trace_id", "{trace_id}"),
        ("prompt", "{prompt}"),
        ("fixed", "production"),
    )


def test_its_inputs_may_not_map_an_option_because_the_workflow_gives_them(tmp_path: Path) -> None:
    text = FROM_WORKFLOW + "    options:\n      - {name: target}\n    inputs:\n      target: '{target}'\n"

    problems = problems_of(tmp_path, text)

    assert len(problems) == 1
    assert problems[0].startswith("commands.x.inputs.target: {target} is neither an option of this command nor one of")


def test_its_inputs_may_use_prompt_only_with_a_prompt_file(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, FROM_WORKFLOW + "    inputs:\n      prompt: '{prompt}'\n")

    assert problems == ["commands.x.inputs.prompt: {prompt} needs a 'prompt' file on this command"]


# --- autocomplete on hand-written options -------------------------------------------------------------


@pytest.mark.parametrize("source", LISTED_SOURCES)
def test_a_string_option_may_suggest_from_the_repository(tmp_path: Path, source: AutocompleteSource) -> None:
    text = HEADER + f"    options:\n      - {{name: ref, description: Where from, autocomplete: {source}}}\n"

    spec = loaded(tmp_path, text)

    assert spec.options == (OptionSpec("ref", "string", "Where from", autocomplete=source),)


def test_an_explicit_string_option_may_suggest(tmp_path: Path) -> None:
    text = (
        HEADER + "    options:\n      - {name: ref, type: string, description: d, required: true, autocomplete: tags}\n"
    )

    assert loaded(tmp_path, text).options == (OptionSpec("ref", "string", "d", required=True, autocomplete="tags"),)


def test_an_option_without_autocomplete_has_none(tmp_path: Path) -> None:
    text = HEADER + "    options:\n      - {name: ref, description: d}\n"

    [option] = loaded(tmp_path, text).options
    assert option.autocomplete is None


@pytest.mark.parametrize("option_type", ["integer", "number", "boolean"])
def test_an_option_that_is_not_a_string_may_not_suggest(tmp_path: Path, option_type: str) -> None:
    text = HEADER + f"    options:\n      - {{name: n, type: {option_type}, description: d, autocomplete: branches}}\n"

    problems = problems_of(tmp_path, text)

    assert problems == ["commands.x.options[0].autocomplete: only string options can suggest branches"]


def test_an_option_may_not_have_both_choices_and_autocomplete(tmp_path: Path) -> None:
    text = HEADER + "    options:\n      - {name: e, description: d, choices: [a, b], autocomplete: environments}\n"

    problems = problems_of(tmp_path, text)

    assert problems == [
        "commands.x.options[0].autocomplete: Discord does not allow choices and autocomplete together: keep one"
    ]


@pytest.mark.parametrize("source", ["users", "choices", "REFS", "true", "[refs]"])
def test_an_unknown_autocomplete_source_is_refused(tmp_path: Path, source: str) -> None:
    text = HEADER + f"    options:\n      - {{name: e, description: d, autocomplete: {source}}}\n"

    problems = problems_of(tmp_path, text)

    assert problems == ["commands.x.options[0].autocomplete: expected one of refs, branches, tags, environments"]


def test_autocomplete_problems_are_reported_at_the_options_place(tmp_path: Path) -> None:
    text = (
        HEADER
        + "    options:\n"
        + "      - {name: a, description: d, required: true}\n"
        + "      - {name: b, type: integer, description: d, autocomplete: refs}\n"
    )

    assert problems_of(tmp_path, text) == ["commands.x.options[1].autocomplete: only string options can suggest refs"]
