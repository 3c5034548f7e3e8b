"""The worker: one job in, exactly one dispatch, and the user's message edited to say what happened.

Idempotent on the interaction id through Powertools Idempotency: a duplicated
queue message or a retry replays the saved outcome instead of dispatching
again, whatever the backend (DynamoDB in AWS, SQLite or memory locally).
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.alerts.alerter import Alerter
from orchestrator.alerts.bot_alerts import breaker_alert, dispatch_alert, last_attempt_alert
from orchestrator.alerts.model import Alert
from orchestrator.audit.events import job_event
from orchestrator.audit.trail import AuditTrail
from orchestrator.clients.discord_api import DiscordClient, DiscordRejected, InteractionExpired
from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.guarded import breaker_from_settings, guarded_client
from orchestrator.clients.job_logs import JobLogDownloader
from orchestrator.commands.builtin import DEBUG_COMMAND
from orchestrator.commands.model import CommandSet
from orchestrator.discord.wire import NO_MENTIONS
from orchestrator.dispatch.dispatcher import Dispatcher, RetryLater
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.failures.builder import DigestBuilder
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.jobs.deadline import job_deadline
from orchestrator.jobs.envelopes import (
    BadJobMessage,
    CancelRequest,
    DebugRequest,
    Job,
    PollRequest,
    RefreshCache,
    RunAction,
    RunEvent,
    TraceOnly,
    parse_message,
)
from orchestrator.messages.debug_report import debug_report
from orchestrator.observability import metrics
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.observability.redaction import active_redactor
from orchestrator.queues.base import JobQueue
from orchestrator.runs.actions import RunActions
from orchestrator.runs.follower import RunFollower
from orchestrator.runs.polling import DEFAULT_POLL_LIMIT
from orchestrator.runs.tracker import RunTracker
from orchestrator.settings import Settings
from orchestrator.state.audit import DEFAULT_AUDIT_RETENTION_DAYS
from orchestrator.state.jobs import JobRecord, JobStore
from orchestrator.state.store import StateStore
from orchestrator.state.traces import TraceStore
from orchestrator.traces.model import Trace, TraceStep, step
from orchestrator.workflows.cache import ListSource
from orchestrator.workflows.catalog import WorkflowCatalog
from orchestrator.workflows.preflight import Preflight, Refused

# Outlives any redelivery: SQS keeps a message at most 14 days, and a DLQ redrive can come later still.
IDEMPOTENCY_TTL_SECONDS = 30 * 24 * 3600
# GitHub redelivers on request (an operator's "Redeliver") for up to a few days.
DELIVERY_TTL_SECONDS = 7 * 24 * 3600
# Longer than the 5 minutes a signed interaction request can be replayed in.
REPLAY_TTL_SECONDS = 15 * 60


_REFUSAL_METRICS = {
    "denied": metrics.COMMAND_DENIED,
    "invalid": metrics.COMMAND_INVALID,
    "unknown_command": metrics.COMMAND_INVALID,
    "rate_limited": metrics.COMMAND_RATE_LIMITED,
}


class JobWorker:
    def __init__(
        self,
        commands: CommandSet,
        state: StateStore,
        dispatcher: Dispatcher,
        discord: DiscordClient,
        tracker: RunTracker,
        follower: RunFollower,
        run_actions: RunActions,
        *,
        metrics_sink: metrics.MetricsSink,
        audit: AuditTrail | None = None,
        alerter: Alerter | None = None,
        catalog: WorkflowCatalog,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._commands = commands
        self._catalog = catalog
        self._preflight = Preflight(catalog, dispatcher.repository)
        self._audit = audit or AuditTrail(state.audit, clock=clock)
        self._command_names = frozenset(commands.commands)
        self._jobs: JobStore = state.jobs
        self._traces: TraceStore = state.traces
        self._metrics = metrics_sink
        self._dispatcher = dispatcher
        self._discord = discord
        self._tracker = tracker
        self._follower = follower
        self._run_actions = run_actions
        self._alerter = alerter
        self._clock = clock
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="interaction_id",
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
            raise_on_no_idempotency_key=True,
        )
        self._dispatch_once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="job",
            persistence_store=state.idempotency,
            config=self._idempotency,
        )(self._dispatch)
        self._once_configs: list[IdempotencyConfig] = []
        # Webhook redeliveries (same X-GitHub-Delivery) replay instead of applying twice.
        self._apply_event_once = self._once(state, self._apply_event, "delivery_id", DELIVERY_TTL_SECONDS)
        # A signed request may be replayed for 5 minutes (Discord's timestamp window): a replayed
        # refusal or press is audited and answered once, by its interaction (a press's token is its own).
        self._store_refusal_once = self._once(state, self._store_refusal, "audit.interaction_id", REPLAY_TTL_SECONDS)
        self._cancel_once = self._once(state, self._cancel, "interaction_token", REPLAY_TTL_SECONDS)
        self._run_action_once = self._once(state, self._run_action, "interaction_token", REPLAY_TTL_SECONDS)

    def _once(
        self, state: StateStore, handler: Callable[[Any], dict[str, Any] | None], key: str, ttl_seconds: int
    ) -> Callable[[Any], dict[str, Any] | None]:
        """`handler` run at most once per value of `key` in its message, for `ttl_seconds`."""
        config = IdempotencyConfig(
            event_key_jmespath=key,
            expires_after_seconds=ttl_seconds,
            raise_on_no_idempotency_key=True,
        )
        self._once_configs.append(config)
        once: Callable[..., dict[str, Any] | None] = idempotent_function(
            data_keyword_argument="message",
            # A persistence layer takes the config of the first function that uses it: each gets its
            # own (same table or file, keys prefixed by the function's name, so no clash).
            persistence_store=copy.copy(state.idempotency),
            config=config,
        )(handler)
        return lambda message: once(message=message)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        commands: CommandSet,
        state: StateStore,
        metrics_sink: metrics.MetricsSink,
        queue: JobQueue,
        signer: ButtonSigner,
    ) -> JobWorker:
        github_breaker, discord_breaker = (breaker_from_settings(settings, name) for name in ("GitHub", "Discord"))
        github = GitHubClient(
            guarded_client(github_breaker),
            settings.github_api_url,
            settings.github_token_source(),
            settings.github_repository,
        )
        discord = DiscordClient(
            guarded_client(discord_breaker),
            settings.discord_api_url,
            settings.discord_application_id,
            bot_token=settings.discord_bot_token_source(),
        )
        alerter = Alerter.from_settings(settings, state.alerts, discord, metrics_sink)
        for breaker in (github_breaker, discord_breaker):
            breaker.on_open(lambda opened: alerter.raise_alert(breaker_alert(opened)))
        return cls.assemble(
            commands,
            state,
            github,
            discord,
            Dispatcher(github, state.jobs, settings.github_repository),
            signer,
            queue,
            metrics_sink,
            webhooks=settings.github_webhook_secret is not None,
            poll_limit=settings.poll_limit,
            alerter=alerter,
            audit_retention_days=settings.audit_retention_days,
            digests=DigestBuilder(
                github,
                JobLogDownloader(),
                max_log_bytes=settings.failure_log_max_bytes,
                budget_seconds=settings.failure_digest_seconds,
            ),
        )

    @classmethod
    def assemble(
        cls,
        commands: CommandSet,
        state: StateStore,
        github: GitHubClient,
        discord: DiscordClient,
        dispatcher: Dispatcher,
        signer: ButtonSigner,
        queue: JobQueue,
        metrics_sink: metrics.MetricsSink,
        *,
        webhooks: bool,
        poll_limit: int = DEFAULT_POLL_LIMIT,
        alerter: Alerter | None = None,
        audit_retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS,
        digests: DigestBuilder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> JobWorker:
        """The worker from its parts (tests build the parts themselves)."""
        audit = AuditTrail(state.audit, retention_days=audit_retention_days, clock=clock)
        tracker = RunTracker(
            state.jobs,
            github,
            discord,
            signer,
            digests=digests or DigestBuilder(github, JobLogDownloader()),
            clock=clock,
        )
        follower = RunFollower(
            state.jobs,
            commands,
            github,
            discord,
            tracker,
            queue,
            metrics_sink,
            webhooks=webhooks,
            poll_limit=poll_limit,
            alerter=alerter,
            audit=audit,
            traces=state.traces,
            clock=clock,
        )
        run_actions = RunActions(
            state.jobs,
            commands,
            github,
            discord,
            tracker,
            signer,
            audit,
            start_following=follower.start_following,
            clock=clock,
        )
        return cls(
            commands,
            state,
            dispatcher,
            discord,
            tracker,
            follower,
            run_actions,
            metrics_sink=metrics_sink,
            audit=audit,
            alerter=alerter,
            catalog=WorkflowCatalog(github, state.caches, dispatcher.repository, clock=clock),
            clock=clock,
        )

    def process(self, body: str, *, context: LambdaContext, final_attempt: bool, sent_at: float | None = None) -> None:
        """Handle one queue message; `sent_at` is when it was queued (for the ACK latency).
        Raises to ask the queue for a retry; BadJobMessage means retrying cannot help."""
        with job_deadline(context.get_remaining_time_in_millis() / 1000):
            self._process(body, context=context, final_attempt=final_attempt, sent_at=sent_at)

    def _process(self, body: str, *, context: LambdaContext, final_attempt: bool, sent_at: float | None) -> None:
        try:
            message = parse_message(body)
        except BadJobMessage as exc:
            if final_attempt:
                self._alert(last_attempt_alert(None, exc))
            raise
        for config in (self._idempotency, *self._once_configs):
            config.register_lambda_context(context)
        if isinstance(message, TraceOnly):
            # Without an audit event (older messages) there is no interaction id to deduplicate on.
            (self._store_refusal_once if message.audit is not None else self._store_refusal)(message)
        elif isinstance(message, DebugRequest):
            with log_context(correlation_id=message.interaction_id, user_id=message.user_id, cmd=DEBUG_COMMAND):
                self._answer_debug(message)
        elif isinstance(message, PollRequest):
            self._follower.poll(message)
        elif isinstance(message, RunEvent):
            self._apply_event_once(message)
        elif isinstance(message, CancelRequest):
            with log_context(correlation_id=message.interaction_id, user_id=message.user_id):
                self._cancel_once(message)
        elif isinstance(message, RunAction):
            with log_context(correlation_id=message.interaction_id, user_id=message.user_id):
                self._run_action_once(message)
        elif isinstance(message, RefreshCache):
            self._refresh(message)
        else:
            with log_context(
                trace_id=message.trace_id,
                correlation_id=message.interaction_id,
                user_id=message.user_id,
                cmd=message.command,
            ):
                try:
                    self._run(message, final_attempt=final_attempt, sent_at=sent_at)
                except Exception as exc:
                    # Logged here, inside the job's context, so the line carries its trace id.
                    log = get_logger()
                    log.warning("job failed; the queue will deliver it again", extra={"error": type(exc).__name__})
                    if final_attempt:
                        self._alert(last_attempt_alert(message, exc))
                    raise

    def _refresh(self, message: RefreshCache) -> None:
        """Best effort: the next suggestion asks again if this one fails (never retried by the queue)."""
        try:
            if message.source == "workflow" and message.workflow:
                self._catalog.trigger(message.workflow, message.ref or "main")
            elif message.source != "workflow":
                self._catalog.refresh(cast(ListSource, message.source))
        except Exception as exc:  # noqa: BLE001 - GitHub, the store: either way the next suggestion asks again
            get_logger().warning("cache not refreshed", extra={"source": message.source, "error": type(exc).__name__})

    def _apply_event(self, message: RunEvent) -> dict[str, Any]:
        return self._follower.apply_event(message)

    def _cancel(self, message: CancelRequest) -> None:
        self._follower.cancel(message)

    def _run_action(self, message: RunAction) -> None:
        self._run_actions.handle(message)

    def _run(self, job: Job, *, final_attempt: bool, sent_at: float | None) -> None:
        trace = job.trace()
        ack_ms = (sent_at - job.received_at) * 1000 if sent_at else None
        if sent_at:
            trace.steps.append(TraceStep("wait in queue", "ok", sent_at, max(0.0, (self._clock() - sent_at) * 1000)))
        self._save_trace(trace)
        problem: str | None = None
        try:
            with step(trace, "dispatch", workflow=self._workflow_of(job.command)) as dispatching:
                outcome = DispatchOutcome.from_dict(self._dispatch_once(job=job, final_attempt=final_attempt))
                dispatching.note(outcome=outcome.kind, run_id=outcome.run_id)
                if outcome.kind != "dispatched":
                    dispatching.fail(outcome.detail or outcome.kind)
            dispatch_ms = trace.steps[-1].duration_ms
            alert = dispatch_alert(job, outcome, self._workflow_of(job.command))
            if alert is not None:
                self._alert(alert)
            with step(trace, "update Discord message") as updating:
                record = self._jobs.get(job.interaction_id)
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
            self._save_trace(trace)
            raise
        trace.run_url = outcome.html_url
        if outcome.kind == "dispatched" and not problem:
            trace.status = "ok"
        else:
            trace.fail(outcome.detail or problem or outcome.kind)
        self._save_trace(trace)
        values = [(metrics.COMMAND_ACCEPTED, 1.0), (metrics.DISPATCH_LATENCY, dispatch_ms)]
        if ack_ms is not None:
            values.append((metrics.ACK_LATENCY, ack_ms))
        if outcome.kind != "dispatched":
            values.append((metrics.COMMAND_FAILED, 1.0))
        self._metrics.emit(self._dimension(job.command), values)

    def _failure_log_public(self, command: str) -> bool:
        spec = self._commands.get(command)
        return bool(spec and spec.failure_log_public)

    def _workflow_of(self, command: str) -> str | None:
        spec = self._commands.get(command)
        return spec.workflow if spec else None

    def _dispatch(self, job: Job, final_attempt: bool) -> dict[str, Any]:
        log = get_logger()
        record = self._jobs.get(job.interaction_id) or self._new_record(job)
        spec = self._commands.get(job.command)
        if spec is None:
            outcome = DispatchOutcome(
                "rejected", detail=f"/{job.command} was removed from the bot's commands. Nothing was started."
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

        self._jobs.update(job.interaction_id, settle)
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
        now = self._clock()
        record = JobRecord(
            interaction_id=job.interaction_id,
            trace_id=job.trace_id,
            command=job.command,
            user_id=job.user_id,
            user_name=job.user_name,
            guild_id=job.guild_id,
            channel_id=job.channel_id,
            status="dispatching",
            created_at=now,
            updated_at=now,
            options=dict(job.options),
            workflow=self._workflow_of(job.command),
            received_at=job.received_at,
            reply_token=job.interaction_token,
            message_is_followup=job.reply_as_followup,
            ephemeral=job.ephemeral,
            failure_log_public=self._failure_log_public(job.command),
        )
        self._jobs.put(record)
        return record

    def _store_refusal(self, message: TraceOnly) -> None:
        trace = message.trace
        with log_context(trace_id=trace.trace_id, user_id=trace.user_id, cmd=trace.command):
            self._save_trace(trace)
            if message.audit is not None:
                self._audit.record(message.audit)
            metric = _REFUSAL_METRICS.get(message.outcome)
            if metric is not None:
                self._metrics.emit(self._dimension(trace.command), [(metric, 1.0)])

    def _answer_debug(self, request: DebugRequest) -> None:
        wanted = request.requested_trace_id
        trace = self._traces.find(request.user_id, wanted) if wanted else self._traces.latest(request.user_id)
        text = debug_report(trace, requested=wanted)
        try:
            self._discord.edit_original(request.interaction_token, {"content": text, "allowed_mentions": NO_MENTIONS})
        except (InteractionExpired, DiscordRejected) as exc:
            get_logger().warning("could not show /debug-last", extra={"error": type(exc).__name__})

    def _save_trace(self, trace: Trace) -> None:
        # Traces help explain failures; failing to store one must never fail the command itself.
        try:
            self._traces.save(Trace.from_dict(active_redactor().value(trace.to_dict())))
        except Exception as exc:  # noqa: BLE001
            get_logger().warning("trace not stored", extra={"error": type(exc).__name__})

    def _alert(self, alert: Alert) -> None:
        if self._alerter is not None:
            self._alerter.raise_alert(alert)

    def _dimension(self, command: str) -> str:
        return metrics.command_dimension(command, self._command_names)
