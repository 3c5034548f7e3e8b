"""The interactions endpoint's side of tracing: /debug-last queued for the worker (when enabled), the handler's
steps carried in each job, and refusals handed over as traces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.commands.loader import check_commands
from orchestrator.commands.model import CommandSet
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.envelopes import DebugRequest, Job, TraceOnly, parse_message
from orchestrator.web.http import HttpRequest
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import ADMIN_ROLE, RecordingQueue

USER = "115000000000000003"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def make_endpoint(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue, *, debug_enabled: bool
) -> InteractionsEndpoint:
    return InteractionsEndpoint(SignatureVerifier(signer.public_key_hex), commands, queue, debug_enabled=debug_enabled)


def post(endpoint: InteractionsEndpoint, signer: InteractionSigner, payload: dict[str, Any]) -> dict[str, Any]:
    body = signer.encode(payload)
    headers = {k.lower(): v for k, v in signer.headers(body).items()}
    response = endpoint.handle(HttpRequest("POST", "/interactions", headers, body, trace_id=TRACE_ID))
    assert response.status == 200, response.body
    answer: dict[str, Any] = json.loads(response.body)
    return answer


def ephemeral_text(answer: dict[str, Any]) -> str:
    assert answer["type"] == 4
    assert answer["data"]["flags"] == 64
    assert answer["data"]["allowed_mentions"] == {"parse": []}
    text: str = answer["data"]["content"]
    return text


# -- /debug-last -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"trace_id": "deadbeef"}])
def test_debug_last_disabled_answers_ephemerally_and_queues_nothing(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue, options: dict[str, Any]
) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=False)

    text = ephemeral_text(post(endpoint, signer, signer.application_command("debug-last", options, user_id=USER)))

    assert "/debug-last is not enabled" in text and "ENABLE_DEBUG_CMD=true" in text
    assert queue.messages == []


def test_debug_last_enabled_defers_ephemerally_and_queues_a_debug_request(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue
) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=True)
    payload = signer.application_command("debug-last", user_id=USER)

    assert post(endpoint, signer, payload) == {"type": 5, "data": {"flags": 64}}

    [raw] = queue.of_kind("debug")
    assert raw["user_id"] == USER and raw["requested_trace_id"] is None
    assert len(queue.messages) == 1  # no trace of its own, no job
    request = parse_message(queue.messages[0])
    assert isinstance(request, DebugRequest)
    assert (request.interaction_id, request.application_id, request.interaction_token) == (
        payload["id"],
        payload["application_id"],
        payload["token"],
    )
    assert payload["token"] not in repr(request)


@pytest.mark.parametrize("wanted", ["deadbeef", TRACE_ID, TRACE_ID[:20]])
def test_debug_last_passes_on_the_requested_trace_id(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue, wanted: str
) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=True)

    answer = post(endpoint, signer, signer.application_command("debug-last", {"trace_id": wanted}, user_id=USER))

    assert answer == {"type": 5, "data": {"flags": 64}}
    [raw] = queue.of_kind("debug")
    assert (raw["user_id"], raw["requested_trace_id"]) == (USER, wanted)


def test_debug_last_in_a_dm_uses_the_dm_users_id(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue
) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=True)

    post(endpoint, signer, signer.application_command("debug-last", guild_id=None, user_id="115000000000000777"))

    [raw] = queue.of_kind("debug")
    assert raw["user_id"] == "115000000000000777"


@pytest.mark.parametrize(
    "wanted",
    [
        "deadbee",
        "DEADBEEF",
        "not-an-id",
        TRACE_ID + "0",
        "4bf92f35 ",
        " 4bf92f35",
        "",
        "4bf92f3577b34da6\n",
        12345678,
        True,
    ],
)
def test_a_malformed_trace_id_is_explained(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue, wanted: Any
) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=True)
    payload = signer.application_command("debug-last", user_id=USER)
    payload["data"]["options"] = [{"name": "trace_id", "type": 3, "value": wanted}]

    text = ephemeral_text(post(endpoint, signer, payload))

    assert "`trace_id` takes a trace id: 8 to 32 hex characters" in text
    assert queue.messages == []


def test_debug_last_with_the_queue_down_says_so(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue
) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=True)
    queue.broken = True

    text = ephemeral_text(post(endpoint, signer, signer.application_command("debug-last", user_id=USER)))

    assert "/debug-last is unavailable right now" in text


# -- the handler's steps -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug_enabled", [False, True])
def test_an_accepted_command_carries_the_handlers_steps(
    signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue, debug_enabled: bool
) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=debug_enabled)

    post(endpoint, signer, signer.application_command("diagnose", {"target": "staging"}, user_id=USER))

    [message] = queue.messages
    job = Job.from_message(message)
    assert (job.invocation.trace_id, job.invocation.user_id, job.invocation.command) == (TRACE_ID, USER, "diagnose")
    verify, check = job.steps
    assert (verify.name, verify.status) == ("verify signature", "ok")
    assert (check.name, check.status) == ("check command", "ok")
    assert verify.duration_ms >= 0 and check.duration_ms >= 0
    assert verify.started_at == job.received_at  # the trace starts when the request arrived
    assert job.received_at <= check.started_at < job.received_at + 5
    trace = job.trace()
    assert (trace.trace_id, trace.status, [s.name for s in trace.steps]) == (
        TRACE_ID,
        "running",
        ["verify signature", "check command"],
    )


@pytest.mark.parametrize(
    ("payload_args", "outcome"),
    [
        (("deploy", {}), "denied"),
        (("diagnose", {"target": "moon"}), "invalid"),
        (("nope", {}), "unknown_command"),
    ],
)
def test_a_refusal_hands_its_trace_to_the_worker(
    signer: InteractionSigner,
    commands: CommandSet,
    queue: RecordingQueue,
    payload_args: tuple[str, dict[str, Any]],
    outcome: str,
) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=True)
    name, options = payload_args

    text = ephemeral_text(post(endpoint, signer, signer.application_command(name, options, user_id=USER)))

    [message] = queue.messages
    refusal = parse_message(message)
    assert isinstance(refusal, TraceOnly)
    assert refusal.outcome == outcome
    trace = refusal.trace
    assert (trace.trace_id, trace.user_id, trace.command) == (TRACE_ID, USER, name)
    assert (trace.status, trace.error) == ("failed", text)
    verify, check = trace.steps
    assert (verify.name, verify.status) == ("verify signature", "ok")
    assert (check.name, check.status, check.details) == ("check command", "failed", {"outcome": outcome})
    assert verify.duration_ms >= 0 and check.duration_ms >= 0


def test_an_allowed_user_is_not_refused(signer: InteractionSigner, commands: CommandSet, queue: RecordingQueue) -> None:
    endpoint = make_endpoint(signer, commands, queue, debug_enabled=True)
    post(endpoint, signer, signer.application_command("deploy", roles=[ADMIN_ROLE]))
    assert queue.of_kind("trace") == [] and len(queue.of_kind("dispatch")) == 1


# -- the commands file ---------------------------------------------------------------------------------------------


def test_the_commands_file_may_not_define_debug_last(tmp_path: Path) -> None:
    path = tmp_path / "commands.yaml"
    path.write_text(
        "commands:\n"
        "  debug-last:\n"
        "    description: Mine now\n"
        "    workflow: mine.yml\n"
        "  fine:\n"
        "    description: Fine\n"
        "    workflow: fine.yml\n",
        encoding="utf-8",
    )

    commands, problems = check_commands(path)

    assert commands is None
    assert problems == ["commands.debug-last: /debug-last is built into the bot; choose another name"]
