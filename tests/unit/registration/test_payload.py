"""The bulk overwrite's body, built from the commands file."""

from __future__ import annotations

from typing import Any

from orchestrator.commands.builtin import DEBUG_COMMAND, DEBUG_DESCRIPTION, DEBUG_TRACE_OPTION
from orchestrator.commands.model import CommandSet
from orchestrator.registration.payload import build_commands


def by_name(body: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {command["name"]: command for command in body}


def test_options_keep_their_types_order_descriptions_and_required_flags(command_set: CommandSet) -> None:
    diagnose = by_name(build_commands(command_set, debug_enabled=False, global_scope=False))["diagnose"]
    assert (diagnose["type"], diagnose["description"]) == (1, "Run diagnostics")
    assert [(o["name"], o["type"], o["description"], o["required"]) for o in diagnose["options"]] == [
        ("target", 3, "Environment", True),
        ("count", 4, "How many", False),
        ("ratio", 10, "A ratio", False),
        ("verbose", 5, "More output", False),
    ]


def test_choices_are_named_by_their_value_and_keep_its_type(command_set: CommandSet) -> None:
    options = by_name(build_commands(command_set, debug_enabled=False, global_scope=False))["diagnose"]["options"]
    choices = {option["name"]: option.get("choices") for option in options}
    assert choices == {
        "target": [{"name": "staging", "value": "staging"}, {"name": "production", "value": "production"}],
        "count": [{"name": "0", "value": 0}, {"name": "1", "value": 1}, {"name": "5", "value": 5}],
        "ratio": [{"name": "0.5", "value": 0.5}, {"name": "2", "value": 2}],
        "verbose": None,  # booleans have no choices, and none are sent
    }


def test_a_command_with_an_allow_list_is_hidden_from_members_by_default(command_set: CommandSet) -> None:
    commands = by_name(build_commands(command_set, debug_enabled=False, global_scope=True))
    assert commands["deploy"]["default_member_permissions"] == 0
    assert commands["diagnose"]["default_member_permissions"] is None


def test_global_commands_are_for_servers_only_and_guild_commands_say_nothing_about_it(command_set: CommandSet) -> None:
    for command in build_commands(command_set, debug_enabled=True, global_scope=True):
        assert (command["contexts"], command["integration_types"]) == ([0], [0])
        assert "dm_permission" not in command  # deprecated: contexts says it
    for command in build_commands(command_set, debug_enabled=True, global_scope=False):
        assert "contexts" not in command
        assert "integration_types" not in command


def test_debug_last_only_when_enabled_and_after_the_files_commands(command_set: CommandSet) -> None:
    assert [c["name"] for c in build_commands(command_set, debug_enabled=False, global_scope=False)] == [
        "diagnose",
        "deploy",
    ]
    body = build_commands(command_set, debug_enabled=True, global_scope=False)
    assert [c["name"] for c in body] == ["diagnose", "deploy", DEBUG_COMMAND]
    assert body[-1] == {
        "type": 1,
        "name": DEBUG_COMMAND,
        "description": DEBUG_DESCRIPTION,
        "options": [{"type": 3, "name": "trace_id", "description": DEBUG_TRACE_OPTION.description, "required": False}],
        "default_member_permissions": None,  # everyone may read their own traces
    }
