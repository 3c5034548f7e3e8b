"""The digest builder against GitHub's answers at the HTTP layer: budgets, degradations, redaction."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.job_logs import JobLogDownloader
from orchestrator.failures.builder import DigestBuilder, most_specific
from orchestrator.failures.digest import FailureDigest, fingerprint, normalise_error
from orchestrator.observability.redaction import active_redactor, install

API = "https://api.github.test"
LOGS = "https://results-receiver.actions.githubusercontent.test"
TOKEN = "ghp_" + secrets.token_hex(18)
LOG = (
    "\ufeff2026-12-01T12:00:00.0000000Z Current runner version: '2.321.0'\r\n"
    "2026-12-01T12:00:01.0000000Z ##[group]Run actions/checkout@v4\r\n"
    "2026-12-01T12:00:01.1000000Z ##[endgroup]\r\n"
    "2026-12-01T12:00:02.0000000Z ##[group]Run pytest\r\n"
    "2026-12-01T12:00:02.1000000Z \x1b[36;1mpytest\x1b[0m\r\n"
    "2026-12-01T12:00:02.2000000Z ##[endgroup]\r\n"
    "2026-12-01T12:00:03.0000000Z E   AssertionError: expected 200, got 503\r\n"
    "2026-12-01T12:00:03.1000000Z ##[error]Process completed with exit code 1.\r\n"
)


def job(job_id: int, name: str, conclusion: str = "failure") -> dict[str, object]:
    return {
        "id": job_id,
        "name": name,
        "conclusion": conclusion,
        "html_url": f"https://github.com/o/r/actions/runs/1/job/{job_id}",
        "steps": [
            {"number": 1, "name": "Set up job", "conclusion": "success"},
            {"number": 2, "name": "Run actions/checkout@v4", "conclusion": "success"},
            {
                "number": 3,
                "name": "Run pytest",
                "conclusion": conclusion,
                "started_at": "2026-12-01T12:00:02Z",
                "completed_at": "2026-12-01T12:01:14Z",
            },
        ],
    }


ANNOTATIONS: list[dict[str, Any]] = [
    {"annotation_level": "failure", "message": "Process completed with exit code 1.", "path": ".github"},
    {"annotation_level": "warning", "message": "Node 16 is deprecated", "path": ".github"},
    {"annotation_level": "failure", "message": "AssertionError: expected 200", "path": "tests/t.py", "start_line": 9},
]


class GitHub:
    """GitHub and its log host at the HTTP layer, counting calls and seeing every header."""

    def __init__(self, log: Callable[[], Iterator[bytes]] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.annotations: httpx.Response = httpx.Response(200, json=ANNOTATIONS)
        self.logs_status = 302
        self.log = log or (lambda: iter([LOG.encode()]))

    def api(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/annotations"):
            return self.annotations
        job_id = request.url.path.split("/")[-2]
        if self.logs_status == 302:
            return httpx.Response(302, headers={"Location": f"{LOGS}/{job_id}?sig=abc"})
        return httpx.Response(self.logs_status, json={"message": "Not Found"})

    def storage(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=self.log())

    def builder(self, **options: float) -> DigestBuilder:
        client = GitHubClient(httpx.Client(transport=httpx.MockTransport(self.api)), API, TOKEN, "o/r")
        logs = JobLogDownloader(httpx.Client(transport=httpx.MockTransport(self.storage)))
        return DigestBuilder(client, logs, **options)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def redactor() -> Iterator[None]:
    before = active_redactor()
    install(before.with_secrets([TOKEN]))
    yield
    install(before)


def test_the_first_failed_step_its_annotation_and_its_log() -> None:
    github = GitHub()
    digest = github.builder().build("ci.yml", "failure", 1, [job(7, "build", "success"), job(8, "test")])
    [failed] = digest.jobs
    assert (failed.job_id, failed.name, failed.step_number, failed.step_name) == (8, "test", 3, "Run pytest")
    assert failed.steps_total == 3 and failed.step_seconds == 72
    assert failed.annotation == "AssertionError: expected 200 (tests/t.py:9)"
    assert failed.log == ("E   AssertionError: expected 200, got 503", "Error: Process completed with exit code 1.")
    assert digest.more_failed == 0 and digest.note is None
    assert len(github.requests) == 3
    # The signed URL is fetched without the token.
    assert "authorization" not in github.requests[-1].headers
    assert github.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_at_most_three_jobs_and_ten_calls() -> None:
    github = GitHub()
    digest = github.builder().build("ci.yml", "failure", 1, [job(n, f"shard {n}") for n in range(1, 8)])
    assert len(digest.jobs) == 3 and digest.more_failed == 4
    assert len(github.requests) == 9


@pytest.mark.parametrize("status", [403, 404, 500])
def test_annotations_unavailable_still_gives_the_log(status: int) -> None:
    github = GitHub()
    github.annotations = httpx.Response(status, json={"message": "Resource not accessible by integration"})
    [failed] = github.builder().build("ci.yml", "failure", 1, [job(8, "test")]).jobs
    assert failed.annotation is None
    assert failed.error_line == "Error: Process completed with exit code 1."


@pytest.mark.parametrize(("status", "note"), [(404, "expired or not found"), (410, "expired")])
def test_expired_logs_are_said_so(status: int, note: str) -> None:
    github = GitHub()
    github.logs_status = status
    [failed] = github.builder().build("ci.yml", "failure", 1, [job(8, "test")]).jobs
    assert failed.log == () and failed.log_note == f"log unavailable: {note}"
    assert failed.annotation is not None


def test_a_log_host_that_breaks_off_degrades_the_digest() -> None:
    def broken() -> Iterator[bytes]:
        yield b"2026-12-01T12:00:00.0000000Z ##[group]Run pytest\n"
        raise httpx.ReadTimeout("slow")

    [failed] = GitHub(broken).builder().build("ci.yml", "failure", 1, [job(8, "test")]).jobs
    assert failed.log == () and failed.log_note and "ReadTimeout" in failed.log_note


def test_out_of_time_leaves_the_rest_out() -> None:
    ticks = itertools.count(0, 4)  # every reading of the clock is 4 s later
    github = GitHub()
    digest = github.builder(budget_seconds=10, clock=lambda: float(next(ticks))).build(  # type: ignore[arg-type]
        "ci.yml", "failure", 1, [job(n, f"shard {n}") for n in range(1, 4)]
    )
    assert digest.note == "Part of the failure details could not be read in time."
    assert len(github.requests) < 9


def test_the_log_is_cut_at_the_byte_cap() -> None:
    def endless() -> Iterator[bytes]:
        yield b"2026-12-01T12:00:02.0000000Z ##[group]Run pytest\n2026-12-01T12:00:02.0000000Z ##[endgroup]\n"
        while True:
            yield b"2026-12-01T12:00:03.0000000Z still going\n" * 1000

    [failed] = GitHub(endless).builder(max_log_bytes=1_000_000).build("ci.yml", "failure", 1, [job(8, "t")]).jobs
    assert failed.log_note == "log cut after 1 MB"
    assert failed.log[-1] == "still going"


def test_secrets_in_the_log_and_annotations_are_redacted() -> None:
    github = GitHub(lambda: iter([LOG.replace("got 503", f"token {TOKEN}").encode()]))
    github.annotations = httpx.Response(200, json=[{"annotation_level": "failure", "message": f"bad {TOKEN}"}])
    digest = github.builder().build("ci.yml", "failure", 1, [job(8, "test")])
    assert TOKEN not in str(digest.to_dict())


def test_a_startup_failure_says_what_github_does() -> None:
    digest = GitHub().builder().build("ci.yml", "startup_failure", 1, [])
    assert digest.jobs == () and digest.note and "invalid workflow file" in digest.note


def test_the_digest_survives_the_state_store() -> None:
    digest = GitHub().builder().build("ci.yml", "failure", 2, [job(8, "test")])
    assert FailureDigest.from_dict(digest.to_dict()) == digest


def test_most_specific_passes_over_the_generic_exit_code() -> None:
    assert most_specific(ANNOTATIONS) == "AssertionError: expected 200 (tests/t.py:9)"
    assert most_specific(ANNOTATIONS[:2]) == "Process completed with exit code 1."
    assert most_specific([]) is None


def test_the_fingerprint_ignores_what_differs_between_occurrences() -> None:
    one = fingerprint("ci.yml", "test", "Run pytest", "FAILED /home/runner/work/a/b.py:12 at 3f2a9c1d in 1.23s")
    two = fingerprint("ci.yml", "test", "Run pytest", "FAILED /home/runner/work/x/y.py:98 at 9e8d7c6b in 4.56s")
    other = fingerprint("ci.yml", "test", "Run pytest", "ImportError: no module named requests")
    assert one == two != other
    assert normalise_error("Error 'x' at 2026-12-01T12:00:00Z") == "error # at #"
