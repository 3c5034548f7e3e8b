"""Read what Discord has registered, compare, and overwrite the whole set when something differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.registration.diff import CommandDiff, diff_commands


@dataclass(frozen=True)
class Registration:
    diff: CommandDiff
    sent: bool  # whether the bulk PUT went out


def register(
    client: DiscordClient,
    body: list[dict[str, Any]],
    *,
    guild_id: str | None,
    dry_run: bool = False,
    force: bool = False,
) -> Registration:
    """GET the registered commands, then PUT `body` unless it is a dry run or nothing would change.

    A PUT that would change nothing is skipped (`force` sends it anyway), so re-running
    registration, from CI say, touches nothing and spends none of Discord's rate limit.
    """
    registered = client.list_application_commands(guild_id)
    diff = diff_commands(body, registered, global_scope=guild_id is None)
    if dry_run or not (diff.has_changes or force):
        return Registration(diff, sent=False)
    client.bulk_overwrite_application_commands(body, guild_id)
    return Registration(diff, sent=True)
