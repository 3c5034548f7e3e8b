"""POST /interactions: signatures, replay window, shapes, commands, and answers Discord accepts."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from orchestrator.adapters.lambda_http import request_from_function_url
from orchestrator.commands.model import CommandSet
from orchestrator.interactions.endpoint import MAX_BODY_BYTES, InteractionsEndpoint
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.envelopes import Job, TraceOnly, parse_message
from orchestrator.observability.trace_ids import is_trace_id
from orchestrator.web.http import HttpRequest, HttpResponse
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import ADMIN_ROLE, ADMIN_USER, RecordingQueue
from tests.contract.openapi import validate_interaction_response


@pytest.fixture
def endpoint(signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue) -> InteractionsEndpoint:
    return InteractionsEndpoint(SignatureVerifier(signer.public_key_hex), commands, queue)


def post(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, payload: Any, *, timestamp: int | None = None
) -> HttpResponse:
    body = payload if isinstance(payload, bytes) else signer.encode(payload)
    headers = {k.lower(): v for k, v in signer.headers(body, timestamp).items()}
    return endpoint.handle(HttpRequest("POST", "/interactions", headers, body))


def answer(response: HttpResponse) -> dict[str, Any]:
    assert response.status == 200, response.body
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(response.body)
    validate_interaction_response(body)
    return body


def test_ping(endpoint: InteractionsEndpoint, signer: InteractionSigner) -> None:
    assert answer(post(endpoint, signer, signer.ping())) == {"type": 1}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-signature-timestamp": "1700000000"},
        {"x-signature-ed25519": "00" * 64},
        {"x-signature-ed25519": "zz" * 64, "x-signature-timestamp": str(int(time.time()))},
        {"x-signature-ed25519": "00" * 63, "x-signature-timestamp": str(int(time.time()))},
        {"x-signature-ed25519": "00" * 64, "x-signature-timestamp": "-1"},
        {"x-signature-ed25519": "00" * 64, "x-signature-timestamp": "1e9"},
    ],
)
def test_missing_or_malformed_signature_is_401(endpoint: InteractionsEndpoint, headers: dict[str, str]) -> None:
    response = endpoint.handle(HttpRequest("POST", "/interactions", headers, b'{"type":1}'))
    assert response.status == 401


def test_signature_from_another_key_is_401(endpoint: InteractionsEndpoint) -> None:
    stranger = InteractionSigner.generate()
    assert post(endpoint, stranger, stranger.ping()).status == 401


def test_signature_is_over_the_exact_bytes(endpoint: InteractionsEndpoint, signer: InteractionSigner) -> None:
    body = signer.encode(signer.ping())
    headers = {k.lower(): v for k, v in signer.headers(body).items()}
    reserialised = json.dumps(json.loads(body), indent=2).encode()
    assert endpoint.handle(HttpRequest("POST", "/interactions", headers, reserialised)).status == 401
    assert endpoint.handle(HttpRequest("POST", "/interactions", headers, body)).status == 200


@pytest.mark.parametrize("skew", [-301, 301, -10_000])
def test_timestamps_outside_the_replay_window_are_401(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, skew: int
) -> None:
    assert post(endpoint, signer, signer.ping(), timestamp=int(time.time()) + skew).status == 401


@pytest.mark.parametrize("skew", [-290, 290])
def test_timestamps_inside_the_window_are_accepted(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, skew: int
) -> None:
    assert post(endpoint, signer, signer.ping(), timestamp=int(time.time()) + skew).status == 200


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe", b"[]", b'"x"', b"{}", b'{"type":"1"}', b'{"type":true}', b"[" * 5000 + b"]" * 5000],
)
def test_malformed_payloads_are_400(endpoint: InteractionsEndpoint, signer: InteractionSigner, body: bytes) -> None:
    response = post(endpoint, signer, body)
    assert response.status == 400
    assert b"malformed interaction" in response.body


@pytest.mark.parametrize("kind", [3, 5, 99, -1])
def test_unsupported_interaction_types_are_400(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, kind: int
) -> None:
    payload = signer.application_command("diagnose", {"target": "staging"}) | {"type": kind}
    assert post(endpoint, signer, payload).status == 400


def test_oversized_bodies_are_413(endpoint: InteractionsEndpoint, signer: InteractionSigner) -> None:
    body = b'{"type":1,"pad":"' + b"x" * MAX_BODY_BYTES + b'"}'
    assert post(endpoint, signer, body).status == 413


def test_accepted_command_is_queued_and_deferred(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue
) -> None:
    payload = signer.application_command(
        "diagnose", {"target": "staging", "verbose": True, "count": 3, "ratio": 0.5}, global_name="Alice"
    )
    assert answer(post(endpoint, signer, payload)) == {"type": 5, "data": {"flags": 0}}
    [message] = queue.messages
    job = Job.from_message(message)
    assert job.invocation.interaction_id == payload["id"]
    assert job.interaction_token == payload["token"]
    assert job.invocation.options == {"target": "staging", "verbose": True, "count": 3, "ratio": 0.5}
    assert job.invocation.user_id == payload["member"]["user"]["id"] and job.invocation.user_name == "Alice"
    assert job.invocation.guild_id == payload["guild_id"] and job.invocation.channel_id == payload["channel_id"]
    assert len(job.invocation.trace_id) == 32
    assert payload["token"] not in repr(job)


def test_ephemeral_command_defers_ephemerally(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue
) -> None:
    payload = signer.application_command("deploy", roles=[ADMIN_ROLE])
    assert answer(post(endpoint, signer, payload)) == {"type": 5, "data": {"flags": 64}}


def ephemeral_text(response: HttpResponse) -> str:
    body = answer(response)
    assert body["type"] == 4 and body["data"]["flags"] == 64
    assert body["data"]["allowed_mentions"] == {"parse": []}
    text: str = body["data"]["content"]
    return text


def test_unknown_command(endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue) -> None:
    text = ephemeral_text(post(endpoint, signer, signer.application_command("nope")))
    assert "/nope is not a command" in text and "register" in text
    assert queue.of_kind("dispatch") == []
    [refusal] = queue.of_kind("trace")
    assert refusal["outcome"] == "unknown_command" and refusal["trace"]["status"] == "failed"


def test_denied_without_role(endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue) -> None:
    text = ephemeral_text(post(endpoint, signer, signer.application_command("deploy", roles=["1" * 18])))
    assert "not allowed to run /deploy" in text
    assert queue.of_kind("dispatch") == []
    [refusal] = queue.of_kind("trace")
    assert refusal["outcome"] == "denied" and [s["name"] for s in refusal["trace"]["steps"]] == [
        "verify signature",
        "check command",
    ]


def test_a_command_from_a_dm_is_refused_and_audited_even_for_an_allowed_user(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue
) -> None:
    payload = signer.application_command("deploy", guild_id=None, user_id=ADMIN_USER)
    assert "works in a server" in ephemeral_text(post(endpoint, signer, payload))
    [refusal] = [parse_message(m) for m in queue.messages]
    assert isinstance(refusal, TraceOnly)
    assert refusal.outcome == "not_in_server" and refusal.audit is not None


@pytest.mark.parametrize(
    "change",
    [
        {"context": 1},  # BOT_DM
        {"context": 2},  # PRIVATE_CHANNEL (a user install in a group DM)
        {"member": None, "user": {"id": ADMIN_USER, "username": "admin"}},  # a guild id without a member
    ],
)
def test_user_installs_and_private_channels_are_refused(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue, change: dict[str, Any]
) -> None:
    payload = {**signer.application_command("deploy", user_id=ADMIN_USER), **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    assert "works in a server" in ephemeral_text(post(endpoint, signer, payload))
    assert not [m for m in map(parse_message, queue.messages) if isinstance(m, Job)]


@pytest.mark.parametrize("command_type", [2, 3])
def test_context_menu_commands_do_not_run_the_slash_command(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue, command_type: int
) -> None:
    payload = signer.application_command("diagnose", {"target": "staging"})
    payload["data"] = {**payload["data"], "type": command_type, "options": [], "target_id": ADMIN_USER}
    assert "not supported" in ephemeral_text(post(endpoint, signer, payload))
    assert queue.messages == []


@pytest.mark.parametrize(
    "options,expected",
    [
        ({}, "`target` is required"),
        ({"target": "moon"}, "`target` must be one of `staging`, `production`"),
        ({"target": 5}, "`target` must be text"),
        ({"target": "staging", "count": 1.5}, "`count` must be a whole number"),
        ({"target": "staging", "ratio": "half"}, "`ratio` must be a number"),
        ({"target": "staging", "verbose": "yes"}, "`verbose` must be true or false"),
        ({"target": "staging", "extra": "x"}, "`extra` is not an option of /diagnose"),
        ({"target": "x" * 7000}, "`target` is too long"),
    ],
)
def test_invalid_options_say_why(
    endpoint: InteractionsEndpoint,
    signer: InteractionSigner,
    queue: RecordingQueue,
    options: dict[str, Any],
    expected: str,
) -> None:
    text = ephemeral_text(post(endpoint, signer, signer.application_command("diagnose", options)))
    assert expected in text and "try again" in text
    assert queue.of_kind("dispatch") == []
    assert [m["outcome"] for m in queue.of_kind("trace")] == ["invalid"]


def test_option_value_type_must_match_declared_type(endpoint: InteractionsEndpoint, signer: InteractionSigner) -> None:
    payload = signer.application_command("diagnose", {"target": "staging"})
    payload["data"]["options"].append({"name": "count", "type": 4, "value": "3"})
    assert "`count` must be a whole number" in ephemeral_text(post(endpoint, signer, payload))


def test_queue_failure_is_an_honest_ephemeral_reply(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue
) -> None:
    queue.broken = True
    text = ephemeral_text(post(endpoint, signer, signer.application_command("diagnose", {"target": "staging"})))
    assert "nothing was run" in text


def test_log_lines_carry_the_request_context_and_no_token(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, log_stream: io.StringIO
) -> None:
    payload = signer.application_command("diagnose", {"target": "staging"})
    post(endpoint, signer, payload)
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    accepted = [line for line in lines if line["msg"] == "command accepted"]
    assert accepted and accepted[0]["user_id"] == payload["member"]["user"]["id"]
    assert accepted[0]["cmd"] == "diagnose" and len(accepted[0]["trace_id"]) == 32
    assert payload["token"] not in log_stream.getvalue()


def test_the_interaction_takes_the_requests_trace_id(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue
) -> None:
    body = signer.encode(signer.application_command("diagnose", {"target": "staging"}))
    headers = {k.lower(): v for k, v in signer.headers(body).items()}
    endpoint.handle(HttpRequest("POST", "/interactions", headers, body, trace_id="5759e988bd862e3fe1be46a994272793"))
    assert Job.from_message(queue.messages[0]).invocation.trace_id == "5759e988bd862e3fe1be46a994272793"


def test_lambda_requests_take_the_xray_root_as_trace_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    event = {"rawPath": "/interactions", "requestContext": {"http": {"method": "POST"}}, "body": "{}"}
    assert request_from_function_url(event).trace_id == "5759e988bd862e3fe1be46a994272793"
    monkeypatch.delenv("_X_AMZN_TRACE_ID")
    assert is_trace_id(request_from_function_url(event).trace_id)


@pytest.mark.parametrize("hidden", ["\u202e", "\u200b", "\u2066"])
def test_a_value_with_invisible_characters_is_refused_with_the_reason(
    endpoint: InteractionsEndpoint, signer: InteractionSigner, queue: RecordingQueue, hidden: str
) -> None:
    payload = signer.application_command("diagnose", {"target": f"stag{hidden}ing"})
    text = ephemeral_text(post(endpoint, signer, payload))
    assert f"invisible character (U+{ord(hidden):04X})" in text
    assert not [m for m in map(parse_message, queue.messages) if isinstance(m, Job)]
