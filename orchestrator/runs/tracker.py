"""Apply what we learn about a run to its record, and keep the live message telling the truth.

Webhook events and polls may arrive together, twice, or out of order. Both go through
`observe`: a snapshot that is not newer than the record is dropped, a newer one is applied
with compare-and-set. The message is then re-rendered by whoever holds the record's render
lease; a change made while it renders is picked up before the lease is released, so every
message update shows the newest state and they never go backwards.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Any

from orchestrator.clients.discord_api import DiscordClient, DiscordError, InteractionExpired
from orchestrator.clients.github_api import GitHubClient
from orchestrator.discord.wire import EPHEMERAL
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.failures.builder import DigestBuilder
from orchestrator.interactions.buttons import ButtonSigner
from orchestrator.jobs.deadline import lease_seconds
from orchestrator.messages.job_messages import outcome_message
from orchestrator.messages.run_message import RunButtons, run_message
from orchestrator.observability.logging import get_logger
from orchestrator.runs.model import FAILED_CONCLUSIONS, JobLine, RunSnapshot, is_stale
from orchestrator.serialization import dumps
from orchestrator.state.jobs import JobRecord, JobStore

# An interaction token lives 15 minutes; past this age we stop trusting it and use the channel.
TOKEN_SAFE_SECONDS = 14 * 60
# Longer than the slowest delivery (4 tries of 10 s, with waits for Discord's 429s of up to 30 s),
# so a lease never lapses while its holder is still editing.
RENDER_LEASE_SECONDS = 180
MAX_RENDER_ROUNDS = 5
# A Cancel button stays valid this long after the command (runs rarely last longer).
CANCEL_WINDOW_SECONDS = 3 * 24 * 3600
# GitHub re-runs a run for 30 days after it was created; its buttons last as long.
RERUN_WINDOW_SECONDS = 30 * 24 * 3600


class RunTracker:
    def __init__(
        self,
        jobs: JobStore,
        github: GitHubClient,
        discord: DiscordClient,
        signer: ButtonSigner,
        *,
        digests: DigestBuilder | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._jobs = jobs
        self._github = github
        self._discord = discord
        self._signer = signer
        self._digests = digests
        self._clock = clock

    def observe(self, record: JobRecord, snapshot: RunSnapshot) -> JobRecord:
        """Record a view of the run (from a webhook or a poll); refresh the message if it changed."""
        if record.run_id != snapshot.run_id or _stale(snapshot, record):
            return self.refresh(record) if record.render_pending else record
        # Job lines only matter once the run is running; fetched once per real change.
        jobs: list[dict[str, Any]] | None = None
        total = 0
        failure: dict[str, Any] | None = None
        if snapshot.rank >= 2:
            raw_jobs, total = self._github.list_jobs(snapshot.run_id)
            jobs = [JobLine.from_api(job).to_dict() for job in raw_jobs]
            if snapshot.conclusion in FAILED_CONCLUSIONS and self._digests is not None:
                # Before the final edit, so the message says why at once; bounded by its own budget.
                digest = self._digests.build(record.workflow, snapshot.conclusion or "", snapshot.run_attempt, raw_jobs)
                failure = digest.to_dict()

        def apply(current: JobRecord | None) -> JobRecord | None:
            if current is None or _stale(snapshot, current):
                return None
            if snapshot.run_attempt > current.run_attempt:
                start_attempt(current, snapshot.run_attempt)
            current.failure = failure
            current.run_status = snapshot.status
            current.conclusion = snapshot.conclusion
            current.run_started_at = snapshot.run_started_at or current.run_started_at
            current.run_updated_at = snapshot.updated_at or current.run_updated_at
            current.html_url = snapshot.html_url or current.html_url
            if jobs is not None:
                current.jobs, current.jobs_total = jobs, total
            current.render_pending = True
            current.updated_at = self._clock()
            return current

        updated = self._jobs.update(record.invocation.interaction_id, apply)
        if updated is None:
            return record
        get_logger().info(
            "run updated",
            extra={"run_id": snapshot.run_id, "status": snapshot.status, "conclusion": snapshot.conclusion},
        )
        return self.refresh(updated)

    def refresh(self, record: JobRecord) -> JobRecord:
        """Bring the live message up to date, if this caller can take the render lease."""
        me = uuid.uuid4().hex
        now = self._clock()

        def claim(current: JobRecord | None) -> JobRecord | None:
            if current is None or (current.render_owner and (current.render_until or 0) > now):
                return None
            current.render_owner, current.render_until = me, now + lease_seconds(RENDER_LEASE_SECONDS)
            return current

        current = self._jobs.update(record.invocation.interaction_id, claim)
        if current is None or current.render_owner != me:
            return current or record  # the lease holder re-reads before it lets go
        try:
            # Render again while the record keeps changing under us, within half the lease: each
            # round shows the newest state, and a change after the last one is left pending.
            budget = self._clock() + lease_seconds(RENDER_LEASE_SECONDS) / 2
            for _ in range(MAX_RENDER_ROUNDS):
                message = self.render(current)
                digest = hashlib.sha256(dumps(message)).hexdigest()
                found: dict[str, Any] = {}
                if digest != current.rendered_hash:
                    found = self._deliver(current, message)
                    get_logger().info("user message updated", extra={"run_status": current.run_status})
                change = _settle(
                    me, found, digest, current.version, self._clock() + lease_seconds(RENDER_LEASE_SECONDS)
                )
                settled = self._jobs.update(current.invocation.interaction_id, change)
                if settled is None or settled.render_owner != me:
                    return settled or current
                current = settled
                if self._clock() > budget:
                    break
            # Still changing when the time is up: let go, so the next event or poll renders the rest.
            return self._jobs.update(current.invocation.interaction_id, _release(me)) or current
        except BaseException:
            # Let the next event or poll render at once rather than wait for the lease to lapse.
            self._jobs.update(current.invocation.interaction_id, _release(me))
            raise

    def render(self, record: JobRecord) -> dict[str, Any]:
        if record.run_id is None:
            # Still "dispatching" (no outcome saved yet) is shown as not known, as it is.
            kind = "unknown" if record.status == "dispatching" else record.status
            outcome = DispatchOutcome(kind, html_url=record.html_url, detail=record.detail)
            return outcome_message(
                record.invocation.command, record.invocation.options, outcome, record.invocation.trace_id
            )
        started = record.received_at or record.created_at
        if record.conclusion is None:
            cancel = self._signer.make(
                "cancel", record.invocation.interaction_id, expires_at=started + CANCEL_WINDOW_SECONDS
            )
            return run_message(record, RunButtons(cancel=cancel))
        if record.conclusion not in FAILED_CONCLUSIONS:
            return run_message(record, RunButtons())
        # A failed attempt's buttons name it: a press meant for attempt 1 does nothing to attempt 2.
        ref, expires_at = f"{record.invocation.interaction_id}.{record.run_attempt}", started + RERUN_WINDOW_SECONDS
        rerunnable = record.conclusion != "startup_failure"  # no job ran: nothing to re-run
        return run_message(
            record,
            RunButtons(
                show_log=self._signer.make("log", ref, expires_at=expires_at) if record.failure else None,
                rerun=self._signer.make("rerun", ref, expires_at=expires_at) if rerunnable else None,
                rerun_debug=self._signer.make("rerun-debug", ref, expires_at=expires_at) if rerunnable else None,
                run_again=self._signer.make("again", record.invocation.interaction_id, expires_at=expires_at),
            ),
        )

    def _deliver(self, record: JobRecord, message: dict[str, Any]) -> dict[str, Any]:
        """Show `message` wherever the live message now lives; return record fields that changed."""
        log = get_logger()
        if record.channel_message_id and record.invocation.channel_id:
            self._discord.edit_in_channel(record.invocation.channel_id, record.channel_message_id, message)
            return {}
        age = self._clock() - (record.received_at or record.created_at)
        if record.reply_token and age < TOKEN_SAFE_SECONDS:
            try:
                if not record.message_is_followup:
                    message_id = self._discord.edit_original(record.reply_token, message)
                    return {"message_id": message_id} if message_id and not record.message_id else {}
                if record.message_id:
                    self._discord.edit_followup(record.reply_token, record.message_id, message)
                    return {}
                # A new message decides its own visibility: only the caller's, for an ephemeral command.
                flags = {"flags": EPHEMERAL} if record.ephemeral else {}
                return {"message_id": self._discord.create_followup(record.reply_token, {**message, **flags})}
            except InteractionExpired:
                log.info("interaction token no longer valid: continuing in the channel")
        if record.ephemeral:
            # Only the user could see it, and only through the token: nothing else may show it.
            log.warning("ephemeral message can no longer be updated (token expired)")
            return {}
        if not record.invocation.channel_id or not self._discord.can_post_in_channels:
            log.warning("message can no longer be updated: no channel or no DISCORD_BOT_TOKEN")
            return {}
        try:
            channel_message = self._discord.post_in_channel(
                record.invocation.channel_id, message, reply_to=record.message_id
            )
        except DiscordError as exc:
            log.warning("could not continue in the channel", extra={"error": type(exc).__name__})
            raise
        return {"channel_message_id": channel_message}


def _stale(snapshot: RunSnapshot, record: JobRecord) -> bool:
    return is_stale(snapshot, record.run_status, record.conclusion, record.run_updated_at, record.run_attempt)


def start_attempt(record: JobRecord, attempt: int) -> None:
    """The run was re-run: keep how the last attempt ended, and start the new one afresh."""
    if record.conclusion is not None:
        record.attempts = [*record.attempts, {"attempt": record.run_attempt, "conclusion": record.conclusion}]
    record.run_attempt = attempt
    record.run_status, record.conclusion, record.failure = "queued", None, None
    record.jobs, record.jobs_total = [], 0


def _settle(
    owner: str, found: dict[str, Any], digest: str, seen: int, lease_until: float
) -> Callable[[JobRecord | None], JobRecord | None]:
    """After a render: note what was shown; let go of the lease unless the record moved on."""

    def settle(latest: JobRecord | None) -> JobRecord | None:
        if latest is None or latest.render_owner != owner:
            return None  # our lease lapsed and another worker took over: it renders from here
        for name, value in found.items():
            setattr(latest, name, value)
        latest.rendered_hash = digest
        if latest.version == seen:  # nothing changed while we rendered: done
            latest.render_pending = False
            latest.render_owner = latest.render_until = None
        else:
            latest.render_until = lease_until
        return latest

    return settle


def _release(owner: str) -> Callable[[JobRecord | None], JobRecord | None]:
    def release(current: JobRecord | None) -> JobRecord | None:
        if current is None or current.render_owner != owner:
            return None
        current.render_owner = current.render_until = None
        return current

    return release
