"""The log line contract: one JSON object a line, fixed first keys in order, UTC millisecond times, four levels."""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.observability.logging import configure_logging, get_logger, log_context
from tests.fixtures.logs import capture_logs
from tests.unit.observability.support import FIRST_KEYS, PROPERTY, parse_lines

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TRACE = "0af7651916cd43dd8448eb211c80319c"
OTHER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_fixed_keys_come_first_in_order_then_extras(logs: io.StringIO) -> None:
    log = get_logger()
    log.info("plain")
    log.info("with extras", extra={"zeta": 1, "alpha": {"nested": [1, 2]}, "middle": None})
    plain, extras = parse_lines(logs.getvalue())
    assert tuple(plain) == FIRST_KEYS
    assert tuple(extras)[: len(FIRST_KEYS)] == FIRST_KEYS
    assert list(extras)[len(FIRST_KEYS) :] == ["zeta", "alpha", "middle"]
    assert extras["alpha"] == {"nested": [1, 2]} and extras["middle"] is None
    assert plain["service"] == "orchestrator" and plain["fn"] == "test" and plain["msg"] == "plain"


def test_exception_fields_follow_the_extras(logs: io.StringIO) -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        get_logger().exception("failed", extra={"step": "dispatch"})
    [line] = parse_lines(logs.getvalue())
    assert list(line)[len(FIRST_KEYS) :] == ["step", "exception_name", "exception"]
    assert line["level"] == "error" and line["exception_name"] == "KeyError"
    assert "Traceback" in line["exception"] and "KeyError: 'missing'" in line["exception"]


@pytest.fixture
def pacific_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone far from UTC: ts must not follow it."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("pacific_time")
def test_ts_is_iso_8601_utc_with_milliseconds(logs: io.StringIO) -> None:
    before = datetime.now(UTC)
    get_logger().info("now")
    after = datetime.now(UTC)
    [line] = parse_lines(logs.getvalue())
    assert TS.match(line["ts"]), line["ts"]
    stamp = datetime.fromisoformat(line["ts"].replace("Z", "+00:00"))
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= stamp <= after


@pytest.mark.parametrize(
    ("method", "level"),
    [("debug", "debug"), ("info", "info"), ("warning", "warn"), ("error", "error"), ("critical", "error")],
)
def test_levels(logs: io.StringIO, method: str, level: str) -> None:
    getattr(get_logger(), method)("a line")
    [line] = parse_lines(logs.getvalue())
    assert line["level"] == level


@pytest.mark.parametrize(
    ("levelno", "level"), [(15, "debug"), (25, "info"), (35, "warn"), (45, "error"), (60, "error")]
)
def test_custom_levels_map_onto_the_four_levels(logs: io.StringIO, levelno: int, level: str) -> None:
    logging.getLogger("orchestrator.plugin").log(levelno, "a custom level")
    [line] = parse_lines(logs.getvalue())
    assert line["level"] == level


def test_child_loggers_of_the_library_share_the_format(logs: io.StringIO) -> None:
    logging.getLogger("orchestrator.clients.github_api").warning("from a module logger: %s", "ok")
    [line] = parse_lines(logs.getvalue())
    assert tuple(line) == FIRST_KEYS and line["level"] == "warn" and line["msg"] == "from a module logger: ok"


def test_level_threshold_applies() -> None:
    with capture_logs(level="INFO") as stream:
        get_logger().debug("hidden")
        get_logger().info("shown")
    assert [line["msg"] for line in parse_lines(stream.getvalue())] == ["shown"]


def test_context_appears_in_the_block_and_is_cleared_after(logs: io.StringIO) -> None:
    log = get_logger()
    log.info("before")
    with log_context(trace_id=TRACE, correlation_id="1150000000000000001", user_id="1150000000000000003", cmd="deploy"):
        log.info("inside")
    log.info("after")
    before, inside, after = parse_lines(logs.getvalue())
    for line in (before, after):
        assert [line[k] for k in ("trace_id", "correlation_id", "user_id", "cmd")] == [None] * 4
    assert [inside[k] for k in ("trace_id", "correlation_id", "user_id", "cmd")] == [
        TRACE,
        "1150000000000000001",
        "1150000000000000003",
        "deploy",
    ]


def test_nested_context_merges_and_restores(logs: io.StringIO) -> None:
    log = get_logger()
    with log_context(trace_id=TRACE, user_id="111111111111111111"):
        with log_context(cmd="deploy", user_id="222222222222222222", correlation_id=None):
            log.info("inner")
            with log_context(trace_id=OTHER_TRACE):
                log.info("innermost")
            log.info("inner again")
        log.info("outer")
    log.info("none")
    fields = [(line["trace_id"], line["user_id"], line["cmd"]) for line in parse_lines(logs.getvalue())]
    assert fields == [
        (TRACE, "222222222222222222", "deploy"),
        (OTHER_TRACE, "222222222222222222", "deploy"),
        (TRACE, "222222222222222222", "deploy"),
        (TRACE, "111111111111111111", None),
        (None, None, None),
    ]


def test_context_is_restored_when_the_block_raises(logs: io.StringIO) -> None:
    with pytest.raises(RuntimeError), log_context(trace_id=TRACE, user_id="111111111111111111"):
        raise RuntimeError("boom")
    get_logger().info("after")
    [line] = parse_lines(logs.getvalue())
    assert line["trace_id"] is None and line["user_id"] is None


def test_extras_cannot_override_the_fixed_fields(logs: io.StringIO) -> None:
    with log_context(trace_id=TRACE, user_id="111111111111111111"):
        get_logger().info(
            "forged",
            extra={"trace_id": OTHER_TRACE, "user_id": "999", "ts": "yesterday", "service": "x", "level": "ok"},
        )
    [line] = parse_lines(logs.getvalue())
    assert line["trace_id"] == TRACE and line["user_id"] == "111111111111111111"
    assert line["service"] == "orchestrator" and line["level"] == "info" and TS.match(line["ts"])


def test_values_json_has_no_type_for_are_written_as_text(logs: io.StringIO) -> None:
    get_logger().info(
        "odd values",
        extra={
            "when": date(2026, 11, 22),
            "amount": Decimal("1.50"),
            "tags": {"a"},
            "raw": b"\x00bytes",
            "obj": object(),
        },
    )
    [line] = parse_lines(logs.getvalue())
    assert line["when"] == "2026-11-22" and line["amount"] == "1.50" and line["tags"] == ["a"]
    assert line["raw"] == "b'\\x00bytes'" and line["obj"].startswith("<object object")


@PROPERTY
@given(messages=st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_every_message_is_exactly_one_json_line(messages: list[str]) -> None:
    with capture_logs() as stream:
        for message in messages:
            get_logger().info(message, extra={"copy": message})
    lines = parse_lines(stream.getvalue())
    assert len(lines) == len(messages)
    for line, message in zip(lines, messages, strict=True):
        # The redactor may replace a secret-shaped run; hypothesis' text rarely makes one, but allow it.
        if "[redacted:" not in line["msg"]:
            assert line["msg"] == message and line["copy"] == message


def test_http_client_loggers_are_quiet() -> None:
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    configure_logging("test", stream=io.StringIO())
    assert logging.getLogger("httpx").level == logging.WARNING
    assert logging.getLogger("httpcore").level == logging.WARNING


def test_no_logrecord_attribute_leaks_on_any_python_version(logs: io.StringIO) -> None:
    """Whatever this Python's LogRecord carries (3.12 added taskName, set inside asyncio tasks),
    a line has exactly the documented keys."""
    import asyncio

    async def in_a_task() -> None:
        get_logger().info("from a task")

    asyncio.run(in_a_task())
    get_logger().info("plain")
    for line in parse_lines(logs.getvalue()):
        assert tuple(line) == FIRST_KEYS, set(line) - set(FIRST_KEYS)
