"""What each entry point imports. discord.py is for `gateway` only: no Lambda function imports it
(their artifact does not even hold it), and `gateway` is the only command that does. The
interactions function's cold path (Discord waits on it) leaves out what only other paths need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator_dev.artifact.layout import deployed_commands_file

PROBE = (
    "import sys, importlib; importlib.import_module(sys.argv[1]);"
    "print('imported:', *(name for name in sys.argv[2:] if name in sys.modules))"
)
ENV = {  # what the functions need to import (settings are checked at import, as in Lambda)
    "PATH": "/usr/bin:/bin",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "DISCORD_PUBLIC_KEY": "ab" * 32,
    "DISCORD_APPLICATION_ID": "1150000000000000000",
    "GITHUB_TOKEN": "ghp_" + "t" * 36,
    "GITHUB_REPOSITORY": "acme/delivery",
    "STATE_STORE": "memory://",
    "WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/work",
}


def imported(module: str, candidates: list[str], **env: str) -> list[str]:
    """Which of `candidates` are in sys.modules once `module` is imported in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, module, *candidates],
        capture_output=True,
        text=True,
        env={**ENV, **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # The functions print their cold-start metric (EMF) on stdout too.
    line = next(line for line in done.stdout.splitlines() if line.startswith("imported:"))
    return line.split()[1:]


@pytest.mark.parametrize(
    "module",
    [
        "orchestrator.adapters.lambda_interactions",
        "orchestrator.adapters.lambda_worker",
        "orchestrator.adapters.lambda_alarms",
        "orchestrator.cli",
    ],
)
def test_the_lambda_functions_and_the_cli_never_import_discord_py(module: str) -> None:
    assert imported(module, ["discord"]) == []


def test_the_gateway_command_is_what_imports_it() -> None:
    assert imported("orchestrator.gateway.run", ["discord"]) == ["discord"]


def test_the_interactions_cold_path_as_deployed_imports_nothing_it_does_not_answer_with(tmp_path: Path) -> None:
    # As deployed: the state on DynamoDB (priming answers its own calls: nothing is sent), the
    # commands file compiled by the build. httpx and the worker: the ACK never calls GitHub or
    # Discord. Powertools Idempotency: the worker's, opened on first use. PyYAML: read at build.
    # Each of the last two costs the cold start ~9-11 ms (docs/architecture.md).
    unwanted = ["httpx", "orchestrator.jobs.worker", "aws_lambda_powertools.utilities.idempotency", "yaml"]
    deployed = {"STATE_STORE": "dynamodb://state", "COMMANDS_FILE": str(deployed_commands_file(tmp_path))}
    assert imported("orchestrator.adapters.lambda_interactions", unwanted, **deployed) == []
