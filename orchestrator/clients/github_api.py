"""GitHub Actions REST: dispatch a workflow and find its run.

The client maps HTTP outcomes to typed errors; deciding what to do about them
(look for the run, retry, tell the user) is the dispatcher's job.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from orchestrator import __version__
from orchestrator.clients.auth import HeaderAuth
from orchestrator.clients.breaker import CircuitOpen
from orchestrator.clients.github_errors import (
    AmbiguousRun,
    GitHubCircuitOpen,
    GitHubOutcomeUnknown,
    GitHubRateLimited,
    GitHubRejected,
    GitHubUnreachable,
    ReturnRunDetailsUnsupported,
)
from orchestrator.clients.retries import RetryPolicy, is_rate_limited, json_object, retry_after_seconds, send
from orchestrator.discord.wire import MAX_CHOICE_CHARS
from orchestrator.observability.redaction import active_redactor

API_VERSION = "2022-11-28"
READ_POLICY = RetryPolicy()
# A dispatch is not idempotent: a 5xx or a lost answer is reported, never blindly resent.
DISPATCH_POLICY = RetryPolicy(idempotent=False)
# The failure digest's calls are each sent once: its own time budget, not retries, bounds it.
DIGEST_POLICY = RetryPolicy(max_attempts=1)
RUNS_PER_PAGE = 100  # GitHub's largest page
ANNOTATIONS_PER_PAGE = 50
MAX_RUN_PAGES = 10  # one look reads at most 1,000 runs (where GitHub's filtered lists end)
MAX_LOG_URL = 8192  # signed log URLs are long (~1 KB), but not this long
NAMES_PER_PAGE = 100  # GitHub's largest page for branches, tags and environments

ListKind = Literal["branches", "tags", "environments"]


@dataclass(frozen=True)
class RunRef:
    run_id: int
    html_url: str


@dataclass(frozen=True)
class WorkflowFile:
    text: str | None  # None: unchanged since the ETag passed in (GitHub answered 304 Not Modified)
    etag: str | None  # GitHub's ETag header of this answer, to pass back next time


@dataclass(frozen=True)
class NameList:
    # Branches and tags in GitHub's order, environments most recently updated first (ties by name);
    # no duplicates, each 1..MAX_CHOICE_CHARS characters (a Discord choice's) (longer names are skipped).
    names: tuple[str, ...]
    complete: bool  # False: the budget ran out (pages or time) before GitHub's last page
    calls: int  # requests made


class GitHubClient:
    def __init__(
        self,
        http: httpx.Client,
        api_url: str,
        token: str | Callable[[], str],
        repository: str,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """`token` may be a callable, asked on every request: a rotated token is used at once."""
        self._http = http
        self._sleep = sleep  # waits between retries (backoff, Retry-After); None: time.sleep
        self._api_url = api_url.rstrip("/")
        self._repository = repository
        http.auth = HeaderAuth("Bearer", token)
        http.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"orchestrator-bot/{__version__}",
            }
        )

    def _workflow_url(self, workflow: str, tail: str) -> str:
        return f"{self._api_url}/repos/{self._repository}/actions/workflows/{quote(workflow, safe='')}/{tail}"

    def dispatch_workflow(
        self, workflow: str, ref: str, inputs: dict[str, str], *, return_run_details: bool
    ) -> RunRef | None:
        """Start a run; return its id and link when GitHub gives them (None on 204)."""
        body: dict[str, Any] = {"ref": ref, "inputs": inputs}
        if return_run_details:
            body["return_run_details"] = True
        response = self._send("POST", self._workflow_url(workflow, "dispatches"), DISPATCH_POLICY, json_body=body)
        if response.status_code == 204:
            return None
        if response.status_code == 200:
            run = json_object(response)
            try:
                return RunRef(int(run["workflow_run_id"]), str(run["html_url"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise GitHubOutcomeUnknown("200 without workflow_run_id") from exc
        if response.status_code == 400 and return_run_details and "return_run_details" in _message(response):
            raise ReturnRunDetailsUnsupported(_message(response))
        self._raise_for(response)
        raise GitHubOutcomeUnknown(f"unexpected status {response.status_code}")

    def find_dispatched_run(self, workflow: str, correlation_id: str, created_since: datetime) -> RunRef | None:
        """The workflow_dispatch run whose name carries `correlation_id` (never just the newest run).

        The id must stand where the documented `run-name` puts it, in brackets (`[<trace id>]`), never
        merely somewhere in the name: a run name can hold user input, and another user's value could
        contain our id. Two runs carrying it is AmbiguousRun: neither is taken.

        Runs are listed newest first: under load, or on a redelivery minutes later, ours can be
        past the first page, so every full page is followed by the next, up to MAX_RUN_PAGES; the
        page where ours is found is read to its end for a second match.
        """
        since = created_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        params = {"event": "workflow_dispatch", "created": f">={since}", "per_page": str(RUNS_PER_PAGE)}
        token = f"[{correlation_id}]"
        for page in range(1, MAX_RUN_PAGES + 1):
            runs = self._get_json(
                self._workflow_url(workflow, "runs"), params=params if page == 1 else {**params, "page": str(page)}
            ).get("workflow_runs")
            listed = runs if isinstance(runs, list) else []
            found = {
                run["id"]: RunRef(run["id"], str(run.get("html_url", "")))
                for run in listed
                if isinstance(run, dict)
                and isinstance(run.get("id"), int)
                and token in f"{run.get('display_title') or ''} {run.get('name') or ''}"
            }
            if len(found) > 1:
                raise AmbiguousRun(f"{len(found)} runs carry the same trace id")
            if found:
                return next(iter(found.values()))
            if len(listed) < RUNS_PER_PAGE:
                return None
        return None

    def get_run(self, run_id: int) -> dict[str, Any]:
        return self._get_json(f"{self._api_url}/repos/{self._repository}/actions/runs/{run_id}")

    def list_jobs(self, run_id: int) -> tuple[list[dict[str, Any]], int]:
        """The run's jobs (first 100, as GitHub pages them) and how many there are in all."""
        body = self._get_json(
            f"{self._api_url}/repos/{self._repository}/actions/runs/{run_id}/jobs",
            params={"filter": "latest", "per_page": "100"},
        )
        jobs = [job for job in body.get("jobs") or [] if isinstance(job, dict)]
        total = body.get("total_count")
        return jobs, total if isinstance(total, int) and total >= len(jobs) else len(jobs)

    def cancel_run(self, run_id: int) -> bool:
        """True when GitHub accepted the cancel (202); False when the run cannot be cancelled (409)."""
        url = f"{self._api_url}/repos/{self._repository}/actions/runs/{run_id}/cancel"
        # Cancelling twice is harmless, so this may be retried like a read.
        response = self._send("POST", url, READ_POLICY)
        if response.status_code == 202:
            return True
        if response.status_code == 409:
            return False
        self._raise_for(response)
        raise GitHubOutcomeUnknown(f"unexpected status {response.status_code}")

    def list_annotations(self, job_id: int, *, timeout: float) -> list[dict[str, Any]]:
        """The job's check-run annotations (a job's id is its check run's id); needs "Checks: read"."""
        response = self._send(
            "GET",
            f"{self._api_url}/repos/{self._repository}/check-runs/{job_id}/annotations",
            DIGEST_POLICY,
            params={"per_page": str(ANNOTATIONS_PER_PAGE)},
            timeout=timeout,
        )
        if response.status_code != 200:
            self._raise_for(response)
            raise GitHubOutcomeUnknown(f"unexpected status {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise GitHubOutcomeUnknown("annotations are not JSON") from exc
        return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []

    def job_log_location(self, job_id: int, *, timeout: float) -> str:
        """Where the job's plain-text log can be downloaded: GitHub answers 302 to a short-lived
        signed URL on another host, which is returned here (never followed with the token)."""
        response = self._send(
            "GET",
            f"{self._api_url}/repos/{self._repository}/actions/jobs/{job_id}/logs",
            DIGEST_POLICY,
            timeout=timeout,
        )
        if response.status_code in (301, 302, 303, 307, 308):
            location = str(response.headers.get("location", ""))
            # The signed URL is https; plain http only when the API itself is (a local stand-in).
            schemes = ("https://", "http://") if self._api_url.startswith("http://") else ("https://",)
            if location.startswith(schemes) and len(location) <= MAX_LOG_URL:
                return location
            raise GitHubOutcomeUnknown("log redirect without a usable location")
        self._raise_for(response)
        raise GitHubOutcomeUnknown(f"unexpected status {response.status_code}")

    def rerun_failed_jobs(self, run_id: int, *, debug_logging: bool) -> None:
        """Start a new attempt of the run's failed jobs (and what depends on them): 201."""
        response = self._send(
            "POST",
            f"{self._api_url}/repos/{self._repository}/actions/runs/{run_id}/rerun-failed-jobs",
            DISPATCH_POLICY,  # a re-run is not idempotent: a lost answer is reported, never resent
            json_body={"enable_debug_logging": debug_logging},
        )
        if response.status_code == 201:
            return
        self._raise_for(response)
        raise GitHubOutcomeUnknown(f"unexpected status {response.status_code}")

    def workflow_file(self, workflow: str, ref: str, *, etag: str | None = None) -> WorkflowFile:
        """The text of `.github/workflows/<workflow>` at `ref` (needs "Contents: read"), with its ETag.
        With `etag` (from an earlier answer) GitHub answers 304 when the file is unchanged: text is
        then None, and the request did not count against the rate limit. A file missing there (or a
        ref that does not exist) is GitHubRejected(404)."""
        path = quote(f".github/workflows/{workflow}", safe="/")
        response = self._get(
            f"{self._api_url}/repos/{self._repository}/contents/{path}",
            params={"ref": ref},
            headers=None if etag is None else {"If-None-Match": etag},
            expected=(200, 304),
        )
        if response.status_code == 304:
            if etag is None:
                raise GitHubOutcomeUnknown(f"{workflow} at {ref}: 304 Not Modified to a read without an ETag")
            return WorkflowFile(None, etag)
        body = json_object(response)
        if body.get("type") != "file" or body.get("encoding") != "base64" or not isinstance(body.get("content"), str):
            raise GitHubOutcomeUnknown(f"{workflow} at {ref} is not a file GitHub returns inline (over 1 MB?)")
        try:
            text = base64.b64decode(body["content"]).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise GitHubOutcomeUnknown(f"{workflow} at {ref} is not UTF-8 text") from exc
        return WorkflowFile(text, response.headers.get("etag"))

    def list_names(
        self,
        kind: ListKind,
        *,
        max_pages: int,
        time_budget: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> NameList:
        """The repository's branch, tag or environment names (needs "Metadata: read"; environments
        need "Actions: read" or "Environments: read" on private repositories).

        Pages of 100 are read while a page is full and GitHub links a next one, at most `max_pages`
        of them, and no request is started once `time_budget` seconds (by `clock`) have passed:
        stopping early for either gives complete=False. Items without a string name are skipped;
        names over 100 characters (no Discord choice can hold them) too, and then complete=False.
        """
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        url = f"{self._api_url}/repos/{self._repository}/{kind}"
        start = clock()
        found: list[tuple[str, str | None]] = []  # (name, updated_at) in GitHub's order
        calls = 0
        complete = False
        while calls < max_pages and clock() - start < time_budget:
            calls += 1
            response = self._get(url, params={"per_page": str(NAMES_PER_PAGE), "page": str(calls)})
            items = _page_items(kind, _json_body(response))
            found += [
                (item["name"], item.get("updated_at") if isinstance(item.get("updated_at"), str) else None)
                for item in items
                if isinstance(item, dict) and isinstance(item.get("name"), str)
            ]
            if len(items) < NAMES_PER_PAGE or "next" not in response.links:
                complete = True
                break
        if kind == "environments":
            found.sort(key=lambda entry: (-_epoch(entry[1]), entry[0]))
        names = dict.fromkeys(name for name, _ in found if 1 <= len(name) <= MAX_CHOICE_CHARS)
        # A name left out (too long to offer) still exists: the list no longer says what does not.
        complete = complete and all(len(name) <= MAX_CHOICE_CHARS for name, _ in found)
        return NameList(tuple(names), complete, calls)

    def recently_updated_refs(self) -> tuple[str, ...]:
        """Full refs (`refs/heads/…`, `refs/tags/…`) pushed, merged into or created lately, newest
        first: one page of the repository's activity (GitHub keeps it for 90 days; needs Metadata: read)."""
        response = self._get(f"{self._api_url}/repos/{self._repository}/activity", params={"per_page": "100"})
        body = _json_body(response)
        items = body if isinstance(body, list) else []
        return tuple(
            dict.fromkeys(
                item["ref"]
                for item in items
                if isinstance(item, dict)
                and isinstance(item.get("ref"), str)
                and item.get("activity_type") != "branch_deletion"
            )
        )

    def _send(self, method: str, url: str, policy: RetryPolicy, **kwargs: Any) -> httpx.Response:
        """Send with retries; a request that never left is GitHubUnreachable, one that may have
        reached GitHub without an answer is GitHubOutcomeUnknown."""
        try:
            return send(self._http, method, url, policy=policy, sleep=self._sleep, **kwargs)
        except CircuitOpen as exc:
            raise GitHubCircuitOpen(exc.retry_in) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise GitHubUnreachable(type(exc).__name__) from exc
        except httpx.TransportError as exc:
            raise GitHubOutcomeUnknown(type(exc).__name__) from exc

    def _get(
        self,
        url: str,
        params: dict[str, str] | None = None,
        *,
        headers: dict[str, str] | None = None,
        expected: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """A read (retried as READ_POLICY says); any status but `expected` is raised as its error."""
        response = self._send("GET", url, READ_POLICY, params=params, headers=headers)
        if response.status_code not in expected:
            self._raise_for(response)
            raise GitHubOutcomeUnknown(f"unexpected status {response.status_code}")
        return response

    def _get_json(self, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return json_object(self._get(url, params))

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if is_rate_limited(response):
            raise GitHubRateLimited(retry_after_seconds(response))
        if 400 <= response.status_code < 500:
            raise GitHubRejected(response.status_code, _message(response))
        if response.status_code >= 500:
            raise GitHubOutcomeUnknown(f"GitHub answered {response.status_code}")


def _json_body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise GitHubOutcomeUnknown("the answer is not JSON") from exc


def _page_items(kind: ListKind, body: Any) -> list[Any]:
    """The items of one page: branches and tags are a JSON array, environments an object holding one."""
    if kind == "environments":
        body = body.get("environments") if isinstance(body, dict) else None
    if not isinstance(body, list):
        raise GitHubOutcomeUnknown(f"the {kind} page is not shaped as GitHub documents it")
    return body


def _epoch(timestamp: str | None) -> float:
    """Seconds since the epoch of an ISO-8601 time; -inf (oldest) for a missing or malformed one."""
    try:
        moment = datetime.fromisoformat(timestamp) if timestamp is not None else None
    except ValueError:
        moment = None
    if moment is None:
        return float("-inf")
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def _message(response: httpx.Response) -> str:
    """GitHub's own words, redacted before anything can keep them (a 422 can echo the inputs sent,
    and the inputs can hold what a user pasted); cut only after, so no half-secret slips through."""
    message = json_object(response).get("message")
    return active_redactor().text(message)[:500] if isinstance(message, str) else ""
