"""`validate --remote`: every command's workflow read from GitHub at the command's ref, and compared
with what the command sends (workflows/drift.py)."""

from __future__ import annotations

from orchestrator.clients.github_api import GitHubClient, GitHubError, GitHubRejected
from orchestrator.commands.model import CommandSet, CommandSpec
from orchestrator.workflows.dispatch_inputs import DispatchTrigger, WorkflowFileError, read_dispatch_trigger
from orchestrator.workflows.drift import Drift, drift


def remote_drift(commands: CommandSet, github: GitHubClient, repository: str) -> list[Drift]:
    """One line per problem, commands in name order; each workflow file read once per ref."""
    read: dict[tuple[str, str], DispatchTrigger | str] = {}
    found: list[Drift] = []
    for name in sorted(commands.commands):
        spec = commands.commands[name]
        key = (spec.workflow, spec.ref)
        if key not in read:
            read[key] = _read(spec, github, repository)
        trigger = read[key]
        found += [Drift(name, trigger)] if isinstance(trigger, str) else drift(spec, trigger)
    return found


def _read(spec: CommandSpec, github: GitHubClient, repository: str) -> DispatchTrigger | str:
    """The workflow's dispatch trigger, or what stood in the way of reading it."""
    where = f"{spec.workflow} at {spec.ref} in {repository}"
    try:
        return read_dispatch_trigger(github.workflow_file(spec.workflow, spec.ref))
    except GitHubRejected as exc:
        if exc.status == 404:
            return f"{where} was not found (no such file on that ref, or no such ref): check `workflow:` and `ref:`"
        if exc.status in (401, 403):
            return f"GitHub would not let the token read {where} ({exc.status}): give it Contents: read"
        return f"could not read {where}: {exc}"
    except GitHubError as exc:
        return f"could not read {where}: {exc}"
    except WorkflowFileError as exc:
        return f"{where}: {exc}"
