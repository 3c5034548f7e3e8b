"""Audit tests run on every backend, through the state tests' fixtures."""

from tests.state.conftest import aws, backend, dynamodb_client, dynamodb_table  # noqa: F401
