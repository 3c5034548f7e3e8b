"""The parts of Discord's interaction payload we use, checked for shape.

Signed payloads come from Discord, but the schema is theirs to change and a bug
or a fuzzer must still get a 400, not a 500: every field is type-checked here,
once, so the rest of the code can trust it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.commands.invocation import Invocation
from orchestrator.commands.model import OptionValue
from orchestrator.discord.wire import (
    GUILD_CONTEXT,
    MAX_CUSTOM_ID,
    MAX_NAME,
    MAX_OPTIONS,
    CommandType,
    InteractionType,
    OptionType,
)

MAX_SNOWFLAKE_DIGITS = 21
MAX_TOKEN_LENGTH = 1000
MAX_FORM_ROWS = 5  # a modal holds at most 5 rows of one text input each


class MalformedInteraction(ValueError):
    pass


@dataclass(frozen=True)
class Caller:
    user_id: str
    user_name: str
    roles: frozenset[str]


@dataclass(frozen=True)
class InvokedOption:
    name: str
    type: int
    value: object
    focused: bool = False  # an autocomplete interaction's: the option the user is typing in


@dataclass(frozen=True)
class Interaction:
    id: str
    type: int
    application_id: str
    token: str
    guild_id: str | None
    channel_id: str | None
    caller: Caller | None
    command_name: str | None
    options: tuple[InvokedOption, ...]
    custom_id: str | None = None  # the pressed button's (a component interaction) or the form's (a modal's)
    # A slash command's data.type: CHAT_INPUT; 2 and 3 are user and message context-menu commands.
    command_type: int = CommandType.CHAT_INPUT
    # Sent from a server the bot is in (context 0, a guild and a member), not a DM or a user install.
    in_server: bool = True


def invoked(
    interaction: Interaction, caller: Caller, trace_id: str, command: str, options: dict[str, OptionValue]
) -> Invocation:
    """The interaction as the job and the audit trail carry it: who, which command with what, where."""
    return Invocation(
        interaction_id=interaction.id,
        trace_id=trace_id,
        command=command,
        options=options,
        user_id=caller.user_id,
        user_name=caller.user_name,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        roles=tuple(sorted(caller.roles)),
    )


def parse_interaction(payload: object) -> Interaction:
    if not isinstance(payload, dict):
        raise MalformedInteraction("interaction must be a JSON object")
    kind = payload.get("type")
    if not isinstance(kind, int) or isinstance(kind, bool):
        raise MalformedInteraction("type must be an integer")
    if kind == InteractionType.PING:
        application_id = _optional_snowflake(payload, "application_id") or ""
        return Interaction("", InteractionType.PING, application_id, "", None, None, None, None, ())
    interaction_id = _snowflake(payload, "id")
    token = payload.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        raise MalformedInteraction("token must be a non-empty string")
    channel_id = _optional_snowflake(payload, "channel_id")
    if channel_id is None and isinstance(payload.get("channel"), dict):
        channel_id = _optional_snowflake(payload["channel"], "id")
    command_name: str | None = None
    options: tuple[InvokedOption, ...] = ()
    custom_id: str | None = None
    command_type: int = CommandType.CHAT_INPUT
    if kind in (InteractionType.APPLICATION_COMMAND, InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE):
        command_name, options = _command_data(payload.get("data"))
        given = payload["data"].get("type", CommandType.CHAT_INPUT)
        command_type = given if isinstance(given, int) and not isinstance(given, bool) else -1
    elif kind in (InteractionType.MESSAGE_COMPONENT, InteractionType.MODAL_SUBMIT):
        data = payload.get("data")
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        if not isinstance(custom_id, str) or not 0 < len(custom_id) <= MAX_CUSTOM_ID:
            raise MalformedInteraction("data.custom_id must be 1-100 characters")
        if kind == InteractionType.MODAL_SUBMIT and isinstance(data, dict):
            options = _form_fields(data)
    guild_id = _optional_snowflake(payload, "guild_id")
    context = payload.get("context", GUILD_CONTEXT)
    return Interaction(
        id=interaction_id,
        type=kind,
        application_id=_snowflake(payload, "application_id"),
        token=token,
        guild_id=guild_id,
        channel_id=channel_id,
        caller=_caller(payload),
        command_name=command_name,
        options=options,
        custom_id=custom_id,
        command_type=command_type,
        in_server=guild_id is not None and isinstance(payload.get("member"), dict) and context == GUILD_CONTEXT,
    )


def _command_data(data: object) -> tuple[str, tuple[InvokedOption, ...]]:
    if not isinstance(data, dict):
        raise MalformedInteraction("data must be an object")
    name = data.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
        raise MalformedInteraction("data.name must be a command name")
    raw_options = data.get("options", [])
    if not isinstance(raw_options, list) or len(raw_options) > MAX_OPTIONS:
        raise MalformedInteraction(f"data.options must be a list of at most {MAX_OPTIONS} options")
    options = []
    for raw in raw_options:
        if not isinstance(raw, dict):
            raise MalformedInteraction("each option must be an object")
        option_name, option_type = raw.get("name"), raw.get("type")
        if not isinstance(option_name, str) or not isinstance(option_type, int) or isinstance(option_type, bool):
            raise MalformedInteraction("each option needs a string name and an integer type")
        options.append(InvokedOption(option_name, option_type, raw.get("value"), raw.get("focused") is True))
    return name, tuple(options)


def _form_fields(data: dict[str, Any]) -> tuple[InvokedOption, ...]:
    """A submitted form's text inputs, as string options named by each input's custom_id."""
    rows = data.get("components")
    if not isinstance(rows, list) or len(rows) > MAX_FORM_ROWS:
        raise MalformedInteraction("data.components must be a list of at most 5 rows")
    fields: list[InvokedOption] = []
    for row in rows:
        inputs = row.get("components") if isinstance(row, dict) else None
        if not isinstance(inputs, list):
            raise MalformedInteraction("each row must hold a list of components")
        for field in inputs:
            name = field.get("custom_id") if isinstance(field, dict) else None
            value = field.get("value") if isinstance(field, dict) else None
            if not isinstance(name, str) or not 0 < len(name) <= MAX_CUSTOM_ID or not isinstance(value, str):
                raise MalformedInteraction("each text input needs a custom_id and a string value")
            fields.append(InvokedOption(name, OptionType.STRING, value))
    return tuple(fields)


def _caller(payload: dict[str, Any]) -> Caller:
    # In a guild the user is inside `member` (with its roles); in a DM it is the top-level `user`.
    member = payload.get("member")
    roles: frozenset[str] = frozenset()
    if member is not None:
        if not isinstance(member, dict):
            raise MalformedInteraction("member must be an object")
        raw_roles = member.get("roles", [])
        if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
            raise MalformedInteraction("member.roles must be a list of ids")
        roles = frozenset(raw_roles)
        user = member.get("user")
    else:
        user = payload.get("user")
    if not isinstance(user, dict):
        raise MalformedInteraction("interaction has no user")
    name = user.get("global_name") or user.get("username") or ""
    if not isinstance(name, str):
        raise MalformedInteraction("user name must be a string")
    user_id = _snowflake(user, "id")
    # No name at all (both left out, or empty): the id stands in, as the worker needs a name to show.
    return Caller(user_id=user_id, user_name=name[:100] or user_id, roles=roles)


def _optional_snowflake(container: dict[str, Any], key: str) -> str | None:
    return None if container.get(key) is None else _snowflake(container, key)


def _snowflake(container: dict[str, Any], key: str) -> str:
    value = container.get(key)
    # String methods, not a regex: five ids per request on the ACK's hot path.
    if not isinstance(value, str) or not (
        0 < len(value) <= MAX_SNOWFLAKE_DIGITS and value.isascii() and value.isdigit()
    ):
        raise MalformedInteraction(f"{key} must be a Discord id")
    return value
