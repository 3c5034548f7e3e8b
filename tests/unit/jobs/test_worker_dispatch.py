"""The worker's happy paths: one dispatch, the right inputs, the run linked in the user's message."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orchestrator.dispatch.dispatcher import NO_LINK
from orchestrator.queues.local import LocalQueue
from orchestrator.queues.stored import MemoryQueueStore
from orchestrator_dev.standins.fake_discord import LOADING
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.http_standin import Fault
from tests.fixtures.worker import PROMPT, Harness, HarnessFactory, http_client, link_button
from tests.unit.jobs.scenarios import process_until_done

DISPATCH_PATH = r"/dispatches$"


def test_happy_path_dispatches_once_and_links_the_run(harness: Harness) -> None:
    job = harness.job(options={"target": "production", "verbose": True, "count": 3})

    harness.process(job)

    [post] = harness.dispatch_posts()
    assert post.path == "/repos/acme/ops/actions/workflows/diagnose.yml/dispatches"
    assert post.json == {
        "ref": "main",
        "inputs": {
            "target": "production",
            "verbose": "true",
            "count": "3",
            "trace_id": job.invocation.trace_id,
            "requested_by": "Tester",
            "prompt": PROMPT,
        },
        "return_run_details": True,
    }
    assert all(isinstance(value, str) for value in post.json["inputs"].values())
    [run] = harness.github.runs
    assert job.invocation.trace_id in run["display_title"]
    assert harness.run_lookups() == []  # GitHub returned the run: nothing to look for

    message = harness.message(job)
    button = link_button(message)
    assert button is not None
    assert button["url"] == run["html_url"]
    assert str(run["id"]) in button["label"]
    [embed] = message["embeds"]
    assert embed["title"] == "/diagnose · ⏳ queued"
    assert embed["url"] == run["html_url"]
    assert embed["footer"]["text"] == f"trace {job.invocation.trace_id[:8]} · started by {job.invocation.user_name}"
    assert not message["flags"] & LOADING  # no longer "thinking…"
    assert {field["name"]: field["value"] for field in embed["fields"]} == {
        "target": "production",
        "verbose": "True",
        "count": "3",
    }

    record = harness.record(job)
    assert record.status == "dispatched"
    assert record.run_id == run["id"]
    assert record.html_url == run["html_url"]
    assert record.invocation.trace_id == job.invocation.trace_id
    assert (record.invocation.command, record.invocation.user_id, record.invocation.channel_id) == (
        "diagnose",
        job.invocation.user_id,
        job.invocation.channel_id,
    )
    assert record.dispatch_attempted_at is not None
    assert record.created_at <= record.updated_at


def test_false_is_sent_as_the_string_false(harness: Harness) -> None:
    job = harness.job(options={"target": "staging", "verbose": False})

    harness.process(job)

    [post] = harness.dispatch_posts()
    assert post.json["inputs"]["verbose"] == "false"


def test_optional_options_left_out_are_not_sent(harness: Harness) -> None:
    """The workflow's own default then applies; sending "" would override it."""
    job = harness.job(options={"target": "staging"})

    harness.process(job)

    [post] = harness.dispatch_posts()
    assert set(post.json["inputs"]) == {"target", "trace_id", "requested_by", "prompt"}
    assert harness.record(job).status == "dispatched"


def test_same_message_delivered_twice_dispatches_once(harness: Harness) -> None:
    job = harness.job()

    harness.process(job)
    harness.process(job)  # SQS at-least-once: the same message again

    assert len(harness.dispatch_posts()) == 1
    assert len(harness.github.runs) == 1
    patches = harness.patches(job)
    assert len(patches) == 1  # the replay changes nothing the message shows, so it is not edited again
    [run] = harness.github.runs
    for patch in patches:
        button = link_button(patch.json)
        assert button is not None
        assert button["url"] == run["html_url"]
    assert harness.record(job).run_id == run["id"]


def test_replay_by_a_second_worker_instance_sharing_the_state(make_harness: HarnessFactory) -> None:
    """Another Lambda instance (another worker, same store) gets the same message: no second dispatch."""
    first, second = make_harness(), make_harness()
    job = first.job()

    first.process(job)
    second.process(job)

    assert len(first.dispatch_posts()) == 1
    assert len(second.patches(job)) == 1  # the same message: edited once per real change


def test_two_concurrent_deliveries_dispatch_once(harness: Harness) -> None:
    job = harness.job()
    # A slow GitHub keeps the first delivery inside its dispatch while the second arrives.
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, delay=0.3))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    refusals: list[int] = []

    def deliver() -> None:
        barrier.wait(timeout=5)
        process_until_done(harness, job, errors, refusals)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    assert refusals  # the deliveries did overlap: one was told the job was in progress
    assert len(harness.dispatch_posts()) == 1
    [run] = harness.github.runs
    patches = harness.patches(job)
    assert len(patches) == 1  # the second delivery finds the message already showing the outcome
    for patch in patches:
        button = link_button(patch.json)
        assert button is not None
        assert button["url"] == run["html_url"]
    assert harness.record(job).status == "dispatched"


def test_duplicate_messages_through_the_local_queue(harness: Harness) -> None:
    """Two copies of one message on the local queue's two worker threads: one run, nothing dead-lettered."""
    job = harness.job()
    harness.github.inject(Fault(method="POST", path=DISPATCH_PATH, delay=0.2))
    queue = LocalQueue(
        lambda body, ctx, final, sent_at: harness.worker.process(
            body, context=ctx, final_attempt=final, sent_at=sent_at
        ),
        MemoryQueueStore(),
        workers=2,
        retry_delay_seconds=0.05,
    )
    queue.send(job.to_message())
    queue.send(job.to_message())
    queue.start()
    try:
        assert queue.wait_idle(timeout=15)
    finally:
        queue.stop()

    assert queue.dead_letters == []
    assert len(harness.dispatch_posts()) == 1
    assert len(harness.github.runs) == 1
    assert link_button(harness.message(job)) is not None


# -- GitHub Enterprise Server: no run details, find the run by its correlation id ---------------------------


def someone_elses_run_after_our_dispatch(github: FakeGitHub) -> Callable[[httpx.Response], None]:
    """An httpx response hook: as soon as our 204 dispatch returns, another user's run starts (newer than ours)."""

    def hook(response: httpx.Response) -> None:
        if response.request.method == "POST" and response.status_code == 204:
            github.create_run("diagnose.yml", inputs={"trace_id": "f" * 32}, actor="someone-else")

    return hook


def test_enterprise_server_retries_without_run_details_and_finds_our_run_by_correlation(
    github_factory: Callable[..., FakeGitHub], make_harness: HarnessFactory
) -> None:
    ghes = github_factory(supports_return_run_details=False)
    http = http_client(event_hooks={"response": [someone_elses_run_after_our_dispatch(ghes)]})
    harness = make_harness(github=ghes, github_http=http)
    older = ghes.create_run("diagnose.yml", inputs={"trace_id": "e" * 32}, actor="someone-else")
    job = harness.job()

    harness.process(job)

    first, second = harness.dispatch_posts()
    assert first.json["return_run_details"] is True
    assert "return_run_details" not in second.json
    assert first.json["inputs"] == second.json["inputs"]
    assert len(ghes.dispatches) == 1  # the refused request started nothing
    [ours] = harness.runs_for(job)
    newest = ghes.runs[-1]
    assert newest["id"] != ours["id"]  # a newer run exists, and it is not ours
    assert {run["id"] for run in ghes.runs} == {older["id"], ours["id"], newest["id"]}
    record = harness.record(job)
    assert record.status == "dispatched"
    assert (record.run_id, record.html_url) == (ours["id"], ours["html_url"])
    button = link_button(harness.message(job))
    assert button is not None
    assert button["url"] == ours["html_url"]
    [lookup, *_] = harness.run_lookups()
    assert lookup.query["event"] == "workflow_dispatch"
    assert lookup.query["created"].startswith(">=")


def test_enterprise_server_run_that_cannot_be_told_apart_is_not_guessed(
    github_factory: Callable[..., FakeGitHub], make_harness: HarnessFactory
) -> None:
    """The workflow does not echo the correlation id: say it started, link nothing rather than a wrong run."""
    ghes = github_factory(supports_return_run_details=False)
    harness = make_harness(github=ghes, find_attempts=3)
    job = harness.job("untitled", {})

    harness.process(job)

    assert len(harness.dispatch_posts()) == 2
    assert len(ghes.runs) == 1
    assert len(harness.run_lookups()) == 3
    record = harness.record(job)
    assert (record.status, record.run_id, record.html_url) == ("dispatched", None, None)
    assert link_button(harness.message(job)) is None
    embed = harness.embed(job)
    assert embed["title"] == "/untitled · started"
    assert embed["description"] == NO_LINK


@pytest.mark.parametrize("options", [{}, {"target": "staging", "verbose": True}])
def test_message_fields_mirror_the_options(harness: Harness, options: dict[str, Any]) -> None:
    job = harness.job("untitled" if not options else "diagnose", options)

    harness.process(job)

    embed = harness.embed(job)
    assert [field["name"] for field in embed.get("fields", [])] == list(options)
