"""Audit events from what each side knows: the interaction at the ACK, the job in the worker."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from orchestrator.audit.model import AuditEvent
from orchestrator.commands.model import OptionValue
from orchestrator.interactions.payload import Caller, Interaction, invoked
from orchestrator.jobs.envelopes import Job
from orchestrator.messages.limits import clip
from orchestrator.state.jobs import JobRecord

# An option value as sent, before validation: anything JSON holds. Kept short and scalar.
_MAX_RAW_VALUE = 200


def refusal_event(
    interaction: Interaction, caller: Caller, trace_id: str, at: float, outcome: str, detail: str
) -> AuditEvent:
    """A command answered at once (unknown, denied, invalid, rate limited): options as the user sent them."""
    options = {o.name: _scalar(o.value) for o in interaction.options}
    invocation = invoked(interaction, caller, trace_id, interaction.command_name or "", options)
    return AuditEvent(at, outcome, invocation, detail=detail)


def job_event(job: Job, outcome: str, at: float, *, run_id: int | None = None, detail: str | None = None) -> AuditEvent:
    """A queued command: accepted (or confirmed, or cancelled before it ran), by its invoker."""
    return AuditEvent(at, outcome, job.invocation, run_id=run_id, detail=detail)


def run_button_event(
    record: JobRecord, user_id: str, user_name: str, roles: Iterable[str], outcome: str, at: float, detail: str
) -> AuditEvent:
    """Someone pressed a run's Cancel or Re-run button: they are the actor, the run is the job's."""
    invocation = dataclasses.replace(
        record.invocation, user_id=user_id, user_name=user_name, roles=tuple(sorted(roles))
    )
    return AuditEvent(at, outcome, invocation, run_id=record.run_id, detail=detail)


def _scalar(value: object) -> OptionValue:
    if isinstance(value, str | int | float | bool):
        return clip(value, _MAX_RAW_VALUE) if isinstance(value, str) else value
    return clip(repr(value), _MAX_RAW_VALUE)
