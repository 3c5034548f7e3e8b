"""The gateway connection's answers: an interaction that waited too long is not taken (its user
already sees "did not respond"), the callback gets what is left of the 3 seconds, and a repeated
answer Discord already has counts as delivered."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from orchestrator.clients.discord_api import DiscordClient
from orchestrator.gateway.connection import TAKE_BEFORE_SECONDS, GatewayClient
from orchestrator.web.http import HttpRequest, HttpResponse, json_response

INTERACTION_ID, TOKEN = "1150000000000000005", "aW50ZXJhY3Rpb246dG9rZW4"
INTERACTION: dict[str, Any] = {"id": INTERACTION_ID, "token": TOKEN, "type": 2}


class Endpoint:
    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []

    def handle_authenticated(self, request: HttpRequest, how: str) -> HttpResponse:
        self.requests.append(request)
        return json_response(200, {"type": 5, "data": {"flags": 0}})


def discord_answering(status: int, body: dict[str, Any] | None = None) -> tuple[DiscordClient, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status)

    client = DiscordClient(httpx.Client(transport=httpx.MockTransport(answer)), "https://discord.test/api/v10", "1")
    return client, sent


def test_an_interaction_that_waited_too_long_for_a_thread_is_not_taken() -> None:
    endpoint = Endpoint()
    rest, sent = discord_answering(204)
    client = GatewayClient(endpoint, rest)  # type: ignore[arg-type]

    client._answer(INTERACTION, arrived=time.monotonic() - TAKE_BEFORE_SECONDS)

    assert endpoint.requests == [] and sent == [], "nothing queued, nothing answered"


def test_an_answer_goes_to_the_callback_with_the_time_left() -> None:
    endpoint = Endpoint()
    rest, sent = discord_answering(204)
    client = GatewayClient(endpoint, rest)  # type: ignore[arg-type]

    client._answer(INTERACTION, arrived=time.monotonic())

    [request] = sent
    assert request.url.path == f"/api/v10/interactions/{INTERACTION_ID}/{TOKEN}/callback"
    timeout = request.extensions["timeout"]
    assert 0 < timeout["read"] <= 3.0


@pytest.mark.parametrize(("status", "body"), [(400, {"code": 40060, "message": "already acknowledged"}), (204, None)])
def test_an_answer_discord_already_has_counts_as_delivered(status: int, body: dict[str, Any] | None) -> None:
    rest, sent = discord_answering(status, body)

    rest.interaction_callback(INTERACTION_ID, TOKEN, {"type": 5}, timeout=1.0)

    assert len(sent) == 1
