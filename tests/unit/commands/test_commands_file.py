from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.commands.loader import CommandsFileError, check_commands, load_commands
from orchestrator.commands.model import CommandSet
from tests.conftest import ADMIN_ROLE, ADMIN_USER, REPO_ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "commands.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_for(tmp_path: Path, text: str) -> list[str]:
    _, problems = check_commands(write(tmp_path, text))
    return problems


def test_the_shipped_commands_file_is_valid() -> None:
    commands = load_commands(REPO_ROOT / "commands.yaml")
    diagnose = commands.get("diagnose")
    assert diagnose is not None
    assert diagnose.prompt_text and "Diagnose" in diagnose.prompt_text
    assert ("trace_id", "{trace_id}") in diagnose.inputs


def test_parsed_model(commands: CommandSet) -> None:
    diagnose = commands.get("diagnose")
    deploy = commands.get("deploy")
    assert diagnose is not None and deploy is not None
    assert [o.name for o in diagnose.options] == ["target", "verbose", "count", "ratio"]
    assert diagnose.option("target") is not None
    assert diagnose.ref == "main"
    assert deploy.ephemeral is True
    assert deploy.allow is not None
    assert deploy.allow.permits(ADMIN_USER, []) and deploy.allow.permits("1", [ADMIN_ROLE])
    assert not deploy.allow.permits("1", ["999999999999999999"])


def test_unquoted_ids_are_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    allow:\n      roles: [222222222222222222]\n",
    )
    spec = load_commands(path).get("x")
    assert spec is not None and spec.allow is not None
    assert spec.allow.roles == frozenset({"222222222222222222"})


BAD_FILES = {
    "unknown top-level key": (
        "extra: 1\ncommands:\n  x:\n    description: d\n    workflow: x.yml\n",
        "unknown key 'extra'",
    ),
    "unknown command key": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    colour: red\n",
        "unknown key 'colour'",
    ),
    "uppercase name": ("commands:\n  Deploy:\n    description: d\n    workflow: x.yml\n", "bad command name"),
    "long name": (f"commands:\n  {'a' * 33}:\n    description: d\n    workflow: x.yml\n", "bad command name"),
    "spaces in name": ("commands:\n  'two words':\n    description: d\n    workflow: x.yml\n", "bad command name"),
    "missing description": ("commands:\n  x:\n    workflow: x.yml\n", "description: expected 1-100"),
    "long description": (
        f"commands:\n  x:\n    description: {'d' * 101}\n    workflow: x.yml\n",
        "description: expected 1-100",
    ),
    "bad workflow": ("commands:\n  x:\n    description: d\n    workflow: 'not a file'\n", "workflow: expected"),
    "bad option type": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    options:\n"
        "      - {name: a, type: str, description: d}\n",
        "'str' is not one of string, integer, number, boolean",
    ),
    "choice of the wrong type": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    options:\n"
        "      - {name: n, type: integer, description: d, choices: [1, two]}\n",
        "'two' is not a integer",
    ),
    "boolean with choices": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    options:\n"
        "      - {name: b, type: boolean, description: d, choices: [true]}\n",
        "boolean options cannot have choices",
    ),
    "required after optional": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    options:\n"
        "      - {name: a, description: d}\n      - {name: b, description: d, required: true}\n",
        "required options must come before optional ones",
    ),
    "duplicate option": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    options:\n"
        "      - {name: a, description: d}\n      - {name: a, description: d}\n",
        "duplicate option name",
    ),
    "option shadowing a context value": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    options:\n"
        "      - {name: user_name, description: d}\n",
        "'user_name' is a value the bot fills in itself",
    ),
    "two commands of one name": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n  x:\n    description: e\n    workflow: y.yml\n",
        "line 5: 'x' is given twice in one mapping",
    ),
    "missing workflow": ("commands:\n  x:\n    description: d\n", "workflow: missing: name the workflow file"),
    "an id too short to be one": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    allow:\n      users: [42]\n",
        "'42' is not a Discord id: 15 to 21 digits",
    ),
    "unknown placeholder": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    inputs:\n      a: '{nope}'\n",
        "{nope} is neither an option",
    ),
    "prompt placeholder without prompt": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    inputs:\n      a: '{prompt}'\n",
        "{prompt} needs a 'prompt' file",
    ),
    "missing prompt file": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    prompt: prompts/none.md\n",
        "prompt file not found",
    ),
    "bad allow id": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    allow:\n      roles: [admins]\n",
        "'admins' is not a Discord id",
    ),
    "not a boolean": (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    confirm: yes please\n",
        "confirm: expected true or false",
    ),
    "no commands": ("commands: {}\n", "expected a mapping of command name"),
    "not a mapping": ("- a\n- b\n", "top level: expected a mapping"),
}


@pytest.mark.parametrize("text,expected", BAD_FILES.values(), ids=list(BAD_FILES))
def test_each_problem_is_named(tmp_path: Path, text: str, expected: str) -> None:
    problems = problems_for(tmp_path, text)
    assert any(expected in p for p in problems), problems


def test_too_many_options_inputs_and_choices(tmp_path: Path) -> None:
    options = "".join(f"      - {{name: o{i}, description: d}}\n" for i in range(26))
    inputs = "".join(f"      i{i}: x\n" for i in range(26))
    choices = ", ".join(f"c{i}" for i in range(26))
    text = (
        "commands:\n  x:\n    description: d\n    workflow: x.yml\n    options:\n"
        + options
        + f"      - {{name: z, description: d, choices: [{choices}]}}\n"
        + "    inputs:\n"
        + inputs
    )
    problems = problems_for(tmp_path, text)
    assert any("27 options, Discord allows at most 25" in p for p in problems)
    assert any("26 inputs, GitHub allows at most 25" in p for p in problems)
    assert any("26 choices, Discord allows at most 25" in p for p in problems)


def test_oversized_prompt(tmp_path: Path) -> None:
    (tmp_path / "big.md").write_text("x" * 70_000, encoding="utf-8")
    text = "commands:\n  x:\n    description: d\n    workflow: x.yml\n    prompt: big.md\n"
    assert any("GitHub's inputs limit" in p for p in problems_for(tmp_path, text))


def test_yaml_syntax_error_has_a_line_number(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "commands:\n  x: [unclosed\n")
    assert len(problems) == 1 and "line" in problems[0]


def test_yaml_tags_are_not_executed(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "commands: !!python/object/apply:os.system ['echo hi']\n")
    assert problems and "not valid YAML" in problems[0]


def test_load_raises_with_all_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "commands:\n  X:\n    workflow: 1.txt\n  y:\n    description: d\n")
    with pytest.raises(CommandsFileError) as caught:
        load_commands(path)
    assert len(caught.value.problems) >= 2


def test_validate_cli_prints_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "commands:\n  X:\n    description: d\n    workflow: x.yml\n  y:\n    workflow: y.yml\n")
    assert main(["validate", "--no-settings", "--commands-file", str(path)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(str(path)) for line in lines)


def test_validate_cli_accepts_the_shipped_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--no-settings", "--commands-file", str(REPO_ROOT / "commands.yaml")]) == 0
    assert "defines 3 command(s)" in capsys.readouterr().out


def test_validate_cli_checks_settings(
    commands_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID", "GITHUB_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["validate", "--commands-file", str(commands_file)]) == 1
    assert "settings: GITHUB_TOKEN: required but not set" in capsys.readouterr().out


def test_validate_checks_prompt_files_no_command_names(commands_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompts = commands_file.parent / "prompts"
    (prompts / "later.md").write_text("   \n", encoding="utf-8")  # written ahead of its command, and empty
    (prompts / ".gitkeep").write_text("", encoding="utf-8")
    assert main(["validate", "--no-settings", "--commands-file", str(commands_file)]) == 1
    [line] = capsys.readouterr().out.strip().splitlines()
    assert line == f"prompts folder: prompt file is empty: {prompts / 'later.md'}"
    (prompts / "later.md").write_text("Look at the logs.\n", encoding="utf-8")
    assert main(["validate", "--no-settings", "--commands-file", str(commands_file)]) == 0


def test_more_commands_than_discord_registers_is_a_problem(tmp_path: Path) -> None:
    body = "".join(f"  c{i}:\n    description: Command {i}\n    workflow: w.yml\n" for i in range(100))
    path = tmp_path / "commands.yaml"
    path.write_text("commands:\n" + body, encoding="utf-8")
    _, problems = check_commands(path)
    assert problems == ["commands: 100 commands; Discord registers at most 99 beside /debug-last"]
