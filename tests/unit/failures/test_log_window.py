"""The log window on real-shaped job logs: streamed, bounded, and stopped as soon as it is known."""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.failures.log_window import excerpt_from_stream


def stamp(n: int) -> str:
    return f"2026-12-01T12:{n // 60 % 60:02d}:{n % 60:02d}.{n:07d}Z "


def log(*sections: tuple[str, list[str]], setup: tuple[str, ...] = ("Current runner version: '2.321.0'",)) -> bytes:
    """A runner log: the set-up lines, then each (marker, output) step, CRLF and a BOM as GitHub writes."""
    lines = list(setup)
    for marker, output in sections:
        lines += [f"##[group]Run {marker}", f"\x1b[36;1m{marker}\x1b[0m", "shell: /usr/bin/bash -e {0}", "##[endgroup]"]
        lines += output
    return ("\ufeff" + "".join(f"{stamp(i)}{line}\r\n" for i, line in enumerate(lines))).encode()


CHECKOUT = ("actions/checkout@v4", ["Syncing repository: acme/ops", "##[warning]Node 16 is deprecated"])
TESTS = (
    "pytest -q",
    ["collected 42 items", "E   AssertionError: expected 200", "##[error]Process completed with exit code 1."],
)
LINT = ("ruff check .", ["All checks passed!"])
LOG = log(CHECKOUT, TESTS, LINT)


def window(
    data: bytes, *, step: int = 3, name: str = "Run tests", size: int = 1 << 16, max_chars: int = 1500
) -> list[str]:
    chunks = (data[i : i + size] for i in range(0, len(data), size))
    excerpt = excerpt_from_stream(chunks, step_number=step, step_name=name, max_bytes=20_000_000, max_chars=max_chars)
    return list(excerpt.lines)


def test_the_failed_steps_lines_up_to_its_error_cleaned() -> None:
    excerpt = excerpt_from_stream([LOG], step_number=3, step_name="Run tests", max_bytes=10**6)
    assert excerpt.lines == (
        "collected 42 items",
        "E   AssertionError: expected 200",
        "Error: Process completed with exit code 1.",
    )
    assert excerpt.found_error and excerpt.step_found and not excerpt.cut


def test_a_default_named_step_is_found_by_its_marker() -> None:
    # The number says step 2 (checkout), the name says the pytest step: the name wins.
    assert window(LOG, step=2, name="Run pytest -q")[-1] == "Error: Process completed with exit code 1."


def test_an_error_in_another_step_is_not_chosen() -> None:
    early = ("./flaky.sh", ["retrying", "##[error]flaky failed (continue-on-error)"])
    lines = window(log(early, TESTS), step=3)
    assert lines[-1] == "Error: Process completed with exit code 1."
    assert "Error: flaky failed (continue-on-error)" not in lines


def test_no_error_gives_the_steps_last_lines() -> None:
    quiet = ("make", [f"line {n}" for n in range(100)])
    excerpt = excerpt_from_stream([log(CHECKOUT, quiet, LINT)], step_number=3, step_name="Build", max_bytes=10**6)
    assert excerpt.lines == tuple(f"line {n}" for n in range(60, 100))
    assert not excerpt.found_error and excerpt.step_found


def test_set_up_job_is_step_one() -> None:
    data = log(TESTS, setup=("Current runner version", "##[error]No runner matching the labels"))
    assert window(data, step=1, name="Set up job") == ["Current runner version", "Error: No runner matching the labels"]


def test_a_step_beyond_the_log_shows_its_last_lines() -> None:
    excerpt = excerpt_from_stream([log(CHECKOUT, LINT)], step_number=9, step_name="Deploy", max_bytes=10**6)
    assert not excerpt.step_found and excerpt.lines[-1] == "All checks passed!"


def test_lines_and_characters_are_bounded_keeping_the_last() -> None:
    long = ("x", [f"{n:04d} " + "y" * 400 for n in range(60)] + ["##[error]boom"])
    lines = window(log(long), step=2, max_chars=1500)
    assert lines[-1] == "Error: boom" and sum(len(line) + 1 for line in lines) - 1 <= 1500
    assert all(len(line) <= 300 for line in lines)
    assert len(window(log(long), step=2, max_chars=10**6)) == 40


def test_binary_garbage_and_control_characters_do_not_break_it() -> None:
    garbage = bytes(range(256)) * 8 + b"\n\x00\x07\x1b]0;title\x07\xff\xfe\xc2\x9b31m" + b"\n"
    data = LOG.replace(b"collected 42 items", garbage)
    lines = window(data)
    assert lines[-1] == "Error: Process completed with exit code 1."
    assert all(c >= " " and not "\x7f" <= c <= "\x9f" for line in lines for c in line)


def test_an_endless_line_is_cut_while_it_streams() -> None:
    huge = b"2026-12-01T12:00:00.0000000Z ##[group]Run x\n##[endgroup]\n" + b"z" * 10_000_000 + b"\n##[error]late\n"
    lines = window(huge, step=2, name="x", size=1 << 20)
    assert lines[-1] == "Error: late" and len(lines[0]) <= 300


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(LOG)), max_size=30))
def test_any_chunking_gives_the_same_window(cuts: list[int]) -> None:
    points = sorted({0, *cuts, len(LOG)})
    chunks = [LOG[a:b] for a, b in itertools.pairwise(points)]
    expected = excerpt_from_stream([LOG], step_number=3, step_name="Run tests", max_bytes=10**6)
    got = excerpt_from_stream(chunks, step_number=3, step_name="Run tests", max_bytes=10**6)
    # How far it read depends on where the chunk holding the error ends; nothing else may.
    assert replace(got, bytes_read=0) == replace(expected, bytes_read=0)


def test_reading_stops_at_the_error() -> None:
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield LOG
        for n in range(1000):
            read.append(n)
            yield b"never read\n"

    excerpt_from_stream(chunks(), step_number=3, step_name="Run tests", max_bytes=10**9)
    assert read == []


def test_a_200_mb_log_is_cut_at_the_cap_in_bounded_memory() -> None:
    line = f"{stamp(1)}still testing tests/test_shard_0042.py ........\n".encode()
    block = line * (65536 // len(line))

    def endless() -> Iterator[bytes]:
        yield LOG.split(b"collected")[0]
        for _ in range(200_000_000 // len(block)):
            yield block
        yield b"##[error]too late\n"

    tracemalloc.start()
    try:
        excerpt = excerpt_from_stream(endless(), step_number=3, step_name="Run tests", max_bytes=20_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert excerpt.cut and not excerpt.found_error
    assert 19_900_000 <= excerpt.bytes_read <= 20_000_000
    assert excerpt.lines[-1].startswith("still testing")
    assert peak < 5_000_000


def test_a_cap_inside_the_last_chunk_is_a_cut_without_a_torn_line() -> None:
    cap = LOG.index(b"##[error]Process") + 5  # inside the error line, in the last chunk read
    for chunks in ([LOG], [LOG[:100], LOG[100:]]):
        excerpt = excerpt_from_stream(chunks, step_number=3, step_name="Run tests", max_bytes=cap)
        assert excerpt.cut and not excerpt.found_error and excerpt.bytes_read == cap
        assert excerpt.lines[-1] == "E   AssertionError: expected 200"


def test_out_of_time_stops_reading() -> None:
    excerpt = excerpt_from_stream(iter([LOG]), step_number=3, step_name="t", max_bytes=10**6, out_of_time=lambda: True)
    assert excerpt.cut and excerpt.bytes_read == 0
