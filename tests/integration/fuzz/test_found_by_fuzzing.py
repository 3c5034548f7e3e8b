"""What the fuzzer found, each pinned down: every one was an exception (a 500 behind WebApp)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.commands.model import CommandSet
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.envelopes import Job, RunEvent
from orchestrator.runs.model import RunSnapshot
from orchestrator.web.http import HttpRequest
from orchestrator_dev.bench.fuzz_mutations import encode
from orchestrator_dev.bench.fuzz_targets import (
    MAX_QUEUE_MESSAGE_BYTES,
    WEBHOOK,
    FuzzTargets,
    Seed,
    UnreadableMessage,
    workflow_run_payload,
)
from orchestrator_dev.standins.signing import InteractionSigner
from tests.conftest import RecordingQueue

RUN = Seed(WEBHOOK, workflow_run_payload("completed", "completed", "success", 16_000_000_009), "workflow_run")


def deliver(targets: FuzzTargets, payload: dict[str, Any], **headers: str) -> tuple[int, dict[str, Any]]:
    body = encode(payload)
    signed = {**targets.signed_headers(RUN, body), **headers}
    response = targets.webhook.handle(HttpRequest("POST", WEBHOOK, signed, body))
    return response.status, json.loads(response.body)


def test_a_webhook_action_that_is_a_list_or_an_object_is_ignored(targets: FuzzTargets) -> None:
    for action in (["completed"], {"completed": True}):
        payload = {**RUN.payload, "action": action}
        assert deliver(targets, payload) == (202, {"ignored": "action not used"})


def test_a_signature_header_with_a_lone_surrogate_is_a_401(targets: FuzzTargets) -> None:
    status, _ = deliver(targets, RUN.payload, **{"x-hub-signature-256": "sha256=" + "\ud800" * 64})
    assert status == 401


def test_a_delivery_id_that_is_not_printable_ascii_is_a_400(targets: FuzzTargets) -> None:
    for delivery in ("\ud800", "é" * 36, "a\x00b"):
        status, answer = deliver(targets, RUN.payload, **{"x-github-delivery": delivery})
        assert status == 400
        assert "X-GitHub-Delivery" in answer["error"]


def test_run_fields_too_long_to_be_github_s_are_dropped_so_the_queue_message_stays_small(
    targets: FuzzTargets,
) -> None:
    run = {**RUN.payload["workflow_run"], "html_url": "https://x/" + "a" * 300_000, "updated_at": "9" * 1000}
    snapshot = RunSnapshot.from_api(run)
    assert snapshot.html_url == ""
    assert snapshot.updated_at is None
    # The fuzz queue refuses messages over SQS's limit: this one is queued.
    assert deliver(targets, {**RUN.payload, "workflow_run": run}) == (202, {"queued": True})


def test_a_user_with_no_name_at_all_is_named_by_id(signer: InteractionSigner, commands: CommandSet) -> None:
    queue = RecordingQueue()
    endpoint = InteractionsEndpoint(SignatureVerifier(signer.public_key_hex), commands, queue)
    payload = signer.application_command("diagnose", {"target": "staging"}, global_name=None, username="")
    body = signer.encode(payload)
    headers = {k.lower(): v for k, v in signer.headers(body).items()}

    assert endpoint.handle(HttpRequest("POST", "/interactions", headers, body)).status == 200
    [message] = queue.messages
    job = Job.from_message(message)  # the worker reads it (an empty name made it refuse the job)
    assert job.invocation.user_name == payload["member"]["user"]["id"]


def test_the_fuzz_queue_refuses_what_the_worker_would(targets: FuzzTargets) -> None:
    """The check that found the last two: a queued message the worker cannot read is a finding."""
    with pytest.raises(UnreadableMessage, match="refuses"):
        targets.queue.send('{"v":1,"kind":"dispatch"}')
    with pytest.raises(UnreadableMessage, match="byte message"):
        targets.queue.send(RunEvent("d", {"html_url": "x" * MAX_QUEUE_MESSAGE_BYTES}).to_message())
