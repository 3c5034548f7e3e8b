"""The numbers Discord's API uses for interactions, our answers, message components and flags,
and what every message the bot sends carries; named once, used by every module that builds or
reads Discord's JSON (https://discord.com/developers/docs/interactions/receiving-and-responding)."""

from __future__ import annotations

from enum import IntEnum


class InteractionType(IntEnum):
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class CommandType(IntEnum):
    CHAT_INPUT = 1  # a slash command (2 and 3 are user and message context-menu commands)


class OptionType(IntEnum):
    STRING = 3


class ResponseType(IntEnum):
    PONG = 1
    CHANNEL_MESSAGE_WITH_SOURCE = 4
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class ComponentType(IntEnum):
    ACTION_ROW = 1
    BUTTON = 2
    TEXT_INPUT = 4


class ButtonStyle(IntEnum):
    PRIMARY = 1
    SECONDARY = 2
    SUCCESS = 3
    DANGER = 4
    LINK = 5  # a URL, no custom_id: pressing it never reaches the bot


class TextInputStyle(IntEnum):
    SHORT = 1
    PARAGRAPH = 2


GUILD_CONTEXT = 0  # an interaction's `context` in a server (1: the bot's DM, 2: a private channel)
EPHEMERAL = 1 << 6  # message flag: only the invoker sees it
MAX_CUSTOM_ID = 100  # characters of a component's custom_id
# Application commands: a command's or option's name, its description, its options, an option's
# choices (and the suggestions of an autocomplete answer), a choice's name and value.
MAX_NAME = 32
MAX_DESCRIPTION = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_CHOICE_CHARS = 100
# Every message we send: echoed user input must never ping @everyone, a role or a user.
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
