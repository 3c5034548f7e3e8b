"""FakeDiscord driven over real sockets: webhook edits, follow-ups, channel posts, limits, 429s."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orchestrator.discord.wire import EPHEMERAL
from orchestrator_dev.standins.fake_discord import LOADING, FakeDiscord
from orchestrator_dev.standins.http_standin import Fault
from tests.contract.openapi import discord_contract, validate_interaction_response

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


# -- the bot's identity: /users/@me, /applications/@me ---------------------------------------------


BOT_AUTH = {"Authorization": f"Bot {BOT_TOKEN}"}


@pytest.mark.parametrize(
    "path", ["/users/@me", "/oauth2/applications/@me", "/applications/@me"], ids=["user", "oauth2-app", "app"]
)
def test_the_bots_identity_needs_the_bot_token(client: httpx.Client, path: str) -> None:
    for headers in ({}, {"Authorization": "Bot wrong"}, {"Authorization": f"Bearer {BOT_TOKEN}"}):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 401
        assert refused.json() == {"message": "401: Unauthorized", "code": 0}

    assert client.get(path, headers=BOT_AUTH).status_code == 200


def test_users_me_is_the_bot_user(client: httpx.Client) -> None:
    me = client.get("/users/@me", headers=BOT_AUTH).json()

    assert me["id"] == APP_ID
    assert (me["username"], me["discriminator"], me["bot"]) == ("Orchestrator", "0000", True)
    assert me["avatar"] is None and me["global_name"] is None and me["flags"] == 0
    contract = discord_contract()
    contract.validate_response("GET", "/users/@me", 200, me)
    contract.validate_response("GET", "/users/@me", 401, client.get("/users/@me").json())


def test_the_application_reports_its_interactions_endpoint_url(discord: FakeDiscord, client: httpx.Client) -> None:
    contract = discord_contract()
    for path in ("/oauth2/applications/@me", "/applications/@me"):
        application = client.get(path, headers=BOT_AUTH).json()
        assert application["id"] == APP_ID
        assert application["interactions_endpoint_url"] is None
        assert application["bot"]["id"] == APP_ID
        assert (application["icon"], application["description"], application["team"]) == (None, "", None)
        assert (application["flags"], application["bot_require_code_grant"]) == (0, False)
        assert len(bytes.fromhex(application["verify_key"])) == 32
        contract.validate_response("GET", path, 200, application)

    discord.interactions_endpoint_url = "https://bot.example.com/interactions"
    application = client.get("/oauth2/applications/@me", headers=BOT_AUTH).json()

    assert application["interactions_endpoint_url"] == "https://bot.example.com/interactions"
    contract.validate_response("GET", "/oauth2/applications/@me", 200, application)


def test_without_a_bot_token_the_identity_routes_take_any_caller() -> None:
    with FakeDiscord(APP_ID, None) as server, httpx.Client(verify=TLS, base_url=server.api_url) as http:
        assert http.get("/users/@me").json()["id"] == APP_ID
        assert http.get("/applications/@me").json()["id"] == APP_ID


# -- interaction callbacks --------------------------------------------------------------------------


INTERACTION_ID = "7777777777777777777"
CALLBACK = f"/interactions/{INTERACTION_ID}/{TOKEN}/callback"


def answer(client: httpx.Client, body: Any, *, with_response: bool = False, path: str = CALLBACK) -> httpx.Response:
    """POST an interaction callback, as discord.py does with `with_response`, or as a bare 204 call."""
    return client.post(path, json=body, params={"with_response": "true"} if with_response else None)


def test_a_deferred_answer_opens_the_interaction_for_edits(discord: FakeDiscord, client: httpx.Client) -> None:
    discord.expect_interaction(INTERACTION_ID, "fresh", "2222222222222222222")
    body = {"type": 5, "data": {"flags": EPHEMERAL}}
    validate_interaction_response(body)

    response = answer(client, body, path=f"/interactions/{INTERACTION_ID}/fresh/callback")

    assert response.status_code == 204
    assert response.content == b""
    thinking = discord.message_for("fresh")
    assert thinking is not None
    assert (thinking["flags"], thinking["channel_id"]) == (LOADING | EPHEMERAL, "2222222222222222222")
    edited = client.patch(f"/webhooks/{APP_ID}/fresh/messages/@original", json={"content": "Dispatched"})
    assert edited.status_code == 200
    assert (edited.json()["content"], edited.json()["flags"]) == ("Dispatched", EPHEMERAL)
    assert discord.callbacks == [(INTERACTION_ID, "fresh", body)]
    assert discord.requests[-2].headers.get("authorization") is None  # callbacks need no bot token


def test_without_expect_interaction_the_message_is_in_channel_0(discord: FakeDiscord, client: httpx.Client) -> None:
    assert answer(client, {"type": 5}, path=f"/interactions/{INTERACTION_ID}/other/callback").status_code == 204

    thinking = discord.message_for("other")
    assert thinking is not None
    assert (thinking["channel_id"], thinking["flags"]) == ("0", LOADING)


def test_a_message_answer_becomes_the_original(discord: FakeDiscord, client: httpx.Client) -> None:
    discord.expect_interaction(INTERACTION_ID, "shown", CHANNEL)
    body = {"type": 4, "data": {"content": "Pong", "flags": EPHEMERAL}}
    validate_interaction_response(body)

    response = answer(client, body, path=f"/interactions/{INTERACTION_ID}/shown/callback")

    assert response.status_code == 204
    original = discord.message_for("shown")
    assert original is not None
    assert (original["content"], original["flags"], original["type"]) == ("Pong", EPHEMERAL, 20)
    assert original["channel_id"] == CHANNEL
    assert len(discord.history_for("shown")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"type": 1},
        {"type": 6},
        {"type": 7, "data": {"content": "updated"}},
        {"type": 8, "data": {"choices": [{"name": "main", "value": "main"}]}},
        {
            "type": 9,
            "data": {
                "custom_id": "why",
                "title": "Why?",
                "components": [
                    {"type": 1, "components": [{"type": 4, "custom_id": "reason", "style": 1, "label": "Reason"}]}
                ],
            },
        },
    ],
    ids=["pong", "deferred-update", "update", "autocomplete", "modal"],
)
def test_other_answers_are_only_recorded(discord: FakeDiscord, client: httpx.Client, body: dict[str, Any]) -> None:
    response = answer(client, body, path=f"/interactions/{INTERACTION_ID}/quiet/callback")

    assert response.status_code == 204
    assert discord.callbacks == [(INTERACTION_ID, "quiet", body)]
    assert discord.message_for("quiet") is None
    validate_interaction_response(body)


def test_a_second_answer_is_refused(discord: FakeDiscord, client: httpx.Client) -> None:
    assert answer(client, {"type": 5}).status_code == 204

    again = answer(client, {"type": 4, "data": {"content": "late"}})

    assert again.status_code == 400
    assert again.json() == {"message": "Interaction has already been acknowledged.", "code": 40060}
    assert len(discord.callbacks) == 2
    assert discord.history_for(TOKEN)[-1]["content"] == ""  # still the deferred message
    discord_contract().validate_response("POST", CALLBACK, 400, again.json())


@pytest.mark.parametrize("body", [{"type": 3}, {"type": 99}, {"type": "5"}, {"data": {}}])
def test_an_unknown_answer_type_is_an_invalid_form_body(discord: FakeDiscord, client: httpx.Client, body: Any) -> None:
    response = answer(client, body)

    assert response.status_code == 400
    assert response.json()["code"] == 50035
    assert codes_at(response.json()["errors"], "type") == ["BASE_TYPE_CHOICES"]
    assert answer(client, {"type": 5}).status_code == 204  # a refused answer acknowledges nothing
    discord_contract().validate_response("POST", CALLBACK, 400, response.json())


def test_a_message_answer_obeys_message_limits(discord: FakeDiscord, client: httpx.Client) -> None:
    too_long = answer(client, {"type": 4, "data": {"content": "x" * 2001}})
    empty = answer(client, {"type": 4, "data": {"content": ""}})

    assert codes_at(form_errors(too_long), "content") == ["BASE_TYPE_MAX_LENGTH"]
    assert empty.json() == {"message": "Cannot send an empty message", "code": 50006}


@pytest.mark.parametrize(
    ("body", "loading"),
    [({"type": 5, "data": {"flags": EPHEMERAL}}, True), ({"type": 4, "data": {"content": "Pong"}}, False)],
    ids=["deferred", "message"],
)
def test_with_response_the_answer_says_what_it_created(
    discord: FakeDiscord, client: httpx.Client, body: dict[str, Any], loading: bool
) -> None:
    discord.expect_interaction(INTERACTION_ID, "asked", CHANNEL)
    path = f"/interactions/{INTERACTION_ID}/asked/callback"

    response = answer(client, body, with_response=True, path=path)

    assert response.status_code == 200
    created = response.json()
    original = discord.message_for("asked")
    assert original is not None
    assert created["interaction"] == {
        "id": INTERACTION_ID,
        "type": 2,
        "channel_id": CHANNEL,
        "response_message_id": original["id"],
        "response_message_loading": loading,
        "response_message_ephemeral": body["type"] == 5,
    }
    assert created.get("resource") == (None if loading else {"type": 4, "message": original})
    discord_contract().validate_response("POST", path + "?with_response=true", 200, created)
