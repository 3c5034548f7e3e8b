"""POST /interactions: the one code path behind the Lambda function URL and the local server.

Answers never wait on GitHub: an accepted command is queued and answered with
a deferred reply; the worker does the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from orchestrator.commands.loader import load_commands
from orchestrator.commands.model import CommandSet
from orchestrator.interactions import responses
from orchestrator.interactions.options import check_options
from orchestrator.interactions.payload import (
    APPLICATION_COMMAND,
    PING,
    Interaction,
    MalformedInteraction,
    parse_interaction,
)
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.job import Job
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.observability.trace_ids import new_trace_id
from orchestrator.queues.base import JobQueue, QueueUnavailable
from orchestrator.serialization import loads
from orchestrator.settings import Settings
from orchestrator.web.http import HttpRequest, HttpResponse, error_response, json_response

# Discord's interaction payloads are a few KB; anything this large is not from Discord.
MAX_BODY_BYTES = 64 * 1024


class InteractionsEndpoint:
    def __init__(
        self,
        verifier: SignatureVerifier,
        commands: CommandSet,
        queue: JobQueue,
        *,
        clock: Callable[[], float] = time.time,
        trace_source: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._verifier = verifier
        self._commands = commands
        self._queue = queue
        self._clock = clock
        # The X-Ray trace header of the current invocation, when Lambda tracing is on.
        self._trace_source = trace_source

    @classmethod
    def from_settings(cls, settings: Settings, queue: JobQueue, **kwargs: Any) -> InteractionsEndpoint:
        return cls(
            SignatureVerifier(settings.discord_public_key),
            load_commands(settings.commands_file),
            queue,
            **kwargs,
        )

    def handle(self, request: HttpRequest) -> HttpResponse:
        log = get_logger()
        if len(request.body) > MAX_BODY_BYTES:
            return error_response(413, "request body too large")
        signed = self._verifier.verify(
            request.headers.get("x-signature-timestamp"),
            request.body,
            request.headers.get("x-signature-ed25519"),
            now=self._clock(),
        )
        if not signed:
            log.info("interaction rejected: bad or missing signature")
            return error_response(401, "invalid request signature")
        try:
            interaction = parse_interaction(loads(request.body))
        except ValueError as exc:
            # JSONDecodeError covers bad UTF-8, bad JSON and deep nesting; MalformedInteraction is a ValueError too.
            reason = str(exc) if isinstance(exc, MalformedInteraction) else "body is not valid JSON"
            log.info("interaction rejected: malformed", extra={"reason": reason})
            return error_response(400, f"malformed interaction: {reason}")
        if interaction.type == PING:
            return json_response(200, responses.pong())
        if interaction.type == APPLICATION_COMMAND:
            trace_id = new_trace_id(self._trace_source())
            caller = interaction.caller
            with log_context(
                trace_id=trace_id,
                correlation_id=interaction.id,
                user_id=caller.user_id if caller else None,
                cmd=interaction.command_name,
            ):
                return json_response(200, self._command(interaction, trace_id))
        log.info("interaction rejected: unsupported type", extra={"interaction_type": interaction.type})
        return error_response(400, f"unsupported interaction type {interaction.type}")

    def _command(self, interaction: Interaction, trace_id: str) -> dict[str, object]:
        log = get_logger()
        name = interaction.command_name or ""
        caller = interaction.caller
        assert caller is not None  # parse_interaction guarantees a caller for commands
        spec = self._commands.get(name)
        if spec is None:
            log.info("command unknown")
            return responses.ephemeral_message(
                f"/{name} is not a command this bot knows (any more). "
                "Ask an operator to run `orchestrator register` so Discord shows the current commands."
            )
        if spec.allow is not None and not spec.allow.permits(caller.user_id, caller.roles):
            log.info("command denied", extra={"outcome": "denied"})
            return responses.ephemeral_message(
                f"You are not allowed to run /{name}: it is limited to certain roles or people. "
                "Ask an operator to add you to its `allow` list if you need it."
            )
        values, problems = check_options(spec, interaction.options)
        if problems:
            log.info("command invalid", extra={"outcome": "invalid", "problems": problems})
            return responses.ephemeral_message(f"/{name} was not run: " + "; ".join(problems) + ". Please try again.")
        job = Job(
            interaction_id=interaction.id,
            application_id=interaction.application_id,
            command=name,
            options=values,
            user_id=caller.user_id,
            user_name=caller.user_name,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            trace_id=trace_id,
            received_at=self._clock(),
            interaction_token=interaction.token,
        )
        try:
            self._queue.send(job.to_message())
        except QueueUnavailable as exc:
            log.error("command not queued", extra={"outcome": "queue_unavailable", "reason": str(exc)})
            return responses.ephemeral_message(
                f"/{name} could not be started: the bot's work queue is unavailable, so nothing was run. "
                "Please try again in a minute."
            )
        log.info("command accepted", extra={"outcome": "accepted"})
        return responses.deferred(ephemeral=spec.ephemeral)
