"""Job records: what happened to each accepted command and its run, readable by traces and audits.

Records change from several places at once (the worker dispatching, a webhook, a poll), so
every backend writes them with compare-and-set on `version`: `update` re-reads and re-applies
its change until it wins, and no change is ever lost or applied out of order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Protocol

from orchestrator.commands.invocation import Invocation
from orchestrator.observability.redaction import active_redactor
from orchestrator.serialization import dumps_text, loads

# Records outlive any retry or redelivery of their queue message (SQS keeps messages up to 14 days).
JOB_RETENTION_SECONDS = 30 * 24 * 3600
# An interaction token works for 15 minutes after the interaction: past that it is kept nowhere.
TOKEN_LIFETIME_SECONDS = 15 * 60
MAX_UPDATE_ATTEMPTS = 20

# dispatching → dispatched | rejected | unknown (the last three are a DispatchOutcome's kinds).
JobStatus = Literal["dispatching", "dispatched", "rejected", "unknown"]


class UpdateConflict(Exception):
    """A record kept changing under us for MAX_UPDATE_ATTEMPTS tries (retry the job later)."""


@dataclass
class JobRecord:
    invocation: Invocation  # who ran which command with what, where (stored flat, beside the rest)
    status: JobStatus
    created_at: float
    updated_at: float
    dispatch_attempted_at: float | None = None
    run_id: int | None = None
    html_url: str | None = None
    detail: str | None = None
    workflow: str | None = None
    # The run as last seen (webhook or poll): GitHub's status, conclusion and timestamps.
    run_status: str | None = None
    conclusion: str | None = None
    run_started_at: str | None = None
    run_updated_at: str | None = None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    jobs_total: int = 0
    # The live message: where it is and what it last showed.
    received_at: float | None = None  # the interaction's time: its token lives 15 minutes from here
    reply_token: str | None = field(default=None, repr=False)  # a credential: never logged or shown
    message_id: str | None = None  # the live message's id, once Discord has told us
    message_is_followup: bool = False  # a follow-up of the interaction (after a confirmation), not @original
    channel_message_id: str | None = None  # set once the message continues in the channel (bot token)
    ephemeral: bool = False
    rendered_hash: str | None = None
    render_pending: bool = False  # something changed that the message does not show yet
    render_owner: str | None = None
    render_until: float | None = None
    cancelled_by: str | None = None
    # Re-runs keep the run id and raise its attempt; earlier attempts' results are kept for the message.
    run_attempt: int = 1
    attempts: list[dict[str, Any]] = field(default_factory=list)  # [{"attempt": n, "conclusion": ...}]
    rerun_by: str | None = None  # who re-ran the latest attempt from Discord
    rerun_claimed: int | None = None  # the attempt a re-run was asked for: never asked twice
    failure: dict[str, Any] | None = None  # the FailureDigest of the current attempt, when it failed
    failure_log_public: bool = False  # the command's `failure_log: public`: the excerpt in the live message
    # Which delivery of the job settled its dispatch and writes its audit event: another delivery
    # (the first ran past its deadline) writes none.
    settled_by: str | None = None
    polls: int = 0
    version: int = 0  # maintained by the store

    def to_json(self) -> str:
        own = asdict(self)
        del own["invocation"]
        raw = {**self.invocation.to_dict(), **own}  # flat, as rows have always been
        if not token_alive(raw):
            raw["reply_token"] = None
        # The free text from outside (what users typed, what GitHub said) is stored redacted, on
        # every backend, for however long the record is kept.
        redactor = active_redactor()
        raw["options"] = {k: redactor.text(v) if isinstance(v, str) else v for k, v in self.invocation.options.items()}
        raw["detail"] = redactor.text(self.detail) if self.detail else self.detail
        return dumps_text(raw)

    @classmethod
    def from_json(cls, text: str) -> JobRecord:
        raw = loads(text)
        own = {f.name for f in fields(cls)} - {"invocation"}
        record = cls(Invocation.from_dict(raw), **{k: v for k, v in raw.items() if k in own})
        if not token_alive(raw):
            record.reply_token = None
        return record


def token_alive(raw: dict[str, Any], now: float | None = None) -> bool:
    """Whether a stored record's interaction token may still work; an expired one is dropped when
    the record is written, and never read back."""
    since = raw.get("received_at") or raw.get("created_at") or 0
    return isinstance(since, int | float) and (time.time() if now is None else now) < since + TOKEN_LIFETIME_SECONDS


Change = Callable[[JobRecord | None], JobRecord | None]


class JobStore(Protocol):
    def get(self, interaction_id: str) -> JobRecord | None: ...

    def get_by_run(self, run_id: int) -> JobRecord | None:
        """The record of the job that started this run, if it was one of ours."""

    def update(self, interaction_id: str, change: Change) -> JobRecord | None:
        """Apply `change` to the current record (None if there is none) atomically: it may be
        called again with a fresher record if another writer won. Returning None writes nothing.
        Returns the record as written (or the current one when nothing was written)."""

    def put(self, record: JobRecord) -> None:
        """Write the record as it is (its version is the store's business)."""


def apply_change(current: JobRecord | None, change: Change) -> JobRecord | None:
    """Run `change` on a private copy of `current`; give the result the next version."""
    copy = JobRecord.from_json(current.to_json()) if current else None
    changed = change(copy)
    if changed is None:
        return None
    changed.version = (current.version if current else 0) + 1
    return changed
