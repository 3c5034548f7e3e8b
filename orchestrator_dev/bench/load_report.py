"""What the load test saw, checked: answers, dispatches per command, and each user's final message."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ACK_DEADLINE_SECONDS = 3.0  # Discord drops an interaction not answered within this
DEFERRED = 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE


@dataclass
class Sent:
    """One interaction the load test sent, and what came back."""

    interaction_id: str
    token: str
    due: float  # seconds after the start, by the schedule
    lag: float = 0.0  # how late the send began against the schedule
    latency: float | None = None  # seconds from sending to the full answer
    status: int | None = None
    answer_type: int | None = None
    error: str | None = None  # the transport error's type when no answer came
    sent_at: float = 0.0  # wall clock, to compare with the stand-in Discord's edit timestamps


def final_message(message: Mapping[str, Any] | None) -> tuple[str, str | None] | None:
    """The kind of a deferred message's final edit and its run link; None while none has come.

    Kinds: `linked` (the run's button), `started` (no link), `not started`, `unknown`, `other`.
    """
    embeds = (message or {}).get("embeds") or []
    if not embeds:
        return None
    embed = embeds[0]
    if embed.get("url"):
        return "linked", str(embed["url"])
    title = str(embed.get("title", ""))
    for suffix in ("not started", "unknown", "started"):
        if title.endswith(f" · {suffix}"):
            return suffix, None
    return "other", None


def first_final_edit_at(history: Sequence[Mapping[str, Any]]) -> float | None:
    """When (wall clock) a message's first final edit landed, from the stand-in Discord's history."""
    for version in history:
        stamp = version.get("edited_timestamp")
        if stamp and final_message(version) is not None:
            return datetime.fromisoformat(str(stamp)).timestamp()
    return None


def is_truthful(kind: str, link: str | None, runs: Sequence[str]) -> bool:
    """Does a final message of this kind agree with the runs (their links) its command started?"""
    if kind == "linked":
        return list(runs) == [link]
    if kind == "started":
        return len(runs) == 1
    if kind == "not started":
        return not runs
    if kind == "unknown":
        return len(runs) <= 1  # "may or may not have started": true either way, but never twice
    return False


@dataclass(frozen=True)
class LoadReport:
    commands: int
    users: int
    seconds: float
    faults: tuple[str, ...]  # labels of the faults injected
    latencies: tuple[float, ...]  # seconds, of every answered request
    to_final: tuple[float, ...]  # seconds from sending to the message's first final edit
    statuses: Mapping[int, int]  # HTTP status → how many answers had it
    wrong_answers: int  # answered, but not 200 with a deferred (type 5) reply
    unanswered: int  # no answer at all (timeout, reset)
    late: int  # answered after Discord's 3 s deadline
    max_send_lag: float
    dispatch_requests: int
    runs_started: int
    outcomes: Mapping[str, int]  # final message kind → how many
    unknown_with_run: int  # of the "may or may not have started", how many did start a run
    duplicates: tuple[str, ...]  # interaction ids with more than one run
    missing: tuple[str, ...]  # without faults: interaction ids that did not get exactly their one run
    lost: tuple[str, ...]  # interaction ids without a final message that tells the truth
    drain_seconds: float | None  # last answer → last final message; None: not within the bound
    faults_left: int  # injected but never triggered
    log_levels: Mapping[str, int]  # the server's log lines by level
    log_problems: Mapping[str, int]  # its warning and error lines: "level: message" → how many
    secret_in_log: bool

    @property
    def ack_latency(self) -> Percentiles | None:
        """Seconds from sending to the answer; None when nothing was answered."""
        return Percentiles.of(self.latencies)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def correct(self) -> bool:
        """No 5xx, every request answered type 5, no duplicate, nothing missing or lost: speed aside."""
        return not self.violations(include_deadline=False)

    @property
    def ok(self) -> bool:
        return not self.violations()

    def violations(self, *, include_deadline: bool = True) -> list[str]:
        found = [
            f"{self.server_errors} answers were 5xx" if self.server_errors else "",
            f"{self.wrong_answers} answers were not 200 type 5" if self.wrong_answers else "",
            f"{self.unanswered} requests got no answer" if self.unanswered else "",
            f"{len(self.duplicates)} commands were dispatched more than once" if self.duplicates else "",
            f"{len(self.missing)} commands did not get exactly their one run" if self.missing else "",
            f"{len(self.lost)} commands got no truthful final message" if self.lost else "",
            "the worker did not finish within the bound" if self.drain_seconds is None else "",
            "a secret appeared in the server's log" if self.secret_in_log else "",
        ]
        if include_deadline and self.late:
            found.append(f"{self.late} answers came after Discord's {ACK_DEADLINE_SECONDS:g} s deadline")
        return [line for line in found if line]

    def render(self) -> str:
        answered = sum(self.statuses.values())
        linked = self.outcomes.get("linked", 0)
        others = ", ".join(f"{count} {kind}" for kind, count in sorted(self.outcomes.items()) if kind != "linked")
        if self.outcomes.get("unknown"):
            others += f" ({self.unknown_with_run} of them did start their run)"
        drain = "not within the bound" if self.drain_seconds is None else f"{self.drain_seconds:.1f} s"
        levels = ", ".join(f"{count} {level}" for level, count in sorted(self.log_levels.items()))
        problems = self.violations()
        return "\n".join(
            [
                f"Load test: {self.commands} signed commands from {self.users} users over {self.seconds:g} s, "
                "open-loop, against `python -m orchestrator serve` (its own process, loopback)",
                f"  faults injected: {len(self.faults)}"
                + "".join(f"\n    {count} × {label}" for label, count in Counter(self.faults).items()),
                f"  ACK latency (send → answer), {len(self.latencies)} answers: {distribution(self.latencies)}",
                f"  answers: {answered - self.wrong_answers} × 200 type 5 · {self.server_errors} × 5xx · "
                f"{self.wrong_answers} other · {self.unanswered} unanswered · "
                f"{self.late} after {ACK_DEADLINE_SECONDS:g} s",
                f"  sending: at most {_ms(self.max_send_lag)} behind schedule",
                f"  GitHub: {self.dispatch_requests} dispatch requests · {self.runs_started} runs started · "
                f"{len(self.duplicates)} commands with more than one run · {len(self.missing)} missing",
                f"  Discord: {linked} final messages with the run's link"
                + (f", {others}" if others else "")
                + f" · {len(self.lost)} lost",
                f"  final message after sending: {distribution(self.to_final)}",
                f"  drain: {drain} from the last answer until every message was final"
                + (f" · {self.faults_left} faults never triggered" if self.faults_left else ""),
                f"  server log: {levels or 'empty'}"
                + "".join(f"\n    {count} × {line}" for line, count in sorted(self.log_problems.items())),
                "  result: " + ("OK" if not problems else "FAILED: " + "; ".join(problems)),
            ]
        )


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles | None:
        if not values:
            return None
        cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
        return cls(cuts[49], cuts[94], cuts[98], max(values))


def distribution(values: Sequence[float]) -> str:
    """p50, p95, p99 and max of durations in seconds, in milliseconds."""
    cuts = Percentiles.of(values)
    if cuts is None:
        return "none"
    return f"p50 {_ms(cuts.p50)} · p95 {_ms(cuts.p95)} · p99 {_ms(cuts.p99)} · max {_ms(cuts.max)}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
