"""Registering options that suggest as the user types: `"autocomplete": true` and never `choices`
beside it (choices otherwise), a body Discord's OpenAPI description accepts; and `register` for a
command whose options come from its workflow reads that workflow from (stand-in) GitHub, registers
the options derived from its inputs, and sends Discord nothing when the workflow cannot be read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSet
from orchestrator.registration.payload import build_commands
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub
from tests.contract.openapi import discord_contract
from tests.unit.registration.conftest import APP_ID, GUILD_ID, Register

GITHUB_TOKEN = "ghp_" + "suggest" * 5
REPOSITORY = "acme/delivery"
SERVICES = [f"service-{n:02d}" for n in range(30)]  # more than Discord's 25 choices

AUTOCOMPLETE_YAML = """
commands:
  deploy:
    description: Deploy a ref
    workflow: deploy.yml
    options:
      - name: ref
        type: string
        description: Branch or tag
        required: true
        autocomplete: refs
      - name: target
        type: string
        description: Environment
        choices: [staging, production]
      - name: environment
        type: string
        description: A GitHub environment
        autocomplete: environments
      - name: note
        type: string
        description: A note
    inputs:
      ref: "{ref}"
      target: "{target}"
      environment: "{environment}"
      note: "{note}"
  ship:
    description: Ship a service
    workflow: ship.yml
    options_from_workflow: true
"""

SHIP_WORKFLOW = f"""
name: Ship
run-name: "Ship ${{{{ inputs.service }}}} [${{{{ inputs.trace_id }}}}]"
on:
  workflow_dispatch:
    inputs:
      environment:
        type: environment
        required: true
        description: Where to ship
      service:
        type: choice
        required: true
        description: Which service
        options: {json.dumps(SERVICES)}
      region:
        type: choice
        description: Which region
        default: eu
        options: [eu, us]
      dry_run:
        type: boolean
        description: Only plan
      trace_id:
        type: string
        description: Set by the bot
jobs:
  ship:
    runs-on: ubuntu-latest
    steps:
      - run: echo shipping
"""


@pytest.fixture
def registration_file(tmp_path: Path) -> Path:
    """The `register` fixture's commands file, here one with suggesting and derived options."""
    path = tmp_path / "commands.yaml"
    path.write_text(AUTOCOMPLETE_YAML, encoding="utf-8")
    return path


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(GITHUB_TOKEN, REPOSITORY, {}, refs=("main",)) as fake:
        yield fake


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def printed_body(out: str) -> list[dict[str, Any]]:
    """The JSON a dry run prints after its "with this body:" line."""
    body: list[dict[str, Any]] = json.loads(out.split("with this body:\n", 1)[1])
    return body


def github_env(github: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github.url}


def test_an_option_with_autocomplete_says_so_and_has_no_choices(registration_file: Path) -> None:
    commands = load_commands(registration_file)
    deploy = by_name(build_commands(commands, debug_enabled=False, global_scope=False))["deploy"]
    options = by_name(deploy["options"])
    for name in ("ref", "environment"):
        assert options[name]["autocomplete"] is True
        assert "choices" not in options[name]
    assert options["target"]["choices"] == [
        {"name": "staging", "value": "staging"},
        {"name": "production", "value": "production"},
    ]
    assert "autocomplete" not in options["target"]
    assert "autocomplete" not in options["note"] and "choices" not in options["note"]


@pytest.mark.parametrize("global_scope", [True, False])
def test_a_body_with_autocomplete_validates_against_discords_description(
    registration_file: Path, global_scope: bool
) -> None:
    commands = load_commands(registration_file)
    body = build_commands(commands, debug_enabled=True, global_scope=global_scope)
    contract = discord_contract()
    operation = contract.operation(
        "bulk_set_application_commands" if global_scope else "bulk_set_guild_application_commands"
    )
    contract.validate_body(operation, body)


def test_dry_run_registers_the_options_derived_from_the_workflow_on_github(
    register: Register, discord: FakeDiscord, github: FakeGitHub
) -> None:
    github.workflow_files["ship.yml"] = SHIP_WORKFLOW
    run = register("--guild", GUILD_ID, "--dry-run", **github_env(github))
    assert (run.code, run.err) == (0, "")
    assert GITHUB_TOKEN not in run.out
    assert [(r.method, r.path) for r in discord.requests] == [
        ("GET", f"/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    ]
    read = ("GET", f"/repos/{REPOSITORY}/contents/.github/workflows/ship.yml", {"ref": "main"})
    assert read in [(r.method, r.path, r.query) for r in github.requests]

    body = printed_body(run.out)
    ship = by_name(body)["ship"]
    options = ship["options"]
    # Required first; trace_id is the bot's to fill and is not offered.
    assert [(o["name"], o["type"], o["required"]) for o in options] == [
        ("environment", 3, True),
        ("service", 3, True),
        ("region", 3, False),
        ("dry_run", 5, False),
    ]
    named = by_name(options)
    assert named["environment"]["autocomplete"] is True and "choices" not in named["environment"]
    assert named["service"]["autocomplete"] is True and "choices" not in named["service"], "30 choices: suggested"
    assert named["region"]["choices"] == [{"name": "eu", "value": "eu"}, {"name": "us", "value": "us"}]
    assert "autocomplete" not in named["region"]
    assert "autocomplete" not in named["dry_run"] and "choices" not in named["dry_run"]
    assert named["environment"]["description"] == "Where to ship"
    assert named["region"]["description"].startswith("Which region")
    discord_contract().validate_body(discord_contract().operation("bulk_set_guild_application_commands"), body)


def test_a_workflow_missing_on_github_fails_register_and_sends_discord_nothing(
    register: Register, discord: FakeDiscord, github: FakeGitHub
) -> None:
    for args in (("--guild", GUILD_ID, "--dry-run"), ("--guild", GUILD_ID), ()):
        run = register(*args, **github_env(github))
        assert run.code == 1
        assert run.out == ""
        assert "/ship" in run.err and "ship.yml" in run.err and "not found" in run.err
        assert run.err.rstrip().endswith("nothing was sent to Discord")
        assert GITHUB_TOKEN not in run.err
    assert discord.requests == []
    assert discord.registered_commands(GUILD_ID) == []


def test_a_file_with_a_derived_command_needs_the_github_settings(
    register: Register, discord: FakeDiscord, github: FakeGitHub
) -> None:
    github.workflow_files["ship.yml"] = SHIP_WORKFLOW
    run = register("--guild", GUILD_ID, "--dry-run", GITHUB_API_URL=github.url)
    assert run.code == 2
    assert "GITHUB_TOKEN" in run.err and "options from its workflow" in run.err
    assert discord.requests == [] and github.requests == []


def test_a_derived_command_has_no_options_until_its_workflow_is_read(registration_file: Path) -> None:
    """Without GitHub, the file alone gives a derived command no options: register must read the workflow."""
    commands: CommandSet = load_commands(registration_file)
    ship = commands.commands["ship"]
    assert ship.options_from_workflow and ship.options == ()
