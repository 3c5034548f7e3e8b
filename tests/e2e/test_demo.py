"""The README's demo command, as a test: the whole flow must keep working end to end."""

from __future__ import annotations

import pytest

from orchestrator.devtools.demo import run_demo


def test_the_demo_plays_the_whole_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo() == 0
    shown = capsys.readouterr().out
    for expected in (
        "forged → 401",
        "🔄 in progress",
        "✅ succeeded",
        "Confirmed: starting /deploy",
        "⏹ cancelled by Alice",
        "The ops channel got 1 alert",
        "**/deploy**",
        "Only Bob sees: Slow down",
        "run_cancelled",
    ):
        assert expected in shown, expected
