"""Job records: what happened to each accepted command, readable by traces and audits."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Protocol

# Records outlive any retry or redelivery of their queue message (SQS keeps messages up to 14 days).
JOB_RETENTION_SECONDS = 30 * 24 * 3600


@dataclass
class JobRecord:
    interaction_id: str
    trace_id: str
    command: str
    user_id: str
    user_name: str
    guild_id: str | None
    channel_id: str | None
    # received → dispatching → dispatched | rejected | unknown | failed
    status: str
    created_at: float
    updated_at: float
    dispatch_attempted_at: float | None = None
    run_id: int | None = None
    html_url: str | None = None
    detail: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> JobRecord:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


class JobStore(Protocol):
    def get(self, interaction_id: str) -> JobRecord | None: ...

    def put(self, record: JobRecord) -> None: ...
