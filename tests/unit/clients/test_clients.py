"""The GitHub and Discord clients over httpx.MockTransport: retries, Retry-After, and the wire contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from orchestrator.clients import github_api
from orchestrator.clients.discord_api import DiscordClient, DiscordRejected, DiscordUnavailable, InteractionExpired
from orchestrator.clients.github_api import GitHubClient, RunRef
from orchestrator.clients.github_errors import (
    AmbiguousRun,
    GitHubOutcomeUnknown,
    GitHubRateLimited,
    GitHubRejected,
    GitHubUnreachable,
    ReturnRunDetailsUnsupported,
)
from orchestrator.clients.retries import RetryPolicy, retry_after_seconds, send
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.messages.job_messages import outcome_message
from tests.contract.openapi import discord_contract, github_contract

TOKEN = "ghp_" + "a" * 36
APP_ID = "111111111111111111"
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246" + "b" * 150

Responder = Callable[[httpx.Request], httpx.Response]


class Recorder:
    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


def github(recorder: Recorder) -> GitHubClient:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    return GitHubClient(http, "https://api.github.com", TOKEN, "acme/delivery")


def discord(recorder: Recorder) -> DiscordClient:
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    return DiscordClient(http, "https://discord.com/api/v10", APP_ID)


RUN_DETAILS: dict[str, Any] = {
    "workflow_run_id": 42,
    "run_url": "https://api.github.com/repos/acme/delivery/actions/runs/42",
    "html_url": "https://github.com/acme/delivery/actions/runs/42",
}


def test_dispatch_sends_what_github_documents() -> None:
    recorder = Recorder(httpx.Response(200, json=RUN_DETAILS))
    run = github(recorder).dispatch_workflow("diagnose.yml", "main", {"target": "staging"}, return_run_details=True)
    assert run == RunRef(42, RUN_DETAILS["html_url"])
    [request] = recorder.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"]
    assert request.headers["user-agent"].startswith("orchestrator-bot/")
    body = json.loads(request.content)
    assert body == {"ref": "main", "inputs": {"target": "staging"}, "return_run_details": True}
    github_contract().validate_request("POST", request.url.path, body=body)
    github_contract().validate_response("POST", request.url.path, 200, RUN_DETAILS)


def test_dispatch_without_run_details_is_204() -> None:
    recorder = Recorder(httpx.Response(204))
    assert github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=False) is None
    assert "return_run_details" not in json.loads(recorder.requests[0].content)


def test_enterprise_server_400_is_recognised() -> None:
    message = 'Invalid request.\n\n"return_run_details" is not a permitted key.'
    recorder = Recorder(httpx.Response(400, json={"message": message}))
    with pytest.raises(ReturnRunDetailsUnsupported):
        github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=True)


@pytest.mark.parametrize("status", [401, 403, 404, 422])
def test_rejections_are_not_retried(status: int) -> None:
    recorder = Recorder(httpx.Response(status, json={"message": "nope"}))
    with pytest.raises(GitHubRejected) as caught:
        github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=True)
    assert caught.value.status == status and len(recorder.requests) == 1


def test_dispatch_5xx_is_never_resent_blindly() -> None:
    recorder = Recorder(httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(GitHubOutcomeUnknown):
        github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=True)
    assert len(recorder.requests) == 1


def test_dispatch_read_timeout_is_unknown_not_resent() -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(GitHubOutcomeUnknown):
        github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=True)
    assert len(recorder.requests) == 1


def test_connection_refused_is_retried_then_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("orchestrator.clients.retries.time.sleep", lambda _: None)
    recorder = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(GitHubUnreachable):
        github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=True)
    assert len(recorder.requests) == RetryPolicy().max_attempts


def test_secondary_rate_limit_retry_after_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("orchestrator.clients.retries.time.sleep", waits.append)
    recorder = Recorder(
        httpx.Response(403, headers={"retry-after": "2"}, json={"message": "secondary rate limit"}),
        httpx.Response(200, json=RUN_DETAILS),
    )
    assert github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=True) is not None
    assert waits == [2.0] and len(recorder.requests) == 2


def test_secondary_rate_limit_without_retry_after_is_a_rate_limit_not_a_refusal() -> None:
    """Regression: it was taken for the token lacking permissions (a wrong message and a false alert)."""
    body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}
    recorder = Recorder(httpx.Response(403, json=body))
    with pytest.raises(GitHubRateLimited) as caught:
        github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=True)
    assert caught.value.retry_after_seconds == 60.0  # at least a minute, as GitHub advises
    assert len(recorder.requests) == 1  # longer than the client waits: reported, not waited for


def test_primary_rate_limit_far_away_is_reported() -> None:
    reset = str(int(datetime.now(UTC).timestamp()) + 3600)
    recorder = Recorder(
        httpx.Response(403, headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}, json={})
    )
    with pytest.raises(GitHubRateLimited) as caught:
        github(recorder).dispatch_workflow("d.yml", "main", {}, return_run_details=True)
    assert caught.value.retry_after_seconds is not None and caught.value.retry_after_seconds > 3500


def test_find_run_matches_the_correlation_id_only() -> None:
    since = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    runs = {
        "total_count": 2,
        "workflow_runs": [
            {"id": 2, "name": "Diagnose", "display_title": "Diagnose someone-else", "html_url": "https://x/2"},
            {"id": 1, "name": "Diagnose", "display_title": "Diagnose [abc123]", "html_url": "https://x/1"},
        ],
    }
    recorder = Recorder(httpx.Response(200, json=runs))
    assert github(recorder).find_dispatched_run("d.yml", "abc123", since) == RunRef(1, "https://x/1")
    request = recorder.requests[0]
    params = dict(request.url.params)
    assert params == {"event": "workflow_dispatch", "created": ">=2026-11-22T03:00:00Z", "per_page": "100"}
    github_contract().validate_request("GET", request.url.path, body=None, query=params)
    assert github(Recorder(httpx.Response(200, json=runs))).find_dispatched_run("d.yml", "zzz", since) is None


def test_find_run_follows_full_pages_and_stops_at_the_bound() -> None:
    since = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    others = [{"id": n, "display_title": f"Diagnose other-{n}", "html_url": f"https://x/{n}"} for n in range(100)]
    ours = {"id": 500, "display_title": "Diagnose [abc123]", "html_url": "https://x/500"}
    recorder = Recorder(*(httpx.Response(200, json={"workflow_runs": page}) for page in (others, others, [ours])))
    assert github(recorder).find_dispatched_run("d.yml", "abc123", since) == RunRef(500, "https://x/500")
    assert [r.url.params.get("page") for r in recorder.requests] == [None, "2", "3"]

    endless = Recorder(*(httpx.Response(200, json={"workflow_runs": others}) for _ in range(20)))
    assert github(endless).find_dispatched_run("d.yml", "abc123", since) is None
    assert len(endless.requests) == github_api.MAX_RUN_PAGES


def test_find_run_survives_odd_bodies() -> None:
    since = datetime(2026, 11, 22, tzinfo=UTC)
    bodies: list[object] = [{"workflow_runs": "x"}, {"workflow_runs": [1, None, {"id": "7"}]}, []]
    for body in bodies:
        assert github(Recorder(httpx.Response(200, json=body))).find_dispatched_run("d.yml", "a", since) is None


def message() -> dict[str, Any]:
    outcome = DispatchOutcome("dispatched", run_id=42, html_url=RUN_DETAILS["html_url"])
    return outcome_message("diagnose", {"target": "staging"}, outcome, "0" * 32)


def test_edit_original_matches_discords_contract() -> None:
    recorder = Recorder(httpx.Response(200, json={"id": "1"}))
    discord(recorder).edit_original(INTERACTION_TOKEN, message())
    [request] = recorder.requests
    assert request.method == "PATCH"
    assert request.url.path == f"/api/v10/webhooks/{APP_ID}/{INTERACTION_TOKEN}/messages/@original"
    assert "authorization" not in request.headers  # the interaction token is the credential
    assert request.headers["user-agent"].startswith("DiscordBot (")
    discord_contract().validate_request("PATCH", request.url.path, body=json.loads(request.content))


def test_discord_429_waits_retry_after_from_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("orchestrator.clients.retries.time.sleep", waits.append)
    limited = httpx.Response(
        429,
        headers={"retry-after": "1"},
        json={"message": "You are being rate limited.", "retry_after": 0.25, "global": False},
    )
    recorder = Recorder(limited, httpx.Response(200, json={}))
    discord(recorder).edit_original(INTERACTION_TOKEN, message())
    assert waits == [0.25] and len(recorder.requests) == 2


def test_discord_404_is_never_retried() -> None:
    recorder = Recorder(httpx.Response(404, json={"message": "Unknown Webhook", "code": 10015}))
    with pytest.raises(InteractionExpired):
        discord(recorder).edit_original(INTERACTION_TOKEN, message())
    assert len(recorder.requests) == 1


def test_discord_5xx_is_retried_then_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("orchestrator.clients.retries.time.sleep", lambda _: None)
    recorder = Recorder(httpx.Response(503, text="upstream"))
    with pytest.raises(DiscordUnavailable) as caught:
        discord(recorder).edit_original(INTERACTION_TOKEN, message())
    assert len(recorder.requests) == RetryPolicy().max_attempts
    assert INTERACTION_TOKEN not in str(caught.value)


def test_discord_400_is_our_bug_not_retried() -> None:
    recorder = Recorder(httpx.Response(400, json={"code": 50035, "message": "Invalid Form Body"}))
    with pytest.raises(DiscordRejected):
        discord(recorder).edit_original(INTERACTION_TOKEN, message())
    assert len(recorder.requests) == 1


def test_transport_errors_never_show_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("orchestrator.clients.retries.time.sleep", lambda _: None)
    recorder = Recorder(httpx.ReadError(f"failed for /webhooks/{APP_ID}/{INTERACTION_TOKEN}"))
    with pytest.raises(DiscordUnavailable) as caught:
        discord(recorder).edit_original(INTERACTION_TOKEN, message())
    assert INTERACTION_TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_long_retry_after_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("orchestrator.clients.retries.time.sleep", waits.append)
    recorder = Recorder(httpx.Response(429, json={"retry_after": 120.0, "global": True, "message": "slow"}))
    http = httpx.Client(transport=httpx.MockTransport(recorder))
    response = send(http, "GET", "https://discord.com/api/v10/x", policy=RetryPolicy())
    assert response.status_code == 429 and waits == [] and len(recorder.requests) == 1


@pytest.mark.parametrize(
    "headers,body,expected",
    [
        ({"retry-after": "3"}, None, 3.0),
        ({"retry-after": "soon"}, None, None),
        ({}, {"retry_after": 1.5}, 1.5),
        ({"retry-after": "9"}, {"retry_after": 0.5}, 0.5),
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1060"}, None, 60.0),
        ({}, None, None),
    ],
)
def test_retry_after_sources(headers: dict[str, str], body: object, expected: float | None) -> None:
    response = (
        httpx.Response(429, headers=headers, json=body) if body is not None else httpx.Response(429, headers=headers)
    )
    assert retry_after_seconds(response, now=1000.0) == expected


def test_find_run_takes_the_trace_id_only_as_a_whole_token_and_never_one_of_two() -> None:
    since = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    inside = {"id": 3, "display_title": "deploy [xabc123y]", "html_url": "https://x/3"}
    prefixed = {"id": 4, "display_title": "deploy abc123-extra", "html_url": "https://x/4"}
    unbracketed = {"id": 6, "display_title": "deploy note: abc123", "html_url": "https://x/6"}  # a user's value
    ours = {"id": 5, "display_title": "deploy staging [abc123]", "html_url": "https://x/5"}
    body = {"workflow_runs": [inside, prefixed, unbracketed, ours]}
    assert github(Recorder(httpx.Response(200, json=body))).find_dispatched_run("d.yml", "abc123", since) == RunRef(
        5, "https://x/5"
    )
    # Another user's input echoed in a run name, carrying our id as a token: neither is ours for sure.
    forged = {"id": 6, "display_title": "deploy [abc123] (target: x)", "html_url": "https://x/6"}
    with pytest.raises(AmbiguousRun):
        github(Recorder(httpx.Response(200, json={"workflow_runs": [forged, ours]}))).find_dispatched_run(
            "d.yml", "abc123", since
        )
