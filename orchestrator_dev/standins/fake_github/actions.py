"""The Actions routes: dispatch a workflow, list and read runs, list a run's jobs, cancel, re-run
failed jobs, and a job's logs and annotations."""

from __future__ import annotations

import copy
import json
from typing import Any

from orchestrator_dev.standins.fake_github.jobs import annotation, finish_jobs, new_job
from orchestrator_dev.standins.fake_github.model import MAX_INPUTS, MAX_INPUTS_CHARS, FakeWorkflow, workflow_file
from orchestrator_dev.standins.fake_github.state import GitHubState
from orchestrator_dev.standins.fake_github.wire import (
    CANCEL_DOCS_URL,
    DISPATCH_DOCS_URL,
    created_filter,
    error,
    int_param,
    invalid,
    link_header,
    parse_time,
    short_ref,
)
from orchestrator_dev.standins.fake_job_logs import DEFAULT_FAILURE_OUTPUT, job_log
from orchestrator_dev.standins.http_standin import Request, Response

_DISPATCH_KEYS = ("ref", "inputs", "return_run_details")


class ActionsRoutes(GitHubState):
    """The stand-in's GitHub Actions API."""

    def _on_dispatch(self, request: Request, params: dict[str, str]) -> Response:
        found = self._find_workflow(params)
        if found is None:
            return error(404, "Not Found", DISPATCH_DOCS_URL)
        file, workflow = found
        body = request.json
        if not isinstance(body, dict):
            return error(400, "Problems parsing JSON", DISPATCH_DOCS_URL)
        problem = self._dispatch_problem(body, workflow)
        if problem is not None:
            return problem
        with self._state:
            run = self._new_run(file, short_ref(body["ref"]), body.get("inputs") or {}, "octocat")
            self._dispatches.append(copy.deepcopy(body))
        if body.get("return_run_details"):
            return Response(200, {"workflow_run_id": run["id"], "run_url": run["url"], "html_url": run["html_url"]})
        return Response(204)

    def _dispatch_problem(self, body: dict[str, Any], workflow: FakeWorkflow) -> Response | None:
        """The first thing GitHub would reject in a dispatch body, in the order it checks."""
        for key in body:
            known = key in _DISPATCH_KEYS and (key != "return_run_details" or self.supports_return_run_details)
            if not known:
                return error(400, f'Invalid request.\n\n"{key}" is not a permitted key.', DISPATCH_DOCS_URL)
        ref, inputs = body.get("ref"), body.get("inputs") or {}
        if ref is None:
            return invalid('"ref" wasn\'t supplied.')
        if not isinstance(ref, str):
            return invalid(f"For 'properties/ref', {json.dumps(ref)} is not a string.")
        if not isinstance(inputs, dict):
            return invalid(f"For 'properties/inputs', {json.dumps(inputs)} is not an object.")
        if len(inputs) > MAX_INPUTS:
            return invalid(f"For 'properties/inputs', more than {MAX_INPUTS} properties were provided.")
        for name, value in inputs.items():
            if not isinstance(value, str):
                return invalid(f"For 'properties/{name}', {json.dumps(value)} is not a string.")
        if len(json.dumps(inputs)) > MAX_INPUTS_CHARS:
            return invalid(f"inputs are too large: at most {MAX_INPUTS_CHARS} characters.")
        if not isinstance(body.get("return_run_details", False), bool):
            shown = json.dumps(body["return_run_details"])
            return invalid(f"For 'properties/return_run_details', {shown} is not a boolean.")
        if not self._has_ref(short_ref(ref)):
            return error(422, f"No ref found for: {ref}", DISPATCH_DOCS_URL)
        if not workflow.dispatchable:
            return error(422, "Workflow does not have 'workflow_dispatch' trigger", DISPATCH_DOCS_URL)
        unexpected = sorted(set(inputs) - set(workflow.inputs))
        if unexpected:
            return error(422, f"Unexpected inputs provided: {json.dumps(unexpected)}", DISPATCH_DOCS_URL)
        for name, required in workflow.inputs.items():
            if required and name not in inputs:
                return error(422, f"Required input '{name}' not provided", DISPATCH_DOCS_URL)
        return None

    def _on_list_runs(self, request: Request, params: dict[str, str]) -> Response:
        found = self._find_workflow(params)
        if found is None:
            return error(404, "Not Found")
        query = request.query
        try:
            created = created_filter(query["created"]) if query.get("created") else None
        except ValueError:
            return error(422, f"Invalid created filter: {query['created']}")
        per_page = min(max(int_param(query.get("per_page"), 30), 1), 100)
        page = max(int_param(query.get("page"), 1), 1)
        with self._state:
            runs = [
                run
                for run in reversed(self._runs.values())
                if run["workflow_id"] == found[1].id
                and query.get("event", run["event"]) == run["event"]
                and query.get("branch", run["head_branch"]) == run["head_branch"]
                and ("status" not in query or query["status"] in (run["status"], run["conclusion"]))
                and (created is None or created(parse_time(run["created_at"])))
            ]
            chosen = copy.deepcopy(runs[(page - 1) * per_page : page * per_page])
        return Response(200, {"total_count": len(runs), "workflow_runs": chosen})

    def _on_get_run(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params) or not params["run_id"].isdigit():
            return error(404, "Not Found")
        with self._state:
            run = self._runs.get(int(params["run_id"]))
            return error(404, "Not Found") if run is None else Response(200, copy.deepcopy(run))

    def _on_list_jobs(self, request: Request, params: dict[str, str]) -> Response:
        # `filter` (latest or all) changes nothing: a run here keeps only its latest attempt's jobs.
        if not self._is_our_repo(params) or not params["run_id"].isdigit():
            return error(404, "Not Found")
        per_page = min(max(int_param(request.query.get("per_page"), 30), 1), 100)
        page = max(int_param(request.query.get("page"), 1), 1)
        with self._state:
            jobs = self._jobs.get(int(params["run_id"]))
            if jobs is None:
                return error(404, "Not Found")
            chosen = copy.deepcopy(jobs[(page - 1) * per_page : page * per_page])
            total = len(jobs)
        link = link_header(f"{self.url}{request.path}", request.query, page, per_page, total)
        return Response(200, {"total_count": total, "jobs": chosen}, {"Link": link} if link else {})

    def _on_cancel(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params) or not params["run_id"].isdigit():
            return error(404, "Not Found")
        run_id = int(params["run_id"])
        with self._state:
            run = self._runs.get(run_id)
            if run is None:
                return error(404, "Not Found")
            if run["status"] == "completed":
                return error(409, "Cannot cancel a workflow run that is completed.", CANCEL_DOCS_URL)
            now = self._tick()
            finish_jobs(self._jobs[run_id], "cancelled", now)
            self._move_run(run, "completed", "cancelled", now)
            self._cancels.append(run_id)
        return Response(202, {})

    def _on_rerun_failed_jobs(self, request: Request, params: dict[str, str]) -> Response:
        """A new attempt of the run: its jobs queued again (with new ids), the run queued."""
        if not self._is_our_repo(params) or not params["run_id"].isdigit():
            return error(404, "Not Found")
        run_id = int(params["run_id"])
        body = request.json if isinstance(request.json, dict) else {}
        with self._state:
            run = self._runs.get(run_id)
            if run is None:
                return error(404, "Not Found")
            if run["status"] != "completed" or run["conclusion"] == "success":
                return error(403, "This workflow run is not retryable")
            now = self._tick()
            run["run_attempt"] += 1
            workflow = self.workflows[workflow_file(run)]
            jobs = self._jobs[run_id]
            jobs[:] = [
                new_job(self.url, self.repository, run, workflow, spec, self._new_job_id()) for spec in workflow.jobs
            ]
            self._announced_in_progress.discard(run_id)
            self._move_run(run, "queued", None, now)
            self._reruns.append((run_id, body.get("enable_debug_logging") is True))
        return Response(201, {})

    def _on_job_logs(self, request: Request, params: dict[str, str]) -> Response:
        job = self._job(params)
        if job is None or self.log_storage is None:
            return error(404, "Not Found")
        output = self.failure_output.get(job["name"], DEFAULT_FAILURE_OUTPUT)
        return Response(302, b"", {"Location": self.log_storage.publish(job["id"], job_log(job, output))})

    def _on_annotations(self, request: Request, params: dict[str, str]) -> Response:
        if not self.checks_readable:
            return error(403, "Resource not accessible by personal access token")
        job = self._job(params)
        if job is None:
            return error(404, "Not Found")
        failed = [step for step in job["steps"] if step["conclusion"] == "failure"]
        annotations: list[dict[str, Any]] = []
        for step in failed[:1]:
            output = self.failure_output.get(job["name"], DEFAULT_FAILURE_OUTPUT)
            annotations.append(annotation(".github", 1, "Process completed with exit code 1."))
            annotations.append(annotation("tests/test_api.py", 12, output[0] if output else step["name"]))
        return Response(200, annotations)
