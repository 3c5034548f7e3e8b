"""GitHub API calls per dispatched command, for a run that lasts 3 minutes.

The worker runs against the stand-in GitHub and Discord over loopback; time is simulated: each
scheduled poll is delivered at the moment its delay says, and the run moves on a fixed
timeline (queued, in progress at 15 s with its jobs advancing, completed at 180 s).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.commands.invocation import Invocation
from orchestrator.commands.model import CommandSet, CommandSpec
from orchestrator.composition.worker import assemble_worker
from orchestrator.dispatch.dispatcher import Dispatcher
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.jobs.envelopes import Job, PollRequest, RunEvent, parse_message
from orchestrator.observability.metrics import MemoryMetrics
from orchestrator.queues.local import LocalContext
from orchestrator.state.store import open_state_store
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeJob, FakeWorkflow
from orchestrator_dev.standins.signing import interaction_token, snowflake

RUN_SECONDS = 180
STARTS_AT = 15
NAIVE_INTERVAL = 3
REPO = "acme/delivery"
TOKEN = "ghp_" + "b" * 36
WORKFLOW = FakeWorkflow(
    id=7,
    name="Deploy",
    inputs={"trace_id": False},
    run_name_input="trace_id",
    jobs=(FakeJob("build", ("Set up", "Build")), FakeJob("test", ("Set up", "Test")), FakeJob("ship", ("Ship",))),
)
SPEC = CommandSpec(
    name="deploy", description="d", workflow="deploy.yml", ref="main", inputs=(("trace_id", "{trace_id}"),)
)


class ScheduledQueue:
    """Keeps what the worker queues, with its delay, to deliver it at the simulated time."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[float, str]] = []
        self.now = 0.0

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        self.scheduled.append((self.now + delay_seconds, body))


@dataclass
class Counted:
    webhook_path: int
    polling_path: int
    naive: int


def _github_calls(github: FakeGitHub) -> int:
    """Per command: the workflow file, read before the dispatch at most once per 5 minutes for every
    command that runs it (workflows/catalog.py), is not one."""
    return sum("/contents/" not in request.path for request in github.requests_to(path_prefix="/repos/"))


def _follow(webhooks: bool) -> int:
    with FakeGitHub(TOKEN, REPO, {"deploy.yml": WORKFLOW}) as github, FakeDiscord("1" * 18) as discord:
        queue = ScheduledQueue()
        http = httpx.Client(timeout=5)
        github_client = GitHubClient(http, github.url, TOKEN, REPO)
        worker = assemble_worker(
            CommandSet({"deploy": SPEC}),
            open_state_store("memory://"),
            github_client,
            DiscordClient(httpx.Client(timeout=5), discord.api_url, "1" * 18),
            Dispatcher(github_client, open_state_store("memory://").jobs, REPO),
            ButtonSigner(b"bench-signing-secret-0123456789"),
            queue,
            MemoryMetrics(),
            webhooks=webhooks,
        )
        interaction_id = snowflake()
        job = Job(
            Invocation(interaction_id, "a" * 32, "deploy", {}, "2" * 18, "bench", None, "3" * 18),
            "1" * 18,
            time.time(),
            interaction_token(interaction_id),
        )
        discord.open_interaction(job.interaction_token, channel_id="3" * 18, ephemeral=False)
        context = LocalContext(time.monotonic() + 60)
        worker.process(job.to_message(), context=context, final_attempt=False)
        run_id = github.runs[-1]["id"]
        events: list[tuple[float, str]] = []
        if webhooks:  # what the webhook endpoint would queue, at the moment GitHub sends it
            events += [(STARTS_AT, "in_progress"), (RUN_SECONDS, "completed")]
        timeline = sorted(events + queue.scheduled)
        queue.scheduled.clear()
        started = finished = False
        while timeline:
            at, item = timeline.pop(0)
            queue.now = at
            if at >= STARTS_AT and not started:
                github.advance_job(run_id)
                started = True
            if at >= RUN_SECONDS and not finished:
                github.set_run_status(run_id, "completed", "success")
                finished = True
            if item in ("in_progress", "completed"):
                message: Any = RunEvent(f"delivery-{at}", github.run(run_id))
                worker.process(message.to_message(), context=context, final_attempt=False)
            elif isinstance(parse_message(item), PollRequest):
                worker.process(item, context=context, final_attempt=False)
            timeline = sorted(timeline + queue.scheduled)
            queue.scheduled.clear()
            if at > 3600:
                break
        http.close()
        return _github_calls(github)


def count_calls() -> Counted:
    # A naive bot: the dispatch, then one GET of the run every 3 seconds until it completes.
    naive = 1 + RUN_SECONDS // NAIVE_INTERVAL
    return Counted(webhook_path=_follow(webhooks=True), polling_path=_follow(webhooks=False), naive=naive)
