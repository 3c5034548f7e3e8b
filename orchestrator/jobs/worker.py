"""The worker: one job in, exactly one dispatch, and the user's message edited to say what happened.

Idempotent on the interaction id through Powertools Idempotency: a duplicated
queue message or a retry replays the saved outcome instead of dispatching
again, whatever the backend (DynamoDB in AWS, SQLite or memory locally).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from orchestrator.clients.discord_api import DiscordClient, DiscordRejected, InteractionExpired
from orchestrator.clients.github_api import GitHubClient
from orchestrator.clients.retries import DEFAULT_TIMEOUT
from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSet
from orchestrator.dispatch.dispatcher import Dispatcher, RetryLater
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.jobs.job import Job
from orchestrator.messages.job_messages import outcome_message
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.settings import Settings
from orchestrator.state.jobs import JobRecord, JobStore
from orchestrator.state.store import StateStore

# Outlives any redelivery: SQS keeps a message at most 14 days, and a DLQ redrive can come later still.
IDEMPOTENCY_TTL_SECONDS = 30 * 24 * 3600


class JobWorker:
    def __init__(
        self,
        commands: CommandSet,
        state: StateStore,
        dispatcher: Dispatcher,
        discord: DiscordClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._commands = commands
        self._jobs: JobStore = state.jobs
        self._dispatcher = dispatcher
        self._discord = discord
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

    @classmethod
    def from_settings(cls, settings: Settings, state: StateStore) -> JobWorker:
        github = GitHubClient(
            httpx.Client(timeout=DEFAULT_TIMEOUT),
            settings.github_api_url,
            settings.github_token,
            settings.github_repository,
        )
        discord = DiscordClient(
            httpx.Client(timeout=DEFAULT_TIMEOUT), settings.discord_api_url, settings.discord_application_id
        )
        dispatcher = Dispatcher(github, state.jobs, settings.github_repository)
        return cls(load_commands(settings.commands_file), state, dispatcher, discord)

    def process(self, body: str, *, context: LambdaContext, final_attempt: bool) -> None:
        """Handle one queue message. Raises to ask the queue for a retry (BadJobMessage: never retry)."""
        job = Job.from_message(body)
        with log_context(
            trace_id=job.trace_id, correlation_id=job.interaction_id, user_id=job.user_id, cmd=job.command
        ):
            self._idempotency.register_lambda_context(context)
            result = self._dispatch_once(job=job, final_attempt=final_attempt)
            outcome = DispatchOutcome.from_dict(result)
            self._tell_user(job, outcome)

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
                outcome = self._dispatcher.dispatch(job, spec, record, final_attempt=final_attempt)
            except RetryLater as exc:
                log.warning("dispatch inconclusive, the queue will retry", extra={"reason": str(exc)})
                raise
        record = replace(
            record,
            status=outcome.kind,
            run_id=outcome.run_id,
            html_url=outcome.html_url,
            detail=outcome.detail,
            updated_at=self._clock(),
        )
        self._jobs.put(record)
        log.info(
            "dispatch finished",
            extra={
                "outcome": outcome.kind,
                "run_id": outcome.run_id,
                "workflow": spec.workflow if spec else None,
            },
        )
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
        )
        self._jobs.put(record)
        return record

    def _tell_user(self, job: Job, outcome: DispatchOutcome) -> None:
        message = outcome_message(job.command, job.options, outcome, job.trace_id)
        try:
            self._discord.edit_original(job.interaction_token, message)
        except InteractionExpired:
            # Past the token's 15 minutes; the run itself is recorded and unaffected.
            get_logger().warning("interaction token expired: the user's message was not updated")
        except DiscordRejected as exc:
            # A 4xx other than 404 is our bug (a body Discord refuses): retrying cannot help.
            get_logger().error("Discord refused the message edit", extra={"status": exc.status})
        else:
            get_logger().info("user message updated", extra={"outcome": outcome.kind})
