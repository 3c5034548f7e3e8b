"""How each kind of setting is read from its text: a value, or `Invalid` saying what was expected.

A message never repeats a value that may be a secret pasted into the wrong variable unless the
setting's shape makes that harmless; SettingsError redacts every problem again regardless.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.observability.levels import LOG_LEVELS, log_level
from orchestrator.state.url import StateStoreUrlError, parse_state_store_url

# How every refusal of a Discord id says what one is.
SNOWFLAKE_RULE = "a Discord id: 15 to 21 digits"

_SNOWFLAKE = re.compile(r"^[0-9]{15,21}$")
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

Parse = Callable[[str], Any]


class Invalid(Exception):
    """The text is not a value of this setting; the message says what is expected."""


def is_snowflake(value: str) -> bool:
    """A Discord id (user, role, channel, guild, application): 15 to 21 digits."""
    return bool(_SNOWFLAKE.match(value))


def text(raw: str) -> str:
    return raw


def flag(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise Invalid(f"expected true or false, got {raw!r}")


def snowflake(expected: str) -> Parse:
    def parse(raw: str) -> str:
        if not is_snowflake(raw):
            raise Invalid(f"expected {expected}")
        return raw

    return parse


def public_key(raw: str) -> str:
    if not _HEX_KEY.match(raw):
        raise Invalid("expected 64 hex characters (the application's Ed25519 public key)")
    return raw.lower()


def repository(raw: str) -> str:
    if not _REPOSITORY.match(raw):
        raise Invalid(f"expected owner/repo, got {raw!r}")
    return raw


def url(*schemes: str) -> Parse:
    def parse(raw: str) -> str:
        value = raw.rstrip("/")
        if not value.startswith(schemes):
            raise Invalid(f"expected a URL starting {' or '.join(schemes)}")
        if "@" in value.split("/", 3)[2]:
            # Credentials in a base URL would end up in logs and error messages.
            raise Invalid("must not contain credentials (user:password@host)")
        return value

    return parse


def count(*, zero_allowed: bool = False, at_most: int | None = None, limit_named: str = "") -> Parse:
    """A whole number: 1 or more (0 or more when `zero_allowed`), and at most `at_most`."""

    def parse(raw: str) -> int:
        if not raw.isdigit() or (int(raw) == 0 and not zero_allowed):
            kind = "whole number (0 or more)" if zero_allowed else "positive whole number"
            raise Invalid(f"expected a {kind}, got {raw!r}")
        value = int(raw)
        if at_most is not None and value > at_most:
            raise Invalid(f"at most {at_most}{f' ({limit_named})' if limit_named else ''}, got {value}")
        return value

    return parse


def fraction(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise Invalid("expected a number from 0 to 1")  # not echoed: it may be a secret pasted here
    return value


def level(raw: str) -> str:
    known = log_level(raw)
    if known is None:
        # Not echoed: a value pasted into the wrong variable may be a secret.
        raise Invalid(f"expected one of {', '.join(LOG_LEVELS)}")
    return known


def existing_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise Invalid(f"no such file: {path}")
    return path


def state_store(raw: str) -> str:
    try:
        parse_state_store_url(raw)
    except StateStoreUrlError as exc:
        raise Invalid(str(exc)) from None
    return raw


def token(raw: str) -> str:
    if any(c.isspace() for c in raw):
        raise Invalid("contains white space (a copy-paste error?)")
    return raw


def signing_key(raw: str) -> str:
    if len(raw) < 16:
        raise Invalid("too short: use at least 16 random characters")
    return raw
