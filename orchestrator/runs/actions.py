"""A failed run's buttons: Show log, Re-run failed jobs, Re-run with debug logging.

GitHub re-runs with the privileges of whoever started the run, not of whoever presses, so a
press is held to the command's own rules again: its `allow:` list, its `confirm:` step, and
being the invoker or in its `rerun:` list (Show log needs only `allow:`). The button names the
attempt it was shown for, and the record is claimed with compare-and-set before GitHub is asked:
a double press, or a press on an attempt that was already re-run, re-runs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from orchestrator.audit.events import run_button_event
from orchestrator.audit.trail import AuditTrail
from orchestrator.clients.discord_api import DiscordError
from orchestrator.clients.github_errors import GitHubError, GitHubOutcomeUnknown, GitHubRateLimited, GitHubRejected
from orchestrator.commands.model import CommandSpec
from orchestrator.discord.components import ActionRow, Button, LinkButton, is_linkable
from orchestrator.discord.outbound import Message
from orchestrator.discord.wire import ButtonStyle
from orchestrator.failures.digest import FailureDigest
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.jobs.envelopes import RunAction
from orchestrator.messages.failure_text import log_section
from orchestrator.messages.limits import CONTENT, fit_lines
from orchestrator.observability.logging import get_logger, log_context
from orchestrator.observability.redaction import active_redactor
from orchestrator.runs.model import FAILED_CONCLUSIONS
from orchestrator.runs.parts import RunParts
from orchestrator.runs.tracker import start_attempt
from orchestrator.state.jobs import JobRecord

# How long a `confirm: true` command's "Confirm re-run" stays usable (not the 5-minute command confirmation).
RERUN_CONFIRM_SECONDS = 15 * 60


class RunActions:
    def __init__(
        self,
        parts: RunParts,
        signer: ButtonSigner,
        audit: AuditTrail,
        *,
        start_following: Callable[[JobRecord], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._jobs, self._commands, self._tracker = parts.jobs, parts.commands, parts.tracker
        self._github, self._discord = parts.github, parts.discord
        self._signer = signer
        self._audit = audit
        self._start_following = start_following
        self._clock = clock

    def handle(self, action: RunAction) -> None:
        record = self._jobs.get(action.interaction_id)
        spec = self._commands.get(record.invocation.command) if record else None
        if record is None or record.run_id is None or spec is None:
            self._answer(action, "This run is not known to the bot (any more).")
            return
        with log_context(trace_id=record.invocation.trace_id, user_id=action.user_id, cmd=record.invocation.command):
            if spec.allow is not None and not spec.allow.permits(action.user_id, set(action.roles)):
                get_logger().info("run button denied", extra={"outcome": "denied", "action": action.action})
                detail = f"pressed {action.action}: not in /{spec.name}'s allow list"
                self._audit_press(action, record, "denied", detail)
                self._answer(action, f"Only people allowed to run /{spec.name} can use this button.")
                return
            if action.action == "log":
                self._show_log(action, record)
            else:
                self._rerun(action, record, spec)

    def _show_log(self, action: RunAction, record: JobRecord) -> None:
        digest = FailureDigest.from_dict(record.failure) if record.failure else None
        if digest is None or record.run_attempt != action.attempt:
            self._answer(action, "The log of that attempt is no longer kept: the run was re-run since.")
            return
        command = record.invocation.command
        lines = [f"**/{command}** run #{record.run_id} · attempt {digest.run_attempt} · {digest.conclusion}"]
        room = CONTENT - 300
        for job in digest.jobs:
            lines += log_section(job, room - sum(len(line) + 1 for line in lines))
        if digest.note:
            lines.append(f"⚠️ {digest.note}")
        first = digest.first
        url = first.html_url if first and first.html_url else record.html_url
        buttons = (LinkButton("Open the job on GitHub", url),) if url and is_linkable(url) else ()
        self._answer(action, "\n".join(lines), buttons)

    def _rerun(self, action: RunAction, record: JobRecord, spec: CommandSpec) -> None:
        log = get_logger()
        may_rerun = action.user_id == record.invocation.user_id or bool(
            spec.rerun and spec.rerun.permits(action.user_id, set(action.roles))
        )
        if not may_rerun:
            log.info("re-run denied", extra={"outcome": "denied"})
            self._audit_press(action, record, "denied", "pressed Re-run on a run they may not re-run")
            self._answer(
                action,
                f"Only {record.invocation.user_name}, who started this run, or the people allowed to re-run "
                f"/{record.invocation.command} may re-run it.",
            )
            return
        if record.run_attempt != action.attempt or record.conclusion not in FAILED_CONCLUSIONS:
            self._answer(action, _already(record, action.attempt))
            return
        debug = action.action.startswith("rerun-debug")
        if spec.confirm and not action.action.endswith("-ok"):
            self._ask_confirmation(action, record, debug=debug)
            return
        if not self._claim(record, action.attempt):
            self._answer(action, _already(self._jobs.get(record.invocation.interaction_id) or record, action.attempt))
            return
        outcome, reply = self._ask_github(record, debug=debug)
        if outcome == "rerun_failed":
            self._release(record, action.attempt)
        elif outcome == "rerun":
            self._started(record, action, debug=debug)
        log.info("re-run pressed", extra={"outcome": outcome, "run_id": record.run_id})
        self._audit_press(action, record, outcome, reply)
        self._answer(action, reply)

    def _ask_github(self, record: JobRecord, *, debug: bool) -> tuple[str, str]:
        """The audit outcome ("rerun", "rerun_unknown" or "rerun_failed") and what to tell the presser."""
        assert record.run_id is not None
        try:
            self._github.rerun_failed_jobs(record.run_id, debug_logging=debug)
        except GitHubRejected as exc:
            return "rerun_failed", _refusal(exc)
        except GitHubOutcomeUnknown:
            # It may have started: the claim stays, so nothing re-runs this attempt a second time.
            return "rerun_unknown", (
                "GitHub did not answer clearly: the failed jobs may or may not be re-running. "
                "The message will show a new attempt if they are; check the run on GitHub."
            )
        except GitHubRateLimited:
            return "rerun_failed", "GitHub's rate limit for the bot is reached: nothing was re-run. Try again later."
        except GitHubError:
            return "rerun_failed", "GitHub could not be reached, so nothing was re-run. Try again in a minute."
        what = "with debug logging" if debug else "as they were"
        return "rerun", f"Re-running the failed jobs of run #{record.run_id} {what}: the message follows it."

    def _claim(self, record: JobRecord, attempt: int) -> bool:
        won: list[bool] = []

        def claim(current: JobRecord | None) -> JobRecord | None:
            won.clear()
            if current is None or current.run_attempt != attempt or current.conclusion not in FAILED_CONCLUSIONS:
                return None
            if current.rerun_claimed == attempt:
                return None
            current.rerun_claimed = attempt
            won.append(True)
            return current

        self._jobs.update(record.invocation.interaction_id, claim)
        return bool(won)

    def _release(self, record: JobRecord, attempt: int) -> None:
        def release(current: JobRecord | None) -> JobRecord | None:
            if current is None or current.rerun_claimed != attempt:
                return None
            current.rerun_claimed = None
            return current

        self._jobs.update(record.invocation.interaction_id, release)

    def _started(self, record: JobRecord, action: RunAction, *, debug: bool) -> None:
        """GitHub accepted: the message moves to the next attempt at once, and polls follow it."""

        def next_attempt(current: JobRecord | None) -> JobRecord | None:
            if current is None or current.run_attempt != action.attempt:
                return None  # a webhook of the new attempt got here first
            start_attempt(current, action.attempt + 1)
            current.rerun_by = action.user_name + (" with debug logging" if debug else "")
            current.render_pending, current.updated_at = True, self._clock()
            return current

        updated = self._jobs.update(record.invocation.interaction_id, next_attempt)
        if updated is None:
            return
        try:
            updated = self._tracker.refresh(updated)
        except DiscordError as exc:
            get_logger().warning("message not updated after the re-run", extra={"error": type(exc).__name__})
        self._start_following(updated)

    def _ask_confirmation(self, action: RunAction, record: JobRecord, *, debug: bool) -> None:
        ok = "rerun-debug-ok" if debug else "rerun-ok"
        custom_id = self._signer.make(
            ok, f"{record.invocation.interaction_id}.{action.attempt}", expires_at=self._clock() + RERUN_CONFIRM_SECONDS
        )
        label = "Confirm re-run" + (" with debug logging" if debug else "")
        self._answer(
            action,
            f"/{record.invocation.command} asks for a confirmation: re-run the failed jobs of run #{record.run_id}"
            f"{' with debug logging' if debug else ''}? This expires in {RERUN_CONFIRM_SECONDS // 60} minutes.",
            (Button(label, custom_id, ButtonStyle.PRIMARY),),
        )

    def _audit_press(self, action: RunAction, record: JobRecord, outcome: str, detail: str) -> None:
        self._audit.record(
            run_button_event(
                record,
                action.user_id,
                action.user_name,
                action.roles,
                outcome,
                action.pressed_at or self._clock(),
                f"{action.action}: {detail}",
            )
        )

    def _answer(self, action: RunAction, text: str, buttons: tuple[Button | LinkButton, ...] = ()) -> None:
        """Edit the press's ephemeral "thinking…" answer: only the presser sees it."""
        body = Message(
            fit_lines(active_redactor().text(text), CONTENT - 1), components=(ActionRow(buttons),) if buttons else ()
        ).to_dict()
        try:
            self._discord.edit_original(action.interaction_token, body)
        except DiscordError as exc:
            get_logger().warning("could not answer the run button", extra={"error": type(exc).__name__})


def _already(record: JobRecord, attempt: int) -> str:
    if record.run_attempt > attempt:
        return f"This run was already re-run: attempt {record.run_attempt} is {record.conclusion or 'under way'}."
    if record.rerun_claimed == attempt:
        return "A re-run of this attempt was already requested: nothing more was started."
    return f"Attempt {attempt} of this run did not fail, so there is nothing to re-run."


def _refusal(exc: GitHubRejected) -> str:
    if exc.status == 403:
        return (
            "GitHub refused the re-run (403): a run can be re-run for 30 days after it started, and the bot's "
            "token needs Actions: read and write. Nothing was re-run; use Run again or start it from GitHub."
        )
    if exc.status == 409:
        return "GitHub refused the re-run (409): the run cannot be re-run in its current state. Nothing was re-run."
    return f"GitHub refused the re-run ({exc.status}). Nothing was re-run."
