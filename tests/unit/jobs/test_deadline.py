"""A lease taken inside a job lasts no longer than the job may: a crashed holder keeps no one out
past its deadline."""

from __future__ import annotations

import pytest

from orchestrator.jobs.deadline import job_deadline, lease_seconds


def test_outside_a_job_the_lease_is_the_longest() -> None:
    assert lease_seconds(180) == 180


def test_inside_a_job_the_lease_ends_with_it_never_below_a_second() -> None:
    with job_deadline(30):
        assert 29 < lease_seconds(180) <= 30
        assert lease_seconds(10) == 10
    with job_deadline(0.01):
        assert lease_seconds(180) == 1.0
    assert lease_seconds(180) == 180, "the job's deadline ends with the job"


def test_the_deadline_is_the_jobs_even_when_it_raises() -> None:
    with pytest.raises(RuntimeError), job_deadline(5):
        raise RuntimeError
    assert lease_seconds(180) == 180
