"""FakeGitHub and the shared StandinServer base, driven over real sockets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any

import httpx
import pytest

from orchestrator_dev.standins.fake_github import (
    FIRST_RUN_ID,
    Delivery,
    FakeGitHub,
    FakeJob,
    FakeWorkflow,
    workflow_yaml,
)
from orchestrator_dev.standins.http_standin import Fault, Request, Response, StandinServer
from tests.contract.openapi import github_contract

# One TLS context for every client: httpx builds one per client otherwise, ~45 ms each.
TLS = ssl.create_default_context()
TOKEN = "ghs_" + "x" * 36
REPO = "acme/ops"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "orchestrator-tests",
}
WORKFLOWS = {
    "diagnose.yml": FakeWorkflow(101, "Diagnose", {"target": True, "trace_id": False}, run_name_input="trace_id"),
    "deploy.yml": FakeWorkflow(102, "Deploy", {}),
    "nightly.yml": FakeWorkflow(103, "Nightly", {}, dispatchable=False),
}
DISPATCH = f"/repos/{REPO}/actions/workflows/diagnose.yml/dispatches"
RUNS = f"/repos/{REPO}/actions/workflows/diagnose.yml/runs"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN, REPO, WORKFLOWS, refs={"main", "v1.2.0"}) as server:
        yield server


@pytest.fixture
def client(gh: FakeGitHub) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=gh.url, headers=HEADERS, timeout=5) as http:
        yield http


def dispatch(client: httpx.Client, body: Any, path: str = DISPATCH) -> httpx.Response:
    return client.post(path, json=body)


def error_message(response: httpx.Response) -> str:
    body = response.json()
    assert body["status"] == str(response.status_code)
    assert body["documentation_url"].startswith("https://docs.github.com/")
    return str(body["message"])


# -- dispatch ------------------------------------------------------------------------------


def test_dispatch_with_run_details_answers_200_and_starts_a_queued_run(gh: FakeGitHub, client: httpx.Client) -> None:
    response = dispatch(
        client, {"ref": "main", "inputs": {"target": "staging", "trace_id": "t-42"}, "return_run_details": True}
    )

    assert response.status_code == 200
    details = response.json()
    assert details["workflow_run_id"] == FIRST_RUN_ID
    assert details["run_url"] == f"{gh.url}/repos/{REPO}/actions/runs/{FIRST_RUN_ID}"
    assert details["html_url"] == f"https://github.com/{REPO}/actions/runs/{FIRST_RUN_ID}"
    [run] = gh.runs
    assert run["id"] == FIRST_RUN_ID
    assert run["status"] == "queued"
    assert run["conclusion"] is None
    assert run["event"] == "workflow_dispatch"
    assert run["display_title"] == run["name"] == "Diagnose [t-42]"
    assert run["head_branch"] == "main"
    assert run["workflow_id"] == 101
    assert run["path"] == ".github/workflows/diagnose.yml"
    assert run["run_attempt"] == 1
    assert run["actor"]["login"] == run["triggering_actor"]["login"]
    assert datetime.strptime(run["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert gh.dispatches == [
        {"ref": "main", "inputs": {"target": "staging", "trace_id": "t-42"}, "return_run_details": True}
    ]


def test_dispatch_without_run_details_answers_204_with_no_body(gh: FakeGitHub, client: httpx.Client) -> None:
    response = dispatch(client, {"ref": "main", "inputs": {"target": "staging"}})

    assert response.status_code == 204
    assert response.content == b""
    assert "content-length" not in response.headers
    assert gh.runs[0]["display_title"] == "Diagnose"


def test_dispatch_accepts_the_numeric_workflow_id_and_full_refs(gh: FakeGitHub, client: httpx.Client) -> None:
    path = f"/repos/{REPO}/actions/workflows/102/dispatches"

    assert dispatch(client, {"ref": "refs/tags/v1.2.0"}, path).status_code == 204
    assert gh.runs[0]["workflow_id"] == 102
    assert gh.runs[0]["head_branch"] == "v1.2.0"


def test_run_ids_increase_and_run_numbers_count_per_workflow(gh: FakeGitHub, client: httpx.Client) -> None:
    for _ in range(2):
        dispatch(client, {"ref": "main", "inputs": {"target": "a"}})
    dispatch(client, {"ref": "main"}, f"/repos/{REPO}/actions/workflows/deploy.yml/dispatches")

    runs = gh.runs
    assert [r["id"] for r in runs] == [FIRST_RUN_ID, FIRST_RUN_ID + 1, FIRST_RUN_ID + 2]
    assert [r["run_number"] for r in runs] == [1, 2, 1]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"ref": "nope", "inputs": {"target": "a"}}, 422, "No ref found for: nope"),
        ({"ref": "main", "inputs": {"target": "a", "b": "1", "a": "2"}}, 422, 'Unexpected inputs provided: ["a", "b"]'),
        ({"ref": "main", "inputs": {"trace_id": "t"}}, 422, "Required input 'target' not provided"),
        ({"ref": "main"}, 422, "Required input 'target' not provided"),
        ({"inputs": {"target": "a"}}, 422, 'Invalid request.\n\n"ref" wasn\'t supplied.'),
        (
            {"ref": "main", "inputs": {"target": 5}},
            422,
            "Invalid request.\n\nFor 'properties/target', 5 is not a string.",
        ),
        ({"ref": "main", "inputs": {"target": True}}, 422, "is not a string"),
        ({"ref": "main", "inputs": {f"i{n}": "v" for n in range(26)}}, 422, "more than 25 properties"),
        ({"ref": "main", "inputs": {"target": "x" * 70_000}}, 422, "inputs are too large"),
        ({"ref": "main", "colour": "red"}, 400, '"colour" is not a permitted key.'),
    ],
)
def test_dispatch_rejects_what_github_rejects(
    gh: FakeGitHub, client: httpx.Client, body: dict[str, Any], status: int, message: str
) -> None:
    response = dispatch(client, body)

    assert response.status_code == status
    assert message in error_message(response)
    assert gh.runs == [] and gh.dispatches == []


def test_dispatch_of_a_workflow_without_the_trigger_is_422(client: httpx.Client) -> None:
    response = dispatch(client, {"ref": "main"}, f"/repos/{REPO}/actions/workflows/nightly.yml/dispatches")

    assert response.status_code == 422
    assert error_message(response) == "Workflow does not have 'workflow_dispatch' trigger"


def test_dispatch_with_a_body_that_is_not_json_is_400(client: httpx.Client) -> None:
    response = client.post(DISPATCH, content=b"{ref: main", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert error_message(response) == "Problems parsing JSON"


@pytest.mark.parametrize(
    "path",
    [
        f"/repos/{REPO}/actions/workflows/missing.yml/dispatches",
        f"/repos/{REPO}/actions/workflows/999/dispatches",
        "/repos/acme/other/actions/workflows/diagnose.yml/dispatches",
    ],
)
def test_dispatch_to_an_unknown_workflow_or_repository_is_404(client: httpx.Client, path: str) -> None:
    response = dispatch(client, {"ref": "main"}, path)

    assert response.status_code == 404
    assert error_message(response) == "Not Found"


def test_owner_and_repository_names_match_case_insensitively(client: httpx.Client) -> None:
    path = "/repos/ACME/Ops/actions/workflows/deploy.yml/dispatches"

    assert dispatch(client, {"ref": "main"}, path).status_code == 204


def test_enterprise_server_3_20_rejects_return_run_details() -> None:
    with (
        FakeGitHub(TOKEN, REPO, WORKFLOWS, supports_return_run_details=False) as ghes,
        httpx.Client(verify=TLS, base_url=ghes.url, headers=HEADERS) as http,
    ):
        rejected = dispatch(http, {"ref": "main", "inputs": {"target": "a"}, "return_run_details": True})
        accepted = dispatch(http, {"ref": "main", "inputs": {"target": "a"}})

        assert rejected.status_code == 400
        assert rejected.json()["message"] == 'Invalid request.\n\n"return_run_details" is not a permitted key.'
        assert rejected.json()["status"] == "400"
        assert accepted.status_code == 204
        assert len(ghes.runs) == 1


# -- authentication and headers ---------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_requests_without_the_right_bearer_token_are_401(gh: FakeGitHub, authorization: str | None) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "Authorization"}
    if authorization is not None:
        headers["Authorization"] = authorization
    with httpx.Client(verify=TLS, base_url=gh.url, headers=headers) as http:
        for response in (dispatch(http, {"ref": "main"}), http.get(RUNS), http.get(f"/repos/{REPO}/actions/runs/1")):
            assert response.status_code == 401
            assert response.json() == {
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
                "status": "401",
            }
    assert gh.runs == []


def test_a_request_without_user_agent_is_403_in_plain_text(gh: FakeGitHub) -> None:
    with httpx.Client(verify=TLS, base_url=gh.url, headers={**HEADERS, "User-Agent": ""}) as http:
        response = http.get(RUNS)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/plain")
    assert "User-Agent header" in response.text


@pytest.mark.parametrize(("version", "expected"), [(None, "is required"), ("2020-01-01", "not supported")])
def test_the_api_version_header_is_required(gh: FakeGitHub, version: str | None, expected: str) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "X-GitHub-Api-Version"}
    if version is not None:
        headers["X-GitHub-Api-Version"] = version
    with httpx.Client(verify=TLS, base_url=gh.url, headers=headers) as http:
        response = http.get(RUNS)

    assert response.status_code == 400
    assert expected in error_message(response)


def test_every_answer_carries_githubs_headers(client: httpx.Client) -> None:
    first = client.get(RUNS)
    second = client.get("/no/such/route")

    for response in (first, second):
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.headers["x-ratelimit-limit"] == "5000"
        assert response.headers["x-ratelimit-resource"] == "core"
        assert int(response.headers["x-ratelimit-reset"]) > time.time()
        assert response.headers["x-github-request-id"].count(":") == 4
    assert int(second.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 1
    assert int(second.headers["x-ratelimit-remaining"]) == int(first.headers["x-ratelimit-remaining"]) - 1
    assert first.headers["x-github-request-id"] != second.headers["x-github-request-id"]
    assert second.status_code == 404
    assert second.json()["message"] == "Not Found"


# -- runs -------------------------------------------------------------------------------------------


def test_list_runs_is_newest_first_with_total_count_and_pages(gh: FakeGitHub, client: httpx.Client) -> None:
    for n in range(3):
        dispatch(client, {"ref": "main", "inputs": {"target": "a", "trace_id": f"t{n}"}})
    dispatch(client, {"ref": "main"}, f"/repos/{REPO}/actions/workflows/deploy.yml/dispatches")

    first = client.get(RUNS, params={"per_page": 2}).json()
    second = client.get(f"/repos/{REPO}/actions/workflows/101/runs", params={"per_page": 2, "page": 2}).json()

    assert first["total_count"] == second["total_count"] == 3
    titles = [r["display_title"] for r in first["workflow_runs"] + second["workflow_runs"]]
    assert titles == ["Diagnose [t2]", "Diagnose [t1]", "Diagnose [t0]"]


def test_list_runs_filters_by_event_branch_status_and_created(gh: FakeGitHub, client: httpx.Client) -> None:
    dispatch(client, {"ref": "main", "inputs": {"target": "a", "trace_id": "on-main"}})
    dispatch(client, {"ref": "v1.2.0", "inputs": {"target": "a", "trace_id": "on-tag"}})
    gh.set_run_status(FIRST_RUN_ID, "completed", "failure")
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def titles(**params: str) -> list[str]:
        response = client.get(RUNS, params=params)
        assert response.status_code == 200
        return [r["display_title"] for r in response.json()["workflow_runs"]]

    assert titles(event="workflow_dispatch", created=f">={past}") == ["Diagnose [on-tag]", "Diagnose [on-main]"]
    assert titles(created=f">={future}") == []
    assert titles(created=f"<{past}") == []
    assert titles(created=f"{past}..{future}", branch="main") == ["Diagnose [on-main]"]
    assert titles(created=gh.runs[0]["created_at"][:10]) == ["Diagnose [on-tag]", "Diagnose [on-main]"]
    assert titles(event="push") == []
    assert titles(branch="v1.2.0") == ["Diagnose [on-tag]"]
    assert titles(status="completed") == titles(status="failure") == ["Diagnose [on-main]"]
    assert titles(status="queued") == ["Diagnose [on-tag]"]


def test_list_runs_rejects_a_malformed_created_filter(client: httpx.Client) -> None:
    response = client.get(RUNS, params={"created": ">=yesterday"})

    assert response.status_code == 422


def test_list_runs_of_an_unknown_workflow_is_404(client: httpx.Client) -> None:
    assert client.get(f"/repos/{REPO}/actions/workflows/nope.yml/runs").status_code == 404


def test_get_run_and_walk_it_to_completion(gh: FakeGitHub, client: httpx.Client) -> None:
    run_id = dispatch(client, {"ref": "main", "inputs": {"target": "a"}, "return_run_details": True}).json()[
        "workflow_run_id"
    ]
    url = f"/repos/{REPO}/actions/runs/{run_id}"

    assert client.get(url).json()["status"] == "queued"
    gh.set_run_status(run_id, "in_progress")
    assert client.get(url).json()["status"] == "in_progress"
    done = gh.set_run_status(run_id, "completed", "success")
    run = client.get(url).json()
    assert (run["status"], run["conclusion"]) == ("completed", "success")
    assert run == done
    with pytest.raises(ValueError, match="unknown run status"):
        gh.set_run_status(run_id, "finished")


@pytest.mark.parametrize("run_id", ["1", "abc", str(FIRST_RUN_ID)])
def test_get_unknown_run_is_404(client: httpx.Client, run_id: str) -> None:
    response = client.get(f"/repos/{REPO}/actions/runs/{run_id}")

    assert response.status_code == 404
    assert error_message(response) == "Not Found"


def test_create_run_behind_the_apis_back_is_listed_like_any_other(gh: FakeGitHub, client: httpx.Client) -> None:
    run = gh.create_run("diagnose.yml", inputs={"trace_id": "someone-else"}, actor="mona")

    listed = client.get(RUNS).json()["workflow_runs"]
    assert [r["id"] for r in listed] == [run["id"]]
    assert listed[0]["display_title"] == "Diagnose [someone-else]"
    assert listed[0]["actor"]["login"] == "mona"
    assert gh.dispatches == []


def test_answers_match_githubs_openapi_schemas(gh: FakeGitHub, client: httpx.Client) -> None:
    details = dispatch(client, {"ref": "main", "inputs": {"target": "a"}, "return_run_details": True}).json()
    gh.set_run_status(details["workflow_run_id"], "completed", "success")
    run_path = f"/repos/{REPO}/actions/runs/{details['workflow_run_id']}"
    run = client.get(run_path).json()
    listed = client.get(RUNS).json()

    contract = github_contract()
    contract.validate_response("POST", DISPATCH, 200, details)
    contract.validate_response("GET", run_path, 200, run)
    contract.validate_response("GET", RUNS, 200, listed)
    contents = f"/repos/{REPO}/contents/.github/workflows/diagnose.yml"
    answer = client.get(contents, params={"ref": "main"})
    contract.validate_request("GET", contents, body=None, query={"ref": "main"})
    contract.validate_response("GET", contents, 200, answer.json())
    assert base64.b64decode(answer.json()["content"]).decode() == workflow_yaml(gh.workflows["diagnose.yml"])
    assert client.get(contents, params={"ref": "nope"}).status_code == 404


def test_contents_answers_304_to_a_matching_if_none_match_and_does_not_count_it(
    gh: FakeGitHub, client: httpx.Client
) -> None:
    contents = f"/repos/{REPO}/contents/.github/workflows/diagnose.yml"
    contract = github_contract()
    first = client.get(contents, params={"ref": "main"})
    etag = first.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{64}"', etag)

    same = client.get(contents, params={"ref": "main"}, headers={"If-None-Match": etag})
    contract.validate_response("GET", contents, 304, None)
    assert same.status_code == 304
    assert same.content == b""
    assert "content-length" not in same.headers
    assert same.headers["etag"] == etag
    assert same.headers["x-ratelimit-used"] == first.headers["x-ratelimit-used"]
    # Weak comparison, and any tag of a list, as RFC 9110 says.
    strong = etag.removeprefix("W/")
    assert client.get(contents, params={"ref": "main"}, headers={"If-None-Match": f'"x", {strong}'}).status_code == 304

    other_ref = client.get(contents, params={"ref": "v1.2.0"}, headers={"If-None-Match": etag})
    assert other_ref.status_code == 200
    assert other_ref.headers["etag"] != etag
    gh.workflow_files["diagnose.yml"] = "name: Diagnose\non: push\n"
    changed = client.get(contents, params={"ref": "main"}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert base64.b64decode(changed.json()["content"]).decode() == "name: Diagnose\non: push\n"
    assert (
        int(changed.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 2
    )  # the two 304s are not counted


def test_branches_and_tags_exist_as_refs(gh: FakeGitHub, client: httpx.Client) -> None:
    contents = f"/repos/{REPO}/contents/.github/workflows/deploy.yml"
    gh.branches.append("feature/x")
    gh.tags.append("v2.0.0")

    assert client.get(contents, params={"ref": "feature/x"}).status_code == 200
    assert client.get(contents, params={"ref": "v2.0.0"}).status_code == 200
    assert (
        dispatch(
            client, {"ref": "refs/tags/v2.0.0"}, f"/repos/{REPO}/actions/workflows/deploy.yml/dispatches"
        ).status_code
        == 204
    )
    assert client.get(contents, params={"ref": "v3"}).status_code == 404


@pytest.mark.parametrize("kind", ["branches", "tags", "environments"])
def test_the_list_routes_page_like_github_and_match_its_openapi_schemas(
    gh: FakeGitHub, client: httpx.Client, kind: str
) -> None:
    gh.branches = ["main", "feature/x", "release"]
    gh.tags = ["v1.0.0", "v1.1.0", "v2.0.0"]
    gh.environments = [
        ("staging", "2026-01-02T10:00:00Z"),
        ("production", "2026-01-03T10:00:00Z"),
        ("qa", "2025-12-31T23:59:59Z"),
    ]
    path = f"/repos/{REPO}/{kind}"
    contract = github_contract()
    first = client.get(path, params={"per_page": 2})
    second = client.get(path, params={"per_page": 2, "page": 2})
    beyond = client.get(path, params={"per_page": 2, "page": 3})
    everything = client.get(path)

    for query, response in (({"per_page": "2"}, first), ({"per_page": "2", "page": "2"}, second)):
        contract.validate_request("GET", path, body=None, query=query)
        contract.validate_response("GET", path, 200, response.json())
    contract.validate_response("GET", path, 200, everything.json())

    def names(response: httpx.Response) -> list[str]:
        body = response.json()
        items = body["environments"] if kind == "environments" else body
        return [item["name"] for item in items]

    expected = {
        "branches": gh.branches,
        "tags": gh.tags,
        "environments": [name for name, _ in gh.environments],
    }[kind]
    assert names(first) + names(second) == names(everything) == expected
    assert names(beyond) == []
    url = f"{gh.url}{path}"
    assert first.headers["link"] == f'<{url}?per_page=2&page=2>; rel="next", <{url}?per_page=2&page=2>; rel="last"'
    assert 'rel="next"' not in second.headers["link"]
    assert "link" not in everything.headers
    if kind == "environments":
        assert first.json()["total_count"] == everything.json()["total_count"] == 3
        assert everything.json()["environments"][1]["updated_at"] == "2026-01-03T10:00:00Z"
    assert client.get(f"/repos/acme/other/{kind}").status_code == 404


def test_the_list_routes_give_at_most_100_a_page(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.branches = [f"b{n}" for n in range(150)]

    assert len(client.get(f"/repos/{REPO}/branches", params={"per_page": 500}).json()) == 100
    assert len(client.get(f"/repos/{REPO}/branches").json()) == 30
    assert [b["name"] for b in client.get(f"/repos/{REPO}/branches", params={"per_page": 100, "page": 2}).json()] == [
        f"b{n}" for n in range(100, 150)
    ]


# -- jobs -------------------------------------------------------------------------------------------

BUILD = FakeJob("build")
TEST = FakeJob("test", ("Set up job", "Checkout", "Pytest", "Complete job"))
JOBS_WORKFLOWS = {**WORKFLOWS, "ci.yml": FakeWorkflow(104, "CI", {}, jobs=(BUILD, TEST))}
CI_DISPATCH = f"/repos/{REPO}/actions/workflows/ci.yml/dispatches"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture
def ci() -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN, REPO, JOBS_WORKFLOWS) as server:
        yield server


@pytest.fixture
def ci_client(ci: FakeGitHub) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=ci.url, headers=HEADERS, timeout=5) as http:
        yield http


def start_ci_run(client: httpx.Client) -> int:
    response = client.post(CI_DISPATCH, json={"ref": "main", "return_run_details": True})
    assert response.status_code == 200
    return int(response.json()["workflow_run_id"])


def jobs_path(run_id: int | str) -> str:
    return f"/repos/{REPO}/actions/runs/{run_id}/jobs"


def progress(gh: FakeGitHub, run_id: int) -> list[str]:
    """Each job as `name:status:conclusion steps`, a step as a letter: queued, running or how it ended."""
    letters = {"queued": "q", "in_progress": "r", "success": "s", "failure": "f", "cancelled": "c", "skipped": "-"}
    shown = []
    for job in gh.jobs(run_id):
        steps = "".join(letters[step["conclusion"] or step["status"]] for step in job["steps"])
        shown.append(f"{job['name']}:{job['status']}:{job['conclusion']} {steps}")
    return shown


def test_a_run_has_one_job_per_fake_job_shaped_like_githubs(ci: FakeGitHub, ci_client: httpx.Client) -> None:
    run_id = start_ci_run(ci_client)
    contract = github_contract()

    queued = ci_client.get(jobs_path(run_id))
    contract.validate_response("GET", jobs_path(run_id), 200, queued.json())
    ci.set_run_status(run_id, "in_progress")
    running = ci_client.get(jobs_path(run_id), params={"filter": "latest"}).json()
    contract.validate_response("GET", jobs_path(run_id), 200, running)
    ci.set_run_status(run_id, "completed", "success")
    done = ci_client.get(jobs_path(run_id), params={"filter": "all"}).json()
    contract.validate_response("GET", jobs_path(run_id), 200, done)

    assert queued.status_code == 200
    assert "link" not in queued.headers
    body = queued.json()
    assert body["total_count"] == 2
    build, test = body["jobs"]
    run = ci.run(run_id)
    assert (build["name"], test["name"]) == ("build", "test")
    assert build["id"] != test["id"]
    assert build["run_id"] == run_id
    assert build["run_url"] == run["url"]
    assert build["html_url"] == f"https://github.com/{REPO}/actions/runs/{run_id}/job/{build['id']}"
    assert build["url"] == f"{ci.url}/repos/{REPO}/actions/jobs/{build['id']}"
    assert (build["head_sha"], build["head_branch"]) == (run["head_sha"], "main")
    assert build["workflow_name"] == "CI"
    assert (build["status"], build["conclusion"], build["completed_at"], build["runner_name"]) == (
        "queued",
        None,
        None,
        None,
    )
    assert [(s["number"], s["name"], s["status"]) for s in test["steps"]] == [
        (1, "Set up job", "queued"),
        (2, "Checkout", "queued"),
        (3, "Pytest", "queued"),
        (4, "Complete job", "queued"),
    ]
    assert running["jobs"][0]["runner_name"] is not None
    assert [j["conclusion"] for j in done["jobs"]] == ["success", "success"]
    assert all(TIMESTAMP.match(j["completed_at"]) for j in done["jobs"])
    assert ci.jobs(run_id) == done["jobs"]


def test_the_jobs_route_pages_like_github(ci: FakeGitHub, ci_client: httpx.Client) -> None:
    run_id = start_ci_run(ci_client)

    first = ci_client.get(jobs_path(run_id), params={"per_page": 1})
    second = ci_client.get(jobs_path(run_id), params={"per_page": 1, "page": 2})
    beyond = ci_client.get(jobs_path(run_id), params={"per_page": 1, "page": 3}).json()
    everything = ci_client.get(jobs_path(run_id), params={"per_page": 500}).json()

    assert [j["name"] for j in first.json()["jobs"] + second.json()["jobs"]] == ["build", "test"]
    assert first.json()["total_count"] == second.json()["total_count"] == beyond["total_count"] == 2
    assert beyond["jobs"] == []
    assert len(everything["jobs"]) == 2
    url = f"{ci.url}{jobs_path(run_id)}"
    assert first.headers["link"] == (f'<{url}?per_page=1&page=2>; rel="next", <{url}?per_page=1&page=2>; rel="last"')
    assert second.headers["link"] == (f'<{url}?per_page=1&page=1>; rel="prev", <{url}?per_page=1&page=1>; rel="first"')


@pytest.mark.parametrize(
    "path", [jobs_path(FIRST_RUN_ID + 7), jobs_path("abc"), f"/repos/acme/other/actions/runs/{FIRST_RUN_ID}/jobs"]
)
def test_jobs_of_an_unknown_run_are_404(ci_client: httpx.Client, path: str) -> None:
    start_ci_run(ci_client)

    response = ci_client.get(path)

    assert response.status_code == 404
    assert error_message(response) == "Not Found"


def test_a_workflow_without_jobs_lists_none(gh: FakeGitHub, client: httpx.Client) -> None:
    run_id = dispatch(client, {"ref": "main", "inputs": {"target": "a"}, "return_run_details": True}).json()[
        "workflow_run_id"
    ]

    assert client.get(jobs_path(run_id)).json() == {"total_count": 0, "jobs": []}
    assert gh.jobs(run_id) == []


def test_a_fake_job_needs_a_step() -> None:
    with pytest.raises(ValueError, match="at least one step"):
        FakeJob("empty", ())


def test_set_run_status_moves_the_jobs_along(ci: FakeGitHub, ci_client: httpx.Client) -> None:
    run_id = start_ci_run(ci_client)
    created = ci.run(run_id)

    started = ci.set_run_status(run_id, "in_progress")
    assert progress(ci, run_id) == ["build:in_progress:None rqq", "test:queued:None qqqq"]
    assert started["run_started_at"] == started["updated_at"] > created["run_started_at"]
    assert ci.set_run_status(run_id, "in_progress")["run_started_at"] == started["run_started_at"]
    assert progress(ci, run_id) == ["build:in_progress:None rqq", "test:queued:None qqqq"]

    ci.set_run_status(run_id, "completed", "failure")
    assert progress(ci, run_id) == ["build:completed:success sss", "test:completed:failure ssf-"]

    ci.set_run_status(run_id, "completed", "success")  # a completed run completed again starts from scratch
    assert progress(ci, run_id) == ["build:completed:success sss", "test:completed:success ssss"]

    ci.set_run_status(run_id, "queued")
    assert progress(ci, run_id) == ["build:queued:None qqq", "test:queued:None qqqq"]
    assert [j["runner_name"] for j in ci.jobs(run_id)] == [None, None]


def test_advance_job_shows_progress_one_step_at_a_time(ci: FakeGitHub, ci_client: httpx.Client) -> None:
    run_id = start_ci_run(ci_client)
    seen = []
    while ci.run(run_id)["status"] != "completed":
        run = ci.advance_job(run_id)
        seen.append((run["status"], *progress(ci, run_id)))

    assert seen == [
        ("in_progress", "build:in_progress:None rqq", "test:queued:None qqqq"),
        ("in_progress", "build:in_progress:None srq", "test:queued:None qqqq"),
        ("in_progress", "build:in_progress:None ssr", "test:queued:None qqqq"),
        ("in_progress", "build:completed:success sss", "test:queued:None qqqq"),
        ("in_progress", "build:completed:success sss", "test:in_progress:None rqqq"),
        ("in_progress", "build:completed:success sss", "test:in_progress:None srqq"),
        ("in_progress", "build:completed:success sss", "test:in_progress:None ssrq"),
        ("in_progress", "build:completed:success sss", "test:in_progress:None sssr"),
        ("completed", "build:completed:success sss", "test:completed:success ssss"),
    ]
    run = ci.run(run_id)
    assert run["conclusion"] == "success"
    [build, test] = ci.jobs(run_id)
    assert build["started_at"] <= build["completed_at"] <= test["started_at"] <= test["completed_at"]
    assert test["completed_at"] == run["updated_at"]
    with pytest.raises(ValueError, match="is completed"):
        ci.advance_job(run_id)


def test_advance_job_of_a_run_without_jobs_starts_then_completes_it(gh: FakeGitHub) -> None:
    run = gh.create_run("deploy.yml")

    assert gh.advance_job(run["id"])["status"] == "in_progress"
    done = gh.advance_job(run["id"])

    assert (done["status"], done["conclusion"]) == ("completed", "success")


def test_every_change_gets_a_strictly_later_updated_at(ci: FakeGitHub, ci_client: httpx.Client) -> None:
    first = start_ci_run(ci_client)
    second = start_ci_run(ci_client)
    stamps = [ci.run(first)["updated_at"], ci.run(second)["updated_at"]]
    for _ in range(4):
        stamps.append(ci.advance_job(first)["updated_at"])
    stamps.append(ci.set_run_status(second, "in_progress")["updated_at"])
    stamps.append(ci.set_run_status(second, "in_progress")["updated_at"])
    assert ci_client.post(f"/repos/{REPO}/actions/runs/{second}/cancel").status_code == 202
    stamps.append(ci_client.get(f"/repos/{REPO}/actions/runs/{second}").json()["updated_at"])

    assert all(TIMESTAMP.match(stamp) for stamp in stamps)
    assert stamps == sorted(set(stamps))  # strictly increasing, though all within a second or two
    assert ci.run(first)["created_at"] == stamps[0]


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_an_in_progress_run_answers_202_and_cancels_what_is_left(
    ci: FakeGitHub, ci_client: httpx.Client
) -> None:
    run_id = start_ci_run(ci_client)
    for _ in range(5):  # build done, test running its first step
        ci.advance_job(run_id)
    path = f"/repos/{REPO}/actions/runs/{run_id}/cancel"

    response = ci_client.post(path)

    assert response.status_code == 202
    assert response.json() == {}
    github_contract().validate_response("POST", path, 202, response.json())
    run = ci_client.get(f"/repos/{REPO}/actions/runs/{run_id}").json()
    assert (run["status"], run["conclusion"]) == ("completed", "cancelled")
    assert progress(ci, run_id) == ["build:completed:success sss", "test:completed:cancelled c---"]
    assert ci.cancels == [run_id]


def test_cancel_a_queued_run_cancels_every_job(ci: FakeGitHub, ci_client: httpx.Client) -> None:
    run_id = start_ci_run(ci_client)

    assert ci_client.post(f"/repos/{REPO}/actions/runs/{run_id}/cancel").status_code == 202

    assert progress(ci, run_id) == ["build:completed:cancelled ---", "test:completed:cancelled ----"]
    assert all(step["conclusion"] == "skipped" for job in ci.jobs(run_id) for step in job["steps"])
    assert [job["runner_name"] for job in ci.jobs(run_id)] == [None, None]


def test_cancel_a_completed_run_is_409(ci: FakeGitHub, ci_client: httpx.Client) -> None:
    run_id = start_ci_run(ci_client)
    ci.set_run_status(run_id, "completed", "success")
    path = f"/repos/{REPO}/actions/runs/{run_id}/cancel"

    response = ci_client.post(path)

    assert response.status_code == 409
    assert error_message(response) == "Cannot cancel a workflow run that is completed."
    github_contract().validate_response("POST", path, 409, response.json())
    assert ci.run(run_id)["conclusion"] == "success"
    assert ci.cancels == []


@pytest.mark.parametrize("run_id", ["1", "abc", str(FIRST_RUN_ID)])
def test_cancel_an_unknown_run_is_404(client: httpx.Client, run_id: str) -> None:
    response = client.post(f"/repos/{REPO}/actions/runs/{run_id}/cancel")

    assert response.status_code == 404
    assert error_message(response) == "Not Found"


# -- webhook deliveries ------------------------------------------------------------------------------

SECRET = "whsec-" + "s" * 20


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # names lowercased
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event(self) -> tuple[str, str | None]:
        return self.headers["x-github-event"], self.json.get("action")


class _CaptureServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        TCPServer.server_bind(self)  # no reverse DNS lookup of 127.0.0.1
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class Capture:
    """A webhook receiver: records each POST and answers `status`; `gate`, when set, holds answers back."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[Received] = []
        self.gate: threading.Event | None = None
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if capture.gate is not None:
                    capture.gate.wait(5)
                capture.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(capture.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _CaptureServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/github/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01})
        self._thread.start()

    def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def capture() -> Iterator[Capture]:
    receiver = Capture()
    yield receiver
    receiver.close()


@pytest.fixture
def hooked(capture: Capture) -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN, REPO, JOBS_WORKFLOWS, webhook_url=capture.url, webhook_secret=SECRET) as server:
        yield server


@pytest.fixture
def hooked_client(hooked: FakeGitHub) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=hooked.url, headers=HEADERS, timeout=5) as http:
        yield http


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_runs_life_is_delivered_as_signed_workflow_run_events(
    hooked: FakeGitHub, hooked_client: httpx.Client, capture: Capture
) -> None:
    run_id = start_ci_run(hooked_client)
    hooked.advance_job(run_id)
    hooked.set_run_status(run_id, "in_progress")  # in progress already: no second in_progress event
    hooked.advance_job(run_id)
    done = hooked.set_run_status(run_id, "completed", "success")

    assert hooked.wait_for_deliveries(5)
    assert [r.event for r in capture.received] == [
        ("workflow_run", "requested"),
        ("workflow_run", "in_progress"),
        ("workflow_run", "completed"),
    ]
    contract = github_contract()
    for received in capture.received:
        headers, payload = received.headers, received.json
        assert headers["x-hub-signature-256"] == signature(received.body)
        assert headers["content-type"] == "application/json"
        assert headers["user-agent"].startswith("GitHub-Hookshot/")
        assert headers["x-github-hook-id"].isdigit()
        assert headers["x-github-hook-installation-target-type"] == "repository"
        assert str(uuid.UUID(headers["x-github-delivery"])) == headers["x-github-delivery"]
        assert set(payload) == {"action", "workflow_run", "workflow", "repository", "sender"}
        assert payload["repository"]["full_name"] == REPO
        assert payload["repository"]["id"] == payload["workflow_run"]["repository"]["id"]
        assert payload["sender"]["login"] == "octocat"
        assert (payload["workflow"]["id"], payload["workflow"]["name"]) == (104, "CI")
        assert payload["workflow"]["path"] == ".github/workflows/ci.yml"
        contract.validate_response("GET", f"/repos/{REPO}/actions/runs/{run_id}", 200, payload["workflow_run"])
    requested, started, completed = (r.json["workflow_run"] for r in capture.received)
    assert (requested["id"], requested["status"]) == (run_id, "queued")
    assert started["status"] == "in_progress"
    assert completed == done
    assert requested["updated_at"] < started["updated_at"] < completed["updated_at"]
    ids = [r.headers["x-github-delivery"] for r in capture.received]
    assert len(set(ids)) == 3
    assert hooked.deliveries == [
        Delivery(ids[0], "requested", run_id, 204),
        Delivery(ids[1], "in_progress", run_id, 204),
        Delivery(ids[2], "completed", run_id, 204),
    ]


def test_a_cancelled_queued_run_is_delivered_as_requested_then_completed(
    hooked: FakeGitHub, hooked_client: httpx.Client, capture: Capture
) -> None:
    run_id = start_ci_run(hooked_client)
    hooked_client.post(f"/repos/{REPO}/actions/runs/{run_id}/cancel")

    assert hooked.wait_for_deliveries(5)
    assert [r.json["action"] for r in capture.received] == ["requested", "completed"]
    assert capture.received[-1].json["workflow_run"]["conclusion"] == "cancelled"


def test_deliveries_keep_each_runs_order_when_runs_move_at_once(hooked: FakeGitHub, capture: Capture) -> None:
    def walk() -> None:
        run_id = hooked.create_run("ci.yml")["id"]
        while hooked.advance_job(run_id)["status"] != "completed":
            pass

    threads = [threading.Thread(target=walk) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert hooked.wait_for_deliveries(5)
    by_run: dict[int, list[str]] = {}
    for received in capture.received:
        by_run.setdefault(received.json["workflow_run"]["id"], []).append(received.json["action"])
    assert list(by_run.values()) == [["requested", "in_progress", "completed"]] * 4
    assert all(r.headers["x-hub-signature-256"] == signature(r.body) for r in capture.received)


def test_a_slow_webhook_receiver_never_delays_a_dispatch_answer(
    hooked: FakeGitHub, hooked_client: httpx.Client, capture: Capture
) -> None:
    capture.gate = threading.Event()
    # Both answered while the receiver still holds the first delivery (were they waiting on it,
    # they would never return before the gate opens).
    dispatching = threading.Thread(target=lambda: [start_ci_run(hooked_client) for _ in range(2)])
    dispatching.start()
    dispatching.join(timeout=30)
    assert not dispatching.is_alive() and not capture.gate.is_set()

    assert not hooked.wait_for_deliveries(0.05)  # the first delivery is still held by the receiver
    capture.gate.set()
    assert hooked.wait_for_deliveries(5)
    assert [r.json["action"] for r in capture.received] == ["requested", "requested"]


def test_failed_deliveries_are_recorded_with_the_status_or_the_error(capture: Capture) -> None:
    capture.status = 500
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens there once the socket is closed
    with (
        FakeGitHub(TOKEN, REPO, JOBS_WORKFLOWS, webhook_url=capture.url) as refused,
        FakeGitHub(TOKEN, REPO, JOBS_WORKFLOWS, webhook_url=f"http://127.0.0.1:{closed_port}/hook") as unreachable,
    ):
        first = refused.create_run("ci.yml")["id"]
        second = unreachable.create_run("ci.yml")["id"]
        assert refused.wait_for_deliveries(5) and unreachable.wait_for_deliveries(5)

        assert [(d.action, d.run_id, d.outcome) for d in refused.deliveries] == [("requested", first, 500)]
        assert [(d.action, d.run_id, d.outcome) for d in unreachable.deliveries] == [
            ("requested", second, "ConnectError")
        ]
    # Without a secret GitHub signs nothing.
    assert "x-hub-signature-256" not in capture.received[0].headers


def test_redeliver_sends_the_same_delivery_id_and_body_again(
    hooked: FakeGitHub, hooked_client: httpx.Client, capture: Capture
) -> None:
    run_id = start_ci_run(hooked_client)
    assert hooked.wait_for_deliveries(5)
    [original] = capture.received
    delivery_id = original.headers["x-github-delivery"]
    hooked.set_run_status(run_id, "completed", "success")  # the redelivery still carries the run as it was

    hooked.redeliver(delivery_id)

    assert hooked.wait_for_deliveries(5)
    again = capture.received[-1]
    assert again.headers["x-github-delivery"] == delivery_id
    assert again.body == original.body
    assert again.headers["x-hub-signature-256"] == original.headers["x-hub-signature-256"]
    assert [(d.delivery_id, d.action) for d in hooked.deliveries] == [
        (delivery_id, "requested"),
        (capture.received[1].headers["x-github-delivery"], "completed"),
        (delivery_id, "requested"),
    ]
    with pytest.raises(KeyError):
        hooked.redeliver("00000000-0000-0000-0000-000000000000")


def test_deliver_ping_sends_githubs_ping_event(hooked: FakeGitHub, capture: Capture) -> None:
    delivery_id = hooked.deliver_ping()

    assert hooked.wait_for_deliveries(5)
    [ping] = capture.received
    assert ping.headers["x-github-event"] == "ping"
    assert ping.headers["x-github-delivery"] == delivery_id
    assert ping.headers["x-hub-signature-256"] == signature(ping.body)
    body = ping.json
    assert isinstance(body["zen"], str) and body["zen"]
    assert body["hook_id"] == body["hook"]["id"] == int(ping.headers["x-github-hook-id"])
    assert body["hook"]["config"]["url"] == capture.url
    assert body["hook"]["events"] == ["workflow_run"]
    assert body["repository"]["full_name"] == REPO
    assert hooked.deliveries == [Delivery(delivery_id, "ping", None, 204)]


def test_without_a_webhook_url_nothing_is_delivered(gh: FakeGitHub, client: httpx.Client) -> None:
    run = gh.create_run("deploy.yml")
    gh.set_run_status(run["id"], "completed", "success")

    assert gh.wait_for_deliveries(0)
    assert gh.deliveries == []
    with pytest.raises(RuntimeError, match="webhook_url"):
        gh.deliver_ping()


# -- fault injection ------------------------------------------------------------------------------


def test_a_status_fault_answers_once_then_the_api_behaves_again(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.inject(Fault(method="POST", path=r"/dispatches$", status=502, body={"message": "Server Error"}))

    assert client.get(RUNS).status_code == 200  # does not match: the fault waits
    failed = dispatch(client, {"ref": "main", "inputs": {"target": "a"}})
    retried = dispatch(client, {"ref": "main", "inputs": {"target": "a"}})

    assert failed.status_code == 502
    assert failed.json() == {"message": "Server Error"}
    assert failed.headers["x-ratelimit-resource"] == "core"
    assert retried.status_code == 204
    assert len(gh.runs) == 1
    assert gh.pending_faults == []


def test_then_apply_starts_the_run_but_answers_with_the_fault(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.inject(Fault(method="POST", path="/dispatches$", status=500, body={"message": "Server Error"}, then_apply=True))

    response = dispatch(client, {"ref": "main", "inputs": {"target": "a", "trace_id": "lost"}})

    assert response.status_code == 500
    assert [r["display_title"] for r in gh.runs] == ["Diagnose [lost]"]
    assert len(gh.dispatches) == 1


def test_a_dropped_connection_looks_like_a_reset_to_the_client(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.inject(Fault(path="/dispatches$", drop=True, then_apply=True))

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        dispatch(client, {"ref": "main", "inputs": {"target": "a"}})

    assert len(gh.runs) == 1  # the work was done before the connection went
    assert client.get(RUNS).json()["total_count"] == 1  # and the server still serves


def test_a_delay_fault_answers_normally_but_late(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.inject(Fault(method="GET", delay=0.05))

    started = time.monotonic()
    response = client.get(RUNS)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.05


def test_a_slow_request_times_out_on_the_client(gh: FakeGitHub) -> None:
    gh.inject(Fault(delay=0.1, status=204))
    with (
        httpx.Client(verify=TLS, base_url=gh.url, headers=HEADERS, timeout=0.02) as http,
        pytest.raises(httpx.ReadTimeout),
    ):
        http.get(RUNS)


def test_faults_are_consumed_in_order(gh: FakeGitHub, client: httpx.Client) -> None:
    gh.inject(Fault(status=500), Fault(status=503), Fault(method="DELETE", status=418))

    assert [client.get(RUNS).status_code for _ in range(3)] == [500, 503, 200]
    assert [f.status for f in gh.pending_faults] == [418]
    gh.clear_faults()
    assert gh.pending_faults == []


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"status": 500, "drop": True}, {"then_apply": True}, {"delay": 0.1, "then_apply": True}],
)
def test_contradictory_faults_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Fault(**kwargs)


# -- the shared base ---------------------------------------------------------------------------------


class Echo(StandinServer):
    def __init__(self) -> None:
        super().__init__()
        self.add_route("POST", r"/echo/(?P<name>\w+)", self.echo)
        self.add_route("GET", r"/boom", self.boom)

    def echo(self, request: Request, params: dict[str, str]) -> Response:
        return Response(201, {"name": params["name"], "json": request.json, "query": request.query})

    def boom(self, request: Request, params: dict[str, str]) -> Response:
        raise RuntimeError("handler bug")


def test_the_base_records_requests_and_routes_by_method_and_path() -> None:
    with Echo() as server, httpx.Client(verify=TLS, base_url=server.url) as http:
        created = http.post("/echo/abc", params={"q": "1", "e": ""}, json={"x": [1]}, headers={"X-Trace": "t"})
        wrong_method = http.get("/echo/abc")
        http.post("/echo/def", content=b"not json")

        assert created.status_code == 201
        assert created.json() == {"name": "abc", "json": {"x": [1]}, "query": {"q": "1", "e": ""}}
        assert wrong_method.status_code == 404
        first = server.requests[0]
        assert (first.method, first.path, first.query) == ("POST", "/echo/abc", {"q": "1", "e": ""})
        assert first.headers["x-trace"] == "t"
        assert json.loads(first.body) == {"x": [1]}
        assert first.json == {"x": [1]}
        assert first.time <= time.time()
        assert [r.path for r in server.requests_to("post", "/echo/")] == ["/echo/abc", "/echo/def"]
        assert server.requests_to("POST", "/echo/def")[0].json is None
        assert [r.path for r in server.requests_to("GET")] == ["/echo/abc"]


def test_a_failing_handler_answers_500_and_the_server_keeps_serving(caplog: pytest.LogCaptureFixture) -> None:
    with Echo() as server, httpx.Client(verify=TLS, base_url=server.url) as http:
        assert http.get("/boom").status_code == 500
        assert http.get("/boom").json() == {"message": "Internal Server Error"}
        assert http.post("/echo/still", json={}).status_code == 201
    assert "handler bug" in caplog.text


def test_the_base_keeps_connections_alive_and_stop_closes_idle_ones() -> None:
    server = Echo().start()
    with httpx.Client(verify=TLS, base_url=server.url) as http:
        for _ in range(3):
            http.post("/echo/a", json={})
        started = time.monotonic()
        server.stop()  # the client still holds an idle keep-alive connection
        assert time.monotonic() - started < 1
        with pytest.raises(httpx.TransportError):
            http.post("/echo/a", json={})
    server.stop()  # a second stop is harmless
    with pytest.raises(RuntimeError):
        _ = server.url


def test_a_started_server_cannot_be_started_twice() -> None:
    with Echo() as server, pytest.raises(RuntimeError):
        server.start()


def test_the_activity_route_lists_newest_first_as_githubs_openapi_describes(
    gh: FakeGitHub, client: httpx.Client
) -> None:
    gh.activity = [
        ("refs/heads/main", "2026-12-04T09:00:00Z", "push"),
        ("refs/tags/v2", "2026-12-03T09:00:00Z", "push"),
    ]
    path = f"/repos/{REPO}/activity"
    contract = github_contract()
    answer = client.get(path, params={"per_page": "100"})

    contract.validate_request("GET", path, body=None, query={"per_page": "100"})
    contract.validate_response("GET", path, 200, answer.json())
    assert [item["ref"] for item in answer.json()] == ["refs/heads/main", "refs/tags/v2"]
    assert client.get("/repos/acme/other/activity").status_code == 404
