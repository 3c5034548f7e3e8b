"""Rate-limit tests run on every backend, through the state tests' fixtures."""

from tests.unit.state.conftest import aws, backend, dynamodb_client, dynamodb_table  # noqa: F401
