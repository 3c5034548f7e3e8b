"""`orchestrator register`: settings and commands file in, the diff and (dry run) the exact body out.

Needs only DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN (plus DISCORD_API_URL,
COMMANDS_FILE, ENABLE_DEBUG_CMD when set); GITHUB_TOKEN and GITHUB_REPOSITORY too
when a command takes its options from its workflow (`options_from_workflow`), which
is read from GitHub to register them. Every problem ends the run with a non-zero
status and a line on stderr that never holds a token.
"""

from __future__ import annotations

import json
import os
from typing import TextIO

import httpx

from orchestrator.clients.discord_api import DiscordRejected, DiscordUnavailable
from orchestrator.clients.retries import DEFAULT_TIMEOUT
from orchestrator.commands.loader import CommandsFileError, load_commands
from orchestrator.commands.model import CommandSet
from orchestrator.composition.clients import discord_client
from orchestrator.observability.logging import configure_logging
from orchestrator.observability.setup import install_redactor
from orchestrator.registration.diff import CommandDiff
from orchestrator.registration.errors import explain_rejection
from orchestrator.registration.payload import build_commands
from orchestrator.registration.registrar import register
from orchestrator.settings import SNOWFLAKE_RULE, Role, SettingsError, is_snowflake, load_settings
from orchestrator.terminal import terminal_safe

CONFIGURATION_PROBLEM = 2  # like a usage error: nothing was asked of Discord
DISCORD_PROBLEM = 1
GITHUB_PROBLEM = 1  # a workflow the derived options come from could not be read


def run_register(
    *,
    guild_id: str | None,
    dry_run: bool,
    force: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    if guild_id is not None and not is_snowflake(guild_id):
        return _fail(err, [f"--guild: expected a Discord server id ({SNOWFLAKE_RULE})"], CONFIGURATION_PROBLEM)
    try:
        settings = load_settings(roles={Role.REGISTRATION})
    except SettingsError as exc:
        return _fail(err, [f"settings: {problem}" for problem in exc.problems], CONFIGURATION_PROBLEM)
    try:
        commands = load_commands(settings.commands_file)
    except CommandsFileError as exc:
        lines = [f"{settings.commands_file}: {problem}" for problem in exc.problems]
        return _fail(err, lines, CONFIGURATION_PROBLEM)
    redactor = install_redactor(settings, commands)
    # Log lines (a 429 being waited out) go to stderr, beside the problems, never into the body on stdout.
    configure_logging("register", level=os.environ.get("LOG_LEVEL", "INFO"), stream=err)
    if any(spec.options_from_workflow for spec in commands.commands.values()):
        try:
            settings = load_settings(roles={Role.REGISTRATION, Role.WORKFLOWS})
        except SettingsError as exc:
            # Through the operator's redact_patterns too, installed above from the first settings.
            lines = [
                redactor.text(f"settings: {problem} (a command takes its options from its workflow)")
                for problem in exc.problems
            ]
            return _fail(err, lines, CONFIGURATION_PROBLEM)
        from orchestrator.workflows.remote import checked_with_settings

        derived, found = checked_with_settings(settings, commands)
        unresolved = [drift for drift in found if drift.error and drift.command not in derived.commands]
        if unresolved:
            lines = [redactor.text(str(drift)) for drift in unresolved] + ["nothing was sent to Discord"]
            return _fail(err, lines, GITHUB_PROBLEM)
        commands = derived

    body = build_commands(commands, debug_enabled=settings.enable_debug_cmd, global_scope=guild_id is None)
    with httpx.Client(timeout=DEFAULT_TIMEOUT) as http:
        client = discord_client(settings, http)
        try:
            registration = register(client, body, guild_id=guild_id, dry_run=dry_run, force=force)
        except DiscordRejected as exc:
            lines = explain_rejection(exc, guild_id=guild_id, body=body)
            return _fail(err, [redactor.text(line) for line in lines], DISCORD_PROBLEM)
        except DiscordUnavailable as exc:
            line = f"Discord is unavailable ({redactor.text(str(exc))}); run register again"
            return _fail(err, [line], DISCORD_PROBLEM)
        url = client.commands_url(guild_id)

    where = f"guild {guild_id}" if guild_id is not None else "global"
    _write(out, f"Commands of application {settings.discord_application_id} ({where}), beside Discord's:")
    _write(out, *registration.diff.lines())
    _write(out, *_grant_hints(commands, registration.diff))
    if dry_run:
        _write(out, f"dry run: nothing sent. The bulk overwrite would be PUT {url} with this body:")
        _write(out, json.dumps(body, indent=2, ensure_ascii=False))
    elif registration.sent:
        later = "; global commands can take up to an hour to appear" if guild_id is None else ""
        _write(out, f"registered {len(body)} command(s) ({where}){later}")
    else:
        _write(out, "no changes: nothing sent (--force sends the same set again)")
    return 0


def _grant_hints(commands: CommandSet, diff: CommandDiff) -> list[str]:
    """For commands newly restricted (an `allow:` list, see payload.py): whom an admin should allow."""
    entries = {entry.name: entry for entry in diff.entries}
    hints: list[str] = []
    for spec in commands.commands.values():
        entry = entries[spec.name]
        newly = entry.status == "added" or any(c.startswith("default_member_permissions") for c in entry.changes)
        if spec.allow is None or not newly:
            continue
        who = [*(f"role {r}" for r in sorted(spec.allow.roles)), *(f"user {u}" for u in sorted(spec.allow.users))]
        if who:  # an empty allow list lets no one run it: there is no one to grant it to
            hints.append(
                f"note: /{spec.name} is shown only to administrators until an admin allows {', '.join(who)} "
                "in Server Settings > Integrations (the bot checks its allow list anyway)"
            )
    return hints


def _write(stream: TextIO, *lines: str) -> None:
    for line in lines:
        stream.write(f"{terminal_safe(line)}\n")


def _fail(err: TextIO, lines: list[str], status: int) -> int:
    _write(err, *lines)
    return status
