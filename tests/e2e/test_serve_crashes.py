"""`serve` killed (SIGKILL) in the middle of each step of a command's path, then started again on
the same state file: every command ends exactly once, with its run linked. SIGTERM drains.

The stand-ins hold the request of the step under test (recorded, not answered) while the test kills
the process, so each kill lands exactly there.
"""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.state.store import open_state_store
from orchestrator_dev.demo.serve_process import ServeProcess, serve_environment, serve_running
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.http_standin import Fault
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import REPO_ROOT, wait_for
from tests.e2e.test_serve import GITHUB_TOKEN, WORKFLOWS

# A job whose process died is delivered again 1.5 s after it began.
JOB_TIME_LIMIT = ["--job-time-limit", "1"]
HELD = 60.0  # longer than any test: a held request is answered only when the stand-in stops
DISPATCH = r"/workflows/[^/]+/dispatches$"
ORIGINAL = r"/messages/@original$"


@dataclass
class Crash:
    workdir: Path
    signer: InteractionSigner
    github: FakeGitHub
    discord: FakeDiscord
    environment: dict[str, str]

    def serve(self) -> Any:
        return serve_running(self.workdir, self.environment, *JOB_TIME_LIMIT)

    def command(self, serve: ServeProcess) -> dict[str, Any]:
        payload = self.signer.application_command("diagnose", {"target": "staging"})
        self.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=False)
        body = self.signer.encode(payload)
        answer = httpx.post(f"{serve.url}/interactions", content=body, headers=self.signer.headers(body), timeout=10)
        assert answer.status_code == 200 and answer.json()["type"] == 5
        return payload

    def linked(self, payload: dict[str, Any]) -> bool:
        message = self.discord.message_for(payload["token"]) or {}
        urls = [b.get("url") for row in message.get("components") or [] for b in row["components"]]
        return any(url == run["html_url"] for run in self.github.runs for url in urls)

    def outcomes(self, payload: dict[str, Any]) -> list[str]:
        store = open_state_store(self.environment["STATE_STORE"])
        return [e.outcome for e in store.audit.query(since=0) if e.invocation.interaction_id == payload["id"]]


def kill(serve: ServeProcess) -> None:
    serve.process.send_signal(signal.SIGKILL)
    serve.process.wait(10)


@pytest.fixture
def crash(tmp_path: Path, signer: InteractionSigner) -> Iterator[Crash]:
    with (
        FakeGitHub(GITHUB_TOKEN, "acme/delivery", WORKFLOWS) as github,
        FakeDiscord(signer.application_id) as discord,
    ):
        environment = serve_environment(
            tmp_path,
            signer,
            github,
            discord,
            github_token=GITHUB_TOKEN,
            commands_yaml="",
            COMMANDS_FILE=str(REPO_ROOT / "commands.yaml"),  # with its prompts/ beside it
        )
        yield Crash(tmp_path, signer, github, discord, environment)


def ends_once_linked(crash: Crash, payload: dict[str, Any]) -> None:
    """Started again on the same state file: the command ends, linked to its one run."""
    with crash.serve():
        wait_for(lambda: crash.linked(payload), "the run linked")
    assert len(crash.github.runs) == 1
    assert crash.outcomes(payload) == ["accepted"]


@pytest.mark.parametrize(
    ("step", "fault", "reached"),
    [
        # The dispatch sent and held: GitHub has not started the run.
        ("dispatch, before GitHub started the run", Fault("POST", DISPATCH, drop=True, delay=HELD), "request"),
        # GitHub started the run; its answer never came back.
        (
            "dispatch, after GitHub started the run",
            Fault("POST", DISPATCH, drop=True, delay=HELD, then_apply=True),
            "run",
        ),
        # The run's link on its way to Discord.
        ("the message edit", Fault("PATCH", ORIGINAL, drop=True, delay=HELD), "request"),
    ],
    ids=["mid-dispatch", "run-started-answer-lost", "mid-message-edit"],
)
def test_a_kill_at_each_step_ends_the_command_exactly_once(crash: Crash, step: str, fault: Fault, reached: str) -> None:
    server = crash.github if fault.method == "POST" else crash.discord
    server.inject(fault)
    with crash.serve() as serve:
        payload = crash.command(serve)
        if reached == "run":
            wait_for(lambda: len(crash.github.runs) == 1, "the run started")
        else:
            wait_for(lambda: any(fault.matches(r) for r in server.requests), "the held request")
        kill(serve)
    server.clear_faults()
    ends_once_linked(crash, payload)


def test_a_kill_between_polls_resumes_them_after_the_restart(crash: Crash) -> None:
    with crash.serve() as serve:
        payload = crash.command(serve)
        wait_for(lambda: crash.linked(payload), "the run linked")
        kill(serve)  # the next poll is queued, 10 s away (and the job itself, if it had not returned yet)
    [run] = crash.github.runs
    crash.github.set_run_status(run["id"], "completed", "success")
    # As if the 10 s had passed while serve was down (the queue keeps wall-clock times).
    with sqlite3.connect(crash.workdir / "state.db") as db:
        assert db.execute("UPDATE queue SET visible_at = 0").rowcount >= 1
    with crash.serve():
        wait_for(lambda: "✅" in str(crash.discord.message_for(payload["token"])), "the final message")
    assert len(crash.github.runs) == 1


def test_sigterm_stops_taking_commands_and_finishes_the_job_under_way(crash: Crash) -> None:
    crash.github.inject(Fault("POST", DISPATCH, delay=1.0))  # a slow dispatch, done when answered
    with crash.serve() as serve:
        payload = crash.command(serve)
        wait_for(lambda: any(r.method == "POST" for r in crash.github.requests), "the dispatch")
        serve.process.send_signal(signal.SIGTERM)
        assert serve.process.wait(15) == 0
        [stopped] = [line for line in serve.log_lines() if line.get("msg") == "stopped"]
    assert stopped["drained"] is True
    assert len(crash.github.runs) == 1 and crash.linked(payload)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{serve.url}/healthz", timeout=2)
