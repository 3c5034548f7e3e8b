"""Every observability test leaves the process as it found it: the default redactor, the log stream."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from orchestrator.observability.redaction import Redactor, install


@pytest.fixture(autouse=True)
def default_redactor() -> Iterator[None]:
    install(Redactor())
    yield
    install(Redactor())


@pytest.fixture
def logs(log_stream: io.StringIO) -> io.StringIO:
    """Every line our logger writes during the test (DEBUG and up): the observability tests' capture."""
    return log_stream
