"""Operators' own secret shapes: `redact_patterns:` in the commands file, validated, then applied to every log line."""

from __future__ import annotations

import io
import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.commands.loader import check_commands
from orchestrator.commands.model import CommandSet
from orchestrator.interactions import responses
from orchestrator.observability.logging import get_logger
from orchestrator.observability.redaction import MAX_PATTERN_LENGTH
from orchestrator.observability.setup import install_redactor
from orchestrator.settings import Settings, load_settings
from tests.unit.observability.support import PROPERTY, assert_no_leak, parse_lines

COMMAND = """commands:
  ping:
    description: Ping the runners
    workflow: ping.yml
"""
ACME_KEY = "acme_live_3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"
TICKET = "TKS-QWER-20261122"


def write_commands(tmp_path: Path, patterns: str) -> Path:
    path = tmp_path / "commands.yaml"
    path.write_text(COMMAND + patterns, encoding="utf-8")
    return path


def settings_for(commands_file: Path) -> Settings:
    env = {
        "DISCORD_PUBLIC_KEY": "ab" * 32,
        "DISCORD_APPLICATION_ID": "1150000000000000009",
        "GITHUB_TOKEN": "ghp_" + "k" * 36,
        "GITHUB_REPOSITORY": "acme/ops",
        "COMMANDS_FILE": str(commands_file),
        "STATE_STORE": "memory://",
    }
    return load_settings(env, in_lambda=False)


def load(tmp_path: Path, patterns: str) -> tuple[CommandSet | None, list[str]]:
    return check_commands(write_commands(tmp_path, patterns))


def test_valid_patterns_are_applied_to_log_lines(tmp_path: Path, logs: io.StringIO) -> None:
    commands_file = write_commands(
        tmp_path,
        "redact_patterns:\n  acme_key: 'acme_(?:live|test)_[0-9a-f]{32}'\n  ticket_secret: 'TKS-[A-Z]{4}-[0-9]{8}'\n",
    )
    commands, problems = check_commands(commands_file)
    assert problems == []
    assert commands is not None and set(commands.redact_patterns) == {"acme_key", "ticket_secret"}
    install_redactor(settings_for(commands_file), commands)

    get_logger().info(f"key {ACME_KEY} and ticket {TICKET}", extra={"detail": {"copy": [ACME_KEY, TICKET]}})
    [line] = parse_lines(logs.getvalue())
    assert line["msg"] == "key [redacted:acme_key] and ticket [redacted:ticket_secret]"
    assert line["detail"] == {"copy": ["[redacted:acme_key]", "[redacted:ticket_secret]"]}
    # And the other outputs, through the same installed redactor.
    reply = responses.ephemeral_message(f"echo {ACME_KEY}")
    assert reply["data"]["content"] == "echo [redacted:acme_key]"


names = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)
words = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=6, max_size=30)


@PROPERTY
@given(name=names, word=words, before=st.sampled_from(("", "x ", "(", "value=")))
def test_any_valid_pattern_redacts_what_it_matches(
    tmp_path_factory: pytest.TempPathFactory, name: str, word: str, before: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("patterns")
    # Quoted: YAML 1.1 reads a bare on, off, yes or no as a boolean.
    commands_file = write_commands(tmp_path, f"redact_patterns:\n  '{name}': '{re.escape(word)}'\n")
    commands, problems = check_commands(commands_file)
    assert problems == [] and commands is not None
    redactor = install_redactor(settings_for(commands_file), commands)
    assert_no_leak(redactor.text(f"{before}{word} end"), [word], "text")
    assert f"[redacted:{name}]" in redactor.text(f"{before}{word} end")


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("Bad-Name: 'x[0-9]+'", "'Bad-Name': names are"),
        ("9lives: 'x[0-9]+'", "'9lives': names are"),
        (f"{'n' * 33}: 'x[0-9]+'", "names are 1-32"),
        ("broken: '([a-z'", "broken: not a valid regular expression"),
        ("everything: 'a*'", "everything: "),  # can match an empty string
        ("anchor: '^'", "anchor: "),  # can match an empty string
        ("nothing: '(?:)'", "nothing: "),  # can match an empty string
        (f"huge: '{'a' * (MAX_PATTERN_LENGTH + 1)}'", f"huge: expected a regular expression of 1-{MAX_PATTERN_LENGTH}"),
        ("blank: ''", "blank: expected a regular expression"),
        ("number: 123", "number: expected a regular expression"),
        ("missing: null", "missing: expected a regular expression"),
        ("listed: ['a', 'b']", "listed: expected a regular expression"),
    ],
)
def test_each_bad_pattern_is_one_problem_line(tmp_path: Path, entry: str, fragment: str) -> None:
    commands, problems = load(tmp_path, f"redact_patterns:\n  fine: 'ok_[0-9]{{6}}'\n  {entry}\n")
    assert commands is None
    assert len(problems) == 1, problems
    [problem] = problems
    assert problem.startswith("redact_patterns.") and fragment in problem, problem
    if fragment.endswith(": "):  # the patterns that can match an empty string
        assert "empty string" in problem, problem
    assert "\n" not in problem


def test_every_bad_pattern_is_listed_at_once(tmp_path: Path) -> None:
    commands, problems = load(
        tmp_path,
        "redact_patterns:\n  Bad-Name: 'x'\n  broken: '(('\n  everything: '.*'\n"
        f"  huge: '{'b' * 501}'\n  fine: 'ok_[0-9]{{6}}'\n",
    )
    assert commands is None
    assert len(problems) == 4, problems
    assert [p.split(":")[0] for p in problems] == [
        "redact_patterns.'Bad-Name'",
        "redact_patterns.broken",
        "redact_patterns.everything",
        "redact_patterns.huge",
    ]


def test_redact_patterns_must_be_a_mapping(tmp_path: Path) -> None:
    commands, problems = load(tmp_path, "redact_patterns:\n  - 'x[0-9]+'\n")
    assert commands is None
    assert problems == ["redact_patterns: expected a mapping of name to regular expression"]


def test_no_patterns_is_fine(tmp_path: Path) -> None:
    commands, problems = load(tmp_path, "")
    assert problems == [] and commands is not None and commands.redact_patterns == {}


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(r"\b", id="word-boundary"),
        pytest.param(r"(?=\d)", id="lookahead-on-a-digit"),
        pytest.param("(?=hunter2)", id="lookahead"),
        pytest.param("(?<=password=)", id="lookbehind"),
    ],
)
def test_zero_width_patterns_are_refused(tmp_path: Path, source: str) -> None:
    """A pattern that can only match an empty string inserts `[redacted:zero]` markers and redacts nothing.
    Found by these tests (pattern.search('') alone let `\\b` and lookarounds through)."""
    commands, problems = load(tmp_path, f"redact_patterns:\n  zero: '{source}'\n")
    assert commands is None and len(problems) == 1
    assert problems[0].startswith("redact_patterns.zero: ") and "empty string" in problems[0]
