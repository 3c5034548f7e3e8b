"""The clients' tests drive the worker harness of tests/unit/jobs."""

from tests.unit.jobs.conftest import (  # noqa: F401
    commands_path,
    fake_discord,
    fake_github,
    fast_backoff,
    github_factory,
    make_harness,
    state,
)
