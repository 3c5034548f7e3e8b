"""What following a run (RunFollower) and acting on it (RunActions) both work with."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.commands.model import CommandSet
from orchestrator.runs.tracker import RunTracker
from orchestrator.state.jobs import JobStore


@dataclass(frozen=True)
class RunParts:
    jobs: JobStore  # the job records, changed by compare-and-set
    commands: CommandSet
    github: GitHubClient
    discord: DiscordClient
    tracker: RunTracker  # renders a record into its message
