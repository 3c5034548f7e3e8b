"""The dispatch job: one accepted command, exactly one dispatch, and the user's message edited to
say what happened.

Idempotent on the interaction id through Powertools Idempotency: a duplicated queue message or a
retry replays the saved outcome instead of dispatching again, whatever the backend (DynamoDB in
AWS, SQLite or memory locally). Before dispatching, the command is checked against its workflow
(workflows/preflight.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

from orchestrator.alerts.bot_alerts import dispatch_alert
from orchestrator.audit.events import job_event
from orchestrator.audit.trail import AuditTrail
from orchestrator.clients.discord_api import DiscordRejected
from orchestrator.commands.model import CommandSet, CommandSpec
from orchestrator.dispatch.dispatcher import Dispatcher, RetryLater
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.jobs.envelopes import Job
from orchestrator.jobs.reporting import Reporting
from orchestrator.observability import metrics
from orchestrator.observability.logging import get_logger
from orchestrator.runs.follower import RunFollower
from orchestrator.runs.tracker import RunTracker
from orchestrator.state.jobs import JobRecord
from orchestrator.state.store import StateStore
from orchestrator.traces.model import TraceStep, step
from orchestrator.workflows.preflight import Preflight, Refused

# Outlives any redelivery: SQS keeps a message at most 14 days, and a DLQ redrive can come later still.
IDEMPOTENCY_TTL_SECONDS = 30 * 24 * 3600


def keyed_as(name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler` under the name Powertools Idempotency keys its records by (module and qualified
    name): the names of before the worker was split, so that a message redelivered across a deploy
    still finds the outcome saved for it."""

    def keyed(*args: Any, **kwargs: Any) -> Any:
        return handler(*args, **kwargs)

    keyed.__module__ = "orchestrator.jobs.worker"
    keyed.__qualname__ = keyed.__name__ = name
    return keyed


class DispatchJob:
    def __init__(
        self,
        commands: CommandSet,
        state: StateStore,
        dispatcher: Dispatcher,
        preflight: Preflight,
        tracker: RunTracker,
        follower: RunFollower,
        *,
        audit: AuditTrail,
        reporting: Reporting,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._commands = commands
        self._jobs = state.jobs
        self._dispatcher = dispatcher
        self._preflight = preflight
        self._tracker = tracker
        self._follower = follower
        self._audit = audit
        self._reporting = reporting
        self._clock = clock
        self.idempotency = IdempotencyConfig(
            # The interaction id itself is hashed into the key, so the key is the one a job written
            # flat (before the invocation was a value of its own) had: a redelivery still replays.
            event_key_jmespath="invocation.interaction_id",
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
            raise_on_no_idempotency_key=True,
        )
        self._dispatch_once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="job",
            persistence_store=state.idempotency,
            config=self.idempotency,
        )(keyed_as("JobWorker._dispatch", self._dispatch))

    def run(self, job: Job, *, final_attempt: bool, sent_at: float | None) -> None:
        trace = job.trace()
        ack_ms = (sent_at - job.received_at) * 1000 if sent_at else None
        if sent_at:
            trace.steps.append(TraceStep("wait in queue", "ok", sent_at, max(0.0, (self._clock() - sent_at) * 1000)))
        self._reporting.save_trace(trace)
        problem: str | None = None
        try:
            with step(trace, "dispatch", workflow=self._workflow_of(job.invocation.command)) as dispatching:
                outcome = DispatchOutcome.from_dict(self._dispatch_once(job=job, final_attempt=final_attempt))
                dispatching.note(outcome=outcome.kind, run_id=outcome.run_id)
                if outcome.kind != "dispatched":
                    dispatching.fail(outcome.detail or outcome.kind)
            dispatch_ms = trace.steps[-1].duration_ms
            alert = dispatch_alert(job, outcome, self._workflow_of(job.invocation.command))
            if alert is not None:
                self._reporting.alert(alert)
            with step(trace, "update Discord message") as updating:
                record = self._jobs.get(job.invocation.interaction_id)
                if record is not None:
                    try:
                        record = self._tracker.refresh(record)
                    except DiscordRejected as exc:
                        # A 4xx other than 404 is our bug (a body Discord refuses): retrying cannot help.
                        get_logger().error("Discord refused the message", extra={"status": exc.status})
                        problem = f"Discord refused the message ({exc.status})"
                        updating.fail(problem)
                    self._follower.start_following(record)
        except BaseException:
            trace.fail("the job failed before it finished; the queue will retry it")
            self._reporting.save_trace(trace)
            raise
        trace.run_url = outcome.html_url
        if outcome.kind == "dispatched" and not problem:
            trace.status = "ok"
        else:
            trace.fail(outcome.detail or problem or outcome.kind)
        self._reporting.save_trace(trace)
        values = [(metrics.COMMAND_ACCEPTED, 1.0), (metrics.DISPATCH_LATENCY, dispatch_ms)]
        if ack_ms is not None:
            values.append((metrics.ACK_LATENCY, ack_ms))
        if outcome.kind != "dispatched":
            values.append((metrics.COMMAND_FAILED, 1.0))
        self._reporting.emit(job.invocation.command, values)

    def _workflow_of(self, command: str) -> str | None:
        spec = self._commands.get(command)
        return spec.workflow if spec else None

    def _dispatch(self, job: Job, final_attempt: bool) -> dict[str, Any]:
        log = get_logger()
        record = self._jobs.get(job.invocation.interaction_id) or self._new_record(job)
        spec = self._commands.get(job.invocation.command)
        if spec is None:
            outcome = DispatchOutcome(
                "rejected",
                detail=f"/{job.invocation.command} was removed from the bot's commands. Nothing was started.",
            )
        else:
            try:
                checked = self._preflight.check(spec, job, final_attempt=final_attempt)
                if not isinstance(checked, Refused):
                    outcome = self._dispatcher.dispatch(job, checked, record, final_attempt=final_attempt)
                elif record.dispatch_attempted_at is None:
                    outcome = DispatchOutcome("rejected", detail=checked.detail, reason=checked.reason)
                else:
                    # An earlier attempt reached GitHub and its run may exist: look for it, never send
                    # again what the check now refuses.
                    outcome = self._dispatcher.find_earlier(job, record, spec.workflow, final_attempt=final_attempt)
            except RetryLater as exc:
                log.warning("dispatch inconclusive, the queue will retry", extra={"reason": str(exc)})
                raise

        me = uuid.uuid4().hex
        first_to_settle = False

        def settle(current: JobRecord | None) -> JobRecord | None:
            nonlocal first_to_settle
            base = current or record
            # As of the write that lands (the store's update is atomic); our own write read back
            # after a retried put still counts as ours.
            first_to_settle = base.settled_by in (None, me)
            return replace(
                base,
                status=outcome.kind,
                run_id=outcome.run_id,
                html_url=outcome.html_url,
                detail=outcome.detail,
                run_status="queued" if outcome.run_id else None,
                updated_at=self._clock(),
                render_pending=True,
                settled_by=base.settled_by or me,
            )

        self._jobs.update(job.invocation.interaction_id, settle)
        log.info(
            "dispatch finished",
            extra={"outcome": outcome.kind, "run_id": outcome.run_id, "workflow": spec.workflow if spec else None},
        )
        # Here, inside the idempotent call: a redelivered job replays its outcome without a second
        # event; and only by the delivery that settled the record first, in case two ran at once
        # (the first past its deadline, its idempotency claim expired).
        detail = f"{outcome.kind}: {outcome.reason}" if outcome.reason else outcome.kind
        # Stamped with when the user acted (ran it, or confirmed it), not when the worker got to it.
        confirmed_at = job.confirmed_at
        attempt, at = ("accepted", job.received_at) if confirmed_at is None else ("confirmed", confirmed_at)
        # What happened, not only that it was asked for: GitHub refused it, or no one can tell.
        attempt = {"rejected": "failed", "unknown": "unknown"}.get(outcome.kind, attempt)
        if first_to_settle:
            self._audit.record(job_event(job, attempt, at, run_id=outcome.run_id, detail=detail))
        return outcome.to_dict()

    def _new_record(self, job: Job) -> JobRecord:
        record = new_job_record(job, self._commands.get(job.invocation.command), self._clock())
        self._jobs.put(record)
        return record


def new_job_record(job: Job, spec: CommandSpec | None, now: float) -> JobRecord:
    """The record of a job the worker meets for the first time: "dispatching", nothing sent yet."""
    return JobRecord(
        invocation=job.invocation,
        status="dispatching",
        created_at=now,
        updated_at=now,
        workflow=spec.workflow if spec else None,
        received_at=job.received_at,
        reply_token=job.interaction_token,
        message_is_followup=job.reply_as_followup,
        ephemeral=job.ephemeral,
        failure_log_public=bool(spec and spec.failure_log_public),
    )
