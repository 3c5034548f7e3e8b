"""A job's life: created queued with its steps, started on a runner, finished step by step; and the
annotations a failed one leaves."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator_dev.standins.fake_github.model import JOB_CONCLUSIONS, FakeJob, FakeWorkflow

# Conclusions under which a job's runner really ran it (it gets a runner and a start time).
_RAN = frozenset({"success", "failure", "neutral", "timed_out"})


def new_job(
    base: str, repository: str, run: dict[str, Any], workflow: FakeWorkflow, spec: FakeJob, job_id: int
) -> dict[str, Any]:
    """A job of the run, queued, as the jobs route shows it (`base`: the API's URL)."""
    api = f"{base}/repos/{repository}"
    return {
        "id": job_id,
        "run_id": run["id"],
        "workflow_name": workflow.name,
        "head_branch": run["head_branch"],
        "run_url": run["url"],
        "run_attempt": run["run_attempt"],
        "node_id": "CR_" + base64.urlsafe_b64encode(job_id.to_bytes(8, "big")).decode().rstrip("="),
        "head_sha": run["head_sha"],
        "url": f"{api}/actions/jobs/{job_id}",
        "html_url": f"https://github.com/{repository}/actions/runs/{run['id']}/job/{job_id}",
        "status": "queued",
        "conclusion": None,
        "created_at": run["created_at"],
        # GitHub gives a queued job its creation time as started_at (the field is never null).
        "started_at": run["created_at"],
        "completed_at": None,
        "name": spec.name,
        "steps": [
            {
                "name": name,
                "status": "queued",
                "conclusion": None,
                "number": number,
                "started_at": None,
                "completed_at": None,
            }
            for number, name in enumerate(spec.steps, 1)
        ],
        "check_run_url": f"{api}/check-runs/{job_id}",
        "labels": ["ubuntu-latest"],
        "runner_id": None,
        "runner_name": None,
        "runner_group_id": None,
        "runner_group_name": None,
    }


def start_step(step: dict[str, Any], now: str) -> None:
    step.update(status="in_progress", started_at=now)


def end_step(step: dict[str, Any], conclusion: str | None, now: str) -> None:
    step.update(status="completed", conclusion=conclusion, completed_at=now)
    if step["started_at"] is None:
        step["started_at"] = now


def _take_runner(job: dict[str, Any], now: str) -> None:
    number = job["id"] % 20 + 1
    job.update(
        started_at=now,
        runner_id=number,
        runner_name=f"GitHub Actions {number}",
        runner_group_id=2,
        runner_group_name="GitHub Actions",
    )


def start_job(job: dict[str, Any], now: str) -> None:
    job["status"] = "in_progress"
    _take_runner(job, now)
    start_step(job["steps"][0], now)


def finish_jobs(jobs: list[dict[str, Any]], conclusion: str | None, now: str) -> None:
    """Complete every unfinished job: for `failure` the last one fails and the others succeed."""
    unfinished = [job for job in jobs if job["status"] != "completed"]
    if conclusion is not None and conclusion not in JOB_CONCLUSIONS:
        conclusion = "skipped"  # a run's stale or startup_failure: its jobs never ran
    for job in unfinished:
        if conclusion == "failure":
            _finish_job(job, "failure" if job is unfinished[-1] else "success", now)
        else:
            _finish_job(job, conclusion, now)


def _finish_job(job: dict[str, Any], conclusion: str | None, now: str) -> None:
    if job["status"] != "in_progress" and conclusion in _RAN:
        _take_runner(job, now)
    steps = job["steps"]
    todo = [i for i, step in enumerate(steps) if step["status"] != "completed"]
    # A failing job fails at its last real step (the one before "Complete job"), or where it is now if later.
    failing = max(todo[0], len(steps) - 2) if todo else -1
    for i in todo:
        step = steps[i]
        if conclusion == "failure":
            outcome: str | None = "success" if i < failing else "failure" if i == failing else "skipped"
        elif conclusion in ("cancelled", "timed_out"):
            outcome = conclusion if step["status"] == "in_progress" else "skipped"
        else:
            outcome = conclusion
        end_step(step, outcome, now)
    job.update(status="completed", conclusion=conclusion, completed_at=now)


def overall(jobs: Iterable[Mapping[str, Any]]) -> str:
    return "failure" if any(job["conclusion"] == "failure" for job in jobs) else "success"


def annotation(path: str, line: int, message: str) -> dict[str, Any]:
    """A check-run annotation as GitHub lists it."""
    return {
        "path": path,
        "blob_href": f"https://github.com/octo/repo/blob/{'0' * 40}/{path}",
        "start_line": line,
        "end_line": line,
        "start_column": None,
        "end_column": None,
        "annotation_level": "failure",
        "title": "",
        "message": message,
        "raw_details": "",
    }
