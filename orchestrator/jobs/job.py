"""A dispatch job: the queue message from the interactions endpoint to the worker."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from orchestrator.commands.model import OptionValue

SCHEMA_VERSION = 1


class BadJobMessage(ValueError):
    """A queue message that is not a job this version understands (poison: never retried)."""


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
        return json.dumps({"v": SCHEMA_VERSION, "kind": "dispatch", **asdict(self)}, separators=(",", ":"))

    @classmethod
    def from_message(cls, body: str) -> Job:
        try:
            raw: Any = json.loads(body)
        except ValueError as exc:
            raise BadJobMessage("not JSON") from exc
        if not isinstance(raw, dict) or raw.get("v") != SCHEMA_VERSION or raw.get("kind") != "dispatch":
            raise BadJobMessage("unknown message kind or version")
        raw.pop("v")
        raw.pop("kind")
        try:
            job = cls(**raw)
        except TypeError as exc:
            raise BadJobMessage(f"missing or unexpected fields: {exc}") from exc
        if not isinstance(job.options, dict) or not all(
            isinstance(v, str | int | float | bool) for v in job.options.values()
        ):
            raise BadJobMessage("options must map names to scalar values")
        for name in (
            "interaction_id",
            "application_id",
            "command",
            "user_id",
            "trace_id",
            "interaction_token",
        ):
            if not isinstance(getattr(job, name), str) or not getattr(job, name):
                raise BadJobMessage(f"{name} must be a non-empty string")
        return job
