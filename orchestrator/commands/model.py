"""The validated, immutable form of the commands file."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.ratelimits.bucket import BucketRule

OptionType = Literal["string", "integer", "number", "boolean"]
OptionValue = str | int | float | bool
# Where an option's suggestions come from as the user types: the repository's lists (read by the
# worker, answered from the state store's cache), or the option's own choices when Discord's 25 are
# too few to list them.
AutocompleteSource = Literal["refs", "branches", "tags", "environments", "choices"]
LISTED_SOURCES: tuple[AutocompleteSource, ...] = ("refs", "branches", "tags", "environments")

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
    autocomplete: AutocompleteSource | None = None


@dataclass(frozen=True)
class OptionOverride:
    """An `options:` entry of a command whose options come from its workflow: how one input is
    presented, each field None where the workflow's own declaration stands."""

    name: str  # the workflow input's name
    type: OptionType | None = None
    description: str | None = None
    required: bool | None = None
    choices: tuple[OptionValue, ...] | None = None
    autocomplete: AutocompleteSource | None = None


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
    # Options derived from the workflow's `workflow_dispatch` inputs (workflows/derive.py), read at
    # `ref`; `options` and `inputs` then hold only what the worker derives them into, and these
    # presentation overrides.
    options_from_workflow: bool = False
    overrides: tuple[OptionOverride, ...] = ()

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
