"""FakeGitHub and the shared StandinServer base, driven over real sockets."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orchestrator.devtools.fake_github import FIRST_RUN_ID, FakeGitHub, FakeWorkflow
from orchestrator.devtools.http_standin import Fault, Request, Response, StandinServer
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
    assert run["display_title"] == run["name"] == "Diagnose t-42"
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
    assert titles == ["Diagnose t2", "Diagnose t1", "Diagnose t0"]


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

    assert titles(event="workflow_dispatch", created=f">={past}") == ["Diagnose on-tag", "Diagnose on-main"]
    assert titles(created=f">={future}") == []
    assert titles(created=f"<{past}") == []
    assert titles(created=f"{past}..{future}", branch="main") == ["Diagnose on-main"]
    assert titles(created=gh.runs[0]["created_at"][:10]) == ["Diagnose on-tag", "Diagnose on-main"]
    assert titles(event="push") == []
    assert titles(branch="v1.2.0") == ["Diagnose on-tag"]
    assert titles(status="completed") == titles(status="failure") == ["Diagnose on-main"]
    assert titles(status="queued") == ["Diagnose on-tag"]


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
    assert listed[0]["display_title"] == "Diagnose someone-else"
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
    assert [r["display_title"] for r in gh.runs] == ["Diagnose lost"]
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
