"""Queue messages: what the worker accepts, and poison it refuses with BadJobMessage."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator.audit.model import AuditEvent
from orchestrator.commands.invocation import Invocation
from orchestrator.jobs.envelopes import (
    SCHEMA_VERSION,
    BadJobMessage,
    CancelRequest,
    DebugRequest,
    Job,
    Message,
    PollRequest,
    RefreshCache,
    RunAction,
    RunEvent,
    TraceOnly,
    parse_message,
)
from orchestrator.traces.model import Trace
from tests.fixtures.worker import Harness, context, new_job


def good_message() -> dict[str, Any]:
    job = new_job(options={"target": "staging", "verbose": True, "count": 2})
    raw: dict[str, Any] = json.loads(job.to_message())
    return raw


def test_round_trip() -> None:
    job = new_job(options={"target": "staging", "verbose": False, "count": 2.5})

    body = job.to_message()

    assert Job.from_message(body) == job
    raw = json.loads(body)
    assert (raw["v"], raw["kind"]) == (SCHEMA_VERSION, "dispatch")


def test_token_is_kept_out_of_repr() -> None:
    job = new_job()

    assert job.interaction_token not in repr(job)


@pytest.mark.parametrize("body", ["", "not json", "{", "[1, 2]", "null", '"a string"', "42"])
def test_not_a_json_object(body: str) -> None:
    with pytest.raises(BadJobMessage):
        Job.from_message(body)


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"v": "1"},
        {"v": None},
        {"kind": "track"},
        {"kind": None},
    ],
)
def test_wrong_version_or_kind(change: dict[str, Any]) -> None:
    raw = {**good_message(), **change}

    with pytest.raises(BadJobMessage, match=r"kind|version"):
        Job.from_message(json.dumps(raw))


def test_boolean_version_is_not_version_one() -> None:
    """JSON true == 1 in Python: a plain `!=` check would let "v": true through as version 1."""
    raw = {**good_message(), "v": True}

    with pytest.raises(BadJobMessage):
        Job.from_message(json.dumps(raw))


@pytest.mark.parametrize("field", ["v", "kind", "interaction_id", "options", "trace_id", "interaction_token", "steps"])
def test_missing_field(field: str) -> None:
    raw = good_message()
    del raw[field]

    with pytest.raises(BadJobMessage):
        Job.from_message(json.dumps(raw))


def test_unexpected_field() -> None:
    raw = {**good_message(), "priority": "high"}

    with pytest.raises(BadJobMessage):
        Job.from_message(json.dumps(raw))


@pytest.mark.parametrize(
    "options",
    [
        {"target": {"nested": "object"}},
        {"target": ["a", "list"]},
        {"target": None},
        ["target", "staging"],
        "target=staging",
    ],
)
def test_options_must_be_a_flat_mapping_of_scalars(options: Any) -> None:
    raw = {**good_message(), "options": options}

    with pytest.raises(BadJobMessage, match="options"):
        Job.from_message(json.dumps(raw))


@pytest.mark.parametrize("field", ["interaction_id", "application_id", "command", "user_id", "trace_id"])
@pytest.mark.parametrize("value", ["", None, 1234])
def test_required_strings_must_be_non_empty_strings(field: str, value: Any) -> None:
    raw = {**good_message(), field: value}

    with pytest.raises(BadJobMessage, match=field):
        Job.from_message(json.dumps(raw))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"user_name": None}, id="user_name-null"),
        pytest.param({"channel_id": 1150000000000000002}, id="channel_id-number"),
        pytest.param({"guild_id": ["1150000000000000001"]}, id="guild_id-list"),
        pytest.param({"received_at": "yesterday"}, id="received_at-string"),
    ],
)
def test_other_fields_of_the_wrong_type_are_bad_messages(change: dict[str, Any]) -> None:
    """Poison, not a transient failure: a numeric channel_id would make render_inputs raise TypeError
    for any command using {channel_id}, and the queue would retry that until it dead-letters."""
    raw = {**good_message(), **change}

    with pytest.raises(BadJobMessage):
        Job.from_message(json.dumps(raw))


def test_worker_refuses_a_bad_message_before_doing_anything(harness: Harness) -> None:
    raw = good_message()
    raw["options"] = {"target": {"$gt": ""}}

    with pytest.raises(BadJobMessage):
        harness.worker.process(json.dumps(raw), context=context(), final_attempt=False)

    assert harness.github.requests == []
    assert harness.discord.requests == []
    assert harness.state.jobs.get(raw["interaction_id"]) is None


EVERY_KIND: list[Message] = [
    RefreshCache("workflow", workflow="deploy.yml", ref="main"),
    PollRequest("1150000000000000009", 3),
    RunEvent("delivery-1", {"id": 7}),
    DebugRequest("1150000000000000009", "1150000000000000008", "1150000000000000007", None, "token-1"),
    CancelRequest("1150000000000000009", "1150000000000000007", "ana", ["1150000000000000006"], "token-2", 12.5),
    RunAction("rerun", "1150000000000000009", 2, "1150000000000000007", "ana", [], "token-3"),
]


@pytest.mark.parametrize("message", EVERY_KIND, ids=lambda message: type(message).KIND)
def test_every_kind_is_read_back_from_its_own_declaration(message: Message) -> None:
    """The fields checked on arrival are the dataclass's own (no second list to keep in step)."""
    assert parse_message(message.to_message()) == message
    raw = json.loads(message.to_message())
    first_field = next(name for name in raw if name not in ("v", "kind"))
    with pytest.raises(BadJobMessage, match="fields differ"):
        parse_message(json.dumps({**raw, "surprise": 1}))
    with pytest.raises(BadJobMessage, match="wrong type"):
        parse_message(json.dumps({**raw, first_field: [1]}))


def test_roles_of_a_button_press_must_be_ids() -> None:
    raw = json.loads(EVERY_KIND[4].to_message())
    with pytest.raises(BadJobMessage, match="roles"):
        parse_message(json.dumps({**raw, "roles": [1150000000000000006]}))


def test_a_refusals_audit_event_is_an_object_with_only_its_own_fields() -> None:
    trace = Trace("a" * 32, "1150000000000000007", "deploy", 12.0, [])
    invocation = Invocation("1150000000000000009", "a" * 32, "deploy", {}, "1150000000000000007", "ana", None, None)
    raw = json.loads(TraceOnly(trace, "denied", AuditEvent(12.0, "denied", invocation)).to_message())
    assert parse_message(json.dumps(raw)) == TraceOnly(trace, "denied", AuditEvent(12.0, "denied", invocation))
    with pytest.raises(BadJobMessage, match="wrong type"):
        parse_message(json.dumps({**raw, "audit": None}))
    with pytest.raises(BadJobMessage, match="malformed"):
        parse_message(json.dumps({**raw, "audit": {**raw["audit"], "surprise": 1}}))
