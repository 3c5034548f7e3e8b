"""JSON in and out, through orjson: every request on the ACK's hot path parses one body and
writes three documents (the answer, the queue message, a log line); orjson does each in a
fraction of the standard library's time."""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError  # a ValueError, like json's


def loads(data: bytes | str) -> Any:
    """Parse JSON; raises JSONDecodeError (a ValueError) for bad JSON, bad UTF-8 or nesting past 1024."""
    return orjson.loads(data)


def dumps(value: object) -> bytes:
    """Compact UTF-8 JSON; values JSON has no type for are written as their str()."""
    return orjson.dumps(value, default=str)


def dumps_text(value: object) -> str:
    return dumps(value).decode()
