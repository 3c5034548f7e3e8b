"""POST /github/webhook on the real local server, with GitHub's own example payloads (data/README.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from orchestrator.queues.base import QueueUnavailable
from orchestrator.state.jobs import JobRecord, JobStore
from tests.unit.runs import payloads
from tests.unit.runs.conftest import IN_PROGRESS, QUEUED, REPO, RESULT, Live, LiveFactory, embed_of, stage_of


@pytest.fixture
def live(live_factory: LiveFactory) -> Live:
    """Webhooks configured, but the stand-in GitHub sends none: the test is GitHub here."""
    return live_factory(deliver_webhooks=False)


class RunLookups:
    """Counts the worker's look-ups of a run's record (the first thing it does with a delivery)."""

    def __init__(self, jobs: JobStore) -> None:
        self._jobs = jobs
        self._get_by_run = jobs.get_by_run
        self.calls: list[int] = []

    def __call__(self, run_id: int) -> JobRecord | None:
        self.calls.append(run_id)
        return self._get_by_run(run_id)


@pytest.fixture
def lookups(live: Live, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunLookups]:
    counter = RunLookups(live.runtime.state.jobs)
    monkeypatch.setattr(live.runtime.state.jobs, "get_by_run", counter)
    yield counter


def started(live: Live) -> tuple[dict[str, Any], int]:
    payload = live.start_run()
    run_id = live.record(payload).run_id
    assert run_id is not None
    assert stage_of(live.message(payload)) == QUEUED
    return payload, run_id


def snapshot(live: Live, payload: dict[str, Any]) -> tuple[int, list[dict[str, Any]], int]:
    """What could change: the record's version, the message's versions, GitHub's request count."""
    return live.record(payload).version, live.discord.history_for(payload["token"]), len(live.github.requests)


def test_vendored_payloads_are_real_workflow_run_deliveries() -> None:
    for name in payloads.WORKFLOW_RUN_FILES:
        payload = payloads.vendored(name)
        assert payload["action"] in ("requested", "in_progress", "completed")
        assert isinstance(payload["workflow_run"]["id"], int)
        assert {"workflow", "repository", "sender"} <= set(payload)


def test_signed_deliveries_are_accepted_and_the_live_message_follows_them(live: Live) -> None:
    payload, run_id = started(live)
    live.github.advance_job(run_id)  # GitHub's side, for the jobs the worker will list

    answer = live.webhook(payloads.encode(payloads.in_progress(run_id, REPO)))
    assert answer.status_code == 202
    assert answer.json() == {"queued": True}
    live.settle()
    assert stage_of(live.message(payload)) == IN_PROGRESS
    assert embed_of(live.message(payload))["description"].startswith("⏳ build — step 1/3")

    live.github.set_run_status(run_id, "completed", "success")
    answer = live.webhook(payloads.encode(payloads.for_run(payloads.COMPLETED_SUCCESS, run_id, REPO)))
    assert answer.status_code == 202
    live.settle()
    message = live.message(payload)
    assert stage_of(message) == RESULT
    assert embed_of(message)["title"] == "/diagnose · ✅ succeeded"
    record = live.record(payload)
    # Taken from the vendored payload as GitHub sent it.
    assert (record.conclusion, record.run_updated_at) == ("success", "2020-10-05T16:33:49Z")


def test_a_failure_delivery_shows_the_failure(live: Live) -> None:
    payload, run_id = started(live)
    live.github.set_run_status(run_id, "completed", "failure")

    assert live.webhook(payloads.encode(payloads.completed(run_id, REPO, "failure"))).status_code == 202
    live.settle()

    assert embed_of(live.message(payload))["title"] == "/diagnose · ❌ failed"


def test_the_form_encoded_content_type_github_offers_first_works_too(live: Live) -> None:
    """GitHub's webhook form defaults to application/x-www-form-urlencoded: payload=<json>, signed as sent."""
    payload, run_id = started(live)
    live.github.set_run_status(run_id, "completed", "success")
    json_body = payloads.encode(payloads.for_run(payloads.COMPLETED_SUCCESS, run_id, REPO))
    form = urlencode({"payload": json_body.decode()}).encode()
    answer = live.webhook(form, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 202 and answer.json() == {"queued": True}
    live.settle()
    assert embed_of(live.message(payload))["title"] == "/diagnose · ✅ succeeded"
    # The signature is over the bytes sent: the JSON inside, signed alone, is refused.
    signed_inner = live.webhook(
        form,
        content_type="application/x-www-form-urlencoded",
        signature=payloads.signature(live.webhook_secret or "", json_body),
    )
    assert signed_inner.status_code == 401


def test_the_action_required_example_shows_that_it_needs_approval(live: Live) -> None:
    payload, run_id = started(live)

    body = payloads.encode(payloads.for_run(payloads.REQUESTED_ACTION_REQUIRED, run_id, REPO))
    assert live.webhook(body).status_code == 202
    live.settle()

    assert embed_of(live.message(payload))["title"] == "/diagnose · ⚠️ needs approval"


def test_a_completed_action_whose_run_still_says_queued_changes_nothing(live: Live) -> None:
    """GitHub's own example: action `completed`, yet status `queued` and no conclusion."""
    payload, run_id = started(live)
    live.github.advance_job(run_id)
    live.webhook(payloads.encode(payloads.in_progress(run_id, REPO)))
    live.settle()
    before = snapshot(live, payload)

    body = payloads.encode(payloads.for_run(payloads.COMPLETED_STATUS_QUEUED, run_id, REPO))
    assert live.webhook(body).status_code == 202
    live.settle()

    assert snapshot(live, payload) == before
    assert stage_of(live.message(payload)) == IN_PROGRESS


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        "sha256=" + "0" * 64,
        "SHA256=deadbeef",
        "sha256=" + "g" * 64,
    ],
    ids=["missing", "empty", "no digest", "sha1 only", "wrong digest", "wrong scheme", "not hex"],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_happens(
    live: Live, lookups: RunLookups, signature: str | None
) -> None:
    payload, run_id = started(live)
    before = snapshot(live, payload)

    answer = live.webhook(payloads.encode(payloads.completed(run_id, REPO)), signature=signature)

    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid X-Hub-Signature-256"}
    live.settle()
    assert snapshot(live, payload) == before
    assert lookups.calls == []


def test_a_signature_over_other_bytes_is_refused(live: Live, lookups: RunLookups) -> None:
    payload, run_id = started(live)
    before = snapshot(live, payload)
    event = payloads.completed(run_id, REPO)
    signed = json.dumps(event, indent=2).encode()  # the same JSON, other bytes
    sent = payloads.encode(event)
    assert live.webhook_secret is not None

    answer = live.webhook(sent, signature=payloads.signature(live.webhook_secret, signed))
    other_secret = live.webhook(sent, secret="not-the-configured-secret")

    assert (answer.status_code, other_secret.status_code) == (401, 401)
    live.settle()
    assert snapshot(live, payload) == before
    assert lookups.calls == []


def test_ping_is_answered_200(live: Live) -> None:
    body = payloads.encode({"zen": "Design for failure.", "hook_id": 1, "hook": {"events": ["workflow_run"]}})
    answer = live.webhook(body, event="ping")
    assert answer.status_code == 200
    assert answer.json() == {"ok": True}


def test_ping_from_the_stand_in_github_is_answered_200(live_factory: LiveFactory) -> None:
    live = live_factory()
    delivery = live.github.deliver_ping()
    live.settle()
    [attempt] = [d for d in live.github.deliveries if d.delivery_id == delivery]
    assert attempt.outcome == 200


def test_other_events_are_answered_2xx_and_ignored(live: Live, lookups: RunLookups) -> None:
    payload, _ = started(live)
    before = snapshot(live, payload)

    answer = live.webhook(payloads.encode(payloads.vendored(payloads.PUSH)), event="push")

    assert 200 <= answer.status_code < 300
    assert "ignored" in answer.json()
    live.settle()
    assert snapshot(live, payload) == before
    assert lookups.calls == []


def test_another_repository_is_answered_2xx_and_ignored(live: Live, lookups: RunLookups) -> None:
    payload, run_id = started(live)
    before = snapshot(live, payload)
    event = payloads.completed(run_id, REPO)
    event["repository"]["full_name"] = "octo-org/octo-repo"

    answer = live.webhook(payloads.encode(event))

    assert 200 <= answer.status_code < 300
    assert answer.json() == {"ignored": "another repository"}
    live.settle()
    assert snapshot(live, payload) == before
    assert lookups.calls == []


def test_the_repository_name_is_compared_without_case(live: Live) -> None:
    payload, run_id = started(live)
    live.github.set_run_status(run_id, "completed", "success")
    event = payloads.completed(run_id, REPO)
    event["repository"]["full_name"] = REPO.upper()

    assert live.webhook(payloads.encode(event)).status_code == 202
    live.settle()

    assert stage_of(live.message(payload)) == RESULT


def test_a_run_we_did_not_dispatch_is_answered_2xx_and_changes_nothing(live: Live, lookups: RunLookups) -> None:
    payload, _ = started(live)
    stranger = live.github.create_run("diagnose.yml", inputs={"target": "production"})  # someone else's run
    before = snapshot(live, payload)

    answer = live.webhook(payloads.encode(payloads.completed(stranger["id"], REPO)))

    assert 200 <= answer.status_code < 300
    live.settle()
    assert snapshot(live, payload) == before  # no GitHub call, no record change, no message edit
    assert lookups.calls == [stranger["id"]]


def test_a_missing_delivery_id_is_a_400(live: Live, lookups: RunLookups) -> None:
    payload, run_id = started(live)
    before = snapshot(live, payload)

    answer = live.webhook(payloads.encode(payloads.completed(run_id, REPO)), delivery=None)

    assert answer.status_code == 400
    assert "X-GitHub-Delivery" in answer.json()["error"]
    live.settle()
    assert snapshot(live, payload) == before
    assert lookups.calls == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"action": "completed"}', b'{"action": "completed", "workflow_run": {"id": "1"}}'],
    ids=["not JSON", "not an object", "no workflow_run", "run id not an integer"],
)
def test_a_malformed_signed_payload_is_a_400(live: Live, lookups: RunLookups, body: bytes) -> None:
    answer = live.webhook(body)

    assert answer.status_code == 400
    assert answer.json()["error"].startswith("malformed workflow_run payload")
    live.settle()
    assert lookups.calls == []


def test_without_a_configured_secret_the_endpoint_answers_503(live_factory: LiveFactory) -> None:
    live = live_factory(webhook_secret=False, deliver_webhooks=False)

    answer = live.webhook(payloads.encode(payloads.completed(1, REPO)), signature="sha256=" + "0" * 64)

    assert answer.status_code == 503
    assert "GITHUB_WEBHOOK_SECRET" in answer.json()["error"]


def test_a_redelivery_is_applied_once(live_factory: LiveFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    live = live_factory()  # the stand-in GitHub delivers real signed webhooks to the server
    lookups = RunLookups(live.runtime.state.jobs)
    monkeypatch.setattr(live.runtime.state.jobs, "get_by_run", lookups)
    payload = live.start_run()
    run_id = live.record(payload).run_id
    assert run_id is not None
    live.github.advance_job(run_id)
    live.settle()
    [in_progress] = [d for d in live.github.deliveries if d.action == "in_progress"]
    assert in_progress.outcome == 202
    applied = lookups.calls.count(run_id)
    before = snapshot(live, payload)

    live.github.redeliver(in_progress.delivery_id)
    live.github.redeliver(in_progress.delivery_id)
    live.settle()

    again = [d for d in live.github.deliveries if d.delivery_id == in_progress.delivery_id]
    assert [d.outcome for d in again] == [202, 202, 202]  # GitHub is told it arrived, each time
    assert lookups.calls.count(run_id) == applied  # but the worker dropped both by their delivery id
    assert snapshot(live, payload) == before


def test_an_action_we_do_not_follow_is_answered_2xx_and_ignored(live: Live, lookups: RunLookups) -> None:
    payload, run_id = started(live)
    before = snapshot(live, payload)
    event = payloads.completed(run_id, REPO)
    event["action"] = "deleted"

    answer = live.webhook(payloads.encode(event))

    assert answer.status_code == 202
    assert answer.json() == {"ignored": "action not used"}
    live.settle()
    assert snapshot(live, payload) == before
    assert lookups.calls == []


def test_an_oversized_delivery_is_a_413(live: Live) -> None:
    event = payloads.completed(1, REPO)
    event["padding"] = "x" * (1024 * 1024)

    answer = live.webhook(payloads.encode(event))

    assert answer.status_code == 413


def test_a_delivery_that_cannot_be_queued_is_a_503_so_github_can_redeliver_it(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload, run_id = started(live)

    def down(body: str, *, delay_seconds: int = 0) -> None:
        raise QueueUnavailable("local queue unavailable: OperationalError")

    monkeypatch.setattr(live.runtime.queue, "send", down)  # the queue is down

    answer = live.webhook(payloads.encode(payloads.completed(run_id, REPO)))

    assert answer.status_code == 503
    assert answer.json() == {"error": "queue unavailable"}
    assert live.record(payload).conclusion is None
