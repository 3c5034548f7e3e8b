"""A dispatch job: the queue message from the interactions endpoint to the worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.commands.model import OptionValue
from orchestrator.serialization import dumps_text, loads

SCHEMA_VERSION = 1


class BadJobMessage(ValueError):
    """A queue message that is not a job this version understands: retrying cannot help, so it is
    dead-lettered (at once locally; after the queue's maxReceiveCount on SQS)."""


@dataclass(frozen=True)
class Job:
    interaction_id: str
    application_id: str
    command: str
    options: dict[str, OptionValue]
    user_id: str
    user_name: str
    guild_id: str | None
    channel_id: str | None
    trace_id: str
    received_at: float
    # The interaction token lets the worker edit the user's message for 15 minutes. It is a
    # credential: kept out of repr() and never logged.
    interaction_token: str = field(repr=False)

    def to_message(self) -> str:
        # vars(), not asdict(): asdict deep-copies every field, and this runs on the ACK's hot path.
        return dumps_text({"v": SCHEMA_VERSION, "kind": "dispatch", **vars(self)})

    @classmethod
    def from_message(cls, body: str) -> Job:
        try:
            raw: Any = loads(body)
        except ValueError as exc:
            raise BadJobMessage("not JSON") from exc
        if not isinstance(raw, dict) or raw.get("kind") != "dispatch":
            raise BadJobMessage("unknown message kind")
        if type(raw.get("v")) is not int or raw["v"] != SCHEMA_VERSION:  # JSON true == 1 in Python
            raise BadJobMessage("unknown message version")
        fields = {k: v for k, v in raw.items() if k not in ("v", "kind")}
        if set(fields) != set(_FIELD_TYPES):
            raise BadJobMessage(f"fields differ from a version {SCHEMA_VERSION} job")
        for name, expected in _FIELD_TYPES.items():
            value = fields[name]
            if not isinstance(value, expected) or isinstance(value, bool) or value == "":
                raise BadJobMessage(f"{name} has the wrong type")
        if not all(isinstance(k, str) and isinstance(v, OptionValue) for k, v in fields["options"].items()):
            raise BadJobMessage("options must map names to scalar values")
        return cls(**fields)


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "interaction_id": str,
    "application_id": str,
    "command": str,
    "options": dict,
    "user_id": str,
    "user_name": str,
    "guild_id": (str, type(None)),
    "channel_id": (str, type(None)),
    "trace_id": str,
    "received_at": (int, float),
    "interaction_token": str,
}
