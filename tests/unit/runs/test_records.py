"""After a run, its job record tells the whole story, in each of the three state backends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from orchestrator.jobs.envelopes import CancelRequest
from orchestrator.state.jobs import JobRecord
from orchestrator.state.store import StateStore, open_state_store
from tests.unit.runs.conftest import ALICE, CAROL, REPO, Rig, RigFactory, close_store

TABLE = "orchestrator-state"
TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads template.yaml, taking CloudFormation's short-form tags (!Ref, !Sub, ...) as None."""


_CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def create_state_table(client: Any) -> None:
    """The table as template.yaml declares it (keys, billing mode, TTL attribute)."""
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CloudFormationLoader)
    properties = template["Resources"]["StateTable"]["Properties"]
    client.create_table(
        TableName=TABLE,
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        BillingMode=properties["BillingMode"],
    )
    client.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=properties["TimeToLiveSpecification"])


# Another store on the same data (a new Lambda instance): records are read back from there.
Reopen = Callable[[], StateStore]


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[StateStore, Reopen]]:
    kind: str = request.param
    if kind == "memory":
        store = open_state_store("memory://")
        yield store, lambda: store
        return
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/records.db"
        opened = [open_state_store(url)]

        def reopen() -> StateStore:
            opened.append(open_state_store(url))
            return opened[-1]

        yield opened[0], reopen
        for store in opened:
            close_store(store)
        return
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_state_table(client)
        yield open_state_store(f"dynamodb://{TABLE}"), lambda: open_state_store(f"dynamodb://{TABLE}")


def timestamp(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


def read_back(reopen: Reopen, interaction_id: str) -> JobRecord:
    record = reopen().jobs.get(interaction_id)
    assert record is not None
    return record


def test_a_finished_run_is_fully_recorded(rig_factory: RigFactory, backend: tuple[StateStore, Reopen]) -> None:
    store, reopen = backend
    rig = rig_factory(state=store, webhooks=True)
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.event(rig.github.run(run_id))
    rig.github.set_run_status(run_id, "completed", "failure")
    rig.event(rig.github.run(run_id))
    run = rig.github.run(run_id)

    record = read_back(reopen, job.invocation.interaction_id)

    assert record.status == "dispatched"
    assert record.run_id == run_id
    assert record.html_url == f"https://github.com/{REPO}/actions/runs/{run_id}"
    assert (record.run_status, record.conclusion) == ("completed", "failure")
    assert record.run_started_at == run["run_started_at"]
    assert record.run_updated_at == run["updated_at"]
    assert timestamp(record.run_started_at) <= timestamp(record.run_updated_at)
    assert (record.invocation.user_id, record.invocation.user_name) == (ALICE["user_id"], "Alice")
    assert record.cancelled_by is None
    assert record.invocation.trace_id == job.invocation.trace_id
    assert record.jobs_total == 2
    assert [(j["name"], j["conclusion"]) for j in record.jobs] == [("build", "success"), ("test", "failure")]
    assert record.message_id is not None
    assert record.render_pending is False
    assert store.jobs.get_by_run(run_id) == record


def test_a_cancelled_run_records_who_cancelled_it(rig_factory: RigFactory, backend: tuple[StateStore, Reopen]) -> None:
    store, reopen = backend
    rig = rig_factory(state=store, webhooks=True)
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.event(rig.github.run(run_id))

    cancel(rig, job.invocation.interaction_id, CAROL)
    rig.event(rig.github.run(run_id))  # GitHub's completed delivery

    record = read_back(reopen, job.invocation.interaction_id)
    assert (record.run_status, record.conclusion) == ("completed", "cancelled")
    assert record.cancelled_by == "Carol"
    assert record.invocation.user_name == "Alice"
    assert record.run_id == run_id
    assert record.run_updated_at == rig.github.run(run_id)["updated_at"]


def cancel(rig: Rig, interaction_id: str, who: dict[str, object]) -> None:
    roles = who.get("roles") or []
    assert isinstance(roles, list)
    request = CancelRequest(interaction_id, str(who["user_id"]), str(who["global_name"]), roles, "press-token")
    rig.discord.open_interaction("press-token", channel_id="1", ephemeral=True)
    rig.process(request.to_message())
