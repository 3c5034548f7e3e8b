"""What the fuzzer attacks: the interactions and webhook endpoints as the app wires them, in memory,
with seed payloads as Discord and GitHub send them, and one mutated, freshly signed case at a time.

Cases run below WebApp's catch-all (so an exception surfaces instead of becoming a 500) and,
one in ten, through the Lambda adapter and WebApp (so the routing and adapter are covered too).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.adapters.lambda_http import function_url_response, request_from_function_url
from orchestrator.commands.model import AllowList, CommandSet, CommandSpec, OptionSpec
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.interactions.endpoint import MAX_BODY_BYTES, InteractionsEndpoint
from orchestrator.interactions.presses import ButtonHandler
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.envelopes import parse_message
from orchestrator.observability.logging import configure_logging, get_logger
from orchestrator.serialization import loads
from orchestrator.state.memory import MemoryPendingStore
from orchestrator.web.app import WebApp
from orchestrator.web.github_webhook import GitHubWebhookEndpoint
from orchestrator.web.http import HttpRequest
from orchestrator_dev.bench import fuzz_mutations as mutations
from orchestrator_dev.standins.signing import InteractionSigner, snowflake

INTERACTIONS, WEBHOOK = "/interactions", "/github/webhook"
REPOSITORY = "acme/ops"
ADMIN_ROLE = "222222222222222222"
USER_ID = "1150000000000000003"
# SQS refuses larger messages; an endpoint that queues one would answer 503 in AWS.
MAX_QUEUE_MESSAGE_BYTES = 256 * 1024

COMMANDS = CommandSet(
    {
        "diagnose": CommandSpec(
            "diagnose",
            "Run diagnostics",
            "diagnose.yml",
            "main",
            options=(
                OptionSpec("target", "string", "Environment", required=True, choices=("staging", "production")),
                OptionSpec("verbose", "boolean", "More output"),
                OptionSpec("count", "integer", "How many"),
                OptionSpec("ratio", "number", "A ratio"),
            ),
            inputs=(("target", "{target}"), ("trace_id", "{trace_id}")),
        ),
        "deploy": CommandSpec(
            "deploy",
            "Deploy after a confirmation",
            "deploy.yml",
            "main",
            options=(OptionSpec("version", "string", "What", required=True),),
            confirm=True,
            ephemeral=True,
        ),
        "restricted": CommandSpec(
            "restricted",
            "Only admins",
            "admin.yml",
            "main",
            allow=AllowList(frozenset({ADMIN_ROLE}), frozenset()),
        ),
    }
)


class UnreadableMessage(AssertionError):
    """An endpoint queued a message the worker would refuse (or SQS would): a finding."""


class CheckedQueue:
    """A JobQueue that takes only messages the worker can read, within SQS's size limit."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        if len(body.encode()) > MAX_QUEUE_MESSAGE_BYTES:
            raise UnreadableMessage(f"queued a {len(body.encode())}-byte message")
        try:
            parse_message(body)
        except ValueError as exc:
            raise UnreadableMessage(f"queued a message the worker refuses: {exc}") from exc
        self.sent += 1


@dataclass(frozen=True)
class Seed:
    route: str
    payload: dict[str, Any]
    event: str = ""  # the X-GitHub-Event of a webhook seed


@dataclass(frozen=True)
class Case:
    route: str
    headers: dict[str, str]
    body: bytes
    via_app: bool = False
    method: str = "POST"
    path: str = ""  # the path WebApp sees; the route's own when empty


def workflow_run_payload(action: str, status: str, conclusion: str | None, run_id: int) -> dict[str, Any]:
    """A `workflow_run` delivery shaped like GitHub's (the fields the endpoint reads, and company)."""
    actor = {"login": "octocat", "id": 583231, "type": "User", "site_admin": False}
    return {
        "action": action,
        "workflow_run": {
            "id": run_id,
            "name": "Diagnose",
            "node_id": "WFR_kwLOAAA",
            "head_branch": "main",
            "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
            "path": ".github/workflows/diagnose.yml",
            "display_title": f"diagnose staging [{uuid.UUID(int=run_id).hex}]",
            "run_number": 7,
            "event": "workflow_dispatch",
            "status": status,
            "conclusion": conclusion,
            "workflow_id": 101,
            "html_url": f"https://github.com/{REPOSITORY}/actions/runs/{run_id}",
            "pull_requests": [],
            "created_at": "2024-01-02T10:00:00Z",
            "updated_at": "2024-01-02T10:00:05Z",
            "run_attempt": 1,
            "run_started_at": "2024-01-02T10:00:00Z",
            "actor": actor,
            "triggering_actor": actor,
            "head_commit": {"id": "acb5820c", "message": "Update", "author": {"name": "Mona"}},
        },
        "workflow": {"id": 101, "name": "Diagnose", "path": ".github/workflows/diagnose.yml", "state": "active"},
        "repository": {"id": 1296269, "name": "ops", "full_name": REPOSITORY, "private": True, "owner": actor},
        "sender": actor,
    }


class FuzzTargets:
    """The endpoints under test, their keys, and the seeds their cases are mutated from."""

    def __init__(self, webhook_payloads: Sequence[Mapping[str, Any]] = ()) -> None:
        self.signer = InteractionSigner.generate()
        self.webhook_secret = secrets.token_urlsafe(24)
        self.queue = CheckedQueue()
        self.pending = MemoryPendingStore()
        button_signer = ButtonSigner(secrets.token_bytes(32))
        buttons = ButtonHandler(lambda: button_signer, self.pending, self.queue)
        self.interactions = InteractionsEndpoint(
            SignatureVerifier(self.signer.public_key_hex), COMMANDS, self.queue, debug_enabled=True, buttons=buttons
        )
        self.webhook = GitHubWebhookEndpoint(lambda: self.webhook_secret, self.queue, REPOSITORY)
        self.app = WebApp(self.interactions, self.webhook)
        self._confirmation = self._ask_confirmation()
        expires = time.time() + 3600
        presses = [
            *self._confirmation[2],
            button_signer.make("cancel", snowflake(), expires_at=expires),
            button_signer.make("cancel", snowflake(), expires_at=time.time() - 1),
        ]
        self.seeds = self._interaction_seeds(presses) + _webhook_seeds(webhook_payloads)
        self._dictionaries = {
            route: mutations.Dictionary.of([s.payload for s in self.seeds if s.route == route], [*presses, ""])
            for route in (INTERACTIONS, WEBHOOK)
        }

    def _ask_confirmation(self) -> tuple[str, str, list[str]]:
        """Run a `confirm: true` command once: its pending entry, and its Confirm/Cancel button ids."""
        payload = self.signer.application_command("deploy", {"version": "v1.2.3"}, user_id=USER_ID)
        body = self.signer.encode(payload)
        answer = self.interactions.handle(HttpRequest("POST", INTERACTIONS, self._discord_headers(body), body))
        ref = f"{payload['id']}.{USER_ID}"
        pending = self.pending.take(ref)
        assert answer.status == 200 and pending is not None, "the confirmation seed was not asked"
        components = loads(answer.body)["data"]["components"][0]["components"]
        return ref, pending, [button["custom_id"] for button in components]

    def _interaction_seeds(self, presses: Sequence[str]) -> list[Seed]:
        signer = self.signer
        payloads = [
            signer.ping(),
            signer.application_command("diagnose", {"target": "staging", "verbose": True, "count": 3, "ratio": 0.5}),
            signer.application_command("diagnose", {"target": "production"}, guild_id=None),
            signer.application_command("deploy", {"version": "v1.2.3"}, user_id=USER_ID),
            signer.application_command("restricted", roles=[ADMIN_ROLE]),
            signer.application_command("debug-last", {"trace_id": "0123456789abcdef"}),
            signer.application_command("unknown"),
            *(signer.button_press(custom_id, user_id=USER_ID) for custom_id in presses),
        ]
        return [Seed(INTERACTIONS, payload) for payload in payloads]

    def make_case(self, rng: random.Random) -> Case:
        """One case: a seed, usually mutated, encoded, sometimes damaged, signed as its sender
        would sign it (so it reaches the parser), and sometimes with damaged headers."""
        seed = rng.choice(self.seeds)
        payload: Any = seed.payload
        if rng.random() < 0.95:
            payload = mutations.mutate_tree(payload, rng, self._dictionaries[seed.route])
        body = mutations.encode(payload, ascii_only=rng.random() < 0.3)
        if rng.random() < 0.1:
            body = mutations.mutate_bytes(body, rng)
        headers = self.signed_headers(seed, body)
        if rng.random() < 0.15:
            headers = mutations.mutate_headers(headers, rng)
        if rng.random() < 0.1:
            method = rng.choice(("POST", "POST", "post", "GET", "PUT", ""))
            path = rng.choice((seed.route, seed.route + "/", seed.route + "//", "/healthz", "/", "/%00", "/🚀"))
            return Case(seed.route, headers, body, via_app=True, method=method, path=path)
        return Case(seed.route, headers, body)

    def signed_headers(self, seed: Seed, body: bytes) -> dict[str, str]:
        """The headers the seed's sender would send with `body`, signed with the keys the endpoints trust."""
        return self._discord_headers(body) if seed.route == INTERACTIONS else self._github_headers(body, seed.event)

    def run(self, case: Case) -> int:
        """The response's status; an exception from below WebApp's catch-all propagates."""
        if case.route == INTERACTIONS:
            # A Confirm press takes the pending command: put it back so every press finds it.
            ref, body, _ = self._confirmation
            self.pending.put(ref, body, time.time() + 300)
        if case.via_app:
            return self._through_lambda(case)
        endpoint = self.interactions if case.route == INTERACTIONS else self.webhook
        return endpoint.handle(HttpRequest("POST", case.route, case.headers, case.body)).status

    def _through_lambda(self, case: Case) -> int:
        event = {
            "requestContext": {"http": {"method": case.method}},
            "rawPath": case.path or case.route,
            "headers": case.headers,
            "body": base64.b64encode(case.body).decode(),
            "isBase64Encoded": True,
        }
        response = self.app.handle(request_from_function_url(event))
        status: int = function_url_response(response)["statusCode"]
        return status

    def _discord_headers(self, body: bytes) -> dict[str, str]:
        if len(body) > MAX_BODY_BYTES:  # refused before its signature is read: signing it costs for nothing
            return {"x-signature-ed25519": "00" * 64, "x-signature-timestamp": str(int(time.time()))}
        return {name.lower(): value for name, value in self.signer.headers(body).items()}

    def _github_headers(self, body: bytes, event: str) -> dict[str, str]:
        digest = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return {
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/4f3a2b1",
            "x-github-event": event,
            "x-github-delivery": str(uuid.uuid4()),
            "x-hub-signature-256": "sha256=" + digest,
        }


def _webhook_seeds(extra: Sequence[Mapping[str, Any]]) -> list[Seed]:
    runs = [
        workflow_run_payload("requested", "queued", None, 16_000_000_001),
        workflow_run_payload("in_progress", "in_progress", None, 16_000_000_002),
        workflow_run_payload("completed", "completed", "success", 16_000_000_003),
        *(dict(payload) for payload in extra),
    ]
    ping = {"zen": "Design for failure.", "hook_id": 498765432, "hook": {"type": "Repository", "active": True}}
    return [
        *(Seed(WEBHOOK, run, "workflow_run") for run in runs),
        Seed(WEBHOOK, ping, "ping"),
        Seed(WEBHOOK, {"ref": "refs/heads/main", "repository": {"full_name": REPOSITORY}}, "push"),
    ]


@contextlib.contextmanager
def logging_that_raises() -> Iterator[None]:
    """Log at INFO (the fuzzed values go through formatting and redaction) to nowhere, and let a
    failure to log raise instead of being printed and swallowed, so the fuzzer sees it."""
    handler = get_logger().registered_handler
    previous = handler.stream if isinstance(handler, logging.StreamHandler) else None
    outer = handler.__dict__.get("handleError")  # set when this is nested in another

    def reraise(record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            raise error

    with open(os.devnull, "w", encoding="utf-8") as nowhere:
        configure_logging("fuzz", level="INFO", stream=nowhere)
        handler.handleError = reraise  # type: ignore[method-assign]
        try:
            yield
        finally:
            if outer is None:
                del handler.handleError
            else:
                handler.handleError = outer  # type: ignore[method-assign]
            configure_logging("fuzz", level="INFO", stream=previous)
