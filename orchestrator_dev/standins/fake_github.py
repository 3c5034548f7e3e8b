"""A stand-in for the GitHub Actions REST API: workflow dispatches, runs, their jobs, cancels and webhooks."""

from __future__ import annotations

import base64
import collections
import copy
import hashlib
import hmac
import json
import logging
import math
import operator
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Self
from urllib.parse import quote, unquote, urlencode

import httpx

from orchestrator_dev.standins.fake_job_logs import DEFAULT_FAILURE_OUTPUT, FakeLogStorage, job_log
from orchestrator_dev.standins.http_standin import Request, Response, StandinServer

logger = logging.getLogger(__name__)

DOCS_URL = "https://docs.github.com/rest"
DISPATCH_DOCS_URL = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"
API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
FIRST_RUN_ID = 16_000_000_000
MAX_INPUTS = 25
MAX_INPUTS_CHARS = 65_535
RATE_LIMIT = 5000
RUN_STATUSES = frozenset({"requested", "queued", "in_progress", "waiting", "pending", "completed"})
JOB_CONCLUSIONS = frozenset({"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"})
CANCEL_DOCS_URL = "https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run"
FIRST_JOB_ID = 40_000_000_000
HOOK_ID = 498_765_432
HOOKSHOT_USER_AGENT = "GitHub-Hookshot/4f3a2b1"
_MASK = "********"  # how GitHub shows a hook's secret
_ZEN = (
    "Design for failure.",
    "Keep it logically awesome.",
    "Speak like a human.",
    "Non-blocking is better than blocking.",
    "Anything added dilutes everything else.",
    "Practicality beats purity.",
    "Avoid administrative distraction.",
    "Mind your words, they are important.",
    "Approachable is better than simple.",
    "Half measures are as bad as nothing at all.",
)
# Conclusions under which a job's runner really ran it (it gets a runner and a start time).
_RAN = frozenset({"success", "failure", "neutral", "timed_out"})

# GitHub's front end answers a request without User-Agent itself, in plain text rather than JSON.
_NO_USER_AGENT = (
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent header "
    "(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). "
    "Check https://developer.github.com for other possible causes.\n"
)
_DISPATCH_KEYS = ("ref", "inputs", "return_run_details")


@dataclass(frozen=True)
class FakeJob:
    """One job of a workflow, with the names of its steps in order."""

    name: str
    steps: tuple[str, ...] = ("Set up job", "Run", "Complete job")

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"job {self.name!r} needs at least one step")


@dataclass(frozen=True)
class FakeWorkflow:
    """A workflow file as far as dispatching is concerned."""

    id: int
    name: str
    inputs: dict[str, bool] = field(default_factory=dict)  # input name → required
    dispatchable: bool = True
    # The input a workflow's `run-name` echoes (e.g. a correlation id), so runs can be told apart.
    run_name_input: str | None = None
    # The jobs each run of it has, in order; none by default (the jobs list is then empty).
    jobs: tuple[FakeJob, ...] = ()


class Delivery(NamedTuple):
    """One attempt at a webhook delivery, as `FakeGitHub.deliveries` lists it."""

    delivery_id: str
    action: str  # the workflow_run action, or "ping"
    run_id: int | None
    outcome: int | str  # the receiver's HTTP status, or the name of the exception that stopped the attempt


@dataclass(frozen=True)
class _Outgoing:
    delivery_id: str
    event: str
    action: str
    run_id: int | None
    body: bytes


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _created_filter(expression: str) -> Callable[[datetime], bool]:
    """GitHub's search syntax for `created`: `>=T`, `>T`, `<=T`, `<T`, `A..B`, or a day or second."""
    comparisons: tuple[tuple[str, Callable[[datetime, datetime], bool]], ...] = (
        (">=", operator.ge),
        ("<=", operator.le),
        (">", operator.gt),
        ("<", operator.lt),
    )
    for symbol, compare in comparisons:
        if expression.startswith(symbol):
            bound = _parse_time(expression[len(symbol) :])
            return lambda moment: compare(moment, bound)
    if ".." in expression:
        low, high = (_parse_time(part) for part in expression.split("..", 1))
        return lambda moment: low <= moment <= high
    start = _parse_time(expression)
    end = start + (timedelta(seconds=1) if "T" in expression else timedelta(days=1))
    return lambda moment: start <= moment < end


class FakeGitHub(StandinServer):
    """GitHub's REST API for one repository's workflows, with an API base at `url`.

    With a `webhook_url`, every change of a run's status is also sent there as a
    `workflow_run` webhook delivery, signed with `webhook_secret`, from a background
    thread, in the order the changes happened.
    """

    json_content_type = "application/json; charset=utf-8"
    server_header = "github.com"
    webhook_timeout = 2.0  # seconds for one delivery attempt

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

        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        # Deliveries: the outbox, attempts and the pending count share one lock, taken after `_state`, never before.
        self._outbox_ready = threading.Condition()
        self._outbox: collections.deque[_Outgoing] = collections.deque()
        self._pending = 0
        self._sent: dict[str, _Outgoing] = {}
        self._deliveries: list[Delivery] = []
        self._delivery_stop = threading.Event()
        self._delivery_thread: threading.Thread | None = None

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

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> Self:
        super().start()
        if self.webhook_url is not None:
            self._delivery_stop = stop = threading.Event()
            self._delivery_thread = threading.Thread(
                target=self._deliver_loop, args=(stop,), name=f"{type(self).__name__}-webhooks", daemon=True
            )
            self._delivery_thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; deliveries not yet attempted are dropped (an attempt under way finishes first)."""
        super().stop()
        thread, self._delivery_thread = self._delivery_thread, None
        if thread is not None:
            with self._outbox_ready:
                self._delivery_stop.set()
                self._outbox_ready.notify_all()
            thread.join()
        with self._outbox_ready:
            self._outbox.clear()
            self._pending = 0
            self._outbox_ready.notify_all()

    # -- what tests read and drive ---------------------------------------------

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
                        _start_job(jobs[0], now)
            elif status == "completed":
                if run["status"] == "completed":
                    self._reset_jobs(run)
                _finish_jobs(jobs, conclusion, now)
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
                    _start_job(jobs[0], now)
                self._move_run(run, "in_progress", None, now)
                return copy.deepcopy(run)
            running = next((job for job in jobs if job["status"] == "in_progress"), None)
            if running is None:
                waiting = next((job for job in jobs if job["status"] != "completed"), None)
                if waiting is None:
                    self._move_run(run, "completed", _overall(jobs), now)
                else:
                    _start_job(waiting, now)
                    run["updated_at"] = now
                return copy.deepcopy(run)
            steps = running["steps"]
            current = next((i for i, step in enumerate(steps) if step["status"] != "completed"), len(steps))
            if current < len(steps):
                _end_step(steps[current], "success", now)
            if current + 1 < len(steps):
                _start_step(steps[current + 1], now)
                run["updated_at"] = now
            else:
                running.update(status="completed", conclusion="success", completed_at=now)
                if all(job["status"] == "completed" for job in jobs):
                    self._move_run(run, "completed", _overall(jobs), now)
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

    # -- webhook deliveries ---------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery attempt that has finished, in order; a redelivery repeats its delivery id."""
        with self._outbox_ready:
            return list(self._deliveries)

    def redeliver(self, delivery_id: str) -> None:
        """Send a past delivery again, with the same delivery id and body, as GitHub's "Redeliver" does."""
        with self._outbox_ready:
            outgoing = self._sent.get(delivery_id)
            if outgoing is None:
                raise KeyError(f"no delivery {delivery_id!r}")
            self._outbox.append(outgoing)
            self._pending += 1
            self._outbox_ready.notify_all()

    def deliver_ping(self) -> str:
        """Send a `ping` event, as GitHub does when a webhook is created; returns its delivery id."""
        if self.webhook_url is None:
            raise RuntimeError("no webhook_url to deliver to")
        created = _timestamp(datetime.fromtimestamp(self._rate_reset - 3600, UTC))
        hook_api = f"{self.url}/repos/{self.repository}/hooks/{HOOK_ID}"
        config: dict[str, Any] = {"content_type": "json", "insecure_ssl": "0", "url": self.webhook_url}
        if self.webhook_secret is not None:
            config["secret"] = _MASK
        payload: dict[str, Any] = {
            "zen": secrets.choice(_ZEN),
            "hook_id": HOOK_ID,
            "hook": {
                "type": "Repository",
                "id": HOOK_ID,
                "name": "web",
                "active": True,
                "events": ["workflow_run"],
                "config": config,
                "updated_at": created,
                "created_at": created,
                "url": hook_api,
                "test_url": f"{hook_api}/test",
                "ping_url": f"{hook_api}/pings",
                "deliveries_url": f"{hook_api}/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None},
            },
            "repository": _webhook_repository(self.url, self.repository),
            "sender": _user(self.repository.split("/", 1)[0], 9919),
        }
        with self._state:
            return self._enqueue("ping", "ping", None, payload)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until every queued delivery has been attempted; False if `timeout` seconds pass first."""
        with self._outbox_ready:
            return self._outbox_ready.wait_for(lambda: self._pending == 0, timeout)

    # -- StandinServer hooks ---------------------------------------------------------

    def before_route(self, request: Request) -> Response | None:
        if not request.headers.get("user-agent"):
            return Response(403, _NO_USER_AGENT.encode(), {"Content-Type": "text/plain; charset=utf-8"})
        version = request.headers.get("x-github-api-version")
        if version is None:
            # GitHub would assume 2022-11-28; the stand-in insists so clients never rely on that.
            return _error(400, "The X-GitHub-Api-Version header is required by this stand-in.")
        if version not in API_VERSIONS:
            return _error(400, f"API version {version} is not supported.")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), self.token.encode()):
            return _error(401, "Bad credentials")
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
        return _error(404, "Not Found")

    def server_error(self, request: Request) -> Response:
        return _error(500, "Server Error")

    # -- routes ------------------------------------------------------------------------

    def _on_dispatch(self, request: Request, params: dict[str, str]) -> Response:
        found = self._find_workflow(params)
        if found is None:
            return _error(404, "Not Found", DISPATCH_DOCS_URL)
        file, workflow = found
        body = request.json
        if not isinstance(body, dict):
            return _error(400, "Problems parsing JSON", DISPATCH_DOCS_URL)
        problem = self._dispatch_problem(body, workflow)
        if problem is not None:
            return problem
        with self._state:
            run = self._new_run(file, _short_ref(body["ref"]), body.get("inputs") or {}, "octocat")
            self._dispatches.append(copy.deepcopy(body))
        if body.get("return_run_details"):
            return Response(200, {"workflow_run_id": run["id"], "run_url": run["url"], "html_url": run["html_url"]})
        return Response(204)

    def _dispatch_problem(self, body: dict[str, Any], workflow: FakeWorkflow) -> Response | None:
        """The first thing GitHub would reject in a dispatch body, in the order it checks."""
        for key in body:
            known = key in _DISPATCH_KEYS and (key != "return_run_details" or self.supports_return_run_details)
            if not known:
                return _error(400, f'Invalid request.\n\n"{key}" is not a permitted key.', DISPATCH_DOCS_URL)
        ref, inputs = body.get("ref"), body.get("inputs") or {}
        if ref is None:
            return _invalid('"ref" wasn\'t supplied.')
        if not isinstance(ref, str):
            return _invalid(f"For 'properties/ref', {json.dumps(ref)} is not a string.")
        if not isinstance(inputs, dict):
            return _invalid(f"For 'properties/inputs', {json.dumps(inputs)} is not an object.")
        if len(inputs) > MAX_INPUTS:
            return _invalid(f"For 'properties/inputs', more than {MAX_INPUTS} properties were provided.")
        for name, value in inputs.items():
            if not isinstance(value, str):
                return _invalid(f"For 'properties/{name}', {json.dumps(value)} is not a string.")
        if len(json.dumps(inputs)) > MAX_INPUTS_CHARS:
            return _invalid(f"inputs are too large: at most {MAX_INPUTS_CHARS} characters.")
        if not isinstance(body.get("return_run_details", False), bool):
            shown = json.dumps(body["return_run_details"])
            return _invalid(f"For 'properties/return_run_details', {shown} is not a boolean.")
        if not self._has_ref(_short_ref(ref)):
            return _error(422, f"No ref found for: {ref}", DISPATCH_DOCS_URL)
        if not workflow.dispatchable:
            return _error(422, "Workflow does not have 'workflow_dispatch' trigger", DISPATCH_DOCS_URL)
        unexpected = sorted(set(inputs) - set(workflow.inputs))
        if unexpected:
            return _error(422, f"Unexpected inputs provided: {json.dumps(unexpected)}", DISPATCH_DOCS_URL)
        for name, required in workflow.inputs.items():
            if required and name not in inputs:
                return _error(422, f"Required input '{name}' not provided", DISPATCH_DOCS_URL)
        return None

    def _on_list_runs(self, request: Request, params: dict[str, str]) -> Response:
        found = self._find_workflow(params)
        if found is None:
            return _error(404, "Not Found")
        query = request.query
        try:
            created = _created_filter(query["created"]) if query.get("created") else None
        except ValueError:
            return _error(422, f"Invalid created filter: {query['created']}")
        per_page = min(max(_int(query.get("per_page"), 30), 1), 100)
        page = max(_int(query.get("page"), 1), 1)
        with self._state:
            runs = [
                run
                for run in reversed(self._runs.values())
                if run["workflow_id"] == found[1].id
                and query.get("event", run["event"]) == run["event"]
                and query.get("branch", run["head_branch"]) == run["head_branch"]
                and ("status" not in query or query["status"] in (run["status"], run["conclusion"]))
                and (created is None or created(_parse_time(run["created_at"])))
            ]
            chosen = copy.deepcopy(runs[(page - 1) * per_page : page * per_page])
        return Response(200, {"total_count": len(runs), "workflow_runs": chosen})

    def _on_get_run(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params) or not params["run_id"].isdigit():
            return _error(404, "Not Found")
        with self._state:
            run = self._runs.get(int(params["run_id"]))
            return _error(404, "Not Found") if run is None else Response(200, copy.deepcopy(run))

    def _on_list_jobs(self, request: Request, params: dict[str, str]) -> Response:
        # `filter` (latest or all) changes nothing: a run here keeps only its latest attempt's jobs.
        if not self._is_our_repo(params) or not params["run_id"].isdigit():
            return _error(404, "Not Found")
        per_page = min(max(_int(request.query.get("per_page"), 30), 1), 100)
        page = max(_int(request.query.get("page"), 1), 1)
        with self._state:
            jobs = self._jobs.get(int(params["run_id"]))
            if jobs is None:
                return _error(404, "Not Found")
            chosen = copy.deepcopy(jobs[(page - 1) * per_page : page * per_page])
            total = len(jobs)
        link = _link_header(f"{self.url}{request.path}", request.query, page, per_page, total)
        return Response(200, {"total_count": total, "jobs": chosen}, {"Link": link} if link else {})

    def _on_cancel(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params) or not params["run_id"].isdigit():
            return _error(404, "Not Found")
        run_id = int(params["run_id"])
        with self._state:
            run = self._runs.get(run_id)
            if run is None:
                return _error(404, "Not Found")
            if run["status"] == "completed":
                return _error(409, "Cannot cancel a workflow run that is completed.", CANCEL_DOCS_URL)
            now = self._tick()
            _finish_jobs(self._jobs[run_id], "cancelled", now)
            self._move_run(run, "completed", "cancelled", now)
            self._cancels.append(run_id)
        return Response(202, {})

    def _on_rerun_failed_jobs(self, request: Request, params: dict[str, str]) -> Response:
        """A new attempt of the run: its jobs queued again (with new ids), the run queued."""
        if not self._is_our_repo(params) or not params["run_id"].isdigit():
            return _error(404, "Not Found")
        run_id = int(params["run_id"])
        body = request.json if isinstance(request.json, dict) else {}
        with self._state:
            run = self._runs.get(run_id)
            if run is None:
                return _error(404, "Not Found")
            if run["status"] != "completed" or run["conclusion"] == "success":
                return _error(403, "This workflow run is not retryable")
            now = self._tick()
            run["run_attempt"] += 1
            workflow = self.workflows[_workflow_file(run)]
            jobs = self._jobs[run_id]
            jobs[:] = [self._new_job(run, workflow, spec, self._new_job_id()) for spec in workflow.jobs]
            self._announced_in_progress.discard(run_id)
            self._move_run(run, "queued", None, now)
            self._reruns.append((run_id, body.get("enable_debug_logging") is True))
        return Response(201, {})

    def _on_job_logs(self, request: Request, params: dict[str, str]) -> Response:
        job = self._job(params)
        if job is None or self.log_storage is None:
            return _error(404, "Not Found")
        output = self.failure_output.get(job["name"], DEFAULT_FAILURE_OUTPUT)
        return Response(302, b"", {"Location": self.log_storage.publish(job["id"], job_log(job, output))})

    def _on_annotations(self, request: Request, params: dict[str, str]) -> Response:
        if not self.checks_readable:
            return _error(403, "Resource not accessible by personal access token")
        job = self._job(params)
        if job is None:
            return _error(404, "Not Found")
        failed = [step for step in job["steps"] if step["conclusion"] == "failure"]
        annotations: list[dict[str, Any]] = []
        for step in failed[:1]:
            output = self.failure_output.get(job["name"], DEFAULT_FAILURE_OUTPUT)
            annotations.append(_annotation(".github", 1, "Process completed with exit code 1."))
            annotations.append(_annotation("tests/test_api.py", 12, output[0] if output else step["name"]))
        return Response(200, annotations)

    def _on_contents(self, request: Request, params: dict[str, str]) -> Response:
        """A file's content as GitHub's default media type gives it: base64, with its metadata."""
        ref = request.query.get("ref") or "main"
        path = unquote(params["path"])
        folder, _, file = path.rpartition("/")
        if not self._is_our_repo(params) or folder != ".github/workflows":
            return _error(404, "Not Found")
        if not self.contents_readable:
            return _error(403, "Resource not accessible by personal access token")
        if not self._has_ref(ref):
            return _error(404, f"No commit found for the ref {ref}")
        text = self.workflow_files.get(file)
        if text is None and file in self.workflows:
            text = workflow_yaml(self.workflows[file])
        if text is None:
            return _error(404, "Not Found")
        data = text.encode()
        api = f"{self.url}/repos/{self.repository}"
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's blob id
        html = f"https://github.com/{self.repository}/blob/{ref}/{path}"
        body = {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": file,
            "path": path,
            "content": base64.encodebytes(data).decode(),  # GitHub wraps it at 60 characters
            "sha": sha,
            "url": f"{api}/contents/{path}?ref={ref}",
            "git_url": f"{api}/git/blobs/{sha}",
            "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{self.repository}/{ref}/{path}",
            "_links": {"self": f"{api}/contents/{path}?ref={ref}", "git": f"{api}/git/blobs/{sha}", "html": html},
        }
        # GitHub's ETag is a weak validator of the answer; one that matches If-None-Match gets 304, no body.
        etag = 'W/"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest() + '"'
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(304, None, {"ETag": etag})
        return Response(200, body, {"ETag": etag})

    def _on_branches(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params):
            return _error(404, "Not Found")
        api = f"{self.url}/repos/{self.repository}"
        branches = [
            {"name": name, "commit": {"sha": sha, "url": f"{api}/commits/{sha}"}, "protected": False}
            for name, sha in ((name, _ref_sha("heads", name)) for name in self.branches)
        ]
        return self._paged(request, branches)

    def _on_activity(self, request: Request, params: dict[str, str]) -> Response:
        """Pushes, merges and branch changes, newest first, as GitHub's repository activity lists them."""
        if not self._is_our_repo(params):
            return _error(404, "Not Found")
        items = [
            {
                "id": 1_296_269_000 + number,
                "node_id": "RA_" + base64.b64encode(f"Activity{number}".encode()).decode().rstrip("="),
                "before": _ref_sha("before", f"{ref}{number}"),
                "after": _ref_sha("after", f"{ref}{number}"),
                "ref": ref,
                "timestamp": timestamp,
                "activity_type": kind,
                "actor": _user("octocat", 583231),
            }
            for number, (ref, timestamp, kind) in enumerate(self.activity)
        ]
        return self._paged(request, items)

    def _on_tags(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params):
            return _error(404, "Not Found")
        api = f"{self.url}/repos/{self.repository}"
        tags = []
        for name in self.tags:
            sha, quoted = _ref_sha("tags", name), quote(name, safe="")
            tags.append(
                {
                    "name": name,
                    "commit": {"sha": sha, "url": f"{api}/commits/{sha}"},
                    "zipball_url": f"{api}/zipball/refs/tags/{quoted}",
                    "tarball_url": f"{api}/tarball/refs/tags/{quoted}",
                    "node_id": "REF_" + base64.b64encode(f"tags/{name}".encode()).decode().rstrip("="),
                }
            )
        return self._paged(request, tags)

    def _on_environments(self, request: Request, params: dict[str, str]) -> Response:
        if not self._is_our_repo(params):
            return _error(404, "Not Found")
        api = f"{self.url}/repos/{self.repository}"
        environments = []
        for number, (name, updated_at) in enumerate(self.environments):
            environment_id = 161_088_068 + number
            quoted = quote(name, safe="")
            environments.append(
                {
                    "id": environment_id,
                    "node_id": "EN_" + base64.b64encode(f"Environment{environment_id}".encode()).decode(),
                    "name": name,
                    "url": f"{api}/environments/{quoted}",
                    "html_url": f"https://github.com/{self.repository}/deployments/activity_log?environments_filter={quoted}",
                    "created_at": updated_at,
                    "updated_at": updated_at,
                    "protection_rules": [],
                    "deployment_branch_policy": None,
                }
            )
        page = self._paged(request, environments)
        return Response(200, {"total_count": len(environments), "environments": page.body}, page.headers)

    def _paged(self, request: Request, items: list[dict[str, Any]]) -> Response:
        """One page of `items` as GitHub pages a list (`per_page` 30 by default, at most 100), with its Link."""
        per_page = min(max(_int(request.query.get("per_page"), 30), 1), 100)
        page = max(_int(request.query.get("page"), 1), 1)
        link = _link_header(f"{self.url}{request.path}", request.query, page, per_page, len(items))
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

    # -- helpers ---------------------------------------------------------------------------

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

    def _tick(self) -> str:
        """Now, or a second after the last change if that is not earlier; the caller holds `_state`."""
        now = datetime.now(UTC).replace(microsecond=0)
        self._clock = max(now, self._clock + timedelta(seconds=1))
        return _timestamp(self._clock)

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
        workflow = self.workflows[_workflow_file(run)]
        ids = [job["id"] for job in jobs]
        jobs[:] = [self._new_job(run, workflow, spec, job_id) for spec, job_id in zip(workflow.jobs, ids, strict=True)]

    def _new_job_id(self) -> int:
        """The next job id; the caller holds `_state`."""
        self._next_job_id += 1
        return self._next_job_id - 1

    def _new_job(self, run: dict[str, Any], workflow: FakeWorkflow, spec: FakeJob, job_id: int) -> dict[str, Any]:
        api = f"{self.url}/repos/{self.repository}"
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
            "html_url": f"https://github.com/{self.repository}/actions/runs/{run['id']}/job/{job_id}",
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

    def _announce(self, action: str, run: dict[str, Any]) -> None:
        """Queue a `workflow_run` delivery of the run as it is now; the caller holds `_state`."""
        if self.webhook_url is None:
            return
        file = _workflow_file(run)
        workflow = self.workflows[file]
        api = f"{self.url}/repos/{self.repository}"
        payload = {
            "action": action,
            "workflow_run": run,
            "workflow": {
                "id": workflow.id,
                "node_id": "W_" + base64.urlsafe_b64encode(workflow.id.to_bytes(8, "big")).decode().rstrip("="),
                "name": workflow.name,
                "path": run["path"],
                "state": "active",
                "created_at": "2024-01-02T10:00:00.000Z",
                "updated_at": "2024-01-02T10:00:00.000Z",
                "url": f"{api}/actions/workflows/{workflow.id}",
                "html_url": f"https://github.com/{self.repository}/blob/main/{run['path']}",
                "badge_url": f"https://github.com/{self.repository}/workflows/{workflow.name}/badge.svg",
            },
            "repository": _webhook_repository(self.url, self.repository),
            "sender": run["triggering_actor"],
        }
        self._enqueue("workflow_run", action, run["id"], payload)

    def _enqueue(self, event: str, action: str, run_id: int | None, payload: Mapping[str, Any]) -> str:
        """Serialize now (the body is what the run was at this moment) and queue the delivery."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        outgoing = _Outgoing(str(uuid.uuid4()), event, action, run_id, body)
        with self._outbox_ready:
            self._sent[outgoing.delivery_id] = outgoing
            self._outbox.append(outgoing)
            self._pending += 1
            self._outbox_ready.notify_all()
        return outgoing.delivery_id

    def _deliver_loop(self, stop: threading.Event) -> None:
        with httpx.Client(timeout=self.webhook_timeout) as client:
            while True:
                with self._outbox_ready:
                    self._outbox_ready.wait_for(lambda: bool(self._outbox) or stop.is_set())
                    if stop.is_set():
                        return
                    outgoing = self._outbox.popleft()
                outcome = self._post(client, outgoing)
                with self._outbox_ready:
                    self._deliveries.append(Delivery(outgoing.delivery_id, outgoing.action, outgoing.run_id, outcome))
                    self._pending = max(0, self._pending - 1)
                    self._outbox_ready.notify_all()

    def _post(self, client: httpx.Client, outgoing: _Outgoing) -> int | str:
        assert self.webhook_url is not None
        headers = {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": HOOKSHOT_USER_AGENT,
            "X-GitHub-Delivery": outgoing.delivery_id,
            "X-GitHub-Event": outgoing.event,
            "X-GitHub-Hook-ID": str(HOOK_ID),
            "X-GitHub-Hook-Installation-Target-ID": str(_REPOSITORY_ID),
            "X-GitHub-Hook-Installation-Target-Type": "repository",
        }
        if self.webhook_secret is not None:
            key = self.webhook_secret.encode()
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(key, outgoing.body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(key, outgoing.body, hashlib.sha256).hexdigest()
        try:
            return client.post(self.webhook_url, content=outgoing.body, headers=headers).status_code
        except Exception as exc:  # a failed delivery is recorded, never fatal to the delivery thread
            logger.debug("webhook delivery %s failed", outgoing.delivery_id, exc_info=True)
            return type(exc).__name__

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
        user = _user(actor, 583231)
        repository = _repository(self.url, self.repository)
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
        self._jobs[run_id] = [self._new_job(run, workflow, spec, self._new_job_id()) for spec in workflow.jobs]
        self._announce("requested", run)
        return run


def _workflow_file(run: Mapping[str, Any]) -> str:
    return str(run["path"]).removeprefix(".github/workflows/")


def _start_step(step: dict[str, Any], now: str) -> None:
    step.update(status="in_progress", started_at=now)


def _end_step(step: dict[str, Any], conclusion: str | None, now: str) -> None:
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


def _start_job(job: dict[str, Any], now: str) -> None:
    job["status"] = "in_progress"
    _take_runner(job, now)
    _start_step(job["steps"][0], now)


def _finish_jobs(jobs: list[dict[str, Any]], conclusion: str | None, now: str) -> None:
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
        _end_step(step, outcome, now)
    job.update(status="completed", conclusion=conclusion, completed_at=now)


def _overall(jobs: Iterable[Mapping[str, Any]]) -> str:
    return "failure" if any(job["conclusion"] == "failure" for job in jobs) else "success"


def _link_header(url: str, query: Mapping[str, str], page: int, per_page: int, total: int) -> str:
    """GitHub's pagination links (first, prev, next, last) for a page of `total` items."""
    last = max(1, math.ceil(total / per_page))
    links = []
    for rel, number in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
        if rel in ("prev", "first") and page == 1:
            continue
        if rel in ("next", "last") and page >= last:
            continue
        target = urlencode({**query, "per_page": str(per_page), "page": str(number)})
        links.append(f'<{url}?{target}>; rel="{rel}"')
    return ", ".join(links)


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 §13.1.2): any listed tag, W/ or not, or `*`."""
    if if_none_match is None:
        return False
    listed = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in listed or etag.removeprefix("W/") in listed


def _ref_sha(kind: str, name: str) -> str:
    """A commit id for a branch or tag: made up, but the same for the same name."""
    return hashlib.sha1(f"refs/{kind}/{name}".encode()).hexdigest()  # noqa: S324 - not security


def _annotation(path: str, line: int, message: str) -> dict[str, Any]:
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


def _error(status: int, message: str, docs: str = DOCS_URL) -> Response:
    return Response(status, {"message": message, "documentation_url": docs, "status": str(status)})


def _invalid(detail: str) -> Response:
    return _error(422, f"Invalid request.\n\n{detail}", DISPATCH_DOCS_URL)


def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _user(login: str, user_id: int) -> dict[str, Any]:
    api = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": "U_" + base64.b64encode(f"04:User{user_id}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "User",
        "site_admin": False,
    }


# Hypermedia links of a repository object: name → URL template suffix.
_REPO_LINKS = {
    "archive": "/{archive_format}{/ref}",
    "assignees": "/assignees{/user}",
    "blobs": "/git/blobs{/sha}",
    "branches": "/branches{/branch}",
    "collaborators": "/collaborators{/collaborator}",
    "comments": "/comments{/number}",
    "commits": "/commits{/sha}",
    "compare": "/compare/{base}...{head}",
    "contents": "/contents/{+path}",
    "contributors": "/contributors",
    "deployments": "/deployments",
    "downloads": "/downloads",
    "events": "/events",
    "forks": "/forks",
    "git_commits": "/git/commits{/sha}",
    "git_refs": "/git/refs{/sha}",
    "git_tags": "/git/tags{/sha}",
    "hooks": "/hooks",
    "issue_comment": "/issues/comments{/number}",
    "issue_events": "/issues/events{/number}",
    "issues": "/issues{/number}",
    "keys": "/keys{/key_id}",
    "labels": "/labels{/name}",
    "languages": "/languages",
    "merges": "/merges",
    "milestones": "/milestones{/number}",
    "notifications": "/notifications{?since,all,participating}",
    "pulls": "/pulls{/number}",
    "releases": "/releases{/id}",
    "stargazers": "/stargazers",
    "statuses": "/statuses/{sha}",
    "subscribers": "/subscribers",
    "subscription": "/subscription",
    "tags": "/tags",
    "teams": "/teams",
    "trees": "/git/trees{/sha}",
}


_REPOSITORY_ID = 1296269


def _repository(base: str, full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/", 1)
    api = f"{base}/repos/{full_name}"
    repo: dict[str, Any] = {
        "id": _REPOSITORY_ID,
        "node_id": "R_kgDOABPHjQ",
        "name": name,
        "full_name": full_name,
        "owner": _user(owner, 9919),
        "private": True,
        "html_url": f"https://github.com/{full_name}",
        "description": None,
        "fork": False,
        "url": api,
    }
    repo.update({f"{link}_url": api + suffix for link, suffix in _REPO_LINKS.items()})
    return repo


def _webhook_repository(base: str, full_name: str) -> dict[str, Any]:
    """The full repository object webhook payloads carry (the REST run has the minimal one)."""
    repo = _repository(base, full_name)
    repo.update(
        {
            "created_at": "2023-03-01T09:00:00Z",
            "updated_at": "2024-01-02T10:00:00Z",
            "pushed_at": "2024-01-02T10:00:00Z",
            "git_url": f"git://github.com/{full_name}.git",
            "ssh_url": f"git@github.com:{full_name}.git",
            "clone_url": f"https://github.com/{full_name}.git",
            "svn_url": f"https://github.com/{full_name}",
            "homepage": None,
            "size": 504,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": "Python",
            "has_issues": True,
            "has_projects": False,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": 0,
            "license": None,
            "allow_forking": False,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private",
            "forks": 0,
            "open_issues": 0,
            "watchers": 0,
            "default_branch": "main",
            "custom_properties": {},
        }
    )
    return repo


def workflow_yaml(workflow: FakeWorkflow) -> str:
    """The workflow file a FakeWorkflow stands for: its dispatch inputs (all strings) and run-name."""
    lines = [f"name: {workflow.name}"]
    if workflow.run_name_input:
        lines.append(f'run-name: "{workflow.name} [${{{{ inputs.{workflow.run_name_input} }}}}]"')
    if not workflow.dispatchable:
        lines += ["on: push"]
    else:
        lines += ["on:", "  workflow_dispatch:", "    inputs:" if workflow.inputs else ""]
        for name, required in workflow.inputs.items():
            lines += [f"      {name}:", "        type: string", f"        required: {str(required).lower()}"]
    lines += ["jobs:", "  run:", "    runs-on: ubuntu-latest", "    steps:", "      - run: echo ok"]
    return "\n".join(line for line in lines if line) + "\n"
