"""Interleaved interactions on threads of one process never see each other's trace and user ids."""

from __future__ import annotations

import io
import itertools
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from orchestrator.observability.logging import get_logger, log_context
from tests.unit.observability.support import parse_lines

LINES_PER_INTERACTION = 30


def ids(index: int) -> tuple[str, str, str]:
    """A trace id, a user id and an interaction id that belong together."""
    return f"{index:032x}", str(1150000000000000000 + index), str(1160000000000000000 + index)


@pytest.mark.parametrize("interactions", [2, 20])
def test_interleaved_interactions_keep_their_own_ids(logs: io.StringIO, interactions: int) -> None:
    barrier = threading.Barrier(interactions)
    errors: list[BaseException] = []

    def interaction(index: int) -> None:
        trace_id, user_id, correlation_id = ids(index)
        rng = random.Random(index)
        log = get_logger()
        try:
            with log_context(trace_id=trace_id, correlation_id=correlation_id):
                with log_context(user_id=user_id, cmd="deploy"):
                    for line in range(LINES_PER_INTERACTION):
                        if line % 5 == 0:
                            barrier.wait(timeout=10)  # every thread is mid-interaction at once
                        log.info("step", extra={"index": index, "line": line})
                        time.sleep(rng.random() / 2000)
                log.info("after the inner block", extra={"index": index, "line": -1})
        except BaseException as exc:  # surfaced below, in the test's own thread
            errors.append(exc)

    threads = [threading.Thread(target=interaction, args=(i,)) for i in range(interactions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors

    lines = parse_lines(logs.getvalue())
    assert len(lines) == interactions * (LINES_PER_INTERACTION + 1)
    for line in lines:
        trace_id, user_id, correlation_id = ids(line["index"])
        assert line["trace_id"] == trace_id and line["correlation_id"] == correlation_id, line
        assert line["user_id"] == (user_id if line["line"] >= 0 else None), line
        assert line["cmd"] == ("deploy" if line["line"] >= 0 else None), line
    assert Counter(line["index"] for line in lines) == {i: LINES_PER_INTERACTION + 1 for i in range(interactions)}
    # The threads really interleaved: consecutive lines often come from different interactions.
    switches = sum(1 for a, b in itertools.pairwise(lines) if a["index"] != b["index"])
    assert switches >= interactions


def test_pooled_threads_start_each_task_with_a_clean_context(logs: io.StringIO) -> None:
    """A worker thread reused for the next interaction must not carry the previous one's ids, even after an error."""

    def task(index: int) -> None:
        log = get_logger()
        log.info("task start", extra={"index": index})
        trace_id, user_id, _ = ids(index)
        try:
            with log_context(trace_id=trace_id, user_id=user_id):
                log.info("task body", extra={"index": index})
                if index % 3 == 0:
                    raise ValueError("this interaction failed")
        except ValueError:
            pass

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(task, range(40)))
    lines = parse_lines(logs.getvalue())
    assert len(lines) == 80
    for line in lines:
        if line["msg"] == "task start":
            assert line["trace_id"] is None and line["user_id"] is None, line
        else:
            trace_id, user_id, _ = ids(line["index"])
            assert (line["trace_id"], line["user_id"]) == (trace_id, user_id), line


def test_a_thread_does_not_see_the_context_of_the_thread_that_started_it(logs: io.StringIO) -> None:
    with log_context(trace_id=ids(1)[0], user_id=ids(1)[1]):
        thread = threading.Thread(target=lambda: get_logger().info("background"))
        thread.start()
        thread.join()
        get_logger().info("foreground")
    background, foreground = sorted(parse_lines(logs.getvalue()), key=lambda line: line["msg"])
    assert background["trace_id"] is None and background["user_id"] is None
    assert foreground["trace_id"] == ids(1)[0]
