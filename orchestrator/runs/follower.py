"""The worker's side of run tracking: polls, webhook deliveries, and Cancel presses."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from orchestrator.alerts.alerter import Alerter
from orchestrator.alerts.bot_alerts import run_failed_alert, run_recovered_alert
from orchestrator.audit.events import run_button_event
from orchestrator.audit.trail import AuditTrail
from orchestrator.clients.discord_api import DiscordError
from orchestrator.clients.github_errors import GitHubError, GitHubRateLimited
from orchestrator.discord.outbound import Message
from orchestrator.failures.digest import FailureDigest
from orchestrator.jobs.envelopes import CancelRequest, PollRequest, RunEvent
from orchestrator.observability import metrics
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.queues.base import JobQueue, QueueUnavailable
from orchestrator.runs.model import FAILED_CONCLUSIONS, BadRunData, RunSnapshot
from orchestrator.runs.parts import RunParts
from orchestrator.runs.polling import poll_delay
from orchestrator.runs.run_trace import follow_in_trace
from orchestrator.state.jobs import JobRecord
from orchestrator.state.traces import TraceStore

MAX_QUEUE_DELAY_SECONDS = 900  # SQS's longest delay: a longer wait is made of several polls


class RunFollower:
    def __init__(
        self,
        parts: RunParts,
        queue: JobQueue,
        metrics_sink: metrics.MetricsSink,
        *,
        webhooks: bool,
        poll_limit: int,
        alerter: Alerter | None = None,
        audit: AuditTrail | None = None,
        traces: TraceStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._jobs, self._commands, self._tracker = parts.jobs, parts.commands, parts.tracker
        self._github, self._discord = parts.github, parts.discord
        self._traces = traces
        self._audit = audit
        self._queue = queue
        self._metrics = metrics_sink
        self._webhooks = webhooks
        self._poll_limit = poll_limit
        self._alerter = alerter
        self._clock = clock

    def start_following(self, record: JobRecord) -> None:
        """After a dispatch: schedule the first poll (the only poll, in practice, with webhooks)."""
        if record.run_id is not None and record.conclusion is None:
            self._schedule(record.invocation.interaction_id, record.polls)

    def poll(self, request: PollRequest) -> None:
        record = self._jobs.get(request.interaction_id)
        if record is None or record.run_id is None:
            return
        if record.conclusion is not None:
            self._end_chain(record.invocation.interaction_id)  # finished, perhaps through a webhook: no API call
            return

        took: list[bool] = []

        def take_turn(current: JobRecord | None) -> JobRecord | None:
            took.clear()
            if current is None or current.polls != request.attempt:
                return None  # another chain (a duplicated message) already took this turn
            current.polls += 1
            took.append(True)
            return current

        record = self._jobs.update(record.invocation.interaction_id, take_turn)
        if record is None or not took or record.run_id is None:
            return
        with log_context(
            trace_id=record.invocation.trace_id, user_id=record.invocation.user_id, cmd=record.invocation.command
        ):
            wait = 0.0
            try:
                snapshot = RunSnapshot.from_api(self._github.get_run(record.run_id))
                record = self._observe(record, snapshot)
            except (GitHubError, BadRunData, DiscordError) as exc:
                # GitHub down, rate limited or odd, or Discord down (the record still says a render
                # is pending): keep going, the next poll comes later, no sooner than GitHub asked.
                if isinstance(exc, GitHubRateLimited):
                    wait = exc.retry_after_seconds or 0.0
                get_logger().warning("poll failed; will poll again", extra={"error": type(exc).__name__})
            if record.conclusion is not None:
                self._end_chain(record.invocation.interaction_id)
                return
            if record.polls >= self._poll_limit:
                get_logger().warning("poll limit reached: the message will not be updated further")
                return
            self._schedule(record.invocation.interaction_id, record.polls, at_least=wait)

    def _end_chain(self, interaction_id: str) -> None:
        """The run is finished and no poll follows: if a render gave up (or failed) on the way,
        show the result now, since nothing else will."""
        latest = self._jobs.get(interaction_id)
        if latest is not None and latest.render_pending:
            self._tracker.refresh(latest)

    def apply_event(self, event: RunEvent) -> dict[str, Any]:
        """A webhook delivery (already deduplicated by its delivery id)."""
        try:
            snapshot = RunSnapshot.from_api(event.run)
        except BadRunData as exc:
            get_logger().warning("webhook run ignored", extra={"reason": str(exc)})
            return {"applied": False}
        record = self._jobs.get_by_run(snapshot.run_id)
        if record is None:
            get_logger().info("webhook for a run we did not dispatch: ignored", extra={"run_id": snapshot.run_id})
            return {"applied": False}
        with log_context(
            trace_id=record.invocation.trace_id, user_id=record.invocation.user_id, cmd=record.invocation.command
        ):
            self._observe(record, snapshot)
        return {"applied": True}

    def cancel(self, request: CancelRequest) -> None:
        record = self._jobs.get(request.interaction_id)
        if record is None or record.run_id is None:
            self._tell_presser(request, "This run is not known to the bot (any more), so it cannot be cancelled here.")
            return
        with log_context(trace_id=record.invocation.trace_id, user_id=request.user_id, cmd=record.invocation.command):
            spec = self._commands.get(record.invocation.command)
            allowed = request.user_id == record.invocation.user_id or bool(
                spec and spec.cancel and spec.cancel.permits(request.user_id, request.roles)
            )
            if not allowed:
                get_logger().info("cancel denied", extra={"outcome": "denied"})
                self._audit_cancel(request, record, "denied", "pressed Cancel on a run they may not cancel")
                self._tell_presser(
                    request,
                    f"Only {record.invocation.user_name}, who started this run, or the roles allowed to cancel "
                    f"/{record.invocation.command} may cancel it.",
                )
                return
            if record.conclusion is not None:
                self._tell_presser(request, f"The run has already finished ({record.conclusion}).")
                return
            try:
                accepted = self._github.cancel_run(record.run_id)
            except GitHubError as exc:
                get_logger().warning("cancel failed", extra={"error": type(exc).__name__})
                self._tell_presser(request, "GitHub could not be reached, so the run was not cancelled. Try again.")
                return
            if not accepted:
                self._tell_presser(request, "GitHub says the run can no longer be cancelled: it has already finished.")
                return
            get_logger().info("cancel requested", extra={"outcome": "cancelled", "run_id": record.run_id})
            self._audit_cancel(request, record, "run_cancelled", "GitHub accepted the cancel")

            def note(current: JobRecord | None) -> JobRecord | None:
                if current is None:
                    return None
                current.cancelled_by, current.render_pending = request.user_name, True
                return current

            updated = self._jobs.update(record.invocation.interaction_id, note)
            if updated is not None:
                self._tracker.refresh(updated)
            self._tell_presser(request, "Cancel requested: the message shows the result when GitHub confirms it.")

    def _audit_cancel(self, request: CancelRequest, record: JobRecord, outcome: str, detail: str) -> None:
        if self._audit is not None:
            self._audit.record(
                run_button_event(
                    record,
                    request.user_id,
                    request.user_name,
                    request.roles,
                    outcome,
                    request.pressed_at or self._clock(),  # a message from before the field: when handled
                    detail,
                )
            )

    def _observe(self, record: JobRecord, snapshot: RunSnapshot) -> JobRecord:
        before = (record.run_attempt, record.run_status, record.conclusion)
        updated = self._tracker.observe(record, snapshot)
        if (updated.run_attempt, updated.run_status, updated.conclusion) != before and self._traces is not None:
            follow_in_trace(self._traces, updated, self._clock())
        finished_before = record.conclusion is not None and record.run_attempt == updated.run_attempt
        if not finished_before and updated.conclusion is not None:
            self._finished(updated)
        return updated

    def _finished(self, record: JobRecord) -> None:
        """An attempt ended: count it; a failure is logged once with its fingerprint and may alert,
        a success after a failed attempt resolves that alert."""
        values = [(metrics.RUN_COMPLETED, 1.0)]
        spec = self._commands.get(record.invocation.command)
        alerter = self._alerter if spec and spec.alert_on_failure else None
        if record.conclusion in FAILED_CONCLUSIONS:
            values.append((metrics.RUN_FAILED, 1.0))
            log_run_failure(record)
            if alerter is not None:
                alerter.raise_alert(run_failed_alert(record))
        elif alerter is not None and record.conclusion == "success" and _after_a_failure(record):
            alerter.raise_alert(run_recovered_alert(record))
        self._metrics.emit(metrics.command_dimension(record.invocation.command, self._commands.commands.keys()), values)

    def _schedule(self, interaction_id: str, attempt: int, *, at_least: float = 0.0) -> None:
        delay = max(poll_delay(attempt, webhooks=self._webhooks), min(math.ceil(at_least), MAX_QUEUE_DELAY_SECONDS))
        try:
            self._queue.send(PollRequest(interaction_id, attempt).to_message(), delay_seconds=delay)
        except QueueUnavailable as exc:
            get_logger().warning("could not schedule the next poll", extra={"reason": str(exc)})

    def _tell_presser(self, request: CancelRequest, text: str) -> None:
        try:
            self._discord.create_followup(request.interaction_token, Message(text, ephemeral=True).to_dict())
        except DiscordError as exc:
            get_logger().warning("could not answer the Cancel press", extra={"error": type(exc).__name__})


def _after_a_failure(record: JobRecord) -> bool:
    return bool(record.attempts) and record.attempts[-1].get("conclusion") in FAILED_CONCLUSIONS


def log_run_failure(record: JobRecord) -> None:
    """One `run failed` line per failed attempt: what the saved query failures-by-fingerprint counts."""
    digest = FailureDigest.from_dict(record.failure) if record.failure else None
    first = digest.first if digest else None
    get_logger().warning(
        "run failed",
        extra={
            "run_id": record.run_id,
            "run_attempt": record.run_attempt,
            "workflow": record.workflow,
            "conclusion": record.conclusion,
            "job": first.name if first else None,
            "step": first.step_name if first else None,
            "error_fingerprint": digest.fingerprint if digest else None,
        },
    )
