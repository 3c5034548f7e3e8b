"""What every part of the stand-in reads and writes: its runs, jobs and refs, and how a run moves
(each change stamped by a fake clock and announced as a webhook)."""

from __future__ import annotations

import base64
import copy
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator_dev.standins.fake_github.jobs import new_job
from orchestrator_dev.standins.fake_github.model import FakeWorkflow, workflow_file
from orchestrator_dev.standins.fake_github.webhooks import WebhookSender, workflow_run_payload
from orchestrator_dev.standins.fake_github.wire import int_param, link_header, repository_object, timestamp, user_object
from orchestrator_dev.standins.fake_job_logs import FakeLogStorage
from orchestrator_dev.standins.http_standin import Request, Response, StandinServer


class GitHubState(StandinServer):
    """The state FakeGitHub.__init__ sets up, and what the routes share; every method here expects
    the caller to hold `_state` where it says so."""

    # Set up by FakeGitHub.__init__ (server.py), which says what each one holds.
    token: str
    repository: str
    workflows: dict[str, FakeWorkflow]
    refs: set[str]
    branches: list[str]
    tags: list[str]
    environments: list[tuple[str, str]]
    activity: list[tuple[str, str, str]]
    supports_return_run_details: bool
    log_storage: FakeLogStorage | None
    failure_output: dict[str, tuple[str, ...]]
    checks_readable: bool
    contents_readable: bool
    workflow_files: dict[str, str]
    _state: threading.Lock
    _runs: dict[int, dict[str, Any]]
    _dispatches: list[dict[str, Any]]
    _run_numbers: dict[str, int]
    _next_run_id: int
    _jobs: dict[int, list[dict[str, Any]]]
    _next_job_id: int
    _cancels: list[int]
    _reruns: list[tuple[int, bool]]
    _announced_in_progress: set[int]
    _clock: datetime
    _webhooks: WebhookSender

    def _has_ref(self, ref: str) -> bool:
        return ref in self.refs or ref in self.branches or ref in self.tags

    def _is_our_repo(self, params: Mapping[str, str]) -> bool:
        # GitHub resolves owner and repository names case-insensitively.
        return f"{params['owner']}/{params['repo']}".lower() == self.repository.lower()

    def _find_workflow(self, params: Mapping[str, str]) -> tuple[str, FakeWorkflow] | None:
        if not self._is_our_repo(params):
            return None
        key = params["workflow_id"]
        for file, workflow in self.workflows.items():
            if key == file or key == str(workflow.id):
                return file, workflow
        return None

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        """One page of `items` as GitHub pages a list (`per_page` 30 by default, at most 100), with its Link."""
        per_page = min(max(int_param(request.query.get("per_page"), 30), 1), 100)
        page = max(int_param(request.query.get("page"), 1), 1)
        link = link_header(f"{self.url}{request.path}", request.query, page, per_page, len(items))
        return Response(200, items[(page - 1) * per_page : page * per_page], {"Link": link} if link else {})

    def _job(self, params: Mapping[str, str]) -> dict[str, Any] | None:
        if not self._is_our_repo(params):
            return None
        job_id = int(params["job_id"])
        with self._state:
            for jobs in self._jobs.values():
                for job in jobs:
                    if job["id"] == job_id:
                        return copy.deepcopy(job)
        return None

    def _tick(self) -> str:
        """Now, or a second after the last change if that is not earlier; the caller holds `_state`."""
        now = datetime.now(UTC).replace(microsecond=0)
        self._clock = max(now, self._clock + timedelta(seconds=1))
        return timestamp(self._clock)

    def _move_run(self, run: dict[str, Any], status: str, conclusion: str | None, now: str) -> None:
        """Set a run's status and announce the change; the caller holds `_state`."""
        previous = run["status"]
        run.update(status=status, conclusion=conclusion, updated_at=now)
        if status == "in_progress" and run["id"] not in self._announced_in_progress:
            self._announced_in_progress.add(run["id"])
            run["run_started_at"] = now
            self._announce("in_progress", run)
        elif status == "completed" and previous != "completed":
            self._announce("completed", run)

    def _reset_jobs(self, run: dict[str, Any]) -> None:
        """Put a run's jobs back in the queue, as they were when it was created; the caller holds `_state`."""
        jobs = self._jobs[run["id"]]
        if all(job["status"] == "queued" for job in jobs):
            return
        workflow = self.workflows[workflow_file(run)]
        ids = [job["id"] for job in jobs]
        jobs[:] = [
            new_job(self.url, self.repository, run, workflow, spec, job_id)
            for spec, job_id in zip(workflow.jobs, ids, strict=True)
        ]

    def _new_job_id(self) -> int:
        """The next job id; the caller holds `_state`."""
        self._next_job_id += 1
        return self._next_job_id - 1

    def _new_run(self, file: str, ref: str, inputs: Mapping[str, str], actor: str) -> dict[str, Any]:
        """Create and store a run with its jobs, and announce it; the caller holds `_state`."""
        workflow = self.workflows[file]
        run_id = self._next_run_id
        self._next_run_id += 1
        self._run_numbers[file] = number = self._run_numbers.get(file, 0) + 1
        title = workflow.name
        if workflow.run_name_input and inputs.get(workflow.run_name_input):
            title = f"{workflow.name} [{inputs[workflow.run_name_input]}]"  # the documented run-name convention
        now = self._tick()
        api = f"{self.url}/repos/{self.repository}"
        sha = secrets.token_hex(20)
        suite_id = 30_000_000_000 + run_id
        user = user_object(actor, 583231)
        repository = repository_object(self.url, self.repository)
        run: dict[str, Any] = {
            "id": run_id,
            "name": title,
            "node_id": "WFR_" + base64.urlsafe_b64encode(run_id.to_bytes(8, "big")).decode().rstrip("="),
            "check_suite_id": suite_id,
            "check_suite_node_id": "CS_" + secrets.token_urlsafe(12),
            "head_branch": ref,
            "head_sha": sha,
            "path": f".github/workflows/{file}",
            "display_title": title,
            "run_number": number,
            "event": "workflow_dispatch",
            "status": "queued",
            "conclusion": None,
            "workflow_id": workflow.id,
            "url": f"{api}/actions/runs/{run_id}",
            "html_url": f"https://github.com/{self.repository}/actions/runs/{run_id}",
            "pull_requests": [],
            "created_at": now,
            "updated_at": now,
            "actor": user,
            "run_attempt": 1,
            "referenced_workflows": [],
            "run_started_at": now,
            "triggering_actor": user,
            "jobs_url": f"{api}/actions/runs/{run_id}/jobs",
            "logs_url": f"{api}/actions/runs/{run_id}/logs",
            "check_suite_url": f"{api}/check-suites/{suite_id}",
            "artifacts_url": f"{api}/actions/runs/{run_id}/artifacts",
            "cancel_url": f"{api}/actions/runs/{run_id}/cancel",
            "rerun_url": f"{api}/actions/runs/{run_id}/rerun",
            "previous_attempt_url": None,
            "workflow_url": f"{api}/actions/workflows/{workflow.id}",
            "head_commit": {
                "id": sha,
                "tree_id": secrets.token_hex(20),
                "message": "Update workflows",
                "timestamp": now,
                "author": {"name": "Monalisa Octocat", "email": "octocat@github.com"},
                "committer": {"name": "GitHub", "email": "noreply@github.com"},
            },
            "repository": repository,
            "head_repository": repository,
            "head_repository_id": repository["id"],
        }
        self._runs[run_id] = run
        self._jobs[run_id] = [
            new_job(self.url, self.repository, run, workflow, spec, self._new_job_id()) for spec in workflow.jobs
        ]
        self._announce("requested", run)
        return run

    def _announce(self, action: str, run: dict[str, Any]) -> None:
        """Queue a `workflow_run` delivery of the run as it is now; the caller holds `_state`."""
        if self._webhooks.url is None:
            return
        workflow = self.workflows[workflow_file(run)]
        payload = workflow_run_payload(self.url, self.repository, action, run, workflow)
        self._webhooks.enqueue("workflow_run", action, run["id"], payload)
