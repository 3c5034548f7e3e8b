"""The long-form fuzzer: seeded mutational fuzzing of POST /interactions and POST /github/webhook.

    python -m orchestrator_dev.bench.fuzz --cases 100000 [--seed 1]

Every case is a real payload (a slash command, a button press, a PING, a workflow_run delivery),
mutated and, mostly, validly signed, so that it gets past the signature check to the parsers and
validators. The goal: no response of 500 or more, and no exception, ever. The same seed gives
the same cases (the keys and timestamps differ, the payloads do not).
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator_dev.bench.fuzz_targets import Case, FuzzTargets, logging_that_raises

MAX_FINDINGS_KEPT = 20


@dataclass(frozen=True)
class Finding:
    """A case that got a 5xx or raised: enough to reproduce it."""

    index: int
    problem: str
    case: Case = field(repr=False)


@dataclass(frozen=True)
class FuzzReport:
    cases: int
    seconds: float
    by_status_class: dict[str, int]  # "2xx", "4xx", "5xx", ...
    exceptions: int
    findings: tuple[Finding, ...]  # the first few

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        return self.by_status_class.get("5xx", 0)

    @property
    def clean(self) -> bool:
        return self.exceptions == 0 and self.server_errors == 0

    def lines(self) -> list[str]:
        statuses = ", ".join(f"{name}: {count}" for name, count in sorted(self.by_status_class.items()))
        lines = [
            f"cases: {self.cases} in {self.seconds:.1f} s ({self.cases_per_second:,.0f} cases/s)",
            f"responses: {statuses}",
            f"exceptions: {self.exceptions}",
            f"verdict: {'clean' if self.clean else 'FINDINGS'} (goal: 0 responses >= 500, 0 exceptions)",
        ]
        lines.extend(f"  case {f.index} ({f.case.route}): {f.problem}" for f in self.findings)
        return lines


def run_fuzz(cases: int, seed: int, *, webhook_payloads: Sequence[Mapping[str, Any]] = ()) -> FuzzReport:
    """Run `cases` cases from `seed`; `webhook_payloads` adds workflow_run seeds (real deliveries)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible cases, not secrets
    statuses: collections.Counter[str] = collections.Counter()
    exceptions = 0
    findings: list[Finding] = []
    with logging_that_raises():
        targets = FuzzTargets(webhook_payloads)
        started = time.perf_counter()
        for index in range(cases):
            case = targets.make_case(rng)
            try:
                status = targets.run(case)
            except Exception as exc:  # noqa: BLE001 - every exception is what we are looking for
                exceptions += 1
                problem = f"{type(exc).__name__}: {str(exc)[:200]} at {_raised_at(exc)}"
            else:
                statuses[f"{status // 100}xx"] += 1
                if status < 500:
                    continue
                problem = f"status {status}"
            if len(findings) < MAX_FINDINGS_KEPT:
                findings.append(Finding(index, problem, case))
        seconds = time.perf_counter() - started
    return FuzzReport(cases, seconds, dict(statuses), exceptions, tuple(findings))


def _raised_at(exc: Exception) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{Path(frame.filename).name}:{frame.lineno}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrator_dev.bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report = run_fuzz(args.cases, args.seed)
    print("\n".join(report.lines()))
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
