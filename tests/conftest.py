"""Fixtures shared across the suite: a signer playing Discord, a small commands file, a recording queue."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSet
from orchestrator.queues.base import QueueUnavailable
from orchestrator_dev.standins.signing import InteractionSigner

# Fixtures more than one folder uses (tests/fixtures/): asked for by name, never imported.
pytest_plugins = ["tests.fixtures.logs", "tests.fixtures.state", "tests.fixtures.worker", "tests.fixtures.alerts"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject's addopts): one worker more than the cores this process may run on. Much
    of the suite waits (on `serve` and `gateway` processes, stand-in servers, queue delays) rather
    than computes, so one worker a core leaves a core idle while its test waits; two a core made the
    computing tests fight for the cores instead. On 2 cores: 2 workers 106-124 s, 4 workers 124-126
    s, 3 workers 94-97 s. PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set (None: xdist's own
    answer)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return usable + 1


ADMIN_ROLE = "222222222222222222"
ADMIN_USER = "333333333333333333"

COMMANDS_YAML = f"""
commands:
  diagnose:
    description: Run diagnostics
    workflow: diagnose.yml
    prompt: prompts/diagnose.md
    options:
      - name: target
        type: string
        description: Environment
        required: true
        choices: [staging, production]
      - name: verbose
        type: boolean
        description: More output
      - name: count
        type: integer
        description: How many
      - name: ratio
        type: number
        description: A ratio
    inputs:
      target: "{{target}}"
      verbose: "{{verbose}}"
      trace_id: "{{trace_id}}"
      prompt: "{{prompt}}"
  deploy:
    description: Deploy to production
    workflow: deploy.yml
    ephemeral: true
    allow:
      roles: ["{ADMIN_ROLE}"]
      users: ["{ADMIN_USER}"]
"""


@pytest.fixture
def commands_file(tmp_path: Path) -> Path:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "diagnose.md").write_text("Diagnose the target.\n", encoding="utf-8")
    path = tmp_path / "commands.yaml"
    path.write_text(COMMANDS_YAML, encoding="utf-8")
    return path


@pytest.fixture
def commands(commands_file: Path) -> CommandSet:
    return load_commands(commands_file)


@pytest.fixture
def signer() -> InteractionSigner:
    return InteractionSigner.generate()


class RecordingQueue:
    """A JobQueue that keeps what it is sent, or refuses everything when `broken`."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.broken = False

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in map(json.loads, self.messages) if m["kind"] == kind]

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        if self.broken:
            raise QueueUnavailable("broken on purpose")
        self.messages.append(body)


@pytest.fixture
def queue() -> RecordingQueue:
    return RecordingQueue()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll for a state the worker reaches; not queue.wait_idle, which also waits for delayed run polls."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
