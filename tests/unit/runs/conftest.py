"""Run tracking under test: the worker against the GitHub and Discord stand-ins over loopback sockets.

Two set-ups:

- `Rig`: the worker assembled from its real parts with a fake clock and a queue that only records
  (what it is sent, with each message's delay). Tests process the messages themselves, in
  simulated time, so a 10-second poll costs nothing.
- `Live`: the real local server (`LocalRuntime`: HTTP routes, in-process queue, worker threads) on
  a loopback port, which the stand-in GitHub delivers signed webhooks to, as in the demo.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import io
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.adapters.local_server import LocalRuntime
from orchestrator.clients import discord_api, github_api
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.commands.invocation import Invocation
from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import OptionValue
from orchestrator.composition.worker import assemble_worker
from orchestrator.dispatch.dispatcher import Dispatcher
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.jobs.envelopes import Job, PollRequest, RunEvent, parse_message
from orchestrator.jobs.worker import JobWorker
from orchestrator.observability.metrics import MemoryMetrics
from orchestrator.runs.model import RunSnapshot
from orchestrator.settings import load_settings
from orchestrator.state.jobs import JobRecord
from orchestrator.state.sqlite import SqliteJobStore
from orchestrator.state.store import StateStore, open_state_store
from orchestrator.web.github_webhook import GitHubWebhookEndpoint
from orchestrator.web.http import HttpRequest
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub, FakeJob, FakeWorkflow
from orchestrator_dev.standins.fake_job_logs import FakeLogStorage
from orchestrator_dev.standins.http_standin import Request, Response, StandinServer
from orchestrator_dev.standins.signing import InteractionSigner, interaction_token, snowflake
from tests.fixtures.worker import context, http_client
from tests.unit.runs.payloads import signature as sign

GITHUB_TOKEN = "ghp_" + "Rn5tK8wQ2zX7cV4bM9pL3hJ6gF1dS0aE8uY2"
REPO = "acme/ops"
APPLICATION_ID = snowflake()
GUILD_ID = "1150000000000000001"
CHANNEL_ID = "1150000000000000002"
# Shaped like a Discord bot token (three dot-separated parts); only the stand-in ever sees it.
BOT_TOKEN = "MTE1MDAwMDAwMDAwMDAwMDAwNA.GhJkLm.abcdefghijklmnopqrstuvwxyz0123456789AB"
BUTTON_SECRET = "runs-button-signing-secret-0123456789"
CANCEL_ROLE = "444444444444444444"

ALICE: dict[str, Any] = {"user_id": "1150000000000000010", "username": "alice", "global_name": "Alice"}
BOB: dict[str, Any] = {"user_id": "1150000000000000020", "username": "bob", "global_name": "Bob"}
CAROL: dict[str, Any] = {
    "user_id": "1150000000000000030",
    "username": "carol",
    "global_name": "Carol",
    "roles": [CANCEL_ROLE],
}

STEPS = ("Set up job", "Run", "Complete job")
WORKFLOWS: dict[str, FakeWorkflow] = {
    "diagnose.yml": FakeWorkflow(
        101,
        "Diagnose",
        {"target": True, "trace_id": False},
        run_name_input="trace_id",
        jobs=(FakeJob("build", STEPS), FakeJob("test", STEPS)),
    ),
    "deploy.yml": FakeWorkflow(
        102,
        "Deploy",
        {"environment": True, "trace_id": False},
        run_name_input="trace_id",
        jobs=(FakeJob("deploy", ("Set up job", "Roll out", "Smoke test")),),
    ),
    "matrix.yml": FakeWorkflow(
        103,
        "Matrix",
        {"trace_id": False},
        run_name_input="trace_id",
        # 50 jobs with long names (as matrix jobs have): their lines do not all fit in one message.
        jobs=tuple(
            FakeJob(f"integration ({n:02d}, ubuntu-24.04, python-3.13, postgres-17, shard {n}/50)", STEPS)
            for n in range(1, 51)
        ),
    ),
}

COMMANDS_YAML = f"""
commands:
  diagnose:
    description: Run diagnostics
    workflow: diagnose.yml
    options:
      - name: target
        type: string
        description: Environment
        required: true
    inputs:
      target: "{{target}}"
      trace_id: "{{trace_id}}"
    cancel:
      roles: ["{CANCEL_ROLE}"]
  quiet:
    description: Diagnostics only the caller sees
    workflow: diagnose.yml
    ephemeral: true
    options:
      - name: target
        type: string
        description: Environment
        required: true
    inputs:
      target: "{{target}}"
      trace_id: "{{trace_id}}"
  deploy:
    description: Deploy, after a confirmation
    workflow: deploy.yml
    confirm: true
    options:
      - name: environment
        type: string
        description: Where to
        required: true
    inputs:
      environment: "{{environment}}"
      trace_id: "{{trace_id}}"
  hush-deploy:
    description: Deploy after a confirmation, answering only the caller
    workflow: deploy.yml
    confirm: true
    ephemeral: true
    options:
      - name: environment
        type: string
        description: Where to
        required: true
    inputs:
      environment: "{{environment}}"
      trace_id: "{{trace_id}}"
  suite:
    description: The test suite, for the team
    workflow: diagnose.yml
    failure_log: public
    inputs:
      target: staging
      trace_id: "{{trace_id}}"
    allow:
      roles: ["{CANCEL_ROLE}"]
      users: ["{ALICE["user_id"]}"]
    rerun:
      roles: ["{CANCEL_ROLE}"]
  matrix:
    description: The big test matrix
    workflow: matrix.yml
    inputs:
      trace_id: "{{trace_id}}"
"""


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clients' retry policies as shipped, with millisecond backoff between attempts."""
    for module, name in (
        (github_api, "DISPATCH_POLICY"),
        (github_api, "READ_POLICY"),
        (discord_api, "EDIT_POLICY"),
        (discord_api, "CREATE_POLICY"),
    ):
        policy = getattr(module, name)
        monkeypatch.setattr(module, name, dataclasses.replace(policy, base_backoff_seconds=0.001))


@pytest.fixture
def commands_path(tmp_path: Path) -> Path:
    path = tmp_path / "commands.yaml"
    path.write_text(COMMANDS_YAML, encoding="utf-8")
    return path


@pytest.fixture
def logs(worker_logs: io.StringIO) -> io.StringIO:
    """Every line our logger writes during the test (DEBUG and up): the worker tests' capture."""
    return worker_logs


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


# -- messages as users see them -----------------------------------------------------------------

QUEUED, IN_PROGRESS, RESULT = 1, 2, 3


def embed_of(message: Mapping[str, Any]) -> dict[str, Any]:
    [embed] = message["embeds"]
    assert isinstance(embed, dict)
    return embed


def stage_of(message: Mapping[str, Any]) -> int:
    """Where the message says the run is: 0 (nothing yet), queued, in progress or a result."""
    if not message.get("embeds"):
        return 0
    title = str(embed_of(message).get("title", ""))
    if "⏳ queued" in title or title.endswith("· started"):
        return QUEUED
    if "🔄 in progress" in title:
        return IN_PROGRESS
    return RESULT


def buttons_of(message: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The message's buttons by label."""
    return {
        str(component.get("label")): component
        for row in message.get("components") or []
        for component in row.get("components") or []
        if component.get("type") == 2
    }


def cancel_id(message: Mapping[str, Any]) -> str:
    return str(buttons_of(message)["Cancel run"]["custom_id"])


# -- simulated time and a recording queue --------------------------------------------------------


class FakeClock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(order=True)
class Sent:
    due: float
    seq: int
    body: str = field(compare=False)
    delay: int = field(compare=False)

    @property
    def kind(self) -> str:
        kind: str = json.loads(self.body)["kind"]
        return kind


class SimQueue:
    """A JobQueue that records every message with its delay, and hands back what is due."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._seq = itertools.count()
        self._lock = threading.Lock()  # the webhook sink sends from its own threads
        self.sent: list[Sent] = []
        self._heap: list[Sent] = []

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        parse_message(body)  # only well-formed messages are ever queued
        with self._lock:
            entry = Sent(self._clock() + delay_seconds, next(self._seq), body, delay_seconds)
            self.sent.append(entry)
            heapq.heappush(self._heap, entry)

    def of_kind(self, kind: str) -> list[Sent]:
        with self._lock:
            return [entry for entry in self.sent if entry.kind == kind]

    def polls(self) -> list[tuple[PollRequest, int]]:
        found = []
        for entry in self.of_kind("poll"):
            message = parse_message(entry.body)
            assert isinstance(message, PollRequest)
            found.append((message, entry.delay))
        return found

    def next_due(self) -> Sent | None:
        with self._lock:
            return self._heap[0] if self._heap else None

    def pop(self) -> Sent:
        with self._lock:
            return heapq.heappop(self._heap)

    def pending(self) -> list[Sent]:
        with self._lock:
            return sorted(self._heap)


def build_worker(
    state: StateStore,
    github: FakeGitHub,
    discord: FakeDiscord,
    commands_path: Path,
    queue: SimQueue,
    *,
    clock: FakeClock,
    webhooks: bool,
    poll_limit: int = 360,
    bot_token: str | None = BOT_TOKEN,
    github_http: httpx.Client | None = None,
    clients: list[httpx.Client] | None = None,
    discord_client: DiscordClient | None = None,
) -> JobWorker:
    """JobWorker.assemble's wiring, with a fake clock given to the tracker and the follower."""
    github_http = github_http or http_client()
    discord_http = http_client()
    if clients is not None:
        clients.extend([github_http, discord_http])
    commands = load_commands(commands_path)
    github_client = GitHubClient(github_http, github.url, GITHUB_TOKEN, REPO)
    if discord_client is None:
        discord_client = DiscordClient(discord_http, discord.api_url, APPLICATION_ID, bot_token=bot_token)
    dispatcher = Dispatcher(github_client, state.jobs, REPO, clock=clock, sleep=lambda seconds: None)
    return assemble_worker(
        commands,
        state,
        github_client,
        discord_client,
        dispatcher,
        ButtonSigner(BUTTON_SECRET.encode()),
        queue,
        MemoryMetrics(),
        webhooks=webhooks,
        poll_limit=poll_limit,
        clock=clock,
    )


class WebhookSink(StandinServer):
    """`POST /github/webhook` on a loopback port, in front of the real endpoint, queueing into a SimQueue."""

    def __init__(self, secret: str, queue: SimQueue) -> None:
        super().__init__()
        self.endpoint = GitHubWebhookEndpoint(lambda: secret, queue, REPO)
        self.add_route("POST", "/github/webhook", self._on_webhook)

    def _on_webhook(self, request: Request, params: dict[str, str]) -> Response:
        answer = self.endpoint.handle(HttpRequest("POST", request.path, request.headers, request.body))
        return Response(answer.status, answer.body, dict(answer.headers))


def open_store(kind: str, tmp_path: Path) -> StateStore:
    if kind == "memory":
        return open_state_store("memory://")
    return open_state_store(f"sqlite:///{tmp_path}/state-{uuid.uuid4().hex[:8]}.db")


def close_store(store: StateStore) -> None:
    if isinstance(store.jobs, SqliteJobStore):
        store.jobs._db.close()


@dataclass
class Rig:
    worker: JobWorker
    github: FakeGitHub
    discord: FakeDiscord
    state: StateStore
    queue: SimQueue
    clock: FakeClock
    commands_path: Path
    sink: WebhookSink | None = None

    def job(
        self,
        command: str = "diagnose",
        options: Mapping[str, OptionValue] | None = None,
        *,
        ephemeral: bool = False,
        received_at: float | None = None,
        open_interaction: bool = True,
    ) -> Job:
        interaction_id = snowflake()
        job = Job(
            invocation=Invocation(
                interaction_id=interaction_id,
                trace_id=uuid.uuid4().hex,
                command=command,
                options=dict({"target": "staging"} if options is None else options),
                user_id=ALICE["user_id"],
                user_name=ALICE["global_name"],
                guild_id=GUILD_ID,
                channel_id=CHANNEL_ID,
            ),
            application_id=APPLICATION_ID,
            received_at=self.clock() if received_at is None else received_at,
            interaction_token=interaction_token(interaction_id),
            ephemeral=ephemeral,
        )
        if open_interaction:
            self.discord.open_interaction(job.interaction_token, channel_id=CHANNEL_ID, ephemeral=ephemeral)
        return job

    def process(self, body: str) -> None:
        self.worker.process(body, context=context(), final_attempt=False)

    def dispatch(self, job: Job) -> int:
        """Run the job (one dispatch); the run's id."""
        self.process(job.to_message())
        run_id = self.record(job).run_id
        assert run_id is not None, "the job did not start a run"
        return run_id

    def record(self, job: Job) -> JobRecord:
        record = self.state.jobs.get(job.invocation.interaction_id)
        assert record is not None
        return record

    def event(self, run: Mapping[str, Any], delivery_id: str | None = None) -> None:
        """A verified workflow_run delivery of `run`, as the webhook endpoint queues it."""
        snapshot = RunSnapshot.from_api(dict(run)).to_dict()
        self.process(RunEvent(delivery_id or str(uuid.uuid4()), snapshot).to_message())

    def poll(self, job: Job, attempt: int) -> None:
        self.process(PollRequest(job.invocation.interaction_id, attempt).to_message())

    def run_due(self, until: float | None = None) -> int:
        """Process queued messages in due order up to `until` (now by default), moving the clock."""
        limit = self.clock() if until is None else until
        done = 0
        while (entry := self.queue.next_due()) is not None and entry.due <= limit:
            self.queue.pop()
            self.clock.now = max(self.clock.now, entry.due)
            self.process(entry.body)
            done += 1
        self.clock.now = max(self.clock.now, limit)
        return done

    def history(self, job: Job) -> list[dict[str, Any]]:
        return self.discord.history_for(job.interaction_token)

    def message(self, job: Job) -> dict[str, Any]:
        message = self.discord.message_for(job.interaction_token)
        assert message is not None
        return message

    def shown(self, job: Job) -> dict[str, Any]:
        """The live message wherever it now is: the interaction's, or its continuation in the channel."""
        record = self.record(job)
        if record.channel_message_id:
            [message] = [m for m in self.discord.channel_messages(CHANNEL_ID) if m["id"] == record.channel_message_id]
            return message
        return self.message(job)

    def edits(self, job: Job) -> list[Request]:
        return [r for r in self.discord.requests_to("PATCH") if job.interaction_token in r.path]


RigFactory = Callable[..., Rig]


@pytest.fixture
def rig_factory(commands_path: Path, tmp_path: Path) -> Iterator[RigFactory]:
    servers: list[StandinServer] = []
    stores: list[StateStore] = []
    clients: list[httpx.Client] = []

    def make(
        *,
        backend: str = "memory",
        state: StateStore | None = None,
        webhooks: bool = False,
        deliver_webhooks: bool = False,
        poll_limit: int = 360,
        bot_token: str | None = BOT_TOKEN,
        github_http: httpx.Client | None = None,
    ) -> Rig:
        clock = FakeClock()
        queue = SimQueue(clock)
        sink = None
        webhook_url = None
        secret = secrets.token_urlsafe(24)
        if deliver_webhooks:
            sink = WebhookSink(secret, queue).start()
            servers.append(sink)
            webhook_url = sink.url + "/github/webhook"
        log_storage = FakeLogStorage().start()
        servers.append(log_storage)
        github = FakeGitHub(
            GITHUB_TOKEN, REPO, WORKFLOWS, webhook_url=webhook_url, webhook_secret=secret, log_storage=log_storage
        ).start()
        discord = FakeDiscord(APPLICATION_ID, bot_token=BOT_TOKEN).start()
        servers.extend([github, discord])
        if state is None:
            state = open_store(backend, tmp_path)
            stores.append(state)
        worker = build_worker(
            state,
            github,
            discord,
            commands_path,
            queue,
            clock=clock,
            webhooks=webhooks or deliver_webhooks,
            poll_limit=poll_limit,
            bot_token=bot_token,
            github_http=github_http,
            clients=clients,
        )
        return Rig(worker, github, discord, state, queue, clock, commands_path, sink)

    yield make
    for client in clients:
        client.close()
    for server in reversed(servers):
        server.stop()
    for store in stores:
        close_store(store)


@pytest.fixture
def rig(rig_factory: RigFactory) -> Rig:
    return rig_factory()


# -- the real local server ------------------------------------------------------------------------


@dataclass
class Live:
    runtime: LocalRuntime
    signer: InteractionSigner
    github: FakeGitHub
    discord: FakeDiscord
    client: httpx.Client
    env: dict[str, str]
    deliver_webhooks: bool
    webhook_secret: str | None

    def send(self, payload: Mapping[str, Any]) -> httpx.Response:
        body = self.signer.encode(payload)
        return self.client.post("/interactions", content=body, headers=self.signer.headers(body))

    def command(
        self, name: str, options: Mapping[str, OptionValue], who: Mapping[str, Any] = ALICE, *, ephemeral: bool = False
    ) -> tuple[dict[str, Any], httpx.Response]:
        payload = self.signer.application_command(name, options, **who)
        self.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=ephemeral)
        return payload, self.send(payload)

    def start_run(self, name: str = "diagnose", options: Mapping[str, OptionValue] | None = None) -> dict[str, Any]:
        """A command that dispatches at once; returns the interaction once its message shows the run."""
        payload, answer = self.command(name, {"target": "staging"} if options is None else options)
        assert answer.status_code == 200
        assert answer.json()["type"] == 5
        self.settle()
        return payload

    def press(
        self, custom_id: str, who: Mapping[str, Any] = ALICE, *, open_interaction: bool = True
    ) -> tuple[dict[str, Any], httpx.Response]:
        payload = self.signer.button_press(custom_id, **who)
        if open_interaction:
            self.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=True)
        return payload, self.send(payload)

    def webhook(
        self,
        body: bytes,
        *,
        event: str = "workflow_run",
        delivery: str | None = "auto",
        signature: str | None = "auto",
        secret: str | None = None,
        content_type: str = "application/json",
    ) -> httpx.Response:
        """POST /github/webhook as GitHub's hookshot would (or with headers left out / wrong)."""
        headers = {"Content-Type": content_type, "User-Agent": "GitHub-Hookshot/4f3a2b1", "X-GitHub-Event": event}
        if delivery is not None:
            headers["X-GitHub-Delivery"] = str(uuid.uuid4()) if delivery == "auto" else delivery
        if signature == "auto":
            key = secret or self.webhook_secret
            assert key is not None
            headers["X-Hub-Signature-256"] = sign(key, body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.client.post("/github/webhook", content=body, headers=headers)

    def settle(self, rounds: int = 20) -> None:
        """Wait until webhook deliveries and the worker have finished what they were given."""
        quiet = 0
        last: tuple[int, int, int] | None = None
        for _ in range(rounds):
            self.github.wait_for_deliveries(timeout=10)
            assert self.runtime.queue.wait_idle(timeout=30)
            seen = (len(self.github.requests), len(self.discord.requests), len(self.github.deliveries))
            quiet = quiet + 1 if seen == last else 0
            if quiet >= 2:
                return
            last = seen
            time.sleep(0.01)

    def record(self, payload: Mapping[str, Any]) -> JobRecord:
        record = self.runtime.state.jobs.get(str(payload["id"]))
        assert record is not None
        return record

    def message(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        message = self.discord.message_for(str(payload["token"]))
        assert message is not None
        return message

    def restart(self, **env: str) -> None:
        """Stop the server and start a new one on the same state file (settings changed by `env`)."""
        self.github.deliver_webhooks_to(None)  # its port may be another test's once it is closed
        self.runtime.stop()
        close_store(self.runtime.state)
        # A kept-alive connection would still reach the old server's handler thread: start afresh.
        self.client.close()
        self.env.update(env)
        self.runtime = start_runtime(self.env)
        self.client = httpx.Client(base_url=self.runtime.url, timeout=10)
        if self.deliver_webhooks:
            self.github.deliver_webhooks_to(f"{self.runtime.url}/github/webhook")


LiveFactory = Callable[..., Live]


def start_runtime(env: Mapping[str, str]) -> LocalRuntime:
    """`serve`'s runtime on a port the system chooses (a port picked free beforehand may be taken by
    another test process before it is bound). Its HTTP server loop checks for shutdown every 10 ms rather than
    serve_forever's default 0.5 s, so that stopping it does not cost each test half a second."""
    runtime = LocalRuntime(load_settings(dict(env), in_lambda=False), port=0, workers=2)
    server = runtime._server
    assert server is not None  # an HTTP runtime
    server.serve_forever = functools.partial(type(server).serve_forever, server, poll_interval=0.01)  # type: ignore[method-assign]
    runtime.start()
    return runtime


@pytest.fixture
def live_factory(commands_path: Path, tmp_path: Path, signer: InteractionSigner) -> Iterator[LiveFactory]:
    started: list[Live] = []
    servers: list[StandinServer] = []

    def make(
        *,
        webhook_secret: bool = True,
        deliver_webhooks: bool = True,
        bot_token: bool = True,
        poll_limit: int | None = None,
    ) -> Live:
        secret = secrets.token_urlsafe(24) if webhook_secret else None
        log_storage = FakeLogStorage().start()
        servers.append(log_storage)
        github = FakeGitHub(
            GITHUB_TOKEN,
            REPO,
            WORKFLOWS,
            webhook_secret=secret,
            log_storage=log_storage,
        ).start()
        discord = FakeDiscord(signer.application_id, bot_token=BOT_TOKEN).start()
        servers.extend([github, discord])
        env = {
            "DISCORD_PUBLIC_KEY": signer.public_key_hex,
            "DISCORD_APPLICATION_ID": signer.application_id,
            "DISCORD_API_URL": discord.api_url,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": github.url,
            "BUTTON_SIGNING_SECRET": BUTTON_SECRET,
            "STATE_STORE": f"sqlite:///{tmp_path}/live-{len(started)}.db",
            "COMMANDS_FILE": str(commands_path),
        }
        if secret is not None:
            env["GITHUB_WEBHOOK_SECRET"] = secret
        if bot_token:
            env["DISCORD_BOT_TOKEN"] = BOT_TOKEN
        if poll_limit is not None:
            env["POLL_LIMIT"] = str(poll_limit)
        runtime = start_runtime(env)
        if deliver_webhooks:
            github.deliver_webhooks_to(f"{runtime.url}/github/webhook")
        client = httpx.Client(base_url=runtime.url, timeout=10)
        live = Live(runtime, signer, github, discord, client, env, deliver_webhooks, secret)
        started.append(live)
        return live

    yield make
    for live in started:
        live.client.close()
        live.runtime.stop()
        close_store(live.runtime.state)
    for server in reversed(servers):
        server.stop()
