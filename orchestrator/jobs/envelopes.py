"""Queue messages from the interactions endpoint to the worker, one kind each:

- `dispatch` (Job): an accepted command to run;
- `trace` (TraceOnly): the trace of a command answered at once (denied, invalid, unknown), for
  the worker to store, so the ACK path never touches the state store;
- `debug` (DebugRequest): /debug-last, answered by the worker from the trace store;
- `poll`, `run_event`, `cancel`: following a run, and its Cancel button;
- `run_action` (RunAction): a failed run's Show log and Re-run buttons;
- `refresh` (RefreshCache): read a list (or a workflow) autocomplete suggests from into the cache.

Every message is `{"v": 1, "kind": ..., fields...}`; anything else is a BadJobMessage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from orchestrator.audit.model import AuditEvent
from orchestrator.commands.invocation import INVOCATION_FIELDS, Invocation
from orchestrator.commands.model import OptionValue
from orchestrator.serialization import dumps_text, loads
from orchestrator.traces.model import Trace, TraceStep

SCHEMA_VERSION = 1
_NONE = type(None)


def _envelope(kind: str, fields: Mapping[str, Any]) -> str:
    """A queue message: the schema version, its kind, its fields."""
    return dumps_text({"v": SCHEMA_VERSION, "kind": kind, **fields})


class BadJobMessage(ValueError):
    """A queue message that is not a job this version understands: retrying cannot help, so it is
    dead-lettered (at once locally; after the queue's maxReceiveCount on SQS)."""


@dataclass(frozen=True)
class Job:
    KIND: ClassVar[str] = "dispatch"
    invocation: Invocation  # written flat, its fields beside the job's own
    application_id: str
    received_at: float
    # The interaction token lets the worker edit the user's message for 15 minutes. It is a
    # credential: kept out of repr() and never logged.
    interaction_token: str = field(repr=False)
    # What the interactions function did before queueing: the trace's first steps.
    steps: tuple[TraceStep, ...] = field(default=(), metadata={"always_sent": True})
    ephemeral: bool = False
    # After a confirmation the token is the button press's: the live message is a new follow-up.
    reply_as_followup: bool = False

    @property
    def confirmed_at(self) -> float | None:
        """When its invoker pressed Confirm (a `confirm: true` command), else None."""
        return next((s.started_at for s in self.steps if s.name == "confirmed"), None)

    def to_message(self) -> str:
        # Field by field, not asdict(): asdict deep-copies everything, and this is the ACK's hot path.
        own = {name: value for name, value in vars(self).items() if name != "invocation"}
        return _envelope(
            self.KIND, {**self.invocation.to_dict(), **own, "steps": [step.to_dict() for step in self.steps]}
        )

    @classmethod
    def from_message(cls, body: str) -> Job:
        message = parse_message(body)
        if not isinstance(message, Job):
            raise BadJobMessage(f"expected a {cls.KIND} message")
        return message

    def trace(self) -> Trace:
        who = self.invocation
        return Trace(who.trace_id, who.user_id, who.command, self.received_at, list(self.steps))


@dataclass(frozen=True)
class TraceOnly:
    KIND: ClassVar[str] = "trace"
    trace: Trace
    outcome: str  # denied | invalid | unknown_command | rate_limited | cancelled
    audit: AuditEvent | None = None  # the attempt, for the worker to record

    def to_message(self) -> str:
        fields: dict[str, Any] = {"trace": self.trace.to_dict(), "outcome": self.outcome}
        if self.audit is not None:
            fields["audit"] = self.audit.to_dict()
        return _envelope(self.KIND, fields)


@dataclass(frozen=True)
class DebugRequest:
    KIND: ClassVar[str] = "debug"
    interaction_id: str
    application_id: str
    user_id: str
    requested_trace_id: str | None
    interaction_token: str = field(repr=False)

    def to_message(self) -> str:
        return _envelope(self.KIND, vars(self))


@dataclass(frozen=True)
class PollRequest:
    """Look at the run again (a delayed message: the polling fallback)."""

    KIND: ClassVar[str] = "poll"
    interaction_id: str
    attempt: int

    def to_message(self) -> str:
        return _envelope(self.KIND, vars(self))


@dataclass(frozen=True)
class RunEvent:
    """A verified `workflow_run` webhook delivery, for the worker to apply."""

    KIND: ClassVar[str] = "run_event"
    delivery_id: str
    run: dict[str, Any]

    def to_message(self) -> str:
        return _envelope(self.KIND, vars(self))


@dataclass(frozen=True)
class CancelRequest:
    """Someone pressed a live message's Cancel button; the worker checks who and asks GitHub."""

    KIND: ClassVar[str] = "cancel"
    interaction_id: str  # the job's
    user_id: str  # who pressed
    user_name: str
    roles: list[str]
    interaction_token: str = field(repr=False)  # the press's, to answer the presser
    pressed_at: float | None = None  # when, for the audit trail

    def to_message(self) -> str:
        return _envelope(self.KIND, vars(self))


@dataclass(frozen=True)
class RunAction:
    """Someone pressed a failed run's Show log or Re-run button (or confirmed a re-run); the
    worker checks who, against the command's rules and the run's attempt, and answers them."""

    KIND: ClassVar[str] = "run_action"
    action: str  # one of RUN_ACTIONS
    interaction_id: str  # the job's
    attempt: int  # the run attempt the button was shown for
    user_id: str  # who pressed
    user_name: str
    roles: list[str]
    interaction_token: str = field(repr=False)  # the press's, to answer the presser
    pressed_at: float | None = None

    def to_message(self) -> str:
        return _envelope(self.KIND, vars(self))


@dataclass(frozen=True)
class RefreshCache:
    """Someone was suggested from a list (or a derived command's workflow) older than a minute."""

    KIND: ClassVar[str] = "refresh"
    source: str  # one of REFRESH_SOURCES
    workflow: str | None = None  # source "workflow": which file, at which ref
    ref: str | None = None

    def to_message(self) -> str:
        return _envelope(self.KIND, vars(self))


REFRESH_SOURCES = frozenset({"refs", "branches", "tags", "environments", "workflow"})

# Show the log; re-run failed jobs (with debug logging); the same once confirmed (`confirm: true`).
RUN_ACTIONS = frozenset({"log", "rerun", "rerun-debug", "rerun-ok", "rerun-debug-ok"})

Message = Job | TraceOnly | DebugRequest | PollRequest | RunEvent | CancelRequest | RunAction | RefreshCache


def _wire_types(hint: Any) -> tuple[type, ...]:
    """The JSON types a field declared with this annotation may arrive as."""
    if get_origin(hint) in (Union, UnionType):
        parts = get_args(hint)
        if any(is_dataclass(part) for part in parts):  # a nested part is an object, or left out: never null
            parts = tuple(part for part in parts if part is not _NONE)
        return tuple(wire for arg in parts for wire in _wire_types(arg))
    if hint is float:
        return (int, float)  # JSON has one number type
    if hint in (str, int, bool, _NONE):
        return (hint,)
    if get_origin(hint) in (list, tuple):
        return (list,)
    if get_origin(hint) is dict or is_dataclass(hint):
        return (dict,)
    raise TypeError(f"no JSON form for {hint!r}")


def _schema(kind: type) -> tuple[dict[str, tuple[type, ...]], frozenset[str]]:
    """Each field's JSON types, and which fields may be left out, read from the dataclass itself."""
    hints = get_type_hints(kind)
    types: dict[str, tuple[type, ...]] = {}
    optional: set[str] = set()
    for f in fields(kind):
        if hints[f.name] is Invocation:  # written flat
            flat_types, flat_optional = _schema(Invocation)
            types.update(flat_types)
            optional |= flat_optional
            continue
        types[f.name] = _wire_types(hints[f.name])
        if (f.default is not MISSING or f.default_factory is not MISSING) and not f.metadata.get("always_sent"):
            optional.add(f.name)
    return types, frozenset(optional)


# Declared once, by the dataclasses above: a message's fields are checked against their annotations.
_SCHEMAS = {kind.KIND: (kind, *_schema(kind)) for kind in get_args(Message)}


def parse_message(body: str) -> Message:
    try:
        raw: Any = loads(body)
    except ValueError as exc:
        raise BadJobMessage("not JSON") from exc
    if not isinstance(raw, dict) or raw.get("kind") not in _SCHEMAS:
        raise BadJobMessage("unknown message kind")
    if type(raw.get("v")) is not int or raw["v"] != SCHEMA_VERSION:  # JSON true == 1 in Python
        raise BadJobMessage("unknown message version")
    kind = raw.pop("kind")
    raw.pop("v")
    _, expected_types, optional = _SCHEMAS[kind]
    if not set(expected_types) - optional <= set(raw) <= set(expected_types):
        raise BadJobMessage(f"fields differ from a version {SCHEMA_VERSION} {kind} message")
    for name, value in raw.items():
        expected = expected_types[name]
        if expected == (bool,):
            valid = isinstance(value, bool)
        else:  # JSON true is an int to Python: never accepted where a number or text is meant
            valid = isinstance(value, expected) and not isinstance(value, bool) and value != ""
        if not valid:
            raise BadJobMessage(f"{name} has the wrong type")
    if kind == Job.KIND and not all(
        isinstance(k, str) and isinstance(v, OptionValue) for k, v in raw["options"].items()
    ):
        raise BadJobMessage("options must map names to scalar values")
    if not all(isinstance(role, str) for role in raw.get("roles", ())):
        raise BadJobMessage("roles must be Discord ids")
    try:
        if kind == TraceOnly.KIND:
            audit = AuditEvent.from_dict(raw["audit"]) if raw.get("audit") is not None else None
            return TraceOnly(Trace.from_dict(raw["trace"]), raw["outcome"], audit)
        if kind == RunAction.KIND:
            if raw["action"] not in RUN_ACTIONS:
                raise BadJobMessage("unknown run action")
            return RunAction(**raw)
        if kind == RefreshCache.KIND:
            if raw["source"] not in REFRESH_SOURCES or (raw["source"] == "workflow") != bool(raw.get("workflow")):
                raise BadJobMessage("unknown refresh source")
            return RefreshCache(**raw)
        if kind != Job.KIND:  # the kinds whose fields are taken as they come
            message: Message = _SCHEMAS[kind][0](**raw)
            return message
        steps = tuple(TraceStep.from_dict(step) for step in raw["steps"])
        own = {name: value for name, value in raw.items() if name not in INVOCATION_FIELDS}
        return Job(Invocation.from_dict(raw), **{**own, "steps": steps})
    except (KeyError, TypeError, ValueError) as exc:
        raise BadJobMessage(f"malformed {kind} message ({type(exc).__name__})") from exc
