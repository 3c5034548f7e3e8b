"""The validated, immutable form of the commands file."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.ratelimits.bucket import BucketRule

OptionType = Literal["string", "integer", "number", "boolean"]
OptionValue = str | int | float | bool

# Discord's numeric application-command option types.
DISCORD_OPTION_TYPES: dict[OptionType, int] = {"string": 3, "integer": 4, "boolean": 5, "number": 10}

# Values a command's workflow inputs may take besides its own options.
CONTEXT_PLACEHOLDERS = frozenset({"trace_id", "user_id", "user_name", "channel_id", "prompt"})


@dataclass(frozen=True)
class OptionSpec:
    name: str
    type: OptionType
    description: str
    required: bool = False
    choices: tuple[OptionValue, ...] = ()


@dataclass(frozen=True)
class AllowList:
    roles: frozenset[str]
    users: frozenset[str]

    def permits(self, user_id: str, roles: Collection[str]) -> bool:
        return user_id in self.users or not self.roles.isdisjoint(roles)


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str
    workflow: str
    ref: str
    options: tuple[OptionSpec, ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()
    prompt_text: str | None = None
    ephemeral: bool = False
    confirm: bool = False
    allow: AllowList | None = None
    # Who besides the invoker may press a run's Cancel button; None: only the invoker.
    cancel: AllowList | None = None
    # Who besides the invoker may press a failed run's Re-run buttons; None: only the invoker.
    rerun: AllowList | None = None
    alert_on_failure: bool = False  # a run of this command that fails raises an alert
    # "public": a failed run's log excerpt in the live message too; "private": only behind Show log.
    failure_log_public: bool = False
    # This command's own bucket per user (`rate_limit: {per_minute, burst}`), on top of the user's.
    rate_limit: BucketRule | None = None

    def option(self, name: str) -> OptionSpec | None:
        return next((o for o in self.options if o.name == name), None)


@dataclass(frozen=True)
class CommandSet:
    commands: dict[str, CommandSpec]
    # Operators' own secret shapes, by name, redacted from every output like the built-in ones.
    redact_patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def get(self, name: str) -> CommandSpec | None:
        return self.commands.get(name)

    def rate_limited(self) -> bool:
        """Some command has a rate limit of its own."""
        return any(spec.rate_limit is not None for spec in self.commands.values())
