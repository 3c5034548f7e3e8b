"""The commands file compiled at build time (orchestrator/commands/compiled.py): loading it gives
exactly what the YAML gives, skips PyYAML, and falls back to the YAML whenever the compiled file
is missing, stale or damaged."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.commands.compiled import (
    NotCompiled,
    compile_commands,
    compiled_path,
    main,
    read_compiled,
)
from orchestrator.commands.loader import check_commands, load_commands
from orchestrator_dev.artifact.layout import deployed_commands_file
from tests.conftest import COMMANDS_YAML


@pytest.fixture
def repo_commands(tmp_path: Path) -> Path:
    """The repository's commands file and the prompts it names, as the artifact holds them, but
    not compiled yet."""
    commands_file = deployed_commands_file(tmp_path)
    compiled_path(commands_file).unlink()
    return commands_file


@pytest.mark.parametrize(
    "text",
    [
        None,  # the repository's own
        COMMANDS_YAML,  # the tests'
        # Anchors, aliases and merge keys: JSON holds the result, each use written out.
        "commands:\n  a: &x {description: d, workflow: w.yml}\n  b: *x\n  c: {<<: *x, ref: dev}\n",
        # Infinity and NaN as Python's json writes and reads them: the same values, the same problems.
        "commands:\n  a: {description: d, workflow: w.yml, rate_limit: {per_minute: .inf, burst: .nan}}\n",
        '\ufeffcommands:\r\n  a: {description: "\\U0001F680 \\u00e9", workflow: w.yml}\r\n',  # BOM, CRLF, escapes
    ],
)
def test_the_compiled_file_gives_what_the_yaml_gives_problems_included(repo_commands: Path, text: str | None) -> None:
    if text is not None:
        repo_commands.write_text(text, encoding="utf-8")
    from_yaml = check_commands(repo_commands)
    assert compile_commands(repo_commands) == compiled_path(repo_commands)
    assert read_compiled(repo_commands, repo_commands.read_text(encoding="utf-8")) is not None
    assert check_commands(repo_commands) == from_yaml
    if text in (None, COMMANDS_YAML):  # both valid: the command sets themselves, equal
        assert from_yaml[0] is not None


def test_with_the_compiled_file_pyyaml_is_never_imported(repo_commands: Path) -> None:
    compile_commands(repo_commands)
    probe = (
        "import sys; from pathlib import Path; from orchestrator.commands.loader import load_commands;"
        "commands = load_commands(Path(sys.argv[1])); print(len(commands.commands), 'yaml' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(repo_commands)], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-1] == "False"


def test_an_edited_commands_file_is_read_as_yaml(repo_commands: Path) -> None:
    compile_commands(repo_commands)
    repo_commands.write_text(COMMANDS_YAML, encoding="utf-8")
    assert load_commands(repo_commands).get("deploy") is not None  # the edit, not the compiled file


@pytest.mark.parametrize("damage", [b"{", b"[]", b'{"sha256": 1}', b"\xff", b"[" * 100_000])
def test_a_damaged_compiled_file_costs_time_never_the_commands(repo_commands: Path, damage: bytes) -> None:
    from_yaml = load_commands(repo_commands)
    compiled_path(repo_commands).write_bytes(damage)
    assert read_compiled(repo_commands, repo_commands.read_text(encoding="utf-8")) is None
    assert load_commands(repo_commands) == from_yaml


def test_a_compiled_file_that_says_what_it_came_from_but_holds_another_document_is_not_trusted_blindly(
    repo_commands: Path,
) -> None:
    # The digest ties the compiled file to the text; the document is what the build read from it.
    # Hand-edited, it is still checked as any commands file is: a bad one is reported, not run.
    compile_commands(repo_commands)
    compiled = json.loads(compiled_path(repo_commands).read_text(encoding="utf-8"))
    compiled["document"] = {"commands": {"Bad Name": {}}}
    compiled_path(repo_commands).write_text(json.dumps(compiled), encoding="utf-8")
    commands, problems = check_commands(repo_commands)
    assert commands is None
    assert any("bad command name" in problem for problem in problems)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("commands: [\n", "not valid YAML (line"),
        ("commands:\n  a: {}\n  a: {}\n", "'a' is given twice in one mapping"),
        ("commands:\n  a: {description: !!float abc}\n", "not valid YAML (a value cannot be read: ValueError"),
        ("commands:\n  a: {description: !!timestamp 2026-13-45}\n", "not valid YAML (a value cannot be read"),
        ("commands:\n  a: {x: " + "9" * 5000 + "}\n", "not valid YAML (a value cannot be read: ValueError"),
        # No length limit in hexadecimal, but no message could write it in decimal (over 4,300 digits).
        ("commands:\n  a: {x: 0x" + "F" * 4000 + "}\n", "not valid YAML (a value cannot be read: ValueError"),
        ("commands:\n  a: {workflow: !!int ''}\n", "not valid YAML (a value cannot be read: IndexError"),
        ("commands:\n  a: {ephemeral: !!bool abc}\n", "not valid YAML (a value cannot be read: KeyError"),
        ("commands:\n  a: {}\n  yes: {}\n  true: {}\n", "'true' is given twice in one mapping"),
        ("commands: " + "[" * 5000 + "]" * 5000 + "\n", "not valid YAML (line 1: exceeded maximum nesting depth)"),
    ],
)
def test_a_broken_commands_file_stops_the_build(tmp_path: Path, text: str, reason: str) -> None:
    commands_file = tmp_path / "commands.yaml"
    commands_file.write_text(text, encoding="utf-8")
    compiled_path(commands_file).write_text("{}", encoding="utf-8")  # from an earlier build
    with pytest.raises(NotCompiled, match=re.escape(reason)) as raised:
        compile_commands(commands_file)
    assert raised.value.broken
    assert not compiled_path(commands_file).exists()
    assert main([str(commands_file)]) == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "commands:\n  a:\n    description: 2026-12-04\n",
            "commands.a.description: a YAML date has no JSON form (quote it to make it text)",
        ),
        ("commands:\n  1: {}\n", "commands: the key 1 is not text"),
        (  # one long text used 20,000 times: 2 GB of JSON
            'long: &long "' + "x" * 100_000 + '"\nmany: [' + ", ".join(["*long"] * 20_000) + "]\n",
            "over 10,000,000 characters of text (aliases counted each time they are used)",
        ),
        (  # an alias "bomb": a billion values written out
            "a: &a0 [1,1,1,1,1,1,1,1,1,1]\n"
            + "".join(f"a{i}: &a{i} [*a{i - 1},*a{i - 1},*a{i - 1},*a{i - 1},*a{i - 1}]\n" for i in range(1, 13)),
            "over 100,000 values (aliases counted each time they are used)",
        ),
    ],
)
def test_what_json_cannot_hold_is_left_to_the_yaml(tmp_path: Path, text: str, reason: str) -> None:
    commands_file = tmp_path / "commands.yaml"
    commands_file.write_text(text, encoding="utf-8")
    with pytest.raises(NotCompiled, match=re.escape(reason)) as raised:
        compile_commands(commands_file)
    assert not raised.value.broken
    assert str(raised.value).endswith("; the functions will read the YAML")
    assert main([str(commands_file)]) == 0  # the build goes on; the functions read the YAML
    assert not compiled_path(commands_file).exists()


def test_keys_are_the_same_key_when_the_dict_they_make_says_so(tmp_path: Path) -> None:
    # `'true'` is text and `true` a boolean: two keys. (`yes` and `true` are one: the case above.)
    commands_file = tmp_path / "commands.yaml"
    commands_file.write_text("commands: {}\nextra: {'true': 1, true: 2, '2': 3, 2: 4}\n", encoding="utf-8")
    with pytest.raises(NotCompiled, match="the key True is not text") as raised:
        compile_commands(commands_file)
    assert not raised.value.broken


def test_without_libyaml_nothing_is_compiled(repo_commands: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # PyYAML's pure-Python parser takes some texts otherwise than libyaml, which the functions use
    # (a tab at the end of a line: refused by one, taken by the other).
    from orchestrator.commands import yaml_document

    monkeypatch.setattr(yaml_document, "parses_with_libyaml", lambda: False)
    with pytest.raises(NotCompiled, match="this PyYAML has no libyaml") as raised:
        compile_commands(repo_commands)
    assert not raised.value.broken
    assert main([str(repo_commands)]) == 0
    assert not compiled_path(repo_commands).exists()


def test_a_check_of_bad_tagged_values_names_the_problem_instead_of_crashing(tmp_path: Path) -> None:
    commands_file = tmp_path / "commands.yaml"
    commands_file.write_text("commands:\n  a: {description: !!float abc}\n", encoding="utf-8")
    assert check_commands(commands_file) == (
        None,
        [
            f"{commands_file}: not valid YAML (a value cannot be read: ValueError: could not convert string to float: 'abc')"
        ],
    )


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main([str(tmp_path / "missing.yaml")]) == 1
    assert "missing.yaml: cannot read or write (FileNotFoundError)" in capsys.readouterr().err


def test_nesting_python_cannot_write_out_is_left_to_the_yaml(tmp_path: Path) -> None:
    commands_file = tmp_path / "commands.yaml"
    text = "commands: " + "[" * 150 + "]" * 150 + "\n"
    commands_file.write_text(text, encoding="utf-8")
    # Python 3.11's json.dumps stops at sys.getrecursionlimit(), here below a nesting libyaml reads;
    # from 3.12 on its C code has a limit of its own, which libyaml's (1,000 levels) stays under.
    probe = (
        "import sys; from orchestrator.commands.compiled import main;"
        "sys.setrecursionlimit(120); raise SystemExit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(commands_file)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    if sys.version_info < (3, 12):
        assert "maximum recursion depth exceeded" in done.stderr
        assert done.stderr.rstrip().endswith("; the functions will read the YAML")
        assert not compiled_path(commands_file).exists()
    else:
        import yaml

        assert read_compiled(commands_file, text) == yaml.safe_load(text)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.dates(),
    st.binary(max_size=4),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.booleans()), inner, max_size=3)
    ),
    max_leaves=12,
)


def same(a: object, b: object) -> bool:
    """Equal and of the same types all the way down (1, 1.0 and True are not the same value here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(document=DOCUMENTS)
def test_a_compiled_document_is_the_yaml_document_exactly_or_not_compiled(
    tmp_path_factory: pytest.TempPathFactory, document: object
) -> None:
    import yaml

    commands_file = tmp_path_factory.mktemp("compiled") / "commands.yaml"
    text = yaml.safe_dump({"commands": document})
    commands_file.write_text(text, encoding="utf-8")
    read = yaml.safe_load(text)
    try:
        compile_commands(commands_file)
    except NotCompiled as exc:
        assert not exc.broken
        assert read_compiled(commands_file, text) is None
        return
    assert same(read_compiled(commands_file, text), read)
