"""JSON log lines through Powertools Logger, with our field names and per-request context.

Every line is one JSON object: ts, level (debug/info/warn/error), service, fn,
trace_id, correlation_id, user_id, cmd, msg, then any extra fields. Request
context lives in a ContextVar, so concurrent requests on threads of one
process (the local server) never see each other's ids.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

from orchestrator.observability.levels import DEFAULT_LOG_LEVEL, log_level
from orchestrator.observability.redaction import active_redactor, is_secret_key, mask
from orchestrator.serialization import dumps_text

SERVICE = "orchestrator"

# Powertools' own keys that we replace or do not want on every line.
_DROPPED = {"level", "message", "timestamp", "location", "service", "sampling_rate"}

# A set, not Powertools' tuple: every record's attributes are checked against it. With this
# Python's own LogRecord attributes too: Powertools' list lags new versions (3.12 added
# `taskName`, which would otherwise be on every line as null).
_RECORD_ATTRIBUTES = frozenset(RESERVED_LOG_ATTRS) | frozenset(vars(logging.makeLogRecord({})))

_context: ContextVar[dict[str, str]] = ContextVar("orchestrator_log_context", default={})  # noqa: B039


def _level(number: int) -> str:
    """One of our four levels, by number: custom levels (25, 35, ...) fall to the one below them."""
    if number >= logging.ERROR:
        return "error"
    if number >= logging.WARNING:
        return "warn"
    return "info" if number >= logging.INFO else "debug"


class JsonLineFormatter(LambdaPowertoolsFormatter):
    """Powertools' formatter with our field names, order and levels, built in one pass.

    Keys appended through Powertools (append_keys, inject_lambda_context's function_name,
    cold_start, ...) are kept; Powertools' own placeholders (level, location, timestamp) are
    replaced by ours. One pass matters: a log line sits on the ACK's hot path.
    """

    def __init__(self, fn: str) -> None:
        super().__init__(utc=True, json_serializer=dumps_text)
        self.fn = fn

    def format(self, record: logging.LogRecord) -> str:
        context = _context.get()
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": _level(record.levelno),
            "service": SERVICE,
            "fn": self.fn,
            "trace_id": context.get("trace_id"),
            "correlation_id": context.get("correlation_id"),
            "user_id": context.get("user_id"),
            "cmd": context.get("cmd"),
            "msg": record.getMessage(),
        }
        redactor = active_redactor()
        # Extras and appended keys (ours are fixed above) get the by-key layer; then the shapes
        # are redacted once over the whole serialised line: one scan of ~300 characters
        # instead of one per field.
        for key, value in self.log_format.items():
            if value is not None and key not in _DROPPED and key not in line:
                line[key] = mask(value) if is_secret_key(key) else redactor.keys_only(value)
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in line:
                line[key] = mask(value) if is_secret_key(key) else redactor.keys_only(value)
        if record.exc_info and record.exc_info[0] is not None:
            line["exception_name"] = record.exc_info[0].__name__
            line["exception"] = self.formatException(record.exc_info)
        return redactor.text(self.json_serializer(line))


_logger: Logger | None = None


def configure_logging(fn: str, *, level: str = DEFAULT_LOG_LEVEL, stream: IO[str] | None = None) -> Logger:
    """Set up the process's logger: `fn` names the function (interactions, worker, serve).

    Powertools keeps one handler per service, so calling this again (the demo, tests)
    re-points that handler rather than stacking a second one. A level that is not one of
    LOG_LEVELS logs at INFO: logging starts before settings are checked, and must not be what
    crashes; the settings check names the bad value among its problems.
    """
    level = log_level(level) or DEFAULT_LOG_LEVEL
    global _logger  # noqa: PLW0603 - one logger per process, configured by its entry point
    # The logging HOWTO's optimisations: we print no thread, process or caller fields, so skip
    # gathering them for every record.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    # httpx logs every request URL at INFO, and an interaction webhook URL contains its token:
    # whatever handler the runtime puts on the root logger must never see those lines.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    formatter = JsonLineFormatter(fn)
    if _logger is None:
        _logger = Logger(
            service=SERVICE,
            level=level,
            logger_formatter=formatter,
            logger_handler=logging.StreamHandler(stream or sys.stdout),
        )
    else:
        _logger.registered_handler.setFormatter(formatter)
        _logger.setLevel(level)
    handler = _logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        # Not setStream(): it flushes the old stream, which may be closed already (a finished demo, a test).
        with handler.lock or contextlib.nullcontext():
            handler.stream = stream or sys.stdout
    return _logger


def get_logger() -> Logger:
    """The process's logger; a default one when no entry point configured it (tests, imports)."""
    return _logger if _logger is not None else configure_logging("orchestrator")


class log_context:
    """Add request fields (trace_id, user_id, cmd, ...) to every line logged inside the block.

    A class rather than @contextmanager: it is entered on every request's hot path, and a
    generator-based context manager costs several times more."""

    __slots__ = ("_fields", "_token")

    def __init__(self, **fields: str | None) -> None:
        self._fields = {k: v for k, v in fields.items() if v is not None}

    def __enter__(self) -> None:
        self._token = _context.set({**_context.get(), **self._fields})

    def __exit__(self, *_: object) -> None:
        _context.reset(self._token)
