"""The worker built from real parts, against the GitHub and Discord stand-ins over loopback sockets."""

from __future__ import annotations

import dataclasses
import io
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.alerts.alerter import Alerter
from orchestrator.clients import discord_api, github_api
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.commands.invocation import Invocation
from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import OptionValue
from orchestrator.composition.worker import assemble_worker
from orchestrator.dispatch.dispatcher import Dispatcher
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.jobs.envelopes import Job
from orchestrator.jobs.worker import JobWorker
from orchestrator.observability.logging import configure_logging, get_logger
from orchestrator.observability.metrics import MemoryMetrics
from orchestrator.queues.local import LocalContext
from orchestrator.state.jobs import JobRecord
from orchestrator.state.sqlite import SqliteJobStore
from orchestrator.state.store import StateStore, open_state_store
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeWorkflow
from orchestrator_dev.standins.http_standin import Request
from orchestrator_dev.standins.signing import interaction_token, snowflake
from tests.conftest import RecordingQueue

# A token shaped like a classic PAT: if it ever shows up in a log line, the test can find it.
GITHUB_TOKEN = "ghp_" + "Zq7xK2mR9vT4wY8nB3cF6hJ1pL5sD0gA2eU7"
REPO = "acme/ops"
APPLICATION_ID = snowflake()
GUILD_ID = snowflake()
CHANNEL_ID = snowflake()
USER_ID = snowflake()
LINK_BUTTON = 5
FAST_TIMEOUT = httpx.Timeout(5.0, connect=1.0)
# Each httpx.Client otherwise loads the CA bundle into a new TLS context (~30 ms): share one (all loopback http).
_TLS = ssl.create_default_context()

WORKFLOWS: dict[str, FakeWorkflow] = {
    "diagnose.yml": FakeWorkflow(
        101,
        "Diagnose",
        {"target": True, "verbose": False, "count": False, "trace_id": False, "requested_by": False, "prompt": False},
        run_name_input="trace_id",
    ),
    "deploy.yml": FakeWorkflow(102, "Deploy", {"environment": True}),
    "nightly.yml": FakeWorkflow(103, "Nightly", {"trace_id": False}, dispatchable=False),
    "strict.yml": FakeWorkflow(104, "Strict", {"approver": True, "trace_id": False}, run_name_input="trace_id"),
    # Takes the correlation id but does not echo it in its run-name: its runs cannot be told apart.
    "untitled.yml": FakeWorkflow(105, "Untitled", {"trace_id": False}),
}

COMMANDS_YAML = """
commands:
  diagnose:
    description: Run the diagnostics workflow against an environment
    workflow: diagnose.yml
    ref: main
    prompt: prompts/diagnose.md
    options:
      - name: target
        type: string
        description: Environment to diagnose
        required: true
        choices: [staging, production]
      - name: verbose
        type: boolean
        description: Include full logs
      - name: count
        type: integer
        description: How many samples
    inputs:
      target: "{target}"
      verbose: "{verbose}"
      count: "{count}"
      trace_id: "{trace_id}"
      requested_by: "{user_name}"
      prompt: "{prompt}"
  deploy:
    description: Deploy (no correlation id, so its run cannot be looked up)
    workflow: deploy.yml
    options:
      - name: environment
        type: string
        description: Where to
        required: true
    inputs:
      environment: "{environment}"
  ghost:
    description: Names a workflow the repository does not have
    workflow: missing.yml
    inputs:
      trace_id: "{trace_id}"
  nightly:
    description: A workflow without a workflow_dispatch trigger
    workflow: nightly.yml
    inputs:
      trace_id: "{trace_id}"
  colourful:
    description: Sends an input the workflow does not declare
    workflow: deploy.yml
    inputs:
      environment: staging
      colour: blue
  strict:
    description: Leaves out an input the workflow requires
    workflow: strict.yml
    inputs:
      trace_id: "{trace_id}"
  stale:
    description: Points at a branch that no longer exists
    workflow: diagnose.yml
    ref: release-9
    inputs:
      target: staging
      trace_id: "{trace_id}"
  untitled:
    description: Correlation id sent but not echoed in the run name
    workflow: untitled.yml
    inputs:
      trace_id: "{trace_id}"
"""

PROMPT = "# Diagnose\n\nCheck the health endpoints and summarise.\n"


def http_client(**options: Any) -> httpx.Client:
    """An httpx client as the worker builds them, with test timeouts (unless given) and the shared TLS context."""
    return httpx.Client(timeout=options.pop("timeout", FAST_TIMEOUT), verify=_TLS, **options)


def free_port() -> int:
    """A loopback port nothing listens on (bound then released): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same retry policies, millisecond backoff: `send` sleeps for real and takes no sleep from the clients."""
    for module, name in ((github_api, "DISPATCH_POLICY"), (github_api, "READ_POLICY"), (discord_api, "EDIT_POLICY")):
        policy = getattr(module, name)
        monkeypatch.setattr(module, name, dataclasses.replace(policy, base_backoff_seconds=0.001))


@pytest.fixture
def github_factory() -> Iterator[Callable[..., FakeGitHub]]:
    started: list[FakeGitHub] = []

    def start(**options: Any) -> FakeGitHub:
        server = FakeGitHub(GITHUB_TOKEN, REPO, WORKFLOWS, refs={"main"}, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def fake_github(github_factory: Callable[..., FakeGitHub]) -> FakeGitHub:
    return github_factory()


@pytest.fixture
def fake_discord() -> Iterator[FakeDiscord]:
    with FakeDiscord(APPLICATION_ID) as server:
        yield server


@pytest.fixture
def commands_path(tmp_path: Path) -> Path:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "diagnose.md").write_text(PROMPT, encoding="utf-8")
    path = tmp_path / "commands.yaml"
    path.write_text(COMMANDS_YAML, encoding="utf-8")
    return path


@pytest.fixture(params=["memory", "sqlite"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/state.db"
    store = open_state_store(url)
    yield store
    if isinstance(store.jobs, SqliteJobStore):
        store.jobs._db.close()


def context(seconds: float = 60.0) -> LocalContext:
    return LocalContext(time.monotonic() + seconds)


def new_job(command: str = "diagnose", options: Mapping[str, OptionValue] | None = None) -> Job:
    """A job with realistic ids: snowflakes, a 32-hex trace id and a Discord-shaped interaction token."""
    interaction_id = snowflake()
    return Job(
        invocation=Invocation(
            interaction_id=interaction_id,
            trace_id=uuid.uuid4().hex,
            command=command,
            options=dict({"target": "staging"} if options is None else options),
            user_id=USER_ID,
            user_name="Tester",
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
        ),
        application_id=APPLICATION_ID,
        received_at=time.time(),
        interaction_token=interaction_token(interaction_id),
    )


@dataclass
class Harness:
    worker: JobWorker
    github: FakeGitHub
    discord: FakeDiscord
    state: StateStore

    def job(
        self,
        command: str = "diagnose",
        options: Mapping[str, OptionValue] | None = None,
        *,
        open_interaction: bool = True,
    ) -> Job:
        """A job as the interactions endpoint would queue it, with its deferred message open in Discord."""
        job = new_job(command, options)
        if open_interaction:
            self.discord.open_interaction(job.interaction_token, channel_id=CHANNEL_ID, ephemeral=False)
        return job

    def process(self, job: Job, *, final_attempt: bool = False, seconds: float = 60.0) -> None:
        self.worker.process(job.to_message(), context=context(seconds), final_attempt=final_attempt)

    def dispatch_posts(self) -> list[Request]:
        return [r for r in self.github.requests_to("POST") if r.path.endswith("/dispatches")]

    def run_lookups(self) -> list[Request]:
        return [r for r in self.github.requests_to("GET") if r.path.endswith("/runs")]

    def patches(self, job: Job | None = None) -> list[Request]:
        requests = self.discord.requests_to("PATCH")
        if job is None:
            return requests
        return [r for r in requests if job.interaction_token in r.path]

    def record(self, job: Job) -> JobRecord:
        record = self.state.jobs.get(job.invocation.interaction_id)
        assert record is not None, "the worker kept no record of the job"
        return record

    def message(self, job: Job) -> dict[str, Any]:
        message = self.discord.message_for(job.interaction_token)
        assert message is not None
        return message

    def embed(self, job: Job) -> dict[str, Any]:
        [embed] = self.message(job)["embeds"]
        assert isinstance(embed, dict)
        return embed

    def runs_for(self, job: Job) -> list[dict[str, Any]]:
        return [run for run in self.github.runs if job.invocation.trace_id in run["display_title"]]


def link_button(message: Mapping[str, Any]) -> dict[str, Any] | None:
    """The message's link button, if it has one."""
    for row in message.get("components") or []:
        for component in row.get("components") or []:
            if component.get("type") == 2 and component.get("style") == LINK_BUTTON:
                assert isinstance(component, dict)
                return component
    return None


HarnessFactory = Callable[..., Harness]


@pytest.fixture
def make_harness(
    fake_github: FakeGitHub, fake_discord: FakeDiscord, state: StateStore, commands_path: Path
) -> Iterator[HarnessFactory]:
    clients: list[httpx.Client] = []

    def make(
        *,
        github: FakeGitHub | None = None,
        github_url: str | None = None,
        github_token: str = GITHUB_TOKEN,
        github_http: httpx.Client | None = None,
        discord_http: httpx.Client | None = None,
        find_attempts: int = 2,
        bot_token: str | None = None,
        alert_channel: str | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Harness:
        """`sleep` takes the clients' waits between retries; `alert_channel` turns alerts on (needs `bot_token`)."""
        server = github or fake_github
        polls = RecordingQueue()  # polls are only recorded here: tests/unit/runs follows runs
        github_client = github_http or http_client()
        discord_client = discord_http or http_client()
        clients.extend([github_client, discord_client])
        github_api_client = GitHubClient(github_client, github_url or server.url, github_token, REPO, sleep=sleep)
        dispatcher = Dispatcher(
            github_api_client, state.jobs, REPO, sleep=lambda seconds: None, find_attempts=find_attempts
        )
        discord = DiscordClient(discord_client, fake_discord.api_url, APPLICATION_ID, bot_token=bot_token, sleep=sleep)
        metrics = MemoryMetrics()
        alerter = None
        if alert_channel is not None:
            alerter = Alerter(state.alerts, discord, alert_channel, metrics, enabled=True)
        worker = assemble_worker(
            load_commands(commands_path),
            state,
            github_api_client,
            discord,
            dispatcher,
            ButtonSigner(b"jobs-harness-signing-secret-0123"),
            polls,
            metrics,
            webhooks=False,
            alerter=alerter,
        )
        return Harness(worker, server, fake_discord, state)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def harness(make_harness: HarnessFactory) -> Harness:
    return make_harness()


@pytest.fixture
def worker_logs() -> Iterator[io.StringIO]:
    """Every line our logger writes during the test (DEBUG and up); the previous stream is restored after.

    The stand-ins log each request path at DEBUG under `orchestrator_dev`, webhook tokens included:
    they are test equipment, not the code under test, so they stay at INFO here.
    """
    devtools = logging.getLogger("orchestrator_dev")
    devtools_level = devtools.level
    devtools.setLevel(logging.INFO)  # setLevel, not .level =: it also clears logging's isEnabledFor cache
    handler = get_logger().registered_handler
    previous = handler.stream if isinstance(handler, logging.StreamHandler) else None
    stream = io.StringIO()
    configure_logging("test", level="DEBUG", stream=stream)
    try:
        yield stream
    finally:
        devtools.setLevel(devtools_level)
        configure_logging("test", level="INFO", stream=io.StringIO())
        handler = get_logger().registered_handler
        if (
            isinstance(handler, logging.StreamHandler)
            and previous is not None
            and not getattr(previous, "closed", False)
        ):
            handler.setStream(previous)
