"""FakeGitHub: the stand-in's constructor and route table, GitHub's front door (User-Agent, API
version, token, rate-limit headers), and what tests read and drive."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Self

from orchestrator_dev.standins.fake_github.actions import ActionsRoutes
from orchestrator_dev.standins.fake_github.jobs import end_step, finish_jobs, overall, start_job, start_step
from orchestrator_dev.standins.fake_github.model import FIRST_JOB_ID, FIRST_RUN_ID, RUN_STATUSES, FakeWorkflow
from orchestrator_dev.standins.fake_github.repository import RepositoryRoutes
from orchestrator_dev.standins.fake_github.webhooks import Delivery, WebhookSender, ping_payload
from orchestrator_dev.standins.fake_github.wire import error, timestamp
from orchestrator_dev.standins.fake_job_logs import FakeLogStorage
from orchestrator_dev.standins.http_standin import Request, Response

API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
RATE_LIMIT = 5000

# GitHub's front end answers a request without User-Agent itself, in plain text rather than JSON.
_NO_USER_AGENT = (
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent header "
    "(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). "
    "Check https://developer.github.com for other possible causes.\n"
)


class FakeGitHub(ActionsRoutes, RepositoryRoutes):
    """GitHub's REST API for one repository's workflows, with an API base at `url`.

    With a `webhook_url`, every change of a run's status is also sent there as a
    `workflow_run` webhook delivery, signed with `webhook_secret`, from a background
    thread, in the order the changes happened.
    """

    json_content_type = "application/json; charset=utf-8"
    server_header = "github.com"

    def __init__(
        self,
        token: str,
        repository: str,
        workflows: Mapping[str, FakeWorkflow],
        *,
        refs: Iterable[str] = ("main",),
        supports_return_run_details: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        log_storage: FakeLogStorage | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        # Where job logs are served from (another host, as on GitHub); None: logs answer 404.
        self.log_storage = log_storage
        # What a failed job's failing step prints, by job name (DEFAULT_FAILURE_OUTPUT otherwise).
        self.failure_output: dict[str, tuple[str, ...]] = {}
        # False: annotations answer 403, as for a fine-grained token without "Checks: read".
        self.checks_readable = True
        # False: file contents answer 403, as for a fine-grained token without "Contents: read".
        self.contents_readable = True
        # The text of .github/workflows/<file>, by file name; a workflow not here is written out
        # from its FakeWorkflow (its inputs, its run-name).
        self.workflow_files: dict[str, str] = {}
        self._reruns: list[tuple[int, bool]] = []
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository must be owner/repo, got {repository!r}")
        self.token = token
        self.repository = repository
        self.workflows = dict(workflows)
        # Refs that exist besides the branches and tags below (a dispatch or a contents read may name any).
        self.refs = set(refs)
        # What the branches, tags and environments routes list, in the order they list them; a
        # branch or tag is a ref that exists. Environments are (name, updated_at as ...Z).
        self.branches: list[str] = list(dict.fromkeys(refs))
        self.tags: list[str] = []
        self.environments: list[tuple[str, str]] = []
        # What the activity route lists, newest first: (full ref, ISO time ...Z, activity type).
        self.activity: list[tuple[str, str, str]] = []
        self.supports_return_run_details = supports_return_run_details
        self._state = threading.Lock()
        self._runs: dict[int, dict[str, Any]] = {}
        self._dispatches: list[dict[str, Any]] = []
        self._run_numbers: dict[str, int] = {}
        self._next_run_id = FIRST_RUN_ID
        self._used = 0
        self._rate_reset = int(time.time()) + 3600
        self._jobs: dict[int, list[dict[str, Any]]] = {}
        self._next_job_id = FIRST_JOB_ID
        self._cancels: list[int] = []
        self._announced_in_progress: set[int] = set()
        # The fake clock: every change gets a later second than the one before, even within one second.
        self._clock = datetime.min.replace(tzinfo=UTC)

        self._webhooks = WebhookSender(webhook_url, webhook_secret)

        actions = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions"
        workflow = actions + r"/workflows/(?P<workflow_id>[^/]+)"
        run = actions + r"/runs/(?P<run_id>[^/]+)"
        self.add_route("POST", workflow + "/dispatches", self._on_dispatch)
        self.add_route("GET", workflow + "/runs", self._on_list_runs)
        self.add_route("GET", run, self._on_get_run)
        self.add_route("GET", run + "/jobs", self._on_list_jobs)
        self.add_route("POST", run + "/cancel", self._on_cancel)
        self.add_route("POST", run + "/rerun-failed-jobs", self._on_rerun_failed_jobs)
        self.add_route("GET", actions + r"/jobs/(?P<job_id>\d+)/logs", self._on_job_logs)
        self.add_route(
            "GET",
            r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/check-runs/(?P<job_id>\d+)/annotations",
            self._on_annotations,
        )
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        self.add_route("GET", repo + r"/contents/(?P<path>.+)", self._on_contents)
        self.add_route("GET", repo + "/branches", self._on_branches)
        self.add_route("GET", repo + "/activity", self._on_activity)
        self.add_route("GET", repo + "/tags", self._on_tags)
        self.add_route("GET", repo + "/environments", self._on_environments)

    def start(self) -> Self:
        super().start()
        self._webhooks.start(f"{type(self).__name__}-webhooks")
        return self

    def stop(self) -> None:
        """Stop serving; deliveries not yet attempted are dropped (an attempt under way finishes first)."""
        super().stop()
        self._webhooks.stop()

    # -- what tests read and drive -----------------------------------------------

    def deliver_webhooks_to(self, url: str | None) -> None:
        """Send the deliveries from now on to `url` (None: send none), e.g. to a receiver started
        after this stand-in on a port the system chose, or started again on another."""
        self._webhooks.url = url

    @property
    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first."""
        with self._state:
            return copy.deepcopy(list(self._runs.values()))

    def run(self, run_id: int) -> dict[str, Any]:
        with self._state:
            return copy.deepcopy(self._runs[run_id])

    @property
    def dispatches(self) -> list[dict[str, Any]]:
        """Bodies of the dispatches that started a run, in order."""
        with self._state:
            return copy.deepcopy(self._dispatches)

    def jobs(self, run_id: int) -> list[dict[str, Any]]:
        """The run's jobs as the jobs route shows them, in order."""
        with self._state:
            return copy.deepcopy(self._jobs[run_id])

    @property
    def cancels(self) -> list[int]:
        """Ids of the runs cancelled through the API, in order (refused cancels are not listed)."""
        with self._state:
            return list(self._cancels)

    @property
    def reruns(self) -> list[tuple[int, bool]]:
        """(run id, with debug logging) of every accepted re-run of failed jobs, in order."""
        with self._state:
            return list(self._reruns)

    def set_run_status(self, run_id: int, status: str, conclusion: str | None = None) -> dict[str, Any]:
        """Move a run, and its jobs with it.

        `in_progress` starts the first job's first step (when the run was not already in
        progress); `completed` finishes every unfinished job with `conclusion`, except that for
        `failure` only the last unfinished job fails and the others succeed. Any other status
        puts the jobs back in the queue.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self._state:
            run, jobs = self._runs[run_id], self._jobs[run_id]
            now = self._tick()
            if status == "in_progress":
                if run["status"] != "in_progress":
                    self._reset_jobs(run)
                    if jobs:
                        start_job(jobs[0], now)
            elif status == "completed":
                if run["status"] == "completed":
                    self._reset_jobs(run)
                finish_jobs(jobs, conclusion, now)
            else:
                self._reset_jobs(run)
            self._move_run(run, status, conclusion, now)
            return copy.deepcopy(run)

    def advance_job(self, run_id: int) -> dict[str, Any]:
        """One step of progress: start the run, finish the running step, or start the next job.

        A queued run goes in progress with its first job's first step running. Then each call
        finishes the running step (successfully) and starts the next one; after a job's last
        step the job succeeds, and the next call starts the next job. When the last job
        finishes, the run completes. A run without jobs completes on the call after it started.
        Returns the run; a completed run cannot be advanced (ValueError).
        """
        with self._state:
            run, jobs = self._runs[run_id], self._jobs[run_id]
            if run["status"] == "completed":
                raise ValueError(f"run {run_id} is completed")
            now = self._tick()
            if run["status"] != "in_progress":
                self._reset_jobs(run)
                if jobs:
                    start_job(jobs[0], now)
                self._move_run(run, "in_progress", None, now)
                return copy.deepcopy(run)
            running = next((job for job in jobs if job["status"] == "in_progress"), None)
            if running is None:
                waiting = next((job for job in jobs if job["status"] != "completed"), None)
                if waiting is None:
                    self._move_run(run, "completed", overall(jobs), now)
                else:
                    start_job(waiting, now)
                    run["updated_at"] = now
                return copy.deepcopy(run)
            steps = running["steps"]
            current = next((i for i, step in enumerate(steps) if step["status"] != "completed"), len(steps))
            if current < len(steps):
                end_step(steps[current], "success", now)
            if current + 1 < len(steps):
                start_step(steps[current + 1], now)
                run["updated_at"] = now
            else:
                running.update(status="completed", conclusion="success", completed_at=now)
                if all(job["status"] == "completed" for job in jobs):
                    self._move_run(run, "completed", overall(jobs), now)
                else:
                    run["updated_at"] = now
            return copy.deepcopy(run)

    def create_run(
        self,
        workflow_file: str,
        *,
        ref: str = "main",
        inputs: Mapping[str, str] | None = None,
        actor: str = "octocat",
    ) -> dict[str, Any]:
        """Start a run without a dispatch request: someone else's run, or one from a lost dispatch."""
        with self._state:
            return copy.deepcopy(self._new_run(workflow_file, ref, dict(inputs or {}), actor))

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery attempt that has finished, in order; a redelivery repeats its delivery id."""
        return self._webhooks.deliveries

    def redeliver(self, delivery_id: str) -> None:
        """Send a past delivery again, with the same delivery id and body, as GitHub's "Redeliver" does."""
        self._webhooks.redeliver(delivery_id)

    def deliver_ping(self) -> str:
        """Send a `ping` event, as GitHub does when a webhook is created; returns its delivery id."""
        if self._webhooks.url is None:
            raise RuntimeError("no webhook_url to deliver to")
        created = timestamp(datetime.fromtimestamp(self._rate_reset - 3600, UTC))
        payload = ping_payload(
            self.url, self.repository, self._webhooks.url, signed=self._webhooks.secret is not None, created=created
        )
        with self._state:
            return self._webhooks.enqueue("ping", "ping", None, payload)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until every queued delivery has been attempted; False if `timeout` seconds pass first."""
        return self._webhooks.wait(timeout)

    # -- StandinServer hooks: GitHub's front door ----------------------------------

    def before_route(self, request: Request) -> Response | None:
        if not request.headers.get("user-agent"):
            return Response(403, _NO_USER_AGENT.encode(), {"Content-Type": "text/plain; charset=utf-8"})
        version = request.headers.get("x-github-api-version")
        if version is None:
            # GitHub would assume 2022-11-28; the stand-in insists so clients never rely on that.
            return error(400, "The X-GitHub-Api-Version header is required by this stand-in.")
        if version not in API_VERSIONS:
            return error(400, f"API version {version} is not supported.")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), self.token.encode()):
            return error(401, "Bad credentials")
        return None

    def common_headers(self, request: Request, status: int) -> dict[str, str]:
        with self._state:
            if status != 304:  # a conditional request answered "Not Modified" is not counted
                self._used += 1
            used = self._used
        parts = [secrets.token_hex(n).upper() for n in (2, 3, 4, 3, 4)]
        headers = {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(max(0, RATE_LIMIT - used)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(self._rate_reset),
            "x-ratelimit-resource": "core",
            "x-github-request-id": ":".join(parts),
        }
        if request.headers.get("x-github-api-version") in API_VERSIONS:
            headers["x-github-api-version-selected"] = request.headers["x-github-api-version"]
        return headers

    def not_found(self, request: Request) -> Response:
        return error(404, "Not Found")

    def server_error(self, request: Request) -> Response:
        return error(500, "Server Error")
