"""The worker: each queue message to the job of its kind (jobs/envelopes.py), under the job's
deadline, with the deduplication its kind needs.

- `dispatch`: jobs/dispatch_job.py (exactly one dispatch per interaction id);
- `trace`: jobs/refusals.py; `debug`: jobs/debug_last.py; `refresh`: jobs/refresh.py;
- `poll`, `run_event`, `cancel`: runs/follower.py; `run_action`: runs/actions.py.

Built by composition/worker.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.alerts.bot_alerts import last_attempt_alert
from orchestrator.audit.trail import AuditTrail
from orchestrator.clients.discord_api import DiscordClient
from orchestrator.commands.builtin import DEBUG_COMMAND
from orchestrator.jobs.deadline import job_deadline
from orchestrator.jobs.debug_last import answer_debug_last
from orchestrator.jobs.dispatch_job import DispatchJob, keyed_as
from orchestrator.jobs.envelopes import (
    BadJobMessage,
    CancelRequest,
    DebugRequest,
    PollRequest,
    RefreshCache,
    RunAction,
    RunEvent,
    TraceOnly,
    parse_message,
)
from orchestrator.jobs.refresh import refresh_cache
from orchestrator.jobs.refusals import record_refusal
from orchestrator.jobs.reporting import Reporting
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.runs.actions import RunActions
from orchestrator.runs.follower import RunFollower
from orchestrator.state.store import StateStore
from orchestrator.workflows.catalog import WorkflowCatalog

# GitHub redelivers on request (an operator's "Redeliver") for up to a few days.
DELIVERY_TTL_SECONDS = 7 * 24 * 3600
# Longer than the 5 minutes a signed interaction request can be replayed in.
REPLAY_TTL_SECONDS = 15 * 60


class JobWorker:
    def __init__(
        self,
        state: StateStore,
        dispatch_job: DispatchJob,
        follower: RunFollower,
        run_actions: RunActions,
        discord: DiscordClient,
        catalog: WorkflowCatalog,
        *,
        audit: AuditTrail,
        reporting: Reporting,
    ) -> None:
        self._dispatch_job = dispatch_job
        self._follower = follower
        self._reporting = reporting
        self._catalog = catalog
        self._answer_debug = partial(answer_debug_last, traces=state.traces, discord=discord)
        self._record_refusal = partial(record_refusal, reporting=reporting, audit=audit)
        self._configs: list[IdempotencyConfig] = [dispatch_job.idempotency]
        # Webhook redeliveries (same X-GitHub-Delivery) replay instead of applying twice.
        self._apply_event_once = self._once(
            state, "JobWorker._apply_event", follower.apply_event, "delivery_id", DELIVERY_TTL_SECONDS
        )
        # A signed request may be replayed for 5 minutes (Discord's timestamp window): a replayed
        # refusal or press is audited and answered once, by its interaction (a press's token is its own).
        self._record_refusal_once = self._once(
            state,
            "JobWorker._store_refusal",
            self._record_refusal,
            "audit.invocation.interaction_id",
            REPLAY_TTL_SECONDS,
        )
        self._cancel_once = self._once(
            state, "JobWorker._cancel", follower.cancel, "interaction_token", REPLAY_TTL_SECONDS
        )
        self._run_action_once = self._once(
            state, "JobWorker._run_action", run_actions.handle, "interaction_token", REPLAY_TTL_SECONDS
        )

    def _once(
        self, state: StateStore, name: str, handler: Callable[[Any], Any], key: str, ttl_seconds: int
    ) -> Callable[[Any], Any]:
        """`handler` run at most once per value of `key` in its message, for `ttl_seconds`; its
        records keyed by `name` (see keyed_as)."""
        config = IdempotencyConfig(
            event_key_jmespath=key,
            expires_after_seconds=ttl_seconds,
            raise_on_no_idempotency_key=True,
        )
        self._configs.append(config)

        def by_message(message: Any) -> Any:  # Powertools passes `message=`; the handlers name it their own way
            return handler(message)

        once: Callable[..., Any] = idempotent_function(
            data_keyword_argument="message",
            # A persistence layer takes the config of the first function that uses it: each gets its
            # own (same table or file, keys prefixed by the function's name, so no clash).
            persistence_store=copy.copy(state.idempotency),
            config=config,
        )(keyed_as(name, by_message))
        return lambda message: once(message=message)

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
                self._reporting.alert(last_attempt_alert(None, exc))
            raise
        for config in self._configs:
            config.register_lambda_context(context)
        if isinstance(message, TraceOnly):
            # Without an audit event (older messages) there is no interaction id to deduplicate on.
            (self._record_refusal_once if message.audit is not None else self._record_refusal)(message)
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
            refresh_cache(message, self._catalog)
        else:
            who = message.invocation
            with log_context(
                trace_id=who.trace_id, correlation_id=who.interaction_id, user_id=who.user_id, cmd=who.command
            ):
                try:
                    self._dispatch_job.run(message, final_attempt=final_attempt, sent_at=sent_at)
                except Exception as exc:
                    # Logged here, inside the job's context, so the line carries its trace id.
                    get_logger().warning(
                        "job failed; the queue will deliver it again", extra={"error": type(exc).__name__}
                    )
                    if final_attempt:
                        self._reporting.alert(last_attempt_alert(message, exc))
                    raise
