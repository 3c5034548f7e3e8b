"""Who ran which command, with what, where: the facts of one slash command that the queued job
and the audit trail carry as one value, instead of copying them field by field."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from orchestrator.commands.model import OptionValue


@dataclass(frozen=True)
class Invocation:
    interaction_id: str
    trace_id: str
    command: str
    options: dict[str, OptionValue]
    user_id: str
    user_name: str
    guild_id: str | None
    channel_id: str | None
    roles: tuple[str, ...] = ()  # the invoker's roles when they ran it (messages from before have none)

    def to_dict(self) -> dict[str, Any]:
        """Flat, as the queue envelope and the stored audit event have always written it."""
        return {**vars(self), "roles": list(self.roles)}  # vars(), not asdict(): the ACK's hot path

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Invocation:
        """Its own fields out of a flat mapping that may hold others."""
        values = {f.name: raw[f.name] for f in fields(cls) if f.name != "roles"}
        return cls(**values, roles=tuple(raw.get("roles") or ()))


INVOCATION_FIELDS = frozenset(f.name for f in fields(Invocation))
