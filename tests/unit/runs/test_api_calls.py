"""What following a run costs: GitHub requests per dispatched command for a 3-minute run."""

from __future__ import annotations

from tests.unit.runs.api_calls import RUN_SECONDS, follow_one_run
from tests.unit.runs.conftest import RigFactory

WEBHOOK_PATH_LIMIT = 3
POLLING_PATH_LIMIT = 12


def test_webhook_path_costs_at_most_three_github_calls(rig_factory: RigFactory) -> None:
    rig = rig_factory(deliver_webhooks=True)  # real signed deliveries through the real endpoint

    calls = follow_one_run(rig)

    assert calls.github <= WEBHOOK_PATH_LIMIT, calls
    # The dispatch, then the jobs when the run starts and when it ends: no run reads at all.
    assert calls.by_kind == {"dispatch": 1, "jobs": 2}, calls
    assert calls.workflow_reads == 1  # the first command in 5 minutes reads the workflow before dispatching
    assert calls.finished_at == RUN_SECONDS  # the result shows as soon as GitHub says so
    assert calls.result_shown
    assert calls.polls == 1  # only the 5-minute safety poll, which found the run finished
    deliveries = [d.action for d in rig.github.deliveries]
    assert deliveries == ["requested", "in_progress", "completed"]
    assert all(d.outcome == 202 for d in rig.github.deliveries)


def test_polling_path_costs_at_most_twelve_github_calls(rig_factory: RigFactory) -> None:
    rig = rig_factory(webhooks=False)

    calls = follow_one_run(rig)

    assert calls.github <= POLLING_PATH_LIMIT, calls
    assert calls.by_kind["dispatch"] == 1
    # Polls at 10, 30, 70, 130 and 190 s: the last one sees the completion and ends the chain.
    assert calls.by_kind["run"] == 5, calls
    assert calls.polls == 5
    assert calls.finished_at == 190
    assert calls.result_shown
    assert [delay for _, delay in rig.queue.polls()] == [10, 20, 40, 60, 60]
