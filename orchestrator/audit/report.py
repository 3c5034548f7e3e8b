"""`python -m orchestrator audit`: read the audit trail from the state store STATE_STORE names."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from typing import TextIO

from botocore.exceptions import NoRegionError

from orchestrator.audit.model import AuditEvent
from orchestrator.serialization import dumps_text
from orchestrator.settings import DEFAULT_LOCAL_STATE_STORE, SNOWFLAKE_RULE, is_snowflake
from orchestrator.state.store import open_state_store
from orchestrator.state.url import StateStoreUrlError
from orchestrator.terminal import terminal_safe

_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


class AuditQueryError(ValueError):
    """A --since or --user the command cannot use; the message says what it takes."""


def parse_since(text: str, *, now: float) -> float:
    """`30m`, `24h`, `7d`, or an ISO date or time (UTC unless it says otherwise)."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        return now - int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AuditQueryError(f"--since: expected 30m, 24h, 7d or an ISO date/time, got {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def format_event(event: AuditEvent) -> str:
    when = datetime.fromtimestamp(event.at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    options = " ".join(f"{k}={v}" for k, v in event.invocation.options.items())
    where = f"guild {event.invocation.guild_id or '-'} channel {event.invocation.channel_id or '-'}"
    run = f" run {event.run_id}" if event.run_id is not None else ""
    parts = [
        when,
        f"{event.outcome:<15}",
        f"/{event.invocation.command}",
        f"{event.invocation.user_name} ({event.invocation.user_id})",
        f"roles [{','.join(event.invocation.roles)}]",
        where,
        f"trace {event.invocation.trace_id}{run}",
    ]
    if options:
        parts.append(options)
    if event.detail:
        parts.append(f"— {event.detail}")
    # One line an event: a newline inside a value would pass for another event.
    return terminal_safe("  ".join(parts)).replace("\n", "\\n")


def run_audit(
    *, user_id: str | None, since: str, limit: int, as_json: bool, out: TextIO, err: TextIO, now: float | None = None
) -> int:
    try:
        if user_id is not None and not is_snowflake(user_id):
            raise AuditQueryError(f"--user: expected a Discord user id ({SNOWFLAKE_RULE}), got {user_id!r}")
        if limit < 1:
            raise AuditQueryError("--limit: expected 1 or more")
        start = parse_since(since, now=time.time() if now is None else now)
        store = open_state_store(os.environ.get("STATE_STORE", "").strip() or DEFAULT_LOCAL_STATE_STORE)
        events = store.audit.query(since=start, user_id=user_id, limit=limit)
    except (AuditQueryError, StateStoreUrlError) as exc:
        print(terminal_safe(f"audit: {exc}"), file=err)
        return 2
    except NoRegionError:
        print("audit: no AWS region for the DynamoDB table: set AWS_REGION (e.g. AWS_REGION=eu-west-1)", file=err)
        return 2
    except Exception as exc:  # noqa: BLE001 - an unreadable store is reported, not a traceback
        print(f"audit: cannot read the state store ({type(exc).__name__})", file=err)
        return 1
    for event in events:
        print(dumps_text(event.to_dict()) if as_json else format_event(event), file=out)
    if not as_json:
        print(f"{len(events)} event(s) since {datetime.fromtimestamp(start, UTC).isoformat()}", file=err)
    return 0
