"""CloudWatch Logs Insights queries over the bot's JSON log lines: the one definition of each.

template.yaml saves them (AWS::Logs::QueryDefinition), docs/observability.md writes them out, and an
alert's "Logs for this trace" link fills in the trace query; tests keep all three equal to
these strings and check every field a query reads against real log lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The trace query's stand-in, replaced by a trace id (all 32 hex, or the 8 a user's message shows).
TRACE_ID_PLACEHOLDER = "TRACE_ID"
_TRACE_ID = re.compile(r"[0-9a-f]{8,32}")


@dataclass(frozen=True)
class SavedQuery:
    name: str  # saved as "<stack name>/<name>": the console shows the stack as a folder
    description: str
    functions: tuple[str, ...]  # whose log groups it reads: interactions, worker, alarms
    text: str


TRACE = SavedQuery(
    "everything-for-one-trace",
    f"Every line of one command, from every function, in order (replace {TRACE_ID_PLACEHOLDER}).",
    ("interactions", "worker", "alarms"),
    f"""fields @timestamp, fn, level, msg, outcome, reason, error, cmd, user_id
| filter trace_id like '{TRACE_ID_PLACEHOLDER}'
| sort @timestamp asc
| limit 1000""",
)

SAVED_QUERIES: tuple[SavedQuery, ...] = (
    TRACE,
    SavedQuery(
        "errors-by-command",
        "Error lines per command in 5-minute bins.",
        ("interactions", "worker", "alarms"),
        """filter level = 'error'
| stats count(*) as errors by cmd, bin(5m)""",
    ),
    SavedQuery(
        "slowest-acks",
        "The slowest answers to Discord: from the request's arrival to its job being queued.",
        ("interactions",),
        """fields @timestamp, ack_ms, cmd, user_id, trace_id
| filter ispresent(ack_ms)
| sort ack_ms desc
| limit 50""",
    ),
    SavedQuery(
        "refused-by-user",
        "Denied and rate-limited commands and button presses, per user (one per interaction).",
        ("interactions", "worker"),
        """filter outcome in ['denied', 'rate_limited']
| stats count_distinct(correlation_id) as refusals by user_id, cmd, outcome
| sort refusals desc""",
    ),
    SavedQuery(
        "alerts-sent-and-suppressed",
        "Alerts posted, suppressed as repeats, throttled or failed, per alert title.",
        ("worker", "alarms"),
        """filter msg in ['alert sent', 'alert suppressed', 'alert throttled', 'alert not posted']
| stats count(*) as lines by alert, msg
| sort lines desc""",
    ),
    SavedQuery(
        "failures-by-fingerprint",
        "Failed runs per failure (workflow, job, step and normalised error line): the most frequent first.",
        ("worker",),
        """filter msg = 'run failed'
| stats count(*) as failures, latest(job) as last_job, latest(step) as last_step by error_fingerprint, workflow
| sort failures desc""",
    ),
)


def trace_query(trace_id: str) -> str:
    """The trace query for one id; anything but lowercase hex is refused (it lands inside quotes)."""
    if not _TRACE_ID.fullmatch(trace_id):
        raise ValueError("a trace id is 8 to 32 lowercase hex characters")
    return TRACE.text.replace(TRACE_ID_PLACEHOLDER, trace_id)


def readme_section() -> str:
    """The queries as docs/observability.md writes them out, in Markdown."""
    parts = []
    for query in SAVED_QUERIES:
        groups = ", ".join(query.functions)
        parts.append(f"**`{query.name}`**: {query.description} Log groups: {groups}.\n\n```\n{query.text}\n```\n")
    return "\n".join(parts)
