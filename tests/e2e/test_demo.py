"""The README's demo command, as a test: the whole flow must keep working end to end."""

from __future__ import annotations

import pytest

from orchestrator_dev.demo.endpoint import run_demo


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
        "source: text, required; suggests branches and tags",
        "next keystroke: ['main', 'maint/1.4']",
        "'source': 'main', 'version': '1.5.0', 'channel': 'stable'",
    ):
        assert expected in shown, expected


def test_the_gateway_demo_runs_to_the_end() -> None:
    from orchestrator_dev.demo.gateway import run_gateway_demo

    assert run_gateway_demo() == 0
