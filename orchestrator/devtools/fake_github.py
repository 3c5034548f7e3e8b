"""A stand-in for the GitHub Actions REST API: workflow dispatches and workflow runs."""

from __future__ import annotations

import base64
import copy
import json
import operator
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.devtools.http_standin import Request, Response, StandinServer

DOCS_URL = "https://docs.github.com/rest"
DISPATCH_DOCS_URL = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"
API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
FIRST_RUN_ID = 16_000_000_000
MAX_INPUTS = 25
MAX_INPUTS_CHARS = 65_535
RATE_LIMIT = 5000
RUN_STATUSES = frozenset({"requested", "queued", "in_progress", "waiting", "pending", "completed"})

# GitHub's front end answers a request without User-Agent itself, in plain text rather than JSON.
_NO_USER_AGENT = (
    "Request forbidden by administrative rules. Please make sure your request has a User-Agent header "
    "(https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). "
    "Check https://developer.github.com for other possible causes.\n"
)
_DISPATCH_KEYS = ("ref", "inputs", "return_run_details")


@dataclass(frozen=True)
class FakeWorkflow:
    """A workflow file as far as dispatching is concerned."""

    id: int
    name: str
    inputs: dict[str, bool] = field(default_factory=dict)  # input name → required
    dispatchable: bool = True
    # The input a workflow's `run-name` echoes (e.g. a correlation id), so runs can be told apart.
    run_name_input: str | None = None


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
    """GitHub's REST API for one repository's workflows, with an API base at `url`."""

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
    ) -> None:
        super().__init__(host=host, port=port)
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository must be owner/repo, got {repository!r}")
        self.token = token
        self.repository = repository
        self.workflows = dict(workflows)
        self.refs = set(refs)
        self.supports_return_run_details = supports_return_run_details
        self._state = threading.Lock()
        self._runs: dict[int, dict[str, Any]] = {}
        self._dispatches: list[dict[str, Any]] = []
        self._run_numbers: dict[str, int] = {}
        self._next_run_id = FIRST_RUN_ID
        self._used = 0
        self._rate_reset = int(time.time()) + 3600

        actions = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions"
        workflow = actions + r"/workflows/(?P<workflow_id>[^/]+)"
        self.add_route("POST", workflow + "/dispatches", self._on_dispatch)
        self.add_route("GET", workflow + "/runs", self._on_list_runs)
        self.add_route("GET", actions + r"/runs/(?P<run_id>[^/]+)", self._on_get_run)

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

    def set_run_status(self, run_id: int, status: str, conclusion: str | None = None) -> dict[str, Any]:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self._state:
            run = self._runs[run_id]
            run.update(status=status, conclusion=conclusion, updated_at=_timestamp(datetime.now(UTC)))
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
        if _short_ref(ref) not in self.refs:
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

    # -- helpers ---------------------------------------------------------------------------

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

    def _new_run(self, file: str, ref: str, inputs: Mapping[str, str], actor: str) -> dict[str, Any]:
        """Create and store a run; the caller holds `_state`."""
        workflow = self.workflows[file]
        run_id = self._next_run_id
        self._next_run_id += 1
        self._run_numbers[file] = number = self._run_numbers.get(file, 0) + 1
        title = workflow.name
        if workflow.run_name_input and inputs.get(workflow.run_name_input):
            title = f"{workflow.name} {inputs[workflow.run_name_input]}"
        now = _timestamp(datetime.now(UTC))
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
        return run


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


def _repository(base: str, full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/", 1)
    api = f"{base}/repos/{full_name}"
    repo: dict[str, Any] = {
        "id": 1296269,
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
