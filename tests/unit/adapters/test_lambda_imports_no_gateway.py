"""discord.py is for `gateway` only: no Lambda function imports it (their artifact does not even
hold it), and `gateway` is the only command that does."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = "import sys, importlib; importlib.import_module(sys.argv[1]); print('discord' in sys.modules)"


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
    env = {  # what the functions need to import (settings are checked at import, as in Lambda)
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
    done = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_the_gateway_command_is_what_imports_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "orchestrator.gateway.run"], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "True", done.stderr[-2000:]
