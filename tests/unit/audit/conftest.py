"""Audit tests: the state tests' backends, and the real local server of the run-tracking tests."""

from tests.unit.runs.conftest import commands_path, fast_backoff, live_factory  # noqa: F401
from tests.unit.state.conftest import aws, backend, dynamodb_client, dynamodb_table  # noqa: F401
