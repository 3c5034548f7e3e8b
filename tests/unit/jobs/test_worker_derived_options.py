"""The worker and a command whose options come from its workflow (`options_from_workflow`): the
options are derived from the file as GitHub has it, the user's values checked against them before
anything is sent, the file read at most every 5 minutes (then with its ETag), a suggested ref checked
against the repository's lists, and what it keeps from GitHub redacted."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import pytest

from orchestrator.jobs.dispatch_job import new_job_record
from orchestrator.jobs.envelopes import RefreshCache
from orchestrator.state.caches import Cached
from orchestrator.workflows.cache import cached_names, list_key, workflow_key
from orchestrator_dev.standins.http_standin import Fault
from tests.conftest import REPO_ROOT
from tests.fixtures.worker import COMMANDS_YAML, GITHUB_TOKEN, PROMPT, REPO, Harness, context

RELEASE_YAML = (REPO_ROOT / "examples" / "workflows" / "release.yml").read_text(encoding="utf-8")
RELEASE_COMMAND = """
  release:
    description: Publish a release (its options are read from release.yml)
    workflow: release.yml
    options_from_workflow: true
    options:
      - name: source
        autocomplete: refs
    inputs:
      requested_by: "{user_name}"
"""
CONTENTS = "/contents/.github/workflows/release.yml"


@pytest.fixture
def commands_path(tmp_path: Path) -> Path:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "diagnose.md").write_text(PROMPT, encoding="utf-8")
    path = tmp_path / "commands.yaml"
    path.write_text(COMMANDS_YAML + RELEASE_COMMAND, encoding="utf-8")
    return path


@pytest.fixture
def release(harness: Harness) -> Harness:
    from orchestrator_dev.standins.fake_github import FakeWorkflow

    harness.github.workflows["release.yml"] = FakeWorkflow(
        106,
        "Release",
        {"source": True, "version": True, "channel": False, "dry_run": False, "trace_id": False, "requested_by": False},
        run_name_input="trace_id",
    )
    harness.github.workflow_files["release.yml"] = RELEASE_YAML
    harness.github.branches = ["main", "maint/1.4"]
    harness.github.tags = ["v1.4.2"]
    return harness


def contents_reads(harness: Harness) -> list[dict[str, str]]:
    return [dict(r.headers) for r in harness.github.requests_to("GET") if r.path.endswith(CONTENTS)]


def description(harness: Harness, job_token: str) -> str:
    message = harness.discord.message_for(job_token) or {}
    return str(message["embeds"][0]["description"])


def test_the_options_are_the_workflows_inputs_mapped_and_filled(release: Harness) -> None:
    job = release.job("release", {"source": "maint/1.4", "version": "1.5.0", "dry_run": True})

    release.process(job)

    [dispatch] = release.github.dispatches
    assert dispatch["inputs"] == {
        "requested_by": "Tester",
        "trace_id": job.invocation.trace_id,
        "source": "maint/1.4",
        "version": "1.5.0",
        "dry_run": "true",  # `channel` left out: the workflow's default (beta) applies
    }
    assert release.record(job).status == "dispatched"


@pytest.mark.parametrize(
    ("options", "phrase"),
    [
        ({"source": "main", "version": "1", "channel": "nightly"}, "`channel` must be one of `beta`, `stable`"),
        ({"source": "main"}, "`version` is required"),
        ({"source": "main", "version": "1", "colour": "blue"}, "`colour` is not an option of /release"),
        ({"source": "main", "version": "1", "dry_run": "yes"}, "`dry_run` must be true or false"),
        ({"source": "release-9", "version": "1"}, "`source` must be a branch or tag of acme/ops, and `release-9`"),
    ],
)
def test_values_the_workflow_would_not_take_are_refused_before_anything_is_sent(
    release: Harness, options: dict[str, str], phrase: str
) -> None:
    job = release.job("release", options)

    release.process(job)

    assert release.dispatch_posts() == []
    text = description(release, job.interaction_token)
    assert phrase in text and "Nothing was started" in text
    assert release.record(job).status == "rejected"


def test_a_tag_is_a_ref_too(release: Harness) -> None:
    release.process(release.job("release", {"source": "v1.4.2", "version": "1.4.3"}))

    assert release.github.dispatches[0]["inputs"]["source"] == "v1.4.2"


def test_the_workflow_is_read_once_per_five_minutes_then_with_its_etag(release: Harness) -> None:
    for _ in range(3):
        release.process(release.job("release", {"source": "main", "version": "1"}))
    assert len(contents_reads(release)) == 1
    assert len(release.github.dispatches) == 3

    # Six minutes later (the cache entry aged by hand): asked again, conditionally, and unchanged.
    key = workflow_key(REPO, "release.yml", "main")
    entry = release.state.caches.get(key)
    assert entry is not None and entry.etag
    release.state.caches.put(key, Cached(entry.body, time.time() - 360, entry.etag))
    release.process(release.job("release", {"source": "main", "version": "1"}))

    reads = contents_reads(release)
    assert len(reads) == 2 and reads[1]["if-none-match"] == entry.etag
    assert len(release.github.dispatches) == 4
    renewed = release.state.caches.get(key)
    assert renewed is not None and renewed.fetched_at > time.time() - 60


@pytest.mark.parametrize(
    ("arrange", "phrase"),
    [
        (lambda gh: gh.workflow_files.pop("release.yml") and gh.workflows.pop("release.yml"), "was not found"),
        (lambda gh: gh.workflow_files.update({"release.yml": "on: [unclosed"}), "cannot be read as a workflow"),
        (lambda gh: setattr(gh, "contents_readable", False), "needs Contents: read"),
        (
            lambda gh: gh.workflow_files.update({"release.yml": "on: push\njobs: {}\n"}),
            "has no workflow_dispatch trigger",
        ),
    ],
)
def test_a_workflow_that_cannot_give_the_options_is_named_and_nothing_is_sent(
    release: Harness, arrange: object, phrase: str
) -> None:
    arrange(release.github)  # type: ignore[operator]
    job = release.job("release", {"source": "main", "version": "1"})

    release.process(job)

    assert release.dispatch_posts() == []
    text = description(release, job.interaction_token)
    assert phrase in text and "Nothing was started" in text


def test_a_refresh_request_fills_the_lists_and_never_fails(release: Harness) -> None:
    release.worker.process(RefreshCache("refs").to_message(), context=context(), final_attempt=False)

    listed = cached_names(release.state.caches.get(list_key(REPO, "refs")))
    assert listed is not None and listed.names == ("main", "maint/1.4", "v1.4.2") and listed.complete

    release.github.stop()  # GitHub gone: logged, not raised (the next suggestion asks again)
    release.worker.process(RefreshCache("environments").to_message(), context=context(), final_attempt=False)
    release.worker.process(
        RefreshCache("workflow", "release.yml", "main").to_message(), context=context(), final_attempt=False
    )


def test_what_github_returns_is_kept_redacted(release: Harness) -> None:
    planted = "ghp_" + "Q" * 36
    release.github.branches = ["main", planted]
    release.github.workflow_files["release.yml"] = RELEASE_YAML.replace(
        "Version to publish, e.g. 1.5.0", f"Version to publish (token {planted})"
    )

    release.process(release.job("release", {"source": "main", "version": "1"}))
    release.worker.process(RefreshCache("refs").to_message(), context=context(), final_attempt=False)

    for key in (workflow_key(REPO, "release.yml", "main"), list_key(REPO, "refs")):
        entry = release.state.caches.get(key)
        assert entry is not None and planted not in entry.body and GITHUB_TOKEN not in entry.body
    listed = cached_names(release.state.caches.get(list_key(REPO, "refs")))
    assert listed is not None and planted not in listed.names


def test_a_redelivery_the_check_now_refuses_only_looks_for_the_earlier_run(release: Harness) -> None:
    # An earlier attempt died while sending; since then the workflow stopped offering the user's choice.
    release.github.workflow_files["release.yml"] = RELEASE_YAML.replace("[beta, stable]", "[stable, lts]").replace(
        "default: beta", "default: stable"
    )
    job = release.job("release", {"source": "main", "version": "1.5.0", "channel": "beta"})
    record = new_job_record(job, None, time.time())
    record.dispatch_attempted_at = time.time() - 30
    release.state.jobs.put(record)

    release.process(job)

    assert release.dispatch_posts() == [], "never sent again: the earlier attempt's run may exist"
    assert release.run_lookups(), "it looked for that run"
    assert release.record(job).status == "unknown"


def test_drift_is_judged_on_what_this_dispatch_sends(harness: Harness) -> None:
    # /diagnose maps `count`, which the workflow no longer declares: a command that leaves it out
    # sends nothing GitHub would refuse, one that gives it is refused before anything is sent.
    harness.github.workflows["diagnose.yml"] = dataclasses.replace(
        harness.github.workflows["diagnose.yml"],
        inputs={k: v for k, v in harness.github.workflows["diagnose.yml"].inputs.items() if k != "count"},
    )
    harness.process(harness.job("diagnose", {"target": "staging"}))
    assert len(harness.dispatch_posts()) == 1

    refused = harness.job("diagnose", {"target": "staging", "count": 3})
    harness.process(refused)
    assert len(harness.dispatch_posts()) == 1
    assert "sends input 'count', which diagnose.yml (at main) does not declare" in description(
        harness, refused.interaction_token
    )


def test_a_cache_that_fails_costs_a_github_read_not_the_command(release: Harness) -> None:
    class Failing:
        def get(self, key: str) -> Cached | None:
            raise RuntimeError("throttled")

        def put(self, key: str, entry: Cached) -> None:
            raise RuntimeError("throttled")

        def claim_refresh(self, key: str, *, now: float, interval: float) -> bool:
            raise RuntimeError("throttled")

    release.worker._catalog._caches = Failing()  # the store's cache part failing, every call
    release.process(release.job("release", {"source": "main", "version": "1"}))
    release.process(release.job("diagnose", {"target": "staging"}))

    assert len(release.github.dispatches) == 2
    release.worker.process(RefreshCache("refs").to_message(), context=context(), final_attempt=False)


@pytest.mark.parametrize("state", ["sqlite"], indirect=True)
def test_the_idempotency_keys_are_those_written_before_the_worker_was_split(harness: Harness) -> None:
    """A message redelivered across a deploy must find the outcome its first delivery saved."""
    job = harness.job("diagnose", {"target": "staging"})
    harness.process(job)

    db = harness.state.jobs._db  # type: ignore[attr-defined]
    with db.transaction() as connection:
        keys = [row[0] for row in connection.execute("SELECT key FROM idempotency")]
    assert keys and all(".orchestrator.jobs.worker.JobWorker._dispatch#" in key for key in keys), keys
    # The hashed part is the interaction id's, as when the job's fields were flat (Powertools hashes
    # the JSON of the value the key expression selects; md5 is its default).
    flat_key = hashlib.md5(json.dumps(job.invocation.interaction_id).encode()).hexdigest()
    assert keys == [key for key in keys if key.endswith("#" + flat_key)], (keys, flat_key)


def test_suggested_refs_put_the_recently_updated_first(release: Harness) -> None:
    release.github.branches = ["a-old", "b", "main"]  # GitHub lists them by name
    release.github.tags = ["v1", "v2"]
    release.github.activity = [
        ("refs/heads/main", "2026-12-04T09:00:00Z", "push"),
        ("refs/tags/v2", "2026-12-04T08:00:00Z", "push"),
        ("refs/heads/gone", "2026-12-04T07:30:00Z", "branch_deletion"),
        ("refs/heads/b", "2026-12-04T07:00:00Z", "pr_merge"),
    ]
    release.worker.process(RefreshCache("refs").to_message(), context=context(), final_attempt=False)
    listed = cached_names(release.state.caches.get(list_key(REPO, "refs")))
    assert listed is not None and listed.names == ("main", "v2", "b", "a-old", "v1")

    release.github.inject(Fault("GET", "/activity$", status=404, body={"message": "Not Found"}))
    release.worker.process(RefreshCache("branches").to_message(), context=context(), final_attempt=False)
    listed = cached_names(release.state.caches.get(list_key(REPO, "branches")))
    assert listed is not None and listed.names == ("a-old", "b", "main"), "GitHub's order when the activity is unread"
