"""The real local server, over loopback sockets, with the stand-in Discord and GitHub.

From the outside: concurrent commands from different users keep their own trace ids on every log
line, and no configured or shaped secret reaches a log line, a Discord message or an HTTP answer.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.adapters.local_server import LocalRuntime
from orchestrator.settings import load_settings
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import DISPATCH_DOCS_URL, FakeGitHub, FakeWorkflow
from orchestrator_dev.standins.http_standin import Fault
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import wait_for
from tests.fixtures.logs import capture_logs
from tests.unit.observability.support import assert_no_leak, leaks, parse_lines

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
REPOSITORY = "acme/delivery"

# Configured secrets (settings). The GitHub token has the old GitHub App installation token form
# (`v1.` + 40 hex), which no shape matches: only the configured-secret layer can find it.
GITHUB_TOKEN = "v1.4f9c2a7e1b3d5f8a0c6e2b4d7f9a1c3e5b8d0f2a"
DISCORD_BOT_TOKEN = "MTE1MDAwMDAwMDAwMDAwMDAwOQ.GzX1bQ.8fKqW3nV0pLx7RtY2sJd5HcB9mZa4UeTgNoQ"
# Read lazily (on first use) by the settings: see test_redaction_gaps for these given as plain values.
WEBHOOK_SECRET = "whsec-Plain-Value-7c1e9a44b2"
BUTTON_SECRET = "btn-Signing-Secret-5d8f0a21c3e4f6"
# Secrets a user pastes into an option, or GitHub echoes back: found by their shape alone.
AWS_KEY = "AKIAQX7ZK2MB4VN8RT3W"
JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZXBsb3llciIsImV4cCI6MTc5NTMyMDA3Mn0.Qm9ndXNTaWduYXR1cmVWYWx1ZUhlcmU"
SLACK = "xoxb-2718281828-3141592653-FakeSlackTokenValue"
DB_PASSWORD = "Db-Pa55word-Q7x9"
DB_URL = f"postgres://deployer:{DB_PASSWORD}@db.internal:5432/app"
ACME_KEY = "acme_live_" + "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e"  # matched by the commands file's redact_patterns

WORKFLOWS = {
    "diagnose.yml": FakeWorkflow(
        id=1,
        name="Diagnose",
        inputs={"target": True, "note": False, "trace_id": False, "requested_by": False},
        run_name_input="trace_id",
    )
}
COMMANDS_YAML = """
commands:
  diagnose:
    description: Run diagnostics
    workflow: diagnose.yml
    options:
      - name: target
        type: string
        description: Environment
        required: true
      - name: note
        type: string
        description: Free text passed to the workflow
    inputs:
      target: "{target}"
      note: "{note}"
      trace_id: "{trace_id}"
      requested_by: "{user_id}"
redact_patterns:
  acme_key: "acme_(?:live|test)_[0-9a-f]{32}"
"""


@dataclass
class Stack:
    runtime: LocalRuntime
    signer: InteractionSigner
    github: FakeGitHub
    discord: FakeDiscord
    client: httpx.Client
    logs: io.StringIO
    answers: list[httpx.Response] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    def command(self, name: str, options: dict[str, Any], *, user_id: str, ephemeral: bool = False) -> dict[str, Any]:
        payload = self.signer.application_command(name, options, user_id=user_id, username=f"user{user_id[-4:]}")
        self.discord.open_interaction(payload["token"], channel_id=payload["channel_id"], ephemeral=ephemeral)
        body = self.signer.encode(payload)
        response = self.client.post("/interactions", content=body, headers=self.signer.headers(body))
        self.answers.append(response)
        self.tokens.append(payload["token"])
        return payload


def edited(discord: FakeDiscord, token: str) -> bool:
    return len(discord.history_for(token)) >= 2


@pytest.fixture
def stack_factory(tmp_path: Path, signer: InteractionSigner) -> Iterator[Callable[..., Stack]]:
    started: list[tuple[LocalRuntime, httpx.Client]] = []
    contexts: list[Any] = []

    def make(*, log_level: str = "DEBUG", extra_env: dict[str, str] | None = None) -> Stack:
        commands_file = tmp_path / "commands.yaml"
        commands_file.write_text(COMMANDS_YAML, encoding="utf-8")
        github = FakeGitHub(GITHUB_TOKEN, REPOSITORY, WORKFLOWS).start()
        discord = FakeDiscord(signer.application_id, bot_token=DISCORD_BOT_TOKEN).start()
        contexts.extend([github, discord])
        logs_cm = capture_logs(fn="serve", level=log_level)
        logs = logs_cm.__enter__()
        contexts.append(logs_cm)
        env = {
            "DISCORD_PUBLIC_KEY": signer.public_key_hex,
            "DISCORD_APPLICATION_ID": signer.application_id,
            "DISCORD_API_URL": discord.api_url,
            "DISCORD_BOT_TOKEN": DISCORD_BOT_TOKEN,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": github.url,
            "COMMANDS_FILE": str(commands_file),
            "STATE_STORE": f"sqlite:///{tmp_path / 'state.db'}",
            "ENABLE_DEBUG_CMD": "true",
        } | (extra_env or {})
        runtime = LocalRuntime(load_settings(env, in_lambda=False), port=0, workers=4)
        runtime.start()
        client = httpx.Client(base_url=runtime.url, timeout=10)
        started.append((runtime, client))
        return Stack(runtime, signer, github, discord, client, logs)

    yield make
    for runtime, client in started:
        client.close()
        runtime.stop()
    for context in reversed(contexts):
        if isinstance(context, FakeGitHub | FakeDiscord):
            context.stop()
        else:
            context.__exit__(None, None, None)


# -- 6. concurrent interactions keep their own ids --------------------------------------------------------


def test_concurrent_commands_keep_their_own_trace_ids_on_every_line(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(log_level="INFO")  # serve's default level
    users = [str(1150000000000000100 + i) for i in range(10)]

    def run(user_id: str) -> dict[str, Any]:
        return stack.command("diagnose", {"target": "staging", "note": f"from {user_id}"}, user_id=user_id)

    with ThreadPoolExecutor(max_workers=10) as pool:
        payloads = list(pool.map(run, users))
    assert all(answer.status_code == 200 for answer in stack.answers)
    wait_for(lambda: len(stack.github.dispatches) == len(users), "every dispatch")
    wait_for(lambda: all(edited(stack.discord, p["token"]) for p in payloads), "every message edit")
    wait_for(
        lambda: sum(line.count('"dispatch finished"') for line in stack.logs.getvalue().splitlines()) == len(users),
        "every dispatch logged",
    )

    # The trace id each user's job carried, as the stand-in GitHub received it.
    trace_of = {d["inputs"]["requested_by"]: d["inputs"]["trace_id"] for d in stack.github.dispatches}
    assert set(trace_of) == set(users)
    assert len(set(trace_of.values())) == len(users)
    lines = parse_lines(stack.logs.getvalue())
    served = next(i for i, line in enumerate(lines) if line["msg"] == "serving")
    during = lines[served + 1 :]
    assert len(during) >= 3 * len(users)  # per command at least: its access line, "accepted", "dispatch finished"

    for line in during:
        assert isinstance(line["trace_id"], str) and TRACE_ID.match(line["trace_id"]), line
        if line["user_id"] is not None:
            assert line["trace_id"] == trace_of[line["user_id"]], line
    access = [line for line in during if line["msg"] == "http request"]
    assert len(access) == len(users)
    assert {line["trace_id"] for line in access} == set(trace_of.values())
    per_user = {user: {line["msg"] for line in during if line["user_id"] == user} for user in users}
    for user, messages in per_user.items():
        assert {"command accepted", "dispatch finished"} <= messages, (user, messages)
    # Each user's message shows their own trace's fingerprint.
    for payload in payloads:
        user = payload["member"]["user"]["id"]
        message = stack.discord.message_for(payload["token"])
        assert message is not None
        assert message["embeds"][0]["footer"]["text"].startswith(f"trace {trace_of[user][:8]}")


# -- 7. no secret leaves, whatever users type and GitHub says ------------------------------------------------

CONFIGURED = (GITHUB_TOKEN, DISCORD_BOT_TOKEN)
SHAPED = (AWS_KEY, JWT, SLACK, DB_PASSWORD, ACME_KEY)
TOKEN_TAILS = (GITHUB_TOKEN[3:], DISCORD_BOT_TOKEN.rsplit(".", 1)[1], JWT.rsplit(".", 1)[1])


def test_no_secret_in_any_log_line_message_or_answer(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(extra_env={"GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET, "BUTTON_SIGNING_SECRET": BUTTON_SECRET})
    alice, bob = "1150000000000000201", "1150000000000000202"

    # Alice pastes credentials into a free-text option; the dispatch succeeds and her message shows the options.
    first = stack.command(
        "diagnose",
        {"target": "staging", "note": f"use {GITHUB_TOKEN} or {AWS_KEY}; key {ACME_KEY}"},
        user_id=alice,
    )
    wait_for(lambda: edited(stack.discord, first["token"]), "the first message edit")

    # Bob's dispatch is refused by GitHub with a 422 that echoes what it was sent.
    echoed = f"{DISCORD_BOT_TOKEN} {SLACK} {JWT} {DB_URL} {GITHUB_TOKEN}"
    stack.github.inject(
        Fault(
            method="POST",
            path=r"/dispatches$",
            status=422,
            body={
                "message": f"Invalid request.\n\nFor 'properties/note', \"{echoed}\" is not valid.",
                "documentation_url": DISPATCH_DOCS_URL,
                "status": "422",
            },
        )
    )
    second = stack.command("diagnose", {"target": "production", "note": echoed}, user_id=bob)
    wait_for(lambda: edited(stack.discord, second["token"]), "the refused command's message edit")
    refused = stack.discord.message_for(second["token"])
    assert refused is not None and "not started" in refused["embeds"][0]["title"]
    assert "422" in refused["embeds"][0]["description"]

    # Bob asks /debug-last about it, then about Alice's trace id (not his: "not found").
    wait_for(
        lambda: (trace := stack.runtime.state.traces.latest(bob)) is not None and trace.status == "failed",
        "the refused command's trace",
    )
    debug = stack.command("debug-last", {}, user_id=bob, ephemeral=True)
    wait_for(lambda: edited(stack.discord, debug["token"]), "the /debug-last report")
    report = stack.discord.message_for(debug["token"])
    assert report is not None and "/diagnose" in report["content"] and "failed" in report["content"]
    alice_trace = stack.github.dispatches[0]["inputs"]["trace_id"]
    other = stack.command("debug-last", {"trace_id": alice_trace}, user_id=bob, ephemeral=True)
    wait_for(lambda: edited(stack.discord, other["token"]), "the second /debug-last report")

    # A command missing its required option, answered at once; and a forged request.
    stack.command("diagnose", {"note": f"{GITHUB_TOKEN} {AWS_KEY}"}, user_id=alice)
    forged = stack.signer.encode(stack.signer.application_command("diagnose", {"target": GITHUB_TOKEN}))
    stack.answers.append(stack.client.post("/interactions", content=forged, headers=stack.signer.headers(b"x")))
    assert [a.status_code for a in stack.answers] == [200, 200, 200, 200, 200, 401]
    stack.runtime.stop()  # every line is written

    needles = (*CONFIGURED, *SHAPED, *TOKEN_TAILS, *stack.tokens)
    log_text = stack.logs.getvalue()
    lines = parse_lines(log_text)
    assert {"dispatch finished", "dispatch rejected", "http request"} <= {line["msg"] for line in lines}
    outputs: list[tuple[str, Any]] = [("log lines", log_text)]
    for token in stack.tokens:
        outputs.append(("Discord message versions", stack.discord.history_for(token)))
        outputs.append(("Discord follow-ups", stack.discord.followups_for(token)))
    outputs.extend((f"HTTP answer {answer.status_code}", answer.text) for answer in stack.answers)
    for user in (alice, bob):
        trace = stack.runtime.state.traces.latest(user)
        assert trace is not None
        outputs.append(("stored trace", trace.to_json()))
    found = {where: leaks(output, needles) for where, output in outputs}
    assert not any(found.values()), {where: leaked for where, leaked in found.items() if leaked}
    for where, output in outputs:
        assert_no_leak(output, needles, where)
    # The option values did reach GitHub (that is their purpose), and the message shows they were redacted.
    assert stack.github.dispatches[0]["inputs"]["note"].startswith(f"use {GITHUB_TOKEN}")
    assert stack.github.requests[0].headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    # As Discord shows it: option values are markdown-escaped (a backslash before [ ] _), after redaction.
    first_message = json.dumps(stack.discord.message_for(first["token"])).replace("\\\\", "")
    assert "[redacted:configured_secret]" in first_message and "[redacted:aws_access_key]" in first_message
    assert "[redacted:acme_key]" in first_message
