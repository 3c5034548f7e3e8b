"""The load test's short form: many users against the real `serve` process, with and without faults.

Only correctness is asserted (no 5xx, one dispatch per command, nothing lost); speed is what
`python -m orchestrator_dev.bench.load` reports, never a test's verdict.
"""

from __future__ import annotations

import io
import socket

import pytest

from orchestrator.adapters import local_server
from orchestrator_dev.bench.load import main, run_load
from orchestrator_dev.bench.load_faults import FAULT_KINDS, spread
from orchestrator_dev.bench.load_report import final_message, is_truthful

RUN = "https://github.com/acme/load/actions/runs/16000000001"
OTHER_RUN = "https://github.com/acme/load/actions/runs/16000000002"


def test_commands_from_many_users_are_each_dispatched_once() -> None:
    report = run_load(commands=60, users=20, seconds=3.0, drain_timeout=60)
    assert report.correct, report.render()
    assert report.statuses == {200: 60}
    assert report.dispatch_requests == report.runs_started == 60
    assert report.outcomes == {"linked": 60}


def test_under_faults_no_command_is_lost_or_dispatched_twice() -> None:
    # The answer that comes after the client's timeout costs 10 s; the benchmark's --faults has it.
    quick = tuple(f for f in FAULT_KINDS if f.fault.delay == 0)
    report = run_load(commands=30, users=10, seconds=2.0, faults=quick, drain_timeout=90)
    assert report.correct, report.render()
    assert report.server_errors == 0 and not report.duplicates and not report.lost
    assert report.faults_left == 0  # every fault met a request
    assert report.dispatch_requests > report.runs_started  # some dispatches were looked for, then sent again


def test_the_command_line_prints_the_report() -> None:
    out = io.StringIO()
    assert main(["--commands", "6", "--users", "3", "--seconds", "0.5"], out=out) == 0
    text = out.getvalue()
    assert "ACK latency" in text and "p99" in text and "result: OK" in text


def test_serve_answers_without_waiting_on_nagle() -> None:
    """Headers and body are two writes: with Nagle on, a kept-alive answer waited ~40 ms for an ACK."""
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.create_connection(listener.getsockname()):
        accepted, _ = listener.accept()
        with accepted:
            handler = local_server._Handler.__new__(local_server._Handler)
            handler.request = accepted
            handler.setup()  # what the server does for each connection it accepts
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            handler.finish()


@pytest.mark.parametrize(
    ("kind", "link", "runs", "truthful"),
    [
        ("linked", RUN, [RUN], True),
        ("linked", OTHER_RUN, [RUN], False),  # someone else's run
        ("linked", RUN, [RUN, OTHER_RUN], False),  # dispatched twice
        ("started", None, [RUN], True),
        ("not started", None, [], True),
        ("not started", None, [RUN], False),
        ("unknown", None, [], True),
        ("unknown", None, [RUN], True),
        ("unknown", None, [RUN, OTHER_RUN], False),
        ("other", None, [], False),
    ],
)
def test_a_final_message_is_checked_against_the_runs(
    kind: str, link: str | None, runs: list[str], truthful: bool
) -> None:
    assert is_truthful(kind, link, runs) is truthful


def test_final_messages_are_told_apart() -> None:
    assert final_message({"content": "", "embeds": []}) is None  # still "thinking…"
    assert final_message({"embeds": [{"title": "/load · ⏳ queued", "url": RUN}]}) == ("linked", RUN)
    assert final_message({"embeds": [{"title": "/load · not started"}]}) == ("not started", None)
    assert final_message({"embeds": [{"title": "/load · unknown"}]}) == ("unknown", None)


def test_faults_are_spread_over_the_run() -> None:
    plan = spread(FAULT_KINDS, 90)
    assert sorted(plan) == [5 + 10 * i for i in range(len(FAULT_KINDS))]
    assert len(spread(FAULT_KINDS, 3)) == 3  # more faults than commands: several on one send
