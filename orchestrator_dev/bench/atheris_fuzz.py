"""Optional coverage-guided fuzzing with atheris (libFuzzer for Python), not part of the test run.

    pip install atheris
    python -m orchestrator_dev.bench.atheris_fuzz -runs=100000 [-max_len=65536] [corpus_dir]

Each input is signed as Discord or GitHub would sign it and sent to the endpoint below WebApp's
catch-all: as raw bytes (libFuzzer evolves the body itself), or as the seed of one case of the
mutational fuzzer (`orchestrator_dev.bench.fuzz`). An exception or a response of 500 or more is a crash.
"""

from __future__ import annotations

import random
import sys
from typing import Any

import atheris

with atheris.instrument_imports(include=["orchestrator"]):
    from orchestrator_dev.bench.fuzz_targets import INTERACTIONS, Case, FuzzTargets, logging_that_raises

_targets: FuzzTargets | None = None


def one_input(data: bytes) -> None:
    assert _targets is not None
    provider: Any = atheris.FuzzedDataProvider(data)
    mode = provider.ConsumeIntInRange(0, 2)
    if mode == 2:
        case = _targets.make_case(random.Random(provider.ConsumeInt(8)))  # noqa: S311 - test cases
    else:
        seed = next(s for s in _targets.seeds if (s.route == INTERACTIONS) == (mode == 0))
        body = provider.ConsumeBytes(provider.remaining_bytes())
        case = Case(seed.route, _targets.signed_headers(seed, body), body)
    status = _targets.run(case)
    if status >= 500:
        raise AssertionError(f"{case.route} answered {status}")


def main() -> None:
    global _targets  # noqa: PLW0603 - libFuzzer calls one_input with no state of its own
    with logging_that_raises():
        _targets = FuzzTargets()
        atheris.Setup(sys.argv, one_input)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
