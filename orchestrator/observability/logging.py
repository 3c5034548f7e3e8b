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
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "orchestrator"
CONTEXT_FIELDS = ("trace_id", "correlation_id", "user_id", "cmd")
_LEVELS = {"WARNING": "warn", "CRITICAL": "error"}
# Powertools' own keys that we replace or do not want on every line.
_DROPPED = {"level", "message", "timestamp", "location", "service", "xray_trace_id"}

_context: ContextVar[dict[str, str]] = ContextVar("orchestrator_log_context", default={})  # noqa: B039


class JsonLineFormatter(LambdaPowertoolsFormatter):
    def __init__(self, fn: str) -> None:
        super().__init__(utc=True, use_rfc3339=True)
        self.fn = fn

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        context = _context.get()
        ordered: dict[str, Any] = {
            "ts": str(log.get("timestamp", "")).replace("+00:00", "Z"),
            "level": _LEVELS.get(str(log.get("level")), str(log.get("level", "info")).lower()),
            "service": SERVICE,
            "fn": self.fn,
        }
        for key in CONTEXT_FIELDS:
            ordered[key] = context.get(key)
        ordered["msg"] = log.get("message")
        for key, value in log.items():
            if key not in _DROPPED and key not in ordered:
                ordered[key] = value
        return super().serialize(ordered)


_logger: Logger | None = None


def configure_logging(fn: str, *, level: str = "INFO", stream: IO[str] | None = None) -> Logger:
    """Set up the process's logger: `fn` names the function (interactions, worker, serve).

    Powertools keeps one handler per service, so calling this again (the demo, tests)
    re-points that handler rather than stacking a second one.
    """
    global _logger  # noqa: PLW0603 - one logger per process, configured by its entry point
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


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add request fields (trace_id, user_id, cmd, ...) to every line logged inside the block."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)
