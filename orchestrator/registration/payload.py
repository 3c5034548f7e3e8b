"""The body of Discord's bulk overwrite: one application command per command of the commands file.

Who sees a command (`default_member_permissions`): a command with an `allow:` list
is registered with `0`, so Discord shows it only to server administrators until an
admin grants it to roles or members in Server Settings > Integrations. The reason:
people who may not run a command should not be offered it, and a bot token cannot
set those per-role grants itself (that API takes an admin's OAuth2 token), so the
operator is told which roles and users to grant. The bot still checks `allow` on
every interaction, whatever Discord shows. Commands without `allow:` send null:
everyone with "Use Application Commands" sees them.

The value is the integer 0: Discord's OpenAPI description types this field as an
integer, and Discord accepts integers and numeric strings alike here (it answers
with a string, which the diff takes into account).

Where a command can be used: only in servers. Allow-lists name guild roles, which a
DM has none of, so global commands carry `contexts: [GUILD]` (the successor of the
deprecated `dm_permission`) and `integration_types: [GUILD_INSTALL]`. Discord
documents both fields for global commands only; a guild's commands live in that
guild anyway, so they are left out there.
"""

from __future__ import annotations

from typing import Any

from orchestrator.commands.builtin import DEBUG_COMMAND, DEBUG_DESCRIPTION, DEBUG_TRACE_OPTION
from orchestrator.commands.model import DISCORD_OPTION_TYPES, CommandSet, OptionSpec

CHAT_INPUT = 1  # application command type: a slash command
CONTEXT_GUILD = 0
GUILD_INSTALL = 0
ADMINISTRATORS_ONLY = 0  # no permission bits: only administrators, until an admin grants others


def build_commands(commands: CommandSet, *, debug_enabled: bool, global_scope: bool) -> list[dict[str, Any]]:
    """The PUT body: the file's commands in order, then /debug-last when it is enabled."""
    body = [
        _command(spec.name, spec.description, spec.options, restricted=spec.allow is not None)
        for spec in commands.commands.values()
    ]
    if debug_enabled:
        body.append(_command(DEBUG_COMMAND, DEBUG_DESCRIPTION, (DEBUG_TRACE_OPTION,), restricted=False))
    if global_scope:
        for command in body:
            command["contexts"] = [CONTEXT_GUILD]
            command["integration_types"] = [GUILD_INSTALL]
    return body


def _command(name: str, description: str, options: tuple[OptionSpec, ...], *, restricted: bool) -> dict[str, Any]:
    return {
        "type": CHAT_INPUT,
        "name": name,
        "description": description,
        "options": [_option(option) for option in options],
        "default_member_permissions": ADMINISTRATORS_ONLY if restricted else None,
    }


def _option(option: OptionSpec) -> dict[str, Any]:
    built: dict[str, Any] = {
        "type": DISCORD_OPTION_TYPES[option.type],
        "name": option.name,
        "description": option.description,
        "required": option.required,
    }
    if option.autocomplete is not None:
        # Suggested as the user types (interactions/autocomplete.py); Discord allows no choices beside it.
        built["autocomplete"] = True
    elif option.choices:
        # The file lists values; Discord shows each choice by its name, here the value itself.
        built["choices"] = [{"name": str(value), "value": value} for value in option.choices]
    return built
