"""`orchestrator register` over loopback against the stand-in Discord: dry run, real runs, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.http_standin import Fault
from tests.conftest import ADMIN_ROLE, ADMIN_USER
from tests.unit.registration.conftest import APP_ID, GUILD_ID, OTHER_GUILD_ID, Register

GUILD_COMMANDS = f"/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
GLOBAL_COMMANDS = f"/api/v10/applications/{APP_ID}/commands"


def printed_body(out: str) -> list[dict[str, Any]]:
    """The JSON a dry run prints after its "with this body:" line."""
    body: list[dict[str, Any]] = json.loads(out.split("with this body:\n", 1)[1])
    return body


def calls(discord: FakeDiscord) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in discord.requests]


def test_dry_run_prints_the_exact_body_and_sends_no_put(register: Register, discord: FakeDiscord) -> None:
    dry = register("--guild", GUILD_ID, "--dry-run")
    assert (dry.code, dry.err) == (0, "")
    assert calls(discord) == [("GET", GUILD_COMMANDS)]
    assert "+ /diagnose: new\n+ /deploy: new\n2 to add, 0 to change, 0 to remove, 0 unchanged\n" in dry.out
    assert f"PUT {discord.api_url}/applications/{APP_ID}/guilds/{GUILD_ID}/commands with this body:" in dry.out

    real = register("--guild", GUILD_ID)
    assert real.code == 0
    [put] = discord.requests_to("PUT")
    assert printed_body(dry.out) == put.json


def test_a_real_run_puts_once_and_a_second_run_has_nothing_to_send(register: Register, discord: FakeDiscord) -> None:
    first = register("--guild", GUILD_ID)
    assert first.code == 0
    assert first.out.endswith(f"registered 2 command(s) (guild {GUILD_ID})\n")
    assert calls(discord) == [("GET", GUILD_COMMANDS), ("PUT", GUILD_COMMANDS)]
    assert [c["name"] for c in discord.registered_commands(GUILD_ID)] == ["diagnose", "deploy"]
    assert discord.requests_to("PUT")[0].headers["authorization"].startswith("Bot ")

    second = register("--guild", GUILD_ID)
    assert second.code == 0
    assert "= /diagnose: unchanged\n= /deploy: unchanged\n" in second.out
    assert second.out.endswith("no changes: nothing sent (--force sends the same set again)\n")
    assert len(discord.requests_to("PUT")) == 1

    forced = register("--guild", GUILD_ID, "--force")
    assert forced.code == 0
    assert len(discord.requests_to("PUT")) == 2


def test_global_registration_and_turning_debug_last_on_then_off(register: Register, discord: FakeDiscord) -> None:
    on = register(ENABLE_DEBUG_CMD="true")
    assert on.code == 0
    assert "global commands can take up to an hour to appear" in on.out
    assert [c["name"] for c in discord.registered_commands()] == ["diagnose", "deploy", "debug-last"]
    assert discord.registered_commands(GUILD_ID) == []

    off = register(ENABLE_DEBUG_CMD="false")
    assert "- /debug-last: removed (not in the commands file)" in off.out
    assert [c["name"] for c in discord.registered_commands()] == ["diagnose", "deploy"]


def test_a_changed_commands_file_shows_what_changes(
    register: Register, discord: FakeDiscord, registration_file: Path
) -> None:
    register("--guild", GUILD_ID)
    text = registration_file.read_text().replace("Run diagnostics", "Run the diagnostics")
    registration_file.write_text(text)
    run = register("--guild", GUILD_ID, "--dry-run")
    assert '~ /diagnose: changed\n    description: "Run diagnostics" -> "Run the diagnostics"\n' in run.out


def test_restricted_commands_come_with_who_to_allow(register: Register) -> None:
    first = register("--guild", GUILD_ID)
    note = (
        f"note: /deploy is shown only to administrators until an admin allows role {ADMIN_ROLE}, user {ADMIN_USER} "
        "in Server Settings > Integrations"
    )
    assert note in first.out
    assert "note:" not in register("--guild", GUILD_ID).out  # said once, when it was new


def test_a_429_is_waited_out_and_the_put_sent_again(register: Register, discord: FakeDiscord) -> None:
    discord.rate_limit_next(1, 0.25, method="PUT")
    run = register("--guild", GUILD_ID)
    assert run.code == 0
    assert calls(discord) == [("GET", GUILD_COMMANDS), ("PUT", GUILD_COMMANDS), ("PUT", GUILD_COMMANDS)]
    assert [c["name"] for c in discord.registered_commands(GUILD_ID)] == ["diagnose", "deploy"]
    assert "rate limited, waiting" in run.err  # the log line, on stderr beside the problems


def test_a_429_longer_than_we_wait_is_reported(register: Register, discord: FakeDiscord) -> None:
    discord.rate_limit_next(1, 3600.0, method="GET")
    run = register("--guild", GUILD_ID)
    assert run.code == 1
    assert run.err.splitlines()[-1] == "Discord is unavailable (rate limited for 3600 s); run register again"
    assert discord.requests_to("PUT") == []


def test_a_wrong_bot_token_is_one_clear_line(register: Register) -> None:
    run = register("--guild", GUILD_ID, DISCORD_BOT_TOKEN="MTIz.wrong.token-that-discord-does-not-know")
    assert run.code == 1
    assert (
        run.err
        == "Discord refused the bot token (401 Unauthorized): check DISCORD_BOT_TOKEN (Developer Portal > Bot)\n"
    )


def test_a_server_without_the_commands_scope_is_one_clear_line(register: Register) -> None:
    run = register("--guild", OTHER_GUILD_ID)
    assert run.code == 1
    assert run.err.count("\n") == 1
    assert f"403 for guild {OTHER_GUILD_ID} (Missing Access)" in run.err
    assert "applications.commands scope" in run.err


def test_form_errors_are_shown_field_by_field_with_command_and_option_names(
    register: Register, discord: FakeDiscord
) -> None:
    errors = {
        "1": {
            "description": {
                "_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 100 in length."}]
            }
        },
        "0": {
            "options": {
                "2": {
                    "name": {
                        "_errors": [{"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is invalid"}]
                    }
                }
            }
        },
    }
    discord.inject(Fault("PUT", status=400, body={"code": 50035, "message": "Invalid Form Body", "errors": errors}))
    run = register("--guild", GUILD_ID)
    assert run.code == 1
    assert run.err.splitlines() == [
        "Discord refused the commands (400 (Invalid Form Body)); fix the commands file:",
        "  /deploy.description: Must be between 1 and 100 in length. (BASE_TYPE_BAD_LENGTH)",
        "  /diagnose.options[ratio].name: Command name is invalid (APPLICATION_COMMAND_INVALID_NAME)",
    ]


def test_more_commands_than_discord_takes_is_refused_before_anything_is_sent(
    register: Register, discord: FakeDiscord, tmp_path: Path
) -> None:
    # Discord takes 100 slash commands per scope (the stand-in answers more with a form error);
    # the commands file's own check says so first, counting /debug-last.
    many = tmp_path / "many.yaml"
    many.write_text(
        "commands:\n" + "".join(f"  c{i}:\n    description: Command {i}\n    workflow: w.yml\n" for i in range(101))
    )
    run = register("--guild", GUILD_ID, COMMANDS_FILE=str(many))
    assert run.code == 2
    assert run.err.splitlines() == [f"{many}: commands: 101 commands; Discord registers at most 99 beside /debug-last"]
    assert discord.requests_to("PUT") == []


def test_settings_it_needs_and_only_those(register: Register) -> None:
    run = register("--guild", GUILD_ID, DISCORD_BOT_TOKEN=None, DISCORD_APPLICATION_ID=None)
    assert run.code == 2
    assert run.err.splitlines() == [
        "settings: DISCORD_APPLICATION_ID: required but not set",
        "settings: DISCORD_BOT_TOKEN: required but not set",
    ]
    assert run.out == ""
    # No GitHub settings, no public key: registration does not need them.
    assert register("--guild", GUILD_ID).code == 0


def test_a_bad_guild_id_is_refused_before_anything_is_sent(register: Register, discord: FakeDiscord) -> None:
    run = register("--guild", "my-server")
    assert (run.code, run.err) == (2, "--guild: expected a Discord server id (a Discord id: 15 to 21 digits)\n")
    assert discord.requests == []


def test_a_broken_commands_file_is_named(register: Register, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("commands:\n  Bad Name:\n    description: x\n    workflow: w.yml\n")
    run = register(COMMANDS_FILE=str(broken))
    assert run.code == 2
    assert run.err.startswith(f"{broken}: commands.Bad Name: bad command name")


def test_discord_out_of_reach_is_one_line(register: Register, discord: FakeDiscord) -> None:
    url = discord.api_url
    discord.stop()
    run = register("--guild", GUILD_ID, DISCORD_API_URL=url)
    assert run.code == 1
    assert run.err.splitlines()[-1] == "Discord is unavailable (ConnectError); run register again"


def test_the_token_is_never_printed_even_at_debug_level(register: Register, discord: FakeDiscord) -> None:
    # `register` itself asserts the token is absent from stdout and stderr on every run above;
    # here every path runs with the most verbose logging.
    discord.rate_limit_next(1, 0.1)
    for args in (("--dry-run",), (), ("--guild", OTHER_GUILD_ID), ("--force",)):
        register(*args, LOG_LEVEL="DEBUG")
