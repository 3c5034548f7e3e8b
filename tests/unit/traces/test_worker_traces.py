"""The worker's traces, end to end against the GitHub and Discord stand-ins: what it records for each job,
what it stores for refusals, what /debug-last shows whom, and the metrics it emits."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.clients import discord_api
from orchestrator.clients.discord_api import DiscordUnavailable
from orchestrator.commands.loader import load_commands
from orchestrator.interactions.endpoint import InteractionsEndpoint
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.envelopes import DebugRequest
from orchestrator.messages.debug_report import debug_report
from orchestrator.observability.metrics import Observation
from orchestrator.observability.redaction import Redactor
from orchestrator.traces.model import Trace, TraceStep
from orchestrator.web.http import HttpRequest
from orchestrator_dev.standins.http_standin import Fault
from orchestrator_dev.standins.signing import InteractionSigner, interaction_token, snowflake
from tests.conftest import RecordingQueue
from tests.fixtures.worker import APPLICATION_ID, CHANNEL_ID, USER_ID, context
from tests.unit.traces.support import TraceHarness

OTHER_USER = "115000000000000099"
SECRET = "Zx9-configured-Secret-Value-0042"


def handler_steps(received_at: float) -> tuple[TraceStep, ...]:
    """The steps the interactions function records before queueing a job."""
    return (
        TraceStep("verify signature", "ok", received_at, 0.512),
        TraceStep("check command", "ok", received_at + 0.001, 0.25),
    )


def stored(harness: TraceHarness, user_id: str = USER_ID) -> Trace:
    trace = harness.state.traces.latest(user_id)
    assert trace is not None, "no trace stored"
    return trace


def step_named(trace: Trace, name: str) -> TraceStep:
    [found] = [s for s in trace.steps if s.name == name]
    return found


# -- a dispatched command ---------------------------------------------------------------------------------------


def test_a_dispatched_command_leaves_a_complete_trace(harness: TraceHarness) -> None:
    received = time.time() - 2.0
    job = harness.job(received_at=received, steps=handler_steps(received))
    sent_at = received + 0.5  # queued half a second after Discord's request; picked up 1.5 s later

    harness.process(job, sent_at=sent_at)

    trace = stored(harness)
    [run] = harness.github.runs
    assert (trace.trace_id, trace.user_id, trace.command) == (job.invocation.trace_id, USER_ID, "diagnose")
    assert trace.started_at == received
    assert (trace.status, trace.error, trace.run_url) == ("ok", None, run["html_url"])
    assert [s.name for s in trace.steps] == [
        "verify signature",
        "check command",
        "wait in queue",
        "dispatch",
        "update Discord message",
    ]
    assert tuple(trace.steps[:2]) == job.steps  # the handler's steps, carried in the job, as they were
    waiting = step_named(trace, "wait in queue")
    assert (waiting.status, waiting.started_at) == ("ok", sent_at)
    assert 1400 <= waiting.duration_ms < 30_000
    dispatch = step_named(trace, "dispatch")
    assert dispatch.status == "ok"
    assert dispatch.details == {"workflow": "diagnose.yml", "outcome": "dispatched", "run_id": run["id"]}
    assert step_named(trace, "update Discord message").status == "ok"
    assert all(s.duration_ms >= 0 for s in trace.steps)
    assert trace.duration_ms >= 1400
    # Saved three times (running, then finished), counted once.
    assert harness.state.traces.evictions() == 0
    assert harness.state.traces.find(USER_ID, job.invocation.trace_id[:8]) == trace


def test_without_a_sent_time_there_is_no_queue_step(harness: TraceHarness) -> None:
    job = harness.job()

    harness.process(job)

    assert [s.name for s in stored(harness).steps] == ["dispatch", "update Discord message"]
    assert harness.observed("AckLatency") == []


def test_a_rejected_dispatch_is_a_failed_trace_with_the_reason(harness: TraceHarness) -> None:
    job = harness.job("ghost", {})

    harness.process(job)

    trace = stored(harness)
    assert trace.status == "failed"
    assert trace.error is not None and "cannot find workflow `missing.yml`" in trace.error and "(404)" in trace.error
    assert trace.run_url is None
    dispatch = step_named(trace, "dispatch")
    assert dispatch.status == "failed"
    assert dispatch.details["outcome"] == "rejected" and dispatch.details["run_id"] is None
    assert dispatch.details["error"] == trace.error
    assert step_named(trace, "update Discord message").status == "ok"  # the user was told


def test_discord_failing_every_try_stores_a_failed_trace_and_raises(harness: TraceHarness) -> None:
    attempts = discord_api.EDIT_POLICY.max_attempts
    job = harness.job(received_at=time.time(), steps=handler_steps(time.time()))
    harness.discord.inject(*(Fault(method="PATCH", status=500) for _ in range(attempts)))

    with pytest.raises(DiscordUnavailable):
        harness.process(job)

    trace = stored(harness)
    assert trace.trace_id == job.invocation.trace_id
    assert trace.status == "failed"
    assert trace.error == "the job failed before it finished; the queue will retry it"
    assert step_named(trace, "dispatch").status == "ok"
    updating = step_named(trace, "update Discord message")
    assert (updating.status, updating.details) == ("failed", {"error": "DiscordUnavailable"})
    assert harness.metrics.observations == []  # a job that will be retried is not counted yet

    # The queue's redelivery finishes it: the same trace, now ok, still one trace.
    harness.discord.clear_faults()
    harness.process(job)
    trace = stored(harness)
    assert (trace.trace_id, trace.status, trace.error) == (job.invocation.trace_id, "ok", None)
    assert harness.state.traces.evictions() == 0
    assert [o.name for o in harness.metrics.observations] == ["CommandAccepted", "DispatchLatency"]


def test_traces_are_redacted_before_they_are_stored(
    harness: TraceHarness, use_redactor: Callable[[Redactor], None]
) -> None:
    use_redactor(Redactor(secrets=[SECRET]))
    received = time.time()
    leaky = (TraceStep("check command", "failed", received, 1.0, {"error": f"saw {SECRET}", "api_token": "abcdefgh"}),)
    job = harness.job(received_at=received, steps=leaky)

    harness.process(job)

    text = stored(harness).to_json()
    assert SECRET not in text and "abcdefgh" not in text
    assert "[redacted:configured_secret]" in text and "***efgh" in text


# -- refusals (TraceOnly) ------------------------------------------------------------------------------------------


def refused_trace(command: str, outcome: str, reply: str, user_id: str = USER_ID) -> Trace:
    """A refusal's trace as the interactions endpoint builds it."""
    now = time.time()
    check = TraceStep("check command", "failed", now + 0.001, 0.1, {"outcome": outcome})
    trace = Trace("9" * 8 + "1" * 24, user_id, command, now, [TraceStep("verify signature", "ok", now, 0.4), check])
    trace.fail(reply)
    return trace


@pytest.mark.parametrize(
    ("command", "outcome", "metric", "dimension"),
    [
        ("deploy", "denied", "CommandDenied", "deploy"),
        ("diagnose", "invalid", "CommandInvalid", "diagnose"),
        ("nope", "unknown_command", "CommandInvalid", "other"),
    ],
)
def test_a_refusal_is_stored_as_it_came_and_counted(
    harness: TraceHarness, command: str, outcome: str, metric: str, dimension: str
) -> None:
    trace = refused_trace(command, outcome, f"/{command} was refused ({outcome})")

    harness.refuse(trace, outcome)

    assert harness.state.traces.find(USER_ID, trace.trace_id) == trace
    assert stored(harness) == trace
    assert harness.metrics.observations == [Observation(dimension, metric, "Count", 1.0)]
    assert harness.github.requests == []  # nothing dispatched
    assert harness.discord.requests == []  # the endpoint already answered the user


# -- /debug-last ---------------------------------------------------------------------------------------------------


def test_debug_last_shows_the_users_latest_trace(harness: TraceHarness) -> None:
    first, second = harness.job(), harness.job("ghost", {})
    harness.process(first)
    harness.process(second)

    content = harness.debug(USER_ID)

    latest = stored(harness)
    assert latest.trace_id == second.invocation.trace_id
    assert content == debug_report(latest, requested=None)
    assert content.startswith("**/ghost** · ❌ failed")
    assert second.invocation.trace_id in content and first.invocation.trace_id not in content


def test_debug_last_with_an_id_shows_that_trace(harness: TraceHarness) -> None:
    first, second = harness.job(), harness.job("ghost", {})
    harness.process(first)
    harness.process(second)

    for requested in (first.invocation.trace_id, first.invocation.trace_id[:8]):
        content = harness.debug(USER_ID, requested)
        older = harness.state.traces.find(USER_ID, first.invocation.trace_id)
        assert older is not None
        assert content == debug_report(older, requested=requested)
        assert content.startswith("**/diagnose** · ✅ ok")
        assert harness.github.runs[0]["html_url"] in content

    unknown = "0123abcd"
    assert harness.debug(USER_ID, unknown) == debug_report(None, requested=unknown)


def test_debug_last_never_shows_another_users_trace(harness: TraceHarness) -> None:
    job = harness.job()
    harness.process(job)

    assert harness.debug(OTHER_USER) == debug_report(None, requested=None)
    for requested in (job.invocation.trace_id, job.invocation.trace_id[:8]):
        content = harness.debug(OTHER_USER, requested)
        assert content == debug_report(None, requested=requested)
        assert "/diagnose" not in content and "dispatch" not in content

    other = harness.job(user_id=OTHER_USER)
    harness.process(other)
    assert other.invocation.trace_id in harness.debug(OTHER_USER)
    assert job.invocation.trace_id in harness.debug(USER_ID)  # and each still sees their own


def test_debug_last_edits_only_the_callers_message_without_mentions(harness: TraceHarness) -> None:
    harness.process(harness.job())
    before = len(harness.discord.requests_to("PATCH"))

    harness.debug(USER_ID)

    [patch] = harness.discord.requests_to("PATCH")[before:]
    assert set(patch.json) == {"content", "allowed_mentions"}
    assert patch.json["allowed_mentions"] == {"parse": []}
    assert len(patch.json["content"]) < 2000
    assert harness.github.requests_to("POST")[1:] == []  # /debug-last dispatches nothing


def test_debug_last_with_an_expired_token_gives_up_quietly(harness: TraceHarness) -> None:
    harness.process(harness.job())
    interaction_id = snowflake()
    token = interaction_token(interaction_id)
    harness.discord.open_interaction(token, channel_id=CHANNEL_ID, ephemeral=True)
    harness.discord.expire_interaction(token)
    request = DebugRequest(interaction_id, APPLICATION_ID, USER_ID, None, token)

    harness.worker.process(request.to_message(), context=context(), final_attempt=False)  # no exception


# -- metrics ---------------------------------------------------------------------------------------------------------


def test_metrics_of_a_dispatched_command(harness: TraceHarness) -> None:
    received = time.time() - 1.0
    job = harness.job(received_at=received, steps=handler_steps(received))

    harness.process(job, sent_at=received + 0.25)

    observations = harness.metrics.observations
    assert {o.command for o in observations} == {"diagnose"}
    values = {o.name: (o.unit, o.value) for o in observations}
    assert set(values) == {"CommandAccepted", "DispatchLatency", "AckLatency"}
    assert values["CommandAccepted"] == ("Count", 1.0)
    assert values["AckLatency"][0] == "Milliseconds"
    assert values["AckLatency"][1] == pytest.approx(250.0, abs=0.01)
    unit, latency = values["DispatchLatency"]
    assert unit == "Milliseconds"
    assert latency == pytest.approx(step_named(stored(harness), "dispatch").duration_ms, abs=0.001)
    assert latency > 0


def test_metrics_of_a_rejected_dispatch_count_a_failure(harness: TraceHarness) -> None:
    harness.process(harness.job("ghost", {}))

    assert [(o.command, o.name) for o in harness.metrics.observations] == [
        ("ghost", "CommandAccepted"),
        ("ghost", "DispatchLatency"),
        ("ghost", "CommandFailed"),
    ]


def test_a_command_not_in_the_commands_file_is_dimensioned_other(harness: TraceHarness) -> None:
    job = harness.job("vanished", {})

    harness.process(job, sent_at=job.received_at + 0.1)

    observations = harness.metrics.observations
    assert {o.command for o in observations} == {"other"}
    assert {o.name for o in observations} == {"CommandAccepted", "DispatchLatency", "AckLatency", "CommandFailed"}
    trace = stored(harness)
    assert trace.command == "vanished"  # the trace keeps the real name; only the metric dimension is bounded
    assert trace.status == "failed" and trace.error is not None and "/vanished was removed" in trace.error
    assert harness.github.requests == []


# -- the whole path: endpoint, queue, worker ------------------------------------------------------------------------


def test_from_the_endpoint_through_the_queue_to_debug_last(
    harness: TraceHarness, commands_path: Path, queue: RecordingQueue
) -> None:
    signer = InteractionSigner.generate(APPLICATION_ID)
    endpoint = InteractionsEndpoint(
        SignatureVerifier(signer.public_key_hex), load_commands(commands_path), queue, debug_enabled=True
    )

    def post_and_run(payload: dict[str, object], *, ephemeral: bool) -> None:
        harness.discord.open_interaction(str(payload["token"]), channel_id=CHANNEL_ID, ephemeral=ephemeral)
        body = signer.encode(payload)
        headers = {k.lower(): v for k, v in signer.headers(body).items()}
        response = endpoint.handle(HttpRequest("POST", "/interactions", headers, body))
        assert response.status == 200
        assert json.loads(response.body)["type"] == 5  # deferred: the worker answers
        harness.worker.process(queue.messages[-1], context=context(), final_attempt=False, sent_at=time.time())

    post_and_run(signer.application_command("diagnose", {"target": "staging"}, user_id=USER_ID), ephemeral=False)
    debug = signer.application_command("debug-last", user_id=USER_ID)
    post_and_run(debug, ephemeral=True)

    trace = stored(harness)
    assert [s.name for s in trace.steps] == [
        "verify signature",
        "check command",
        "wait in queue",
        "dispatch",
        "update Discord message",
    ]
    assert trace.status == "ok"
    message = harness.discord.message_for(str(debug["token"]))
    assert message is not None
    assert message["content"] == debug_report(trace, requested=None)
    assert all(f"✅ {s.name} · " in message["content"] for s in trace.steps)
    assert f"run: {harness.github.runs[0]['html_url']}" in message["content"]


def test_a_refusal_through_the_endpoint_shows_in_debug_last(
    harness: TraceHarness, commands_path: Path, queue: RecordingQueue
) -> None:
    signer = InteractionSigner.generate(APPLICATION_ID)
    endpoint = InteractionsEndpoint(
        SignatureVerifier(signer.public_key_hex), load_commands(commands_path), queue, debug_enabled=True
    )
    body = signer.encode(signer.application_command("diagnose", {"target": "moon"}, user_id=USER_ID))
    headers = {k.lower(): v for k, v in signer.headers(body).items()}
    reply = json.loads(endpoint.handle(HttpRequest("POST", "/interactions", headers, body)).body)
    [refusal] = queue.messages

    harness.worker.process(refusal, context=context(), final_attempt=False)

    trace = stored(harness)
    assert trace.status == "failed" and trace.error == reply["data"]["content"]
    assert [(s.name, s.status) for s in trace.steps] == [("verify signature", "ok"), ("check command", "failed")]
    assert harness.metrics.observations == [Observation("diagnose", "CommandInvalid", "Count", 1.0)]
    content = harness.debug(USER_ID)
    assert "❌ check command" in content and "error: /diagnose was not run" in content
