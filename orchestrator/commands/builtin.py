"""Commands the bot itself provides, beside those of the commands file."""

from __future__ import annotations

from orchestrator.commands.model import OptionSpec

DEBUG_COMMAND = "debug-last"
DEBUG_DESCRIPTION = "Show the trace of your last command (only you see it)"
DEBUG_TRACE_OPTION = OptionSpec(
    name="trace_id",
    type="string",
    description="An older trace of yours: its id, or the first 8 characters shown in a message",
)
RESERVED_NAMES = frozenset({DEBUG_COMMAND})
