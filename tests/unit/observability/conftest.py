"""Every observability test leaves the process as it found it: the default redactor, the log stream."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from orchestrator.observability.redaction import Redactor, install
from tests.unit.observability.support import capture_logs


@pytest.fixture(autouse=True)
def default_redactor() -> Iterator[None]:
    install(Redactor())
    yield
    install(Redactor())


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    with capture_logs() as stream:
        yield stream
