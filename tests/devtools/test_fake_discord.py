"""FakeDiscord driven over real sockets: webhook edits, follow-ups, channel posts, limits, 429s."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orchestrator.devtools.fake_discord import LOADING, FakeDiscord
from orchestrator.devtools.http_standin import Fault
from orchestrator.discord.wire import EPHEMERAL
from tests.contract.openapi import discord_contract

# One TLS context for every client: httpx builds one per client otherwise, ~45 ms each.
TLS = ssl.create_default_context()
APP_ID = "1234567890123456789"
BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
TOKEN = "aW50ZXJhY3Rpb246" + "A" * 164
CHANNEL = "1111111111111111111"
ORIGINAL = f"/webhooks/{APP_ID}/{TOKEN}/messages/@original"
FOLLOWUP = f"/webhooks/{APP_ID}/{TOKEN}"


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with FakeDiscord(APP_ID, BOT_TOKEN) as server:
        server.open_interaction(TOKEN, channel_id=CHANNEL, ephemeral=False)
        yield server


@pytest.fixture
def client(discord: FakeDiscord) -> Iterator[httpx.Client]:
    with httpx.Client(verify=TLS, base_url=discord.url + "/api/v10", timeout=5) as http:
        yield http


def form_errors(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"]) == (50035, "Invalid Form Body")
    errors: dict[str, Any] = body["errors"]
    return errors


def codes_at(errors: dict[str, Any], *path: str) -> list[str]:
    node = errors
    for key in path:
        node = node[key]
    return [e["code"] for e in node["_errors"]]


def button(custom_id: str = "go", **extra: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Go", "custom_id": custom_id, **extra}


# -- interaction messages ----------------------------------------------------------------------


def test_an_open_interaction_shows_the_thinking_message(discord: FakeDiscord) -> None:
    discord.open_interaction("ephemeral-token", channel_id=CHANNEL, ephemeral=True)

    thinking = discord.message_for("ephemeral-token")
    assert thinking is not None
    assert thinking["flags"] == LOADING | EPHEMERAL
    assert thinking["content"] == ""
    assert discord.message_for("unknown") is None
    assert discord.history_for("unknown") == []


def test_editing_the_original_needs_no_auth_and_keeps_every_version(discord: FakeDiscord, client: httpx.Client) -> None:
    first = client.patch(ORIGINAL, json={"content": "Dispatching…"})
    second = client.patch(
        ORIGINAL,
        json={"embeds": [{"title": "Run started", "fields": [{"name": "run", "value": "42"}]}]},
    )

    assert first.status_code == second.status_code == 200
    message = second.json()
    assert message["content"] == "Dispatching…"  # an edit keeps the fields it does not name
    assert message["embeds"] == [
        {"type": "rich", "title": "Run started", "fields": [{"inline": False, "name": "run", "value": "42"}]}
    ]
    assert message["flags"] == 0  # the LOADING flag goes with the first edit
    assert message["author"] == {**message["author"], "id": APP_ID, "bot": True}
    assert message["channel_id"] == CHANNEL
    assert message["id"] == first.json()["id"]
    assert message["edited_timestamp"] is not None
    assert discord.message_for(TOKEN) == message
    history = discord.history_for(TOKEN)
    assert [v["content"] for v in history] == ["", "Dispatching…", "Dispatching…"]
    assert history[0]["flags"] == LOADING
    assert discord.requests[0].headers.get("authorization") is None


def test_an_ephemeral_reply_stays_ephemeral_after_edits(discord: FakeDiscord, client: httpx.Client) -> None:
    discord.open_interaction("secret", channel_id=CHANNEL, ephemeral=True)

    response = client.patch(f"/webhooks/{APP_ID}/secret/messages/@original", json={"content": "only you"})

    assert response.json()["flags"] == EPHEMERAL


def test_components_come_back_numbered(client: httpx.Client) -> None:
    rows = [{"type": 1, "components": [button("yes"), button("no", style=4)]}]

    echoed = client.patch(ORIGINAL, json={"content": "Sure?", "components": rows}).json()["components"]

    assert [echoed[0]["id"], *(c["id"] for c in echoed[0]["components"])] == [1, 2, 3]
    assert echoed[0]["components"][1]["custom_id"] == "no"


def test_clearing_content_of_a_message_with_nothing_else_is_refused(client: httpx.Client) -> None:
    response = client.patch(ORIGINAL, json={"content": ""})

    assert response.status_code == 400
    assert response.json() == {"message": "Cannot send an empty message", "code": 50006}


@pytest.mark.parametrize(
    ("path", "expire"),
    [
        (ORIGINAL, True),
        (FOLLOWUP, True),
        (f"/webhooks/{APP_ID}/not-a-token/messages/@original", False),
        (f"/webhooks/{APP_ID}/not-a-token", False),
        (f"/webhooks/999/{TOKEN}/messages/@original", False),
    ],
)
def test_expired_unknown_or_foreign_webhooks_are_404(
    discord: FakeDiscord, client: httpx.Client, path: str, expire: bool
) -> None:
    if expire:
        discord.expire_interaction(TOKEN)
    send = client.patch if path.endswith("@original") else client.post

    response = send(path, json={"content": "too late"})

    assert response.status_code == 404
    assert response.json() == {"message": "Unknown Webhook", "code": 10015}
    assert len(discord.history_for(TOKEN)) == 1
    assert discord.followups_for(TOKEN) == []


def test_followups_are_new_messages_of_the_interaction(discord: FakeDiscord, client: httpx.Client) -> None:
    first = client.post(FOLLOWUP, json={"content": "Run finished"})
    second = client.post(FOLLOWUP, json={"content": "psst", "flags": EPHEMERAL})

    assert first.status_code == second.status_code == 200
    assert first.json()["id"] != second.json()["id"]
    assert (first.json()["flags"], second.json()["flags"]) == (0, EPHEMERAL)
    assert [m["content"] for m in discord.followups_for(TOKEN)] == ["Run finished", "psst"]
    assert discord.message_for(TOKEN) == discord.history_for(TOKEN)[0]  # the original is untouched


def test_an_empty_followup_is_refused(client: httpx.Client) -> None:
    response = client.post(FOLLOWUP, json={"content": "", "embeds": []})

    assert response.status_code == 400
    assert response.json()["code"] == 50006


def test_a_body_that_is_not_json_is_refused(client: httpx.Client) -> None:
    response = client.patch(ORIGINAL, content=b"{nope", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json() == {"message": "The request body contains invalid JSON.", "code": 50109}


# -- channel messages -------------------------------------------------------------------------------


def test_channel_posts_need_the_bot_token(discord: FakeDiscord, client: httpx.Client) -> None:
    path = f"/channels/{CHANNEL}/messages"
    for headers in ({}, {"Authorization": "Bot wrong"}, {"Authorization": f"Bearer {BOT_TOKEN}"}):
        response = client.post(path, json={"content": "alert"}, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"message": "401: Unauthorized", "code": 0}

    posted = client.post(path, json={"content": "alert"}, headers={"Authorization": f"Bot {BOT_TOKEN}"})

    assert posted.status_code == 200
    assert posted.json()["type"] == 0
    assert [m["content"] for m in discord.channel_messages(CHANNEL)] == ["alert"]
    assert discord.channel_messages("2222222222222222222") == []


def test_a_channel_post_can_reply_to_a_message(discord: FakeDiscord, client: httpx.Client) -> None:
    auth = {"Authorization": f"Bot {BOT_TOKEN}"}
    first = client.post(f"/channels/{CHANNEL}/messages", json={"content": "alert"}, headers=auth).json()

    reply = client.post(
        f"/channels/{CHANNEL}/messages",
        json={"content": "resolved", "message_reference": {"message_id": first["id"]}},
        headers=auth,
    ).json()

    assert reply["type"] == 19
    assert reply["message_reference"] == {"type": 0, "channel_id": CHANNEL, "message_id": first["id"]}
    assert len(discord.channel_messages(CHANNEL)) == 2


def test_without_a_bot_token_channel_posts_are_always_401() -> None:
    with FakeDiscord(APP_ID, None) as server, httpx.Client(verify=TLS, base_url=server.api_url) as http:
        response = http.post(
            f"/channels/{CHANNEL}/messages", json={"content": "x"}, headers={"Authorization": "Bot anything"}
        )
    assert response.status_code == 401


# -- validation ---------------------------------------------------------------------------------------


def embed(**fields: Any) -> dict[str, Any]:
    return {"title": "t", **fields}


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"content": "x" * 2001}, ("content",), "BASE_TYPE_MAX_LENGTH"),
        ({"embeds": [embed()] * 11}, ("embeds",), "BASE_TYPE_MAX_LENGTH"),
        ({"embeds": [embed(title="x" * 257)]}, ("embeds", "0", "title"), "BASE_TYPE_MAX_LENGTH"),
        ({"embeds": [embed(description="x" * 4097)]}, ("embeds", "0", "description"), "BASE_TYPE_MAX_LENGTH"),
        ({"embeds": [embed(footer={"text": "x" * 2049})]}, ("embeds", "0", "footer", "text"), "BASE_TYPE_MAX_LENGTH"),
        (
            {"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]},
            ("embeds", "0", "fields"),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"embeds": [embed(fields=[{"name": "n" * 257, "value": "v"}])]},
            ("embeds", "0", "fields", "0", "name"),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"embeds": [embed(fields=[{"name": "n", "value": "v" * 1025}])]},
            ("embeds", "0", "fields", "0", "value"),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"embeds": [embed(fields=[{"name": "n", "value": ""}])]},
            ("embeds", "0", "fields", "0", "value"),
            "BASE_TYPE_REQUIRED",
        ),
        (
            {"embeds": [embed(description="x" * 4000), embed(description="y" * 2000)]},
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
        ),
        (
            {"components": [{"type": 1, "components": [button(f"b{n}")]} for n in range(6)]},
            ("components",),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"components": [{"type": 1, "components": [button(f"b{n}") for n in range(6)]}]},
            ("components", "0", "components", "5"),
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
        ),
        (
            {"components": [{"type": 1, "components": [button("")]}]},
            ("components", "0", "components", "0", "custom_id"),
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            {"components": [{"type": 1, "components": [button("x" * 101)]}]},
            ("components", "0", "components", "0", "custom_id"),
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            {"components": [{"type": 1, "components": [button("a"), button("a")]}]},
            ("components", "0", "components", "1", "custom_id"),
            "COMPONENT_CUSTOM_ID_DUPLICATED",
        ),
        (
            {"components": [{"type": 1, "components": [button(label="x" * 81)]}]},
            ("components", "0", "components", "0", "label"),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"components": [{"type": 1, "components": [{"type": 2, "style": 5, "label": "Run"}]}]},
            ("components", "0", "components", "0", "url"),
            "BUTTON_COMPONENT_URL_REQUIRED",
        ),
        (
            {"components": [{"type": 1, "components": [button(style=5, url="https://github.com")]}]},
            ("components", "0", "components", "0", "custom_id"),
            "BUTTON_COMPONENT_LINK_HAS_CUSTOM_ID",
        ),
        (
            {"content": "x", "components": [{"type": 1, "components": []}]},
            ("components", "0", "components"),
            "BASE_TYPE_BAD_LENGTH",
        ),
    ],
)
def test_bodies_over_discords_limits_are_invalid_form_bodies(
    discord: FakeDiscord, client: httpx.Client, body: dict[str, Any], path: tuple[str, ...], code: str
) -> None:
    auth = {"Authorization": f"Bot {BOT_TOKEN}"}
    answers = [
        client.patch(ORIGINAL, json=body),
        client.post(FOLLOWUP, json=body),
        client.post(f"/channels/{CHANNEL}/messages", json=body, headers=auth),
    ]

    for response in answers:
        assert code in codes_at(form_errors(response), *path)
    assert len(discord.history_for(TOKEN)) == 1
    assert discord.followups_for(TOKEN) == discord.channel_messages(CHANNEL) == []


def test_bodies_at_the_limits_are_accepted(client: httpx.Client) -> None:
    fields = [{"name": "n" * 10, "value": "v" * 30}] * 25
    body = {
        "content": "x" * 2000,
        "embeds": [{"title": "t" * 256, "description": "d" * 4096, "fields": fields}],
        "components": [{"type": 1, "components": [button(f"{r}-{b}" + "x" * 96) for b in range(5)]} for r in range(4)]
        + [{"type": 1, "components": [{"type": 2, "style": 5, "label": "l" * 80, "url": "https://github.com"}]}],
    }

    response = client.patch(ORIGINAL, json=body)

    assert response.status_code == 200, response.text


def test_a_form_error_reports_every_problem(client: httpx.Client) -> None:
    errors = form_errors(client.patch(ORIGINAL, json={"content": "x" * 2001, "embeds": [embed(title="x" * 300)]}))

    assert set(errors) == {"content", "embeds"}
    assert errors["content"]["_errors"] == [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
    ]


# -- rate limits, headers, faults ---------------------------------------------------------------------


def test_every_answer_carries_rate_limit_headers(client: httpx.Client) -> None:
    for response in (client.patch(ORIGINAL, json={"content": "x"}), client.get("/nowhere")):
        for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After"):
            float(response.headers[header])
        assert len(response.headers["X-RateLimit-Bucket"]) == 32
    assert response.status_code == 404
    assert response.json() == {"message": "404: Not Found", "code": 0}


def test_rate_limit_next_answers_429_like_discord(discord: FakeDiscord, client: httpx.Client) -> None:
    discord.rate_limit_next(2, 0.25)

    limited = [client.patch(ORIGINAL, json={"content": "x"}) for _ in range(2)]
    allowed = client.patch(ORIGINAL, json={"content": "x"})

    for response in limited:
        assert response.status_code == 429
        assert response.json() == {"message": "You are being rate limited.", "retry_after": 0.25, "global": False}
        assert response.headers["Retry-After"] == "1"
        assert response.headers["X-RateLimit-Scope"] == "user"
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert "X-RateLimit-Global" not in response.headers
    assert allowed.status_code == 200
    assert len(discord.history_for(TOKEN)) == 2  # the limited requests changed nothing


def test_a_global_rate_limit_says_so(discord: FakeDiscord, client: httpx.Client) -> None:
    discord.rate_limit_next(1, 2.5, is_global=True)

    response = client.post(FOLLOWUP, json={"content": "x"})

    assert response.status_code == 429
    assert response.json()["global"] is True
    assert response.headers["Retry-After"] == "3"
    assert response.headers["X-RateLimit-Scope"] == "global"
    assert response.headers["X-RateLimit-Global"] == "true"


def test_a_dropped_edit_raises_on_the_client(discord: FakeDiscord, client: httpx.Client) -> None:
    discord.inject(Fault(method="PATCH", drop=True))

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.patch(ORIGINAL, json={"content": "x"})

    assert len(discord.requests_to("PATCH", "/api/v10/webhooks/")) == 1
    assert client.patch(ORIGINAL, json={"content": "x"}).status_code == 200


def test_messages_match_discords_openapi_schema(client: httpx.Client) -> None:
    body = {
        "content": "Run finished",
        "embeds": [
            {"title": "t", "description": "d", "fields": [{"name": "a", "value": "b"}], "footer": {"text": "f"}}
        ],
        "components": [
            {
                "type": 1,
                "components": [button(), {"type": 2, "style": 5, "label": "Run", "url": "https://github.com"}],
            }
        ],
    }

    contract = discord_contract()
    contract.validate_response("PATCH", ORIGINAL, 200, client.patch(ORIGINAL, json=body).json())
    contract.validate_response("POST", FOLLOWUP, 200, client.post(FOLLOWUP, json=body).json())
