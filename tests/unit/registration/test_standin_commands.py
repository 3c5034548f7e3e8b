"""The stand-in's application commands over real sockets: Discord's checks, its answers, its bookkeeping."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orchestrator_dev.standins.fake_discord import FakeDiscord
from tests.contract.openapi import discord_contract
from tests.unit.registration.conftest import APP_ID, GUILD_ID, OTHER_GUILD_ID

TLS = ssl.create_default_context()  # one for every client: building one costs ~45 ms
GLOBAL = f"/applications/{APP_ID}/commands"
GUILD = f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"


@pytest.fixture
def http(discord: FakeDiscord, bot_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bot {bot_token}"}
    with httpx.Client(verify=TLS, base_url=discord.api_url, headers=headers, timeout=5) as client:
        yield client


def command(name: str = "deploy", **fields: Any) -> dict[str, Any]:
    return {"type": 1, "name": name, "description": "Deploy it", **fields}


def option(name: str = "target", **fields: Any) -> dict[str, Any]:
    return {"type": 3, "name": name, "description": "Where", **fields}


def put(http: httpx.Client, body: object, path: str = GUILD) -> httpx.Response:
    response = http.put(path, json=body)
    discord_contract().validate_response("PUT", "/api/v10" + path, response.status_code, response.json())
    return response


def errors_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["message"]) == (50035, "Invalid Form Body")
    errors: dict[str, Any] = response.json()["errors"]
    return errors


def codes(errors: dict[str, Any], *path: str) -> list[str]:
    node = errors
    for key in path:
        node = node[key]
    return [error["code"] for error in node["_errors"]]


def test_put_then_get_answers_with_what_discord_stores(http: httpx.Client) -> None:
    body = [command(default_member_permissions=0, options=[option(required=True), option("note", required=False)])]
    stored = put(http, body).json()
    [deploy] = stored
    assert deploy["default_member_permissions"] == "0"  # Discord answers with a string
    assert deploy["guild_id"] == GUILD_ID
    assert deploy["options"][0]["required"] is True
    assert "required" not in deploy["options"][1]  # left out when false
    listed = http.get(GUILD)
    discord_contract().validate_response("GET", "/api/v10" + GUILD, 200, listed.json())
    assert listed.json() == stored
    assert http.get(GLOBAL).json() == []  # the scopes are separate


def test_an_overwrite_keeps_ids_by_name_and_versions_of_unchanged_commands(http: httpx.Client) -> None:
    [first_a, first_b] = put(http, [command("a"), command("b")]).json()
    [second_a, second_b, c] = put(http, [command("a"), command("b", description="Changed"), command("c")]).json()
    assert (second_a["id"], second_a["version"]) == (first_a["id"], first_a["version"])
    assert second_b["id"] == first_b["id"]
    assert second_b["version"] != first_b["version"]
    assert c["id"] not in {first_a["id"], first_b["id"]}
    assert put(http, []).json() == []
    assert http.get(GUILD).json() == []


def test_names_and_lengths(http: httpx.Client) -> None:
    errors = errors_of(
        put(
            http,
            [
                command("Deploy"),
                command("x" * 33),
                command("ok", description=""),
                command("ok2", options=[option("bad name"), option("fine", description="d" * 101)]),
            ],
        )
    )
    assert codes(errors, "0", "name") == ["APPLICATION_COMMAND_INVALID_NAME"]
    assert codes(errors, "1", "name") == ["BASE_TYPE_BAD_LENGTH"]
    assert codes(errors, "2", "description") == ["BASE_TYPE_BAD_LENGTH"]
    assert codes(errors, "3", "options", "0", "name") == ["APPLICATION_COMMAND_INVALID_NAME"]
    assert codes(errors, "3", "options", "1", "description") == ["BASE_TYPE_BAD_LENGTH"]


def test_at_most_25_options_and_25_choices(http: httpx.Client) -> None:
    options = [option(f"o{i}") for i in range(26)]
    choices = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]
    errors = errors_of(put(http, [command(options=options), command("two", options=[option(choices=choices)])]))
    assert codes(errors, "0", "options") == ["BASE_TYPE_MAX_LENGTH"]
    assert codes(errors, "1", "options", "0", "choices") == ["BASE_TYPE_MAX_LENGTH"]
    assert put(http, [command(options=options[:25]), command("two", options=[option(choices=choices[:25])])]).is_success


def test_required_options_come_first(http: httpx.Client) -> None:
    errors = errors_of(put(http, [command(options=[option("a"), option("b", required=True)])]))
    assert codes(errors, "0", "options") == ["APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"]


def test_choice_values_match_their_option_type(http: httpx.Client) -> None:
    integer = {"type": 4, "name": "n", "description": "N", "choices": [{"name": "1.5", "value": 1.5}]}
    boolean = {"type": 5, "name": "b", "description": "B", "choices": [{"name": "yes", "value": True}]}
    errors = errors_of(put(http, [command(options=[integer, boolean])]))
    assert codes(errors, "0", "options", "0", "choices", "0", "value") == [
        "APPLICATION_COMMAND_OPTION_CHOICE_VALUE_INVALID"
    ]
    assert codes(errors, "0", "options", "1", "choices") == ["APPLICATION_COMMAND_OPTION_CHOICES_INVALID"]


def test_duplicate_names_and_bad_permissions(http: httpx.Client) -> None:
    errors = errors_of(put(http, [command(), command(default_member_permissions="admins")]))
    assert codes(errors, "1", "name") == ["APPLICATION_COMMANDS_DUPLICATE_NAME"]
    assert codes(errors, "1", "default_member_permissions") == ["NUMBER_TYPE_COERCE"]


def test_a_wrong_token_is_401_and_a_server_without_the_bot_is_403(http: httpx.Client, discord: FakeDiscord) -> None:
    wrong = http.get(GUILD, headers={"Authorization": "Bot MTIz.not.it"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, 0)
    missing = http.get(f"/applications/{APP_ID}/guilds/{OTHER_GUILD_ID}/commands")
    other_app = http.put(f"/applications/{'9' * 18}/commands", json=[])
    for response in (wrong, missing, other_app):
        path = response.request.url.path
        discord_contract().validate_response(response.request.method, path, response.status_code, response.json())
    assert (missing.status_code, missing.json()) == (403, {"message": "Missing Access", "code": 50001})
    assert other_app.status_code == 403
    assert discord.registered_commands() == []


def test_a_429_on_demand_for_one_method_only(http: httpx.Client, discord: FakeDiscord) -> None:
    discord.rate_limit_next(1, 0.5, method="PUT", path=r"/guilds/")
    assert http.get(GUILD).status_code == 200
    limited = http.put(GUILD, json=[])
    assert limited.status_code == 429
    assert limited.json()["retry_after"] == 0.5
    discord_contract().validate_response("PUT", "/api/v10" + GUILD, 429, limited.json())
    assert http.put(GUILD, json=[]).status_code == 200
