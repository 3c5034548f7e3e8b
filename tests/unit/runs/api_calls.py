"""GitHub API calls per dispatched command for a run of 3 simulated minutes (tests and the benchmark).

The worker is the real one (Rig) against the stand-in GitHub over loopback; nothing sleeps. Time is
simulated: the run moves on a fixed timeline (queued; in progress at 15 s; a job step every 15-30 s;
completed at 180 s), and every message the worker queues is processed when its delay says. On the
webhook path, the stand-in GitHub sends its real signed `workflow_run` deliveries to the real webhook
endpoint (WebhookSink), which queues them like the server does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tests.unit.runs.conftest import RESULT, Rig, stage_of

RUN_SECONDS = 180
# When the run moves on (seconds after the dispatch): in progress at 15 s, then its two jobs'
# steps; the last change completes the run at 180 s.
CHANGES_AT = (15, 40, 60, 80, 100, 120, 150, RUN_SECONDS)
GIVE_UP_AT = 3600


@dataclass(frozen=True)
class Calls:
    github: int  # every request the stand-in GitHub received for this command but the workflow's file
    by_kind: dict[str, int]  # dispatch / run / jobs / other
    # The workflow's file, read before the dispatch: once per 5 minutes for every command running it.
    workflow_reads: int
    discord_edits: int  # message bodies sent to Discord
    polls: int  # poll messages the worker scheduled
    finished_at: float  # simulated second at which the record first knew the result
    result_shown: bool  # the user's message ends showing the result


def _kind(path: str) -> str:
    if "/contents/" in path:
        return "workflow"
    if path.endswith("/dispatches"):
        return "dispatch"
    if path.endswith("/jobs"):
        return "jobs"
    if path.rsplit("/", 2)[-2] == "runs":
        return "run"
    return "other"


def follow_one_run(rig: Rig) -> Calls:
    """Dispatch one command and follow its run to the end; what it cost."""
    start = rig.clock()
    job = rig.job()
    run_id = rig.dispatch(job)
    changes = list(CHANGES_AT)
    finished_at = -1.0
    while rig.clock() - start < GIVE_UP_AT:
        if rig.sink is not None:
            rig.github.wait_for_deliveries(timeout=10)  # GitHub's deliveries, queued as they arrive
        entry = rig.queue.next_due()
        change_due = start + changes[0] if changes else None
        if entry is None and change_due is None:
            break
        if change_due is not None and (entry is None or change_due <= entry.due):
            rig.clock.now = change_due
            changes.pop(0)
            if rig.github.run(run_id)["status"] != "completed":
                rig.github.advance_job(run_id)
            continue
        rig.run_due(entry.due if entry else None)
        if finished_at < 0 and rig.record(job).conclusion is not None:
            finished_at = rig.clock() - start
    assert rig.github.run(run_id)["status"] == "completed", "the timeline must complete the run"
    kinds = Counter(_kind(request.path) for request in rig.github.requests)
    workflow_reads = kinds.pop("workflow", 0)
    return Calls(
        github=kinds.total(),
        by_kind=dict(kinds),
        workflow_reads=workflow_reads,
        discord_edits=len(rig.discord.requests),
        polls=len(rig.queue.polls()),
        finished_at=finished_at,
        result_shown=stage_of(rig.message(job)) == RESULT,
    )
