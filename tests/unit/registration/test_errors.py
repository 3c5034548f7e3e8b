"""Discord's refusals as the operator reads them."""

from __future__ import annotations

from orchestrator.clients.discord_api import DiscordRejected
from orchestrator.registration.errors import explain_rejection
from tests.unit.registration.conftest import GUILD_ID

BODY = [{"name": "deploy", "options": [{"name": "target"}]}]


def test_404_and_403_name_the_settings_to_check() -> None:
    unknown = DiscordRejected(404, 10002, "Unknown Application")
    assert explain_rejection(unknown, guild_id=None, body=BODY) == [
        "Discord answered 404 (Unknown Application): check DISCORD_APPLICATION_ID"
    ]
    assert explain_rejection(unknown, guild_id=GUILD_ID, body=BODY)[0].endswith(
        "check DISCORD_APPLICATION_ID and --guild"
    )
    foreign = DiscordRejected(403, 50001, "Missing Access")
    assert explain_rejection(foreign, guild_id=None, body=BODY) == [
        "Discord answered 403 (Missing Access): DISCORD_APPLICATION_ID must be the id of the bot token's application"
    ]


def test_other_refusals_say_what_discord_said() -> None:
    assert explain_rejection(DiscordRejected(405, 0, "405: Method Not Allowed"), guild_id=None, body=BODY) == [
        "Discord answered 405 (code 0) (405: Method Not Allowed)"
    ]


def test_field_paths_beyond_the_body_still_read_as_paths() -> None:
    errors = {
        "_errors": [{"code": "APPLICATION_COMMANDS_DUPLICATE_NAME", "message": "Names must be unique"}],
        "0": {"options": {"0": {"choices": {"3": {"value": {"_errors": [{"code": "X", "message": "Bad"}]}}}}}},
        "7": {"name": {"_errors": [{"code": "Y", "message": "Worse"}]}},
    }
    lines = explain_rejection(DiscordRejected(400, 50035, "Invalid Form Body", errors), guild_id=None, body=BODY)
    assert lines[1:] == [
        "  commands: Names must be unique (APPLICATION_COMMANDS_DUPLICATE_NAME)",
        "  /deploy.options[target].choices[3].value: Bad (X)",
        "  commands[7].name: Worse (Y)",
    ]
