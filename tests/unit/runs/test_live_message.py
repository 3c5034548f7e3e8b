"""The live message: ⏳ queued → 🔄 in progress (a line per job) → the result, always within Discord's limits."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.clients.github_api import GitHubClient
from orchestrator.commands.invocation import Invocation
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.runs.model import JobLine
from orchestrator.runs.tracker import RunTracker
from orchestrator.state.jobs import JobRecord
from tests.fixtures.worker import http_client
from tests.unit.runs.conftest import (
    ALICE,
    APPLICATION_ID,
    BUTTON_SECRET,
    CHANNEL_ID,
    GITHUB_TOKEN,
    GUILD_ID,
    IN_PROGRESS,
    QUEUED,
    REPO,
    RESULT,
    Rig,
    buttons_of,
    embed_of,
    stage_of,
)
from tests.unit.runs.messages import check_job_lines, check_requests

LINK, DANGER = 5, 4


def icon_of(job: dict[str, Any]) -> str:
    """The icon a GitHub job should have in the message."""
    if job["status"] != "completed":
        return "⏳"
    return {"success": "✅", "skipped": "⏭", "cancelled": "⏹", "neutral": "✅"}.get(job["conclusion"], "❌")


def description_lines(message: dict[str, Any]) -> list[str]:
    return str(embed_of(message)["description"]).split("\n")


def test_queued_then_in_progress_then_the_result(rig: Rig) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    html_url = rig.github.run(run_id)["html_url"]

    queued = rig.message(job)
    assert stage_of(queued) == QUEUED
    assert embed_of(queued)["title"] == "/diagnose · ⏳ queued"
    assert embed_of(queued)["description"] == "Waiting for GitHub to start the run."
    buttons = buttons_of(queued)
    link = buttons[f"View run #{run_id} on GitHub"]
    assert (link["style"], link["url"]) == (LINK, html_url)
    assert buttons["Cancel run"]["style"] == DANGER
    assert len(buttons["Cancel run"]["custom_id"]) <= 100

    rig.github.advance_job(run_id)  # build starts
    rig.github.advance_job(run_id)  # build: "Run" step
    rig.event(rig.github.run(run_id))
    running = rig.message(job)
    assert embed_of(running)["title"] == "/diagnose · 🔄 in progress"
    assert description_lines(running) == ["⏳ build — step 2/3: Run", "⏳ test"]
    assert "Cancel run" in buttons_of(running)

    rig.github.advance_job(run_id)  # build: "Complete job"
    rig.github.advance_job(run_id)  # build done
    rig.github.advance_job(run_id)  # test starts
    rig.event(rig.github.run(run_id))
    lines = description_lines(rig.message(job))
    assert re.fullmatch(r"✅ build · \d+s", lines[0]), lines
    assert lines[1] == "⏳ test — step 1/3: Set up job"

    rig.github.set_run_status(run_id, "completed", "failure")
    rig.event(rig.github.run(run_id))
    done = rig.message(job)
    embed = embed_of(done)
    assert embed["title"] == "/diagnose · ❌ failed"
    lines = description_lines(done)
    assert re.fullmatch(r"✅ build · \d+s", lines[0]), lines
    assert re.fullmatch(r'❌ test › step 2/3 "Run" · \d+s', lines[1]), lines
    assert re.fullmatch(r"Total: \d+s", lines[-1]), lines
    assert embed["url"] == html_url
    # No Cancel once it is over; a failed run offers its log and re-runs instead.
    assert list(buttons_of(done)) == [
        f"View run #{run_id} on GitHub",
        "Show log",
        "Re-run failed jobs",
        "Re-run with debug logging",
        "Run again…",
    ]
    assert [stage_of(m) for m in rig.history(job)] == [0, QUEUED, IN_PROGRESS, IN_PROGRESS, RESULT]
    assert check_requests(rig.discord.requests) == 4


@pytest.mark.parametrize(
    ("conclusion", "title", "icons"),
    [
        ("success", "✅ succeeded", ["✅", "✅"]),
        ("failure", "❌ failed", ["✅", "❌"]),
        ("cancelled", "⏹ cancelled", ["⏹", "⏹"]),
        ("timed_out", "❌ timed out", ["❌", "❌"]),
        ("skipped", "⏭ skipped", ["⏭", "⏭"]),
    ],
)
def test_each_result(rig: Rig, conclusion: str, title: str, icons: list[str]) -> None:
    job = rig.job()
    run_id = rig.dispatch(job)
    rig.github.advance_job(run_id)
    rig.github.set_run_status(run_id, "completed", conclusion)

    rig.event(rig.github.run(run_id))

    message = rig.message(job)
    assert embed_of(message)["title"] == f"/diagnose · {title}"
    job_lines = [line for line in description_lines(message) if line and not line.startswith(("Total", "`"))]
    assert [line[0] for line in job_lines] == icons
    assert "Cancel run" not in buttons_of(message)
    check_requests(rig.discord.requests)


def test_every_job_state_has_its_icon_duration_or_step(rig: Rig) -> None:
    lines = [
        JobLine("lint", "completed", "success", "2026-11-22T10:00:00Z", "2026-11-22T10:00:42Z", None, 3, 3),
        JobLine("unit", "completed", "failure", "2026-11-22T10:00:00Z", "2026-11-22T10:02:05Z", None, 3, 3),
        JobLine("e2e", "in_progress", None, "2026-11-22T10:00:00Z", None, "Run playwright", 2, 5),
        JobLine("docs", "completed", "skipped", None, None, None, 0, 0),
        JobLine("deploy", "completed", "cancelled", "2026-11-22T10:00:00Z", "2026-11-22T11:02:00Z", None, 1, 4),
        JobLine("notify", "queued", None, None, None, None, 0, 2),
    ]
    record = handmade_record(rig, lines, len(lines))

    message = render(rig, record)

    assert description_lines(message) == [
        "✅ lint · 42s",
        "❌ unit · 2m 05s",
        "⏳ e2e — step 3/5: Run playwright",
        "⏭ docs",
        "⏹ deploy · 1h 02m",
        "⏳ notify",
    ]


def test_a_fifty_job_run_is_summed_up_in_whole_lines(rig: Rig) -> None:
    job = rig.job("matrix", {})
    run_id = rig.dispatch(job)
    seen: list[list[dict[str, Any]]] = []
    for batch in (1, 40, 40, 40):  # in progress, then ever more jobs done (each job takes 4 steps)
        for _ in range(batch):
            rig.github.advance_job(run_id)
        seen.append(rig.github.jobs(run_id))
        rig.event(rig.github.run(run_id))
        check_live(rig.message(job), seen[-1])
    rig.github.set_run_status(run_id, "completed", "success")
    seen.append(rig.github.jobs(run_id))
    rig.event(rig.github.run(run_id))

    final = rig.message(job)
    assert stage_of(final) == RESULT
    listed = check_live(final, seen[-1])
    assert 0 < listed < 50
    assert description_lines(final)[-2] == ""
    assert description_lines(final)[-3] == f"…and {50 - listed} more jobs: {50 - listed} ✅"
    assert check_requests(rig.discord.requests) == 1 + len(seen)


def check_live(message: dict[str, Any], jobs: list[dict[str, Any]]) -> int:
    return check_job_lines(
        str(embed_of(message)["description"]), [(job["name"], icon_of(job)) for job in jobs], len(jobs)
    )


def many_lines(count: int, *, long: bool = False) -> list[JobLine]:
    """A mix of job states, in a repeating pattern (with the longest names and steps when `long`)."""
    found = []
    for n in range(count):
        name = (f"job {n:03d} " + "x" * 80)[:80] if long else f"job {n:03d}"
        step = ("s" * 60) if long else "Run"
        kind = n % 5
        if kind == 0:
            found.append(
                JobLine(name, "completed", "success", "2026-11-22T10:00:00Z", "2026-11-22T10:01:00Z", None, 3, 3)
            )
        elif kind == 1:
            found.append(JobLine(name, "in_progress", None, "2026-11-22T10:00:00Z", None, step, 1, 3))
        elif kind == 2:
            found.append(JobLine(name, "queued", None, None, None, None, 0, 3))
        elif kind == 3:
            found.append(
                JobLine(name, "completed", "failure", "2026-11-22T10:00:00Z", "2026-11-22T10:00:09Z", None, 3, 3)
            )
        else:
            found.append(JobLine(name, "completed", "skipped", None, None, None, 0, 0))
    return found


def line_icon(line: JobLine) -> str:
    if line.status != "completed":
        return "⏳"
    return {"success": "✅", "skipped": "⏭", "cancelled": "⏹", "neutral": "✅"}.get(line.conclusion or "", "❌")


@pytest.mark.parametrize("long", [False, True], ids=["short names", "longest names and steps"])
def test_three_hundred_of_five_hundred_jobs_fit_and_the_rest_are_counted(rig: Rig, long: bool) -> None:
    lines = many_lines(300, long=long)
    options = {f"option_{n:02d}": "v" * 1000 for n in range(25)}  # as much as the fields may ever take
    record = handmade_record(rig, lines, 500, options=options)

    running = render(rig, record)
    listed = check_job_lines(str(embed_of(running)["description"]), [(j.name, line_icon(j)) for j in lines], 500)
    assert 0 < listed < 300

    def finish(current: JobRecord | None) -> JobRecord | None:
        assert current is not None
        current.run_status, current.conclusion, current.render_pending = "completed", "failure", True
        current.run_updated_at = "2026-11-22T11:00:00Z"
        return current

    finished = rig.state.jobs.update(record.invocation.interaction_id, finish)
    assert finished is not None
    done = render(rig, finished)
    check_job_lines(str(embed_of(done)["description"]), [(j.name, line_icon(j)) for j in lines], 500)
    assert description_lines(done)[-1] == "Total: 1h 00m"
    assert check_requests(rig.discord.requests) == 2


def handmade_record(rig: Rig, lines: list[JobLine], total: int, *, options: dict[str, Any] | None = None) -> JobRecord:
    """A record of a run in progress with these job lines, its interaction open in the stand-in Discord."""
    job = rig.job(options=options)
    now = time.time()
    record = JobRecord(
        invocation=Invocation(
            interaction_id=job.invocation.interaction_id,
            trace_id=job.invocation.trace_id,
            command="diagnose",
            options=dict(job.invocation.options),
            user_id=ALICE["user_id"],
            user_name=ALICE["global_name"],
            guild_id=GUILD_ID,
            channel_id=CHANNEL_ID,
        ),
        status="dispatched",
        created_at=now,
        updated_at=now,
        run_id=16_000_000_001,
        html_url=f"https://github.com/{REPO}/actions/runs/16000000001",
        run_status="in_progress",
        run_started_at="2026-11-22T10:00:00Z",
        run_updated_at="2026-11-22T10:03:00Z",
        jobs=[line.to_dict() for line in lines],
        jobs_total=total,
        received_at=now,
        reply_token=job.interaction_token,
        render_pending=True,
    )
    rig.state.jobs.put(record)
    stored = rig.state.jobs.get(job.invocation.interaction_id)
    assert stored is not None
    return stored


def render(rig: Rig, record: JobRecord) -> dict[str, Any]:
    """Show the record through a RunTracker (the worker's), as Discord then has it."""
    with http_client() as github_http, http_client() as discord_http:
        tracker = RunTracker(
            rig.state.jobs,
            GitHubClient(github_http, rig.github.url, GITHUB_TOKEN, REPO),
            DiscordClient(discord_http, rig.discord.api_url, APPLICATION_ID),
            ButtonSigner(BUTTON_SECRET.encode()),
        )
        tracker.refresh(record)
    message = rig.discord.message_for(str(record.reply_token))
    assert message is not None
    return message
