"""POST /interactions: the one code path behind the Lambda function URL and the local server.

Answers never wait on GitHub: an accepted command is queued and answered with
a deferred reply; the worker does the rest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from orchestrator.audit.events import refusal_event
from orchestrator.commands.builtin import DEBUG_COMMAND, DEBUG_TRACE_OPTION
from orchestrator.commands.model import CommandSet, CommandSpec
from orchestrator.discord.outbound import choices, deferred, pong
from orchestrator.discord.wire import CommandType, InteractionType
from orchestrator.interactions import responses
from orchestrator.interactions.autocomplete import Suggestions
from orchestrator.interactions.options import check_options, invoked_options
from orchestrator.interactions.payload import (
    Caller,
    Interaction,
    MalformedInteraction,
    invoked,
    parse_interaction,
)
from orchestrator.interactions.presses import ButtonHandler
from orchestrator.interactions.run_again import BUTTON_ACTION, RunAgain, typed_options
from orchestrator.interactions.signature import SignatureVerifier
from orchestrator.jobs.envelopes import DebugRequest, Job, TraceOnly
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.queues.base import JobQueue, QueueUnavailable, send_best_effort
from orchestrator.ratelimits.bucket import whole_seconds
from orchestrator.ratelimits.limiter import RateLimiter
from orchestrator.serialization import loads
from orchestrator.settings import SecretUnavailable
from orchestrator.traces.model import Trace, TraceStep
from orchestrator.web.http import HttpRequest, HttpResponse, error_response, json_response

_TRACE_ID_PREFIX = re.compile(r"^[0-9a-f]{8,32}$")
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
        debug_enabled: bool = False,
        buttons: ButtonHandler | None = None,
        rate_limiter: RateLimiter | None = None,
        run_again: RunAgain | None = None,
        suggestions: Suggestions | None = None,
    ) -> None:
        self._verifier = verifier
        self._commands = commands
        self._queue = queue
        self._clock = clock
        self._debug_enabled = debug_enabled
        self._buttons = buttons
        self._rate_limiter = rate_limiter
        self._run_again = run_again
        self._suggestions = suggestions

    def handle(self, request: HttpRequest) -> HttpResponse:
        log = get_logger()
        received_at = self._clock()
        started = time.perf_counter()
        if len(request.body) > MAX_BODY_BYTES:
            return error_response(413, "request body too large")
        signed = self._verifier.verify(
            request.headers.get("x-signature-timestamp"),
            request.body,
            request.headers.get("x-signature-ed25519"),
            now=received_at,
        )
        if not signed:
            log.info("interaction rejected: bad or missing signature")
            return error_response(401, "invalid request signature")
        return self.handle_authenticated(request, "verify signature", received_at, started)

    def handle_authenticated(
        self, request: HttpRequest, how: str, received_at: float | None = None, started: float | None = None
    ) -> HttpResponse:
        """An interaction known to come from Discord (`how`: its signature verified, or the gateway's
        connection the bot token opened), from its JSON body to the answer Discord gets."""
        log = get_logger()
        received_at = self._clock() if received_at is None else received_at
        started = time.perf_counter() if started is None else started
        verified = time.perf_counter()
        try:
            interaction = parse_interaction(loads(request.body))
        except ValueError as exc:
            # JSONDecodeError covers bad UTF-8, bad JSON and deep nesting; MalformedInteraction is a ValueError too.
            reason = str(exc) if isinstance(exc, MalformedInteraction) else "body is not valid JSON"
            log.info("interaction rejected: malformed", extra={"reason": reason})
            return error_response(400, f"malformed interaction: {reason}")
        if interaction.type == InteractionType.PING:
            return json_response(200, pong())
        if interaction.type == InteractionType.APPLICATION_COMMAND_AUTOCOMPLETE and interaction.caller is not None:
            # Every keystroke: no rate limit, no trace, no queue but a rare refresh; never deferred.
            if self._suggestions is None or not interaction.in_server:
                return json_response(200, choices([]))
            spec = self._commands.get(interaction.command_name or "")
            return json_response(200, self._suggestions.answer(interaction, interaction.caller, spec))
        if interaction.type == InteractionType.MESSAGE_COMPONENT and interaction.caller is not None:
            refusal = self._press_refusal(interaction.caller)
            if refusal is not None:
                return json_response(200, refusal)
        new_command = interaction.type == InteractionType.APPLICATION_COMMAND or (
            self._run_again is not None
            and (
                interaction.type == InteractionType.MODAL_SUBMIT
                or (interaction.custom_id or "").startswith(f"{BUTTON_ACTION}:")
            )
        )
        if new_command and interaction.caller is not None:
            trace = Trace(
                request.trace_id,
                interaction.caller.user_id,
                interaction.command_name or "",
                received_at,
                [_timed(how, received_at, started, started, verified)],
            )
            with log_context(
                trace_id=trace.trace_id,
                correlation_id=interaction.id,
                user_id=trace.user_id,
                cmd=trace.command,
            ):
                answer = (
                    self._command(interaction, interaction.caller, trace, started)
                    if interaction.type == InteractionType.APPLICATION_COMMAND
                    else self._again(interaction, interaction.caller, trace, started)
                )
                return json_response(200, answer)
        if (
            interaction.type == InteractionType.MESSAGE_COMPONENT
            and interaction.caller is not None
            and self._buttons is not None
        ):
            with log_context(correlation_id=interaction.id, user_id=interaction.caller.user_id):
                return json_response(
                    200, self._buttons.press(interaction, interaction.caller, ephemeral_of=self._ephemeral)
                )
        log.info("interaction rejected: unsupported type", extra={"interaction_type": interaction.type})
        return error_response(400, f"unsupported interaction type {interaction.type}")

    def _command(self, interaction: Interaction, caller: Caller, trace: Trace, origin: float) -> dict[str, Any]:
        """`origin` is the perf_counter reading at the trace's start, to place each step in time."""
        name = trace.command
        checking = time.perf_counter()
        if interaction.command_type != CommandType.CHAT_INPUT:
            # Only slash commands are registered; a context-menu command of the same name is not one.
            return responses.ephemeral_message("This kind of command is not supported: use the slash command.")
        if name == DEBUG_COMMAND:
            # Only the caller's own traces, only to them: as safe in a DM as in a server.
            return self._debug_last(interaction, caller)
        attempt = _Attempt(interaction, caller, trace, origin, checking)
        refuse = partial(self._refuse, attempt)
        if not interaction.in_server:
            # Commands are registered for servers: allow lists name server roles, and a run's message
            # outlives its 15-minute token only in a channel the bot can post in.
            return refuse(
                "not_in_server",
                f"/{name} works in a server the bot is in, not in direct messages or as a user-installed app.",
            )
        spec = self._commands.get(name)
        if spec is None:
            return refuse(
                "unknown_command",
                f"/{name} is not a command this bot knows (any more). "
                "Ask an operator to run `orchestrator register` so Discord shows the current commands.",
            )
        return self._checked(attempt, spec)

    def _again(self, interaction: Interaction, caller: Caller, trace: Trace, origin: float) -> dict[str, Any]:
        """Run again…: the button opens the prefilled form (or, where the options do not fit one,
        asks to confirm the same values); the submitted form runs like a typed command."""
        assert self._run_again is not None
        checking = time.perf_counter()
        try:
            submitted = interaction.type == InteractionType.MODAL_SUBMIT
            original = self._run_again.submitted(interaction) if submitted else self._run_again.pressed(interaction)
        except (SecretUnavailable, OSError, RuntimeError) as exc:  # the signing secret or the state store
            get_logger().error("run again unavailable", extra={"error": type(exc).__name__})
            return responses.ephemeral_message("Run again is unavailable right now. Try again in a minute.")
        if isinstance(original, CommandSpec):
            typed = replace(
                interaction, command_name=original.name, options=typed_options(original, interaction.options)
            )
            trace.command = original.name
            return self._checked(_Attempt(typed, caller, trace, origin, checking), original)
        if isinstance(original, str):
            return responses.ephemeral_message(original)
        spec, values = original
        trace.command = spec.name
        if spec.allow is None or spec.allow.permits(caller.user_id, caller.roles):
            form = self._run_again.form(spec, values)
            if form is not None:
                return form
        # The same values behind a Confirm step (or the usual refusal, for someone not allowed).
        # An option since removed from the command is left out (a derived command's are all checked by the worker).
        kept = {name: value for name, value in values.items() if spec.options_from_workflow or spec.option(name)}
        same = replace(interaction, command_name=spec.name, options=invoked_options(spec, kept))
        return self._checked(_Attempt(same, caller, trace, origin, checking), spec, confirm=True)

    def _checked(self, attempt: _Attempt, spec: CommandSpec, *, confirm: bool = False) -> dict[str, Any]:
        """A command's own checks (allow list, options, rate limits), then queued or confirmed first."""
        log = get_logger()
        name = spec.name
        interaction, caller, trace, origin = attempt.interaction, attempt.caller, attempt.trace, attempt.origin
        refuse = partial(self._refuse, attempt)
        if spec.allow is not None and not spec.allow.permits(caller.user_id, caller.roles):
            return refuse(
                "denied",
                f"You are not allowed to run /{name}: it is limited to certain roles or people. "
                "Ask an operator to add you to its `allow` list if you need it.",
            )
        values, problems = check_options(spec, interaction.options)
        if problems:
            return refuse(
                "invalid",
                f"/{name} was not run: " + "; ".join(problems) + ". Please try again.",
            )
        refusal = self._rate_limiter.check(caller.user_id, spec) if self._rate_limiter is not None else None
        if refusal is not None:
            retry = whole_seconds(refusal.retry_after)
            if refusal.scope == "bot":
                # Everyone's commands together are at the bot's limit (what GitHub allows its token).
                return refuse(
                    "rate_limited",
                    f"The bot is starting as many runs as it may right now. /{name} was not run; "
                    f"try again in {retry} s.",
                )
            which = f"/{name}" if refusal.scope == "command" else "commands"
            return refuse(
                "rate_limited",
                f"Slow down: you have run {which} too often. /{name} was not run; try again in {retry} s.",
            )
        queueing = time.perf_counter()
        trace.steps.append(_timed("check command", trace.started_at, origin, attempt.checking, queueing))
        job = Job(
            invoked(interaction, caller, trace.trace_id, name, values),
            application_id=interaction.application_id,
            received_at=trace.started_at,
            interaction_token=interaction.token,
            steps=tuple(trace.steps),
            ephemeral=spec.ephemeral,
        )
        if (spec.confirm or confirm) and self._buttons is not None:
            return self._buttons.ask(job, spec)
        try:
            self._queue.send(job.to_message())
        except QueueUnavailable as exc:
            log.error("command not queued", extra={"outcome": "queue_unavailable", "reason": str(exc)})
            return responses.ephemeral_message(
                f"/{name} could not be started: the bot's work queue is unavailable, so nothing was run. "
                "Please try again in a minute."
            )
        # ack_ms: arrival to queued, in this process (the saved query "slowest-acks" sorts by it).
        ack_ms = round((time.perf_counter() - origin) * 1000, 3)
        log.info("command accepted", extra={"outcome": "accepted", "ack_ms": ack_ms})
        return deferred(ephemeral=spec.ephemeral)

    def _press_refusal(self, caller: Caller) -> dict[str, Any] | None:
        """Slow down a user pressing buttons (or asking /debug-last) too often, at no command's cost."""
        refusal = self._rate_limiter.check_press(caller.user_id) if self._rate_limiter is not None else None
        if refusal is None:
            return None
        get_logger().info("press rate limited", extra={"outcome": "rate_limited"})
        return responses.ephemeral_message(
            "Slow down: you have pressed buttons or asked /debug-last too often. "
            f"Try again in {whole_seconds(refusal.retry_after)} s."
        )

    def _ephemeral(self, command: str) -> bool:
        spec = self._commands.get(command)
        return bool(spec and spec.ephemeral)

    def _refuse(self, attempt: _Attempt, outcome: str, reply: str) -> dict[str, Any]:
        """Answer at once, and hand the trace and audit event to the worker to store (best effort:
        the user's answer must not wait on, or fail with, the queue)."""
        trace = attempt.trace
        step = _timed("check command", trace.started_at, attempt.origin, attempt.checking, time.perf_counter())
        step.status = "failed"
        step.details["outcome"] = outcome
        trace.steps.append(step)
        trace.fail(reply)
        get_logger().info(f"command {outcome.replace('_', ' ')}", extra={"outcome": outcome})
        audit = refusal_event(attempt.interaction, attempt.caller, trace.trace_id, trace.started_at, outcome, reply)
        send_best_effort(self._queue, TraceOnly(trace, outcome, audit).to_message(), what="trace")
        return responses.ephemeral_message(reply)

    def _debug_last(self, interaction: Interaction, caller: Caller) -> dict[str, Any]:
        if not self._debug_enabled:
            return responses.ephemeral_message(
                f"/{DEBUG_COMMAND} is not enabled on this bot. An operator can turn it on with ENABLE_DEBUG_CMD=true."
            )
        refusal = self._press_refusal(caller)
        if refusal is not None:
            return refusal
        wanted = next((o.value for o in interaction.options if o.name == DEBUG_TRACE_OPTION.name), None)
        if wanted is not None and (not isinstance(wanted, str) or not _TRACE_ID_PREFIX.fullmatch(wanted)):
            return responses.ephemeral_message(
                f"`{DEBUG_TRACE_OPTION.name}` takes a trace id: 8 to 32 hex characters, as shown in the bot's messages."
            )
        request = DebugRequest(
            interaction_id=interaction.id,
            application_id=interaction.application_id,
            user_id=caller.user_id,
            requested_trace_id=wanted,
            interaction_token=interaction.token,
        )
        try:
            self._queue.send(request.to_message())
        except QueueUnavailable:
            return responses.ephemeral_message(
                f"/{DEBUG_COMMAND} is unavailable right now (the bot's work queue is down). Try again in a minute."
            )
        return deferred(ephemeral=True)


@dataclass(frozen=True)
class _Attempt:
    """A command being checked: the interaction, who sent it, its trace, and two perf_counter
    readings (`origin`, the trace's start; `checking`, when the checks began) that place its
    steps in time."""

    interaction: Interaction
    caller: Caller
    trace: Trace
    origin: float
    checking: float


def _timed(name: str, trace_start: float, origin: float, started: float, ended: float) -> TraceStep:
    """A step measured with perf_counter, placed on the wall clock by its offset from `origin`."""
    return TraceStep(name, "ok", trace_start + (started - origin), (ended - started) * 1000)
