"""Run and step durations as the messages show them: 45s, 1m 12s, 2h 05m."""

from __future__ import annotations

from orchestrator.runs.model import seconds_between


def duration_between(start: str | None, end: str | None) -> str | None:
    return format_seconds(seconds_between(start, end))


def format_seconds(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
