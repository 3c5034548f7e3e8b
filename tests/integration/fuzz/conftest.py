"""The fuzz targets, seeded with GitHub's real workflow_run deliveries besides the built-in seeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator_dev.bench.fuzz_targets import REPOSITORY, FuzzTargets, logging_that_raises
from tests.unit.runs import payloads


def vendored_deliveries() -> list[dict[str, Any]]:
    return [
        payloads.for_run(name, 16_000_000_100 + n, REPOSITORY) for n, name in enumerate(payloads.WORKFLOW_RUN_FILES)
    ]


@pytest.fixture(scope="module")
def targets() -> Iterator[FuzzTargets]:
    """One set of endpoints per module, logging at INFO to nowhere; a failure to log raises."""
    with logging_that_raises():
        yield FuzzTargets(vendored_deliveries())
