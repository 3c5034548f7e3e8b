"""Helpers shared by the trace tests: traces with distinct, increasing start times, ways to count what a
TraceStore still holds through its public interface only, and the worker harness type."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from orchestrator.commands.invocation import INVOCATION_FIELDS
from orchestrator.jobs.envelopes import DebugRequest, Job, TraceOnly
from orchestrator.jobs.worker import JobWorker
from orchestrator.observability.metrics import MemoryMetrics, Observation
from orchestrator.state.store import StateStore
from orchestrator.state.traces import TraceStore
from orchestrator.traces.model import Trace, TraceStep
from orchestrator_dev.standins.fake_discord import FakeDiscord
from orchestrator_dev.standins.fake_github import FakeGitHub
from orchestrator_dev.standins.signing import interaction_token, snowflake
from tests.fixtures.worker import APPLICATION_ID, CHANNEL_ID, context, new_job

# A fixed, recent moment (2023-11-14 22:13:20 UTC). Stored traces expire 14 days after they are
# *saved*, not after they started, so an old start time is fine on every backend.
BASE = 1_700_000_000.0


def trace_id(n: int, *, prefix: str = "") -> str:
    """A 32-hex trace id whose first 8 characters (its fingerprint) are `n`'s; with a `prefix` (hex), the id
    starts with it instead and ends with `n`, to build traces sharing a fingerprint."""
    if prefix:
        return prefix + f"{n:0{32 - len(prefix)}x}"
    return f"{n:08x}" + "7e57" * 6


def make_trace(n: int, user_id: str = "u1", *, tid: str | None = None) -> Trace:
    """Trace number `n`, started `n` seconds after BASE: start order is save order on every backend
    (DynamoDB sorts a user's traces by start time, memory and SQLite by insertion)."""
    started = BASE + n
    return Trace(
        trace_id=tid or trace_id(n),
        user_id=user_id,
        command="diagnose",
        started_at=started,
        steps=[TraceStep("verify signature", "ok", started, 0.5)],
    )


def save_all(store: TraceStore, traces: Iterable[Trace]) -> dict[str, str]:
    """Save in order; return trace id -> owner for everything saved."""
    owners: dict[str, str] = {}
    for trace in traces:
        store.save(trace)
        owners[trace.trace_id] = trace.user_id
    return owners


def present(store: TraceStore, owners: dict[str, str]) -> set[str]:
    """Which of these trace ids (id -> owner) the store still returns to their owner."""
    return {tid for tid, owner in owners.items() if store.find(owner, tid) is not None}


@dataclass
class TraceHarness:
    """A JobWorker against the GitHub and Discord stand-ins, with its metrics sink in reach."""

    worker: JobWorker
    github: FakeGitHub
    discord: FakeDiscord
    state: StateStore
    metrics: MemoryMetrics

    def job(self, command: str = "diagnose", options: dict[str, Any] | None = None, **changes: Any) -> Job:
        """A job as the endpoint queues it, its deferred message open in Discord."""
        job = new_job(command, options)
        who = {name: value for name, value in changes.items() if name in INVOCATION_FIELDS}
        job = replace(
            job, invocation=replace(job.invocation, **who), **{k: changes[k] for k in changes.keys() - who.keys()}
        )
        self.discord.open_interaction(job.interaction_token, channel_id=CHANNEL_ID, ephemeral=False)
        return job

    def process(self, job: Job, *, sent_at: float | None = None) -> None:
        self.worker.process(job.to_message(), context=context(), final_attempt=False, sent_at=sent_at)

    def refuse(self, trace: Trace, outcome: str) -> None:
        self.worker.process(TraceOnly(trace, outcome).to_message(), context=context(), final_attempt=False)

    def debug(self, user_id: str, requested: str | None = None) -> str:
        """Run /debug-last as `user_id` through the worker; return what their message now says."""
        interaction_id = snowflake()
        token = interaction_token(interaction_id)
        self.discord.open_interaction(token, channel_id=CHANNEL_ID, ephemeral=True)
        request = DebugRequest(interaction_id, APPLICATION_ID, user_id, requested, token)
        self.worker.process(request.to_message(), context=context(), final_attempt=False)
        message = self.discord.message_for(token)
        assert message is not None
        content: str = message["content"]
        return content

    def observed(self, name: str) -> list[Observation]:
        return [o for o in self.metrics.observations if o.name == name]
