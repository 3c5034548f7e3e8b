"""A trace: one interaction's steps (name, status, start, duration, details), error and run link."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from orchestrator.observability.redaction import active_redactor
from orchestrator.serialization import dumps_text, loads

StepStatus = Literal["ok", "failed", "running"]
TraceStatus = Literal["running", "ok", "failed", "cancelled"]
# A trace is a bounded record: details beyond these sizes are cut when it is built.
MAX_STEPS = 50
MAX_DETAIL_CHARS = 500


@dataclass
class TraceStep:
    name: str
    status: StepStatus
    started_at: float
    duration_ms: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 3),
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TraceStep:
        return cls(
            name=str(raw["name"]),
            status=raw["status"],
            started_at=float(raw["started_at"]),
            duration_ms=float(raw["duration_ms"]),
            details=dict(raw.get("details") or {}),
        )


@dataclass
class Trace:
    trace_id: str
    user_id: str
    command: str
    started_at: float
    steps: list[TraceStep] = field(default_factory=list)
    status: TraceStatus = "running"
    error: str | None = None
    run_url: str | None = None
    # The run's FailureDigest (redacted, bounded) once it failed: what /debug-last shows of why.
    failure: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "user_id": self.user_id,
            "command": self.command,
            "started_at": self.started_at,
            "steps": [step.to_dict() for step in self.steps[:MAX_STEPS]],
            "status": self.status,
            "error": self.error,
            "run_url": self.run_url,
            "failure": self.failure,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Trace:
        return cls(
            trace_id=str(raw["trace_id"]),
            user_id=str(raw["user_id"]),
            command=str(raw["command"]),
            started_at=float(raw["started_at"]),
            steps=[TraceStep.from_dict(step) for step in raw.get("steps") or []][:MAX_STEPS],
            status=raw.get("status", "running"),
            error=raw.get("error"),
            run_url=raw.get("run_url"),
            failure=raw["failure"] if isinstance(raw.get("failure"), dict) else None,
        )

    def to_json(self) -> str:
        return dumps_text(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Trace:
        return cls.from_dict(loads(text))

    @property
    def duration_ms(self) -> float:
        if not self.steps:
            return 0.0
        last = max(step.started_at * 1000 + step.duration_ms for step in self.steps)
        return max(0.0, last - self.started_at * 1000)

    def fail(self, error: str) -> None:
        self.status = "failed"
        self.error = _bounded(error)


class StepHandle:
    """What a step's body can say about it: details to keep, or that it failed."""

    def __init__(self, step: TraceStep) -> None:
        self._step = step

    def note(self, **details: Any) -> None:
        for key, value in details.items():
            if value is None or isinstance(value, int | float | bool):
                self._step.details[key] = value
            elif isinstance(value, str):
                self._step.details[key] = _bounded(value)
            else:  # structure: both layers (by key too), then bounded as text if it is large
                redacted = active_redactor().value(value)
                text = dumps_text(redacted)
                self._step.details[key] = redacted if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS]

    def fail(self, reason: str) -> None:
        self._step.status = "failed"
        self.note(error=reason)


@contextmanager
def step(trace: Trace, name: str, **details: Any) -> Iterator[StepHandle]:
    """Time a step and add it to the trace; an exception marks it failed (and propagates)."""
    record = TraceStep(name=name, status="running", started_at=time.time(), duration_ms=0.0)
    handle = StepHandle(record)
    handle.note(**details)
    if len(trace.steps) < MAX_STEPS:
        trace.steps.append(record)
    started = time.perf_counter()
    try:
        yield handle
    except BaseException as exc:
        handle.fail(type(exc).__name__)
        raise
    finally:
        record.duration_ms = (time.perf_counter() - started) * 1000
        if record.status == "running":
            record.status = "ok"


def _bounded(text: str) -> str:
    # Redacted before it is cut: half a secret would no longer be recognised as one.
    return active_redactor().text(text)[:MAX_DETAIL_CHARS]
