"""GitHub's refusals in words a Discord user (and the operator they will ping) can act on."""

from __future__ import annotations

import math
import re

from orchestrator.clients.github_errors import GitHubCircuitOpen, GitHubRateLimited, GitHubRejected
from orchestrator.commands.model import CommandSpec
from orchestrator.observability.redaction import active_redactor

_NOT_STARTED = "Nothing was started."


def explain_rejection(exc: GitHubRejected, spec: CommandSpec, repository: str) -> str:
    workflow = f"`{spec.workflow}`"
    message = exc.message
    if exc.status == 401:
        return f"GitHub rejected the bot's token (401). {_NOT_STARTED} An operator needs to renew GITHUB_TOKEN."
    if exc.status == 403:
        return (
            f"The bot's GitHub token may not run workflows in {repository} (403). {_NOT_STARTED} "
            "An operator needs to grant it the Actions: write permission."
        )
    if exc.status == 404:
        return (
            f"GitHub cannot find workflow {workflow} in {repository} (404). {_NOT_STARTED} Check the workflow "
            "name in the commands file and that the bot's token can see the repository."
        )
    if exc.status == 422:
        if "workflow_dispatch" in message:
            return (
                f"Workflow {workflow} has no `workflow_dispatch` trigger, so it cannot be started from Discord. "
                f"{_NOT_STARTED} Add `on: workflow_dispatch` to it on the default branch."
            )
        if match := re.search(r"No ref found for: (\S+)", message):
            return (
                f"Branch or tag `{match.group(1)[:100]}` does not exist in {repository}. {_NOT_STARTED} "
                "Fix the command's `ref` in the commands file."
            )
        if match := re.search(r"Unexpected inputs provided: (.+)", message):
            return (
                f"Workflow {workflow} does not declare the inputs {match.group(1)[:300]} that /{spec.name} "
                f"sends. {_NOT_STARTED} Declare them under `workflow_dispatch.inputs`, or remove them from "
                "the commands file."
            )
        if match := re.search(r"Required input '([^']+)' not provided", message):
            return (
                f"Workflow {workflow} requires input `{match.group(1)[:100]}`, which /{spec.name} does not "
                f"send. {_NOT_STARTED} Add it to the command's `inputs` in the commands file."
            )
    # Redacted before it is cut: half a secret would no longer be recognised.
    detail = f": {active_redactor().text(message)[:200]}" if message else ""
    return f"GitHub refused to start workflow {workflow} ({exc.status}{detail}). {_NOT_STARTED}"


def explain_rate_limit(exc: GitHubRateLimited) -> str:
    wait = exc.retry_after_seconds
    when = f"in about {max(1, math.ceil(wait / 60))} minute(s)" if wait is not None else "later"
    return f"The bot has used up its GitHub API rate limit. {_NOT_STARTED} Please try again {when}."


UNREACHABLE = "GitHub could not be reached after several tries. Nothing was started. Please try again later."


def explain_unknown(repository: str) -> str:
    return (
        "GitHub did not confirm the dispatch and the run could not be found, so it may or may not have "
        f"started. Check the Actions tab of {repository} before running the command again."
    )


def explain_circuit_open(exc: GitHubCircuitOpen) -> str:
    return (
        "GitHub has failed several times in a row, so the bot has paused its calls to it for "
        f"{max(1, math.ceil(exc.retry_in))} s. {_NOT_STARTED} Please try again in a minute; "
        "the operators have been alerted."
    )
