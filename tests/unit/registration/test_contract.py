"""The registration requests, and the stand-in's answers to them, against Discord's own OpenAPI description."""

from __future__ import annotations

import pytest

from orchestrator.commands.model import CommandSet
from orchestrator.registration.payload import build_commands
from orchestrator_dev.standins.fake_discord import FakeDiscord
from tests.contract.openapi import discord_contract
from tests.unit.registration.conftest import GUILD_ID, OTHER_GUILD_ID, Register


@pytest.mark.parametrize("global_scope", [True, False])
def test_the_bulk_body_validates_for_both_scopes(command_set: CommandSet, global_scope: bool) -> None:
    body = build_commands(command_set, debug_enabled=True, global_scope=global_scope)
    operation = discord_contract().operation(
        "bulk_set_application_commands" if global_scope else "bulk_set_guild_application_commands"
    )
    discord_contract().validate_body(operation, body)


def test_every_request_register_sends_and_every_answer_validates(register: Register, discord: FakeDiscord) -> None:
    discord.rate_limit_next(1, 0.01, method="PUT")
    assert register("--guild", GUILD_ID, ENABLE_DEBUG_CMD="true").code == 0
    assert register(ENABLE_DEBUG_CMD="true").code == 0
    assert register("--guild", OTHER_GUILD_ID).code == 1
    assert register(DISCORD_BOT_TOKEN="MTIz.wrong.token").code == 1
    seen: set[str | None] = set()
    for request in discord.requests:
        operation = discord_contract().validate_request(
            request.method, request.path, body=request.json, query=request.query
        )
        seen.add(operation.operation_id)
    assert seen == {
        "list_application_commands",
        "bulk_set_application_commands",
        "list_guild_application_commands",
        "bulk_set_guild_application_commands",
    }
