"""Desired commands beside registered ones: added, changed (field by field), removed, unchanged."""

from __future__ import annotations

import copy
from typing import Any

from orchestrator.commands.model import CommandSet
from orchestrator.registration.diff import diff_commands
from orchestrator.registration.payload import build_commands
from orchestrator_dev.standins.fake_commands import overwrite
from tests.unit.registration.conftest import APP_ID, GUILD_ID


def command(name: str, **fields: Any) -> dict[str, Any]:
    return {"type": 1, "name": name, "description": f"The {name} command", "options": [], **fields}


def as_discord_answers(name: str, **fields: Any) -> dict[str, Any]:
    """A registered command as Discord's GET lists it: ids, version, defaults spelled out or left out."""
    return {
        "id": "1300000000000000001",
        "application_id": APP_ID,
        "version": "1300000000000000002",
        "default_member_permissions": None,
        "type": 1,
        "name": name,
        "description": f"The {name} command",
        "dm_permission": True,
        "contexts": None,
        "integration_types": [0],
        "nsfw": False,
        **fields,
    }


def test_a_set_registered_from_this_body_is_unchanged(command_set: CommandSet) -> None:
    for global_scope, guild_id in ((True, None), (False, GUILD_ID)):
        body = build_commands(command_set, debug_enabled=True, global_scope=global_scope)
        registered = overwrite([], copy.deepcopy(body), application_id=APP_ID, guild_id=guild_id)
        diff = diff_commands(body, registered, global_scope=global_scope)
        assert not diff.has_changes
        assert diff.names("unchanged") == ["diagnose", "deploy", "debug-last"]


def test_discord_s_string_permissions_and_left_out_defaults_compare_equal() -> None:
    desired = [
        command(
            "deploy",
            default_member_permissions=0,
            options=[{"type": 4, "name": "count", "description": "How many", "required": False, "choices": []}],
        )
    ]
    registered = [
        as_discord_answers(
            "deploy",
            default_member_permissions="0",
            options=[{"type": 4, "name": "count", "description": "How many"}],
        )
    ]
    assert not diff_commands(desired, registered, global_scope=False).has_changes


def test_every_kind_of_difference_is_listed_in_order() -> None:
    desired = [command("new"), command("diagnose", description="Run diagnostics now"), command("same")]
    registered = [as_discord_answers("diagnose"), as_discord_answers("old"), as_discord_answers("same")]
    diff = diff_commands(desired, registered, global_scope=False)
    assert diff.lines() == [
        "+ /new: new",
        "~ /diagnose: changed",
        '    description: "The diagnose command" -> "Run diagnostics now"',
        "= /same: unchanged",
        "- /old: removed (not in the commands file)",
        "1 to add, 1 to change, 1 to remove, 1 unchanged",
    ]
    assert diff.has_changes


def test_option_changes_are_named_by_option() -> None:
    target = {"type": 3, "name": "target", "description": "Where", "required": True}
    verbose = {"type": 5, "name": "verbose", "description": "More"}
    count = {"type": 4, "name": "count", "description": "How many", "choices": [{"name": "0", "value": 0}]}
    registered = [as_discord_answers("diagnose", options=[target, verbose, count])]
    desired = [
        command(
            "diagnose",
            default_member_permissions=0,
            options=[
                {**target, "choices": [{"name": "staging", "value": "staging"}]},
                {**count, "choices": [{"name": "1", "value": 1}]},
                {"type": 10, "name": "ratio", "description": "A ratio"},
            ],
        )
    ]
    [entry] = diff_commands(desired, registered, global_scope=False).entries
    assert entry.status == "changed"
    assert list(entry.changes) == [
        'options[target].choices: added [{"name": "staging", "value": "staging"}]',
        'options[count].choices: [{"name": "0", "value": 0}] -> [{"name": "1", "value": 1}]',
        "options[ratio]: added",
        "options[verbose]: removed",
        'default_member_permissions: added "0"',
    ]


def test_option_order_matters() -> None:
    a = {"type": 3, "name": "a", "description": "A"}
    b = {"type": 3, "name": "b", "description": "B"}
    [entry] = diff_commands(
        [command("x", options=[b, a])], [as_discord_answers("x", options=[a, b])], global_scope=False
    ).entries
    assert entry.changes == ('options: order ["a", "b"] -> ["b", "a"]',)


def test_contexts_count_globally_and_not_in_a_guild() -> None:
    desired = [command("x", contexts=[0], integration_types=[0])]
    registered = [as_discord_answers("x")]  # contexts null: usable in DMs too
    [entry] = diff_commands(desired, registered, global_scope=True).entries
    assert entry.changes == ("contexts: added [0]",)
    assert not diff_commands([command("x")], registered, global_scope=False).has_changes


def test_other_kinds_of_command_with_the_same_name_are_separate() -> None:
    user_command = {**as_discord_answers("x"), "type": 2, "description": ""}
    diff = diff_commands([command("x")], [user_command], global_scope=False)
    assert (diff.names("added"), diff.names("removed")) == (["x"], ["x"])
