"""Every command against its workflow as GitHub has it at the command's ref: `validate --remote`
reports the drift (workflows/drift.py), `register` registers the options derived from it."""

from __future__ import annotations

from dataclasses import replace

import httpx

from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.github_errors import GitHubError
from orchestrator.commands.model import CommandSet, CommandSpec
from orchestrator.settings import Settings
from orchestrator.state.memory import MemoryCacheStore
from orchestrator.workflows.catalog import WorkflowCatalog, WorkflowUnavailable
from orchestrator.workflows.derive import DerivationError, derive_command
from orchestrator.workflows.drift import Drift, drift


def checked_commands(commands: CommandSet, github: GitHubClient, repository: str) -> tuple[CommandSet, list[Drift]]:
    """The commands with their derived options filled in, and one line per problem (commands in name
    order; each workflow read once per ref). A derived command whose workflow cannot be read or
    derived is left out of the set, with its problem."""
    catalog = WorkflowCatalog(github, MemoryCacheStore(), repository)
    resolved: dict[str, CommandSpec] = {}
    found: list[Drift] = []
    for name in sorted(commands.commands):
        spec = commands.commands[name]
        if spec.workflow.isdigit():
            found.append(
                Drift(
                    name, f"workflow {spec.workflow} is named by its id: name its file to have it checked", error=False
                )
            )
            resolved[name] = spec
            continue
        try:
            trigger = catalog.trigger(spec.workflow, spec.ref)
            if spec.options_from_workflow:
                spec = derive_command(spec, trigger)
        except (WorkflowUnavailable, DerivationError, GitHubError) as exc:
            found.append(Drift(name, str(exc) or type(exc).__name__))
            if not spec.options_from_workflow:
                resolved[name] = spec
            continue
        resolved[name] = spec
        found += drift(spec, trigger)
    in_file_order = {name: resolved[name] for name in commands.commands if name in resolved}
    return replace(commands, commands=in_file_order), found


def checked_with_settings(settings: Settings, commands: CommandSet) -> tuple[CommandSet, list[Drift]]:
    """checked_commands through a GitHub client of its own, from the settings' GitHub ones."""
    with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as http:
        github = GitHubClient(http, settings.github_api_url, settings.github_token_source(), settings.github_repository)
        return checked_commands(commands, github, settings.github_repository)
