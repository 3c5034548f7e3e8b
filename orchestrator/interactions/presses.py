"""Buttons: Confirm/Cancel before a `confirm: true` command runs, and Cancel on a live run.

Presses are checked here, at once and without a network call, from the signed custom_id:
which action, on what, until when, and (for confirmations) who may press. A confirmed command
then goes through the same queue and idempotent worker as any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from orchestrator.audit.events import job_event
from orchestrator.commands.model import CommandSpec
from orchestrator.discord.components import Button
from orchestrator.discord.outbound import deferred, deferred_update
from orchestrator.discord.wire import ButtonStyle
from orchestrator.interactions import responses
from orchestrator.interactions.buttons import ButtonRejected, ButtonSigner
from orchestrator.interactions.payload import Caller, Interaction
from orchestrator.jobs.envelopes import RUN_ACTIONS, BadJobMessage, CancelRequest, Job, RunAction, TraceOnly
from orchestrator.messages.markdown import clip_escaped
from orchestrator.observability.logging import get_logger
from orchestrator.queues.base import JobQueue, QueueUnavailable, send_best_effort
from orchestrator.settings import SecretUnavailable
from orchestrator.state.pending import CONFIRM_WINDOW_SECONDS, PendingStore
from orchestrator.traces.model import TraceStep

_REJECTED = {
    "expired": "This button has expired. Run the command again.",
    "forged": "This button was not made by this bot (or the bot's signing secret changed). Run the command again.",
    "malformed": "This button is not one this bot understands. Run the command again.",
}


class ButtonHandler:
    def __init__(
        self,
        signer: Callable[[], ButtonSigner],
        pending: PendingStore,
        queue: JobQueue,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Both built on first use: most requests never need the signing secret or the state store.
        self._signer = signer
        self._pending = pending
        self._queue = queue
        self._clock = clock

    def ask(self, job: Job, spec: CommandSpec) -> dict[str, Any]:
        """Instead of running a `confirm: true` command: keep it, and ask its invoker."""
        expires = self._clock() + CONFIRM_WINDOW_SECONDS
        ref = f"{job.invocation.interaction_id}.{job.invocation.user_id}"
        try:
            signer = self._signer()
            self._pending.put(ref, job.to_message(), expires)
        except (SecretUnavailable, OSError, RuntimeError) as exc:
            get_logger().error("confirmation unavailable", extra={"error": type(exc).__name__})
            return responses.ephemeral_message(
                f"/{spec.name} needs a confirmation, which is unavailable right now. Try again later."
            )
        summary = ", ".join(f"{k}: {v}" for k, v in job.invocation.options.items())
        text = (
            f"Run **/{spec.name}**{f' ({clip_escaped(summary, 300)})' if summary else ''}? It starts workflow "
            f"`{spec.workflow}` on `{spec.ref}`. Only you can answer; this expires in "
            f"{CONFIRM_WINDOW_SECONDS // 60} minutes."
        )
        buttons = (
            Button("Confirm", signer.make("confirm", ref, expires_at=expires), ButtonStyle.SUCCESS),
            Button("Cancel", signer.make("abort", ref, expires_at=expires), ButtonStyle.SECONDARY),
        )
        get_logger().info("confirmation asked", extra={"outcome": "confirmation_asked"})
        return responses.ephemeral_message(text, buttons)

    def press(self, interaction: Interaction, caller: Caller, *, ephemeral_of: Callable[[str], bool]) -> dict[str, Any]:
        log = get_logger()
        try:
            button = self._signer().read(interaction.custom_id or "", now=self._clock())
        except ButtonRejected as exc:
            log.info("button rejected", extra={"reason": exc.reason})
            return responses.ephemeral_message(_REJECTED[exc.reason])
        except SecretUnavailable:
            return responses.ephemeral_message("Buttons are unavailable right now. Try again in a minute.")
        if button.action == "cancel":
            request = CancelRequest(
                button.ref,
                caller.user_id,
                caller.user_name,
                sorted(caller.roles),
                interaction.token,
                pressed_at=self._clock(),
            )
            return self._enqueue(request.to_message(), deferred_update())
        if button.action in RUN_ACTIONS:
            return self._run_action(button.action, button.ref, interaction, caller)
        invoker = button.ref.partition(".")[2]
        if caller.user_id != invoker:
            log.info("confirmation pressed by someone else", extra={"outcome": "denied"})
            return responses.ephemeral_message("Only the person who ran the command can answer this confirmation.")
        body = self._pending.take(button.ref)
        if body is None:
            return responses.ephemeral_message(
                "This confirmation was already answered or has expired. Nothing more happens."
            )
        try:
            job = Job.from_message(body)
        except BadJobMessage:
            return responses.ephemeral_message("This confirmation can no longer be used. Run the command again.")
        if button.action == "abort":
            log.info("command cancelled before it ran", extra={"outcome": "cancelled"})
            self._record_abort(job)
            return responses.update_message(
                f"Cancelled: /{job.invocation.command} was not run, and nothing was dispatched."
            )
        # The press's token edits from here on; the run gets a message of its own (a follow-up).
        confirmed = replace(
            job,
            interaction_token=interaction.token,
            reply_as_followup=True,
            ephemeral=ephemeral_of(job.invocation.command),
            steps=(*job.steps, TraceStep("confirmed", "ok", self._clock(), 0.0, {"by": caller.user_id})),
        )
        log.info("command confirmed", extra={"outcome": "confirmed"})
        return self._enqueue(
            confirmed.to_message(), responses.update_message(f"Confirmed: starting /{job.invocation.command}…")
        )

    def _run_action(self, action: str, ref: str, interaction: Interaction, caller: Caller) -> dict[str, Any]:
        """Show log or Re-run: who may, and whether the attempt can still be re-run, is the worker's
        to check against the record; the presser gets a "thinking…" only they see, answered there."""
        interaction_id, _, attempt = ref.partition(".")
        if not attempt.isdigit():
            return responses.ephemeral_message(_REJECTED["malformed"])
        request = RunAction(
            action,
            interaction_id,
            int(attempt),
            caller.user_id,
            caller.user_name,
            sorted(caller.roles),
            interaction.token,
            pressed_at=self._clock(),
        )
        return self._enqueue(request.to_message(), deferred(ephemeral=True))

    def _record_abort(self, job: Job) -> None:
        """The trace and audit event of a command its invoker cancelled, for the worker to store
        (best effort, like every refusal's: the answer does not wait on the queue)."""
        now = self._clock()
        trace = job.trace()
        trace.steps.append(TraceStep("cancelled", "failed", now, 0.0, {"by": job.invocation.user_id}))
        trace.fail("cancelled by its invoker before it ran")
        event = job_event(job, "cancelled", now, detail="Cancel pressed: nothing was dispatched")
        send_best_effort(self._queue, TraceOnly(trace, "cancelled", event).to_message(), what="trace")

    def _enqueue(self, message: str, answer: dict[str, Any]) -> dict[str, Any]:
        try:
            self._queue.send(message)
        except QueueUnavailable as exc:
            get_logger().error("button action not queued", extra={"reason": str(exc)})
            return responses.ephemeral_message(
                "The bot's work queue is unavailable, so nothing was done. Try again in a minute."
            )
        return answer
