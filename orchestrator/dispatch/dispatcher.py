"""Dispatch a job's workflow exactly once, and find its run.

GitHub's dispatch is not idempotent: after a timeout or 5xx it is unknown
whether a run started. We never resend blindly: we look for the run by the
correlation id the command sends (its trace id, echoed in the workflow's
run-name) first, and only resend once we have looked and found nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from orchestrator.clients.github_api import GitHubClient, RunRef
from orchestrator.clients.github_errors import (
    AmbiguousRun,
    GitHubCircuitOpen,
    GitHubError,
    GitHubOutcomeUnknown,
    GitHubRateLimited,
    GitHubRejected,
    GitHubUnreachable,
    ReturnRunDetailsUnsupported,
)
from orchestrator.commands.model import CommandSpec
from orchestrator.dispatch.explain import (
    UNREACHABLE,
    explain_circuit_open,
    explain_rate_limit,
    explain_rejection,
    explain_unknown,
)
from orchestrator.dispatch.inputs import InputsTooLarge, correlation_input, render_inputs
from orchestrator.dispatch.outcome import DispatchOutcome
from orchestrator.jobs.envelopes import Job
from orchestrator.observability.logging import get_logger
from orchestrator.state.jobs import JobRecord, JobStore


class RetryLater(Exception):
    """Nothing conclusive happened; the queue should deliver the job again later."""


class RunLookupFailed(Exception):
    """Every attempt to list runs failed: whether our run exists is unknown."""


# Clocks differ and `created` has one-second resolution: look a little before we sent.
CLOCK_SKEW = timedelta(seconds=60)
NO_LINK = "The workflow was started, but GitHub did not say which run it is, so there is no link."


class Dispatcher:
    def __init__(
        self,
        github: GitHubClient,
        jobs: JobStore,
        repository: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        find_attempts: int = 5,
        find_interval_seconds: float = 2.0,
    ) -> None:
        self._github = github
        self._jobs = jobs
        self.repository = repository
        self._clock = clock
        self._sleep = sleep
        self._find_attempts = find_attempts
        self._find_interval = find_interval_seconds

    def dispatch(self, job: Job, spec: CommandSpec, record: JobRecord, *, final_attempt: bool) -> DispatchOutcome:
        """Dispatch once and say what happened. Raises RetryLater when a later attempt may know
        more (GitHub unreachable, or its run list failing); on the final attempt, says so instead."""
        try:
            return self._dispatch(job, spec, record)
        except GitHubCircuitOpen as exc:
            if record.dispatch_attempted_at is None:
                # Nothing was ever sent for this job, so "nothing started" is the truth, and now.
                get_logger().warning("GitHub calls paused: dispatch refused", extra={"retry_in": round(exc.retry_in)})
                return DispatchOutcome("rejected", detail=explain_circuit_open(exc), reason="circuit_open")
            # An earlier attempt reached GitHub: only a later look can tell whether its run exists.
            if not final_attempt:
                raise RetryLater(type(exc).__name__) from exc
            return DispatchOutcome("unknown", detail=explain_unknown(self.repository))
        except (GitHubUnreachable, RunLookupFailed) as exc:
            if not final_attempt:
                raise RetryLater(type(exc).__name__) from exc
            get_logger().error("GitHub unreachable on the last attempt", extra={"reason": type(exc).__name__})
            if record.dispatch_attempted_at is not None:
                # An earlier attempt did reach GitHub: its run may exist, so "nothing started" would be a lie.
                return DispatchOutcome("unknown", detail=explain_unknown(self.repository))
            return DispatchOutcome("rejected", detail=UNREACHABLE, reason="unreachable")

    def _dispatch(self, job: Job, spec: CommandSpec, record: JobRecord) -> DispatchOutcome:
        try:
            inputs = render_inputs(spec, job)
        except InputsTooLarge as exc:
            return DispatchOutcome("rejected", detail=f"/{spec.name} was not started: {exc}.")
        correlation = job.invocation.trace_id if correlation_input(spec) else None
        if record.dispatch_attempted_at is not None:
            # An earlier attempt died after sending (or while): its run may exist.
            get_logger().warning("earlier dispatch attempt found, looking for its run first")
            if correlation is None:
                return DispatchOutcome("unknown", detail=explain_unknown(self.repository))
            found = self._find(spec.workflow, correlation, record.dispatch_attempted_at)
            if found is not None:
                return _dispatched(found)
        first_attempt = record.dispatch_attempted_at is None
        if first_attempt:
            # Only the first attempt's time is kept: it bounds every later search for the run.
            self._mark_attempt(record, self._clock())
        try:
            return self._send_and_locate(spec, inputs, correlation, record)
        except GitHubOutcomeUnknown as exc:
            get_logger().warning("dispatch outcome unknown", extra={"reason": str(exc)})
            if correlation is None:
                return DispatchOutcome("unknown", detail=explain_unknown(self.repository))
            found = self._find(spec.workflow, correlation, record.dispatch_attempted_at or self._clock())
            if found is not None:
                return _dispatched(found)
            # We looked and no run carries our id: sending again is no longer blind.
            try:
                return self._send_and_locate(spec, inputs, correlation, record)
            except GitHubOutcomeUnknown:
                return DispatchOutcome("unknown", detail=explain_unknown(self.repository))
        except GitHubUnreachable:
            if first_attempt:
                self._mark_attempt(record, None)  # this attempt never reached GitHub
            raise

    def _send_and_locate(
        self, spec: CommandSpec, inputs: dict[str, str], correlation: str | None, record: JobRecord
    ) -> DispatchOutcome:
        try:
            try:
                run = self._github.dispatch_workflow(spec.workflow, spec.ref, inputs, return_run_details=True)
            except ReturnRunDetailsUnsupported:
                get_logger().info("GitHub does not return run details (Enterprise Server?): finding the run")
                run = self._github.dispatch_workflow(spec.workflow, spec.ref, inputs, return_run_details=False)
        except GitHubRejected as exc:
            get_logger().warning("dispatch rejected", extra={"status": exc.status, "reason": exc.message})
            return DispatchOutcome(
                "rejected", detail=explain_rejection(exc, spec, self.repository), reason=f"github_{exc.status}"
            )
        except GitHubRateLimited as exc:
            get_logger().warning("dispatch rate limited", extra={"retry_after": exc.retry_after_seconds})
            return DispatchOutcome("rejected", detail=explain_rate_limit(exc), reason="rate_limited")
        if run is None and correlation is not None:
            try:
                run = self._find(spec.workflow, correlation, record.dispatch_attempted_at or self._clock())
            except RunLookupFailed:
                run = None  # the dispatch itself was accepted: report it without a link
        return _dispatched(run) if run is not None else DispatchOutcome("dispatched", detail=NO_LINK)

    def find_earlier(self, job: Job, record: JobRecord, workflow: str, *, final_attempt: bool) -> DispatchOutcome:
        """An earlier attempt reached GitHub, and the command may not be sent again: its run when one
        carries the trace id, else "unknown" (it may have started). RetryLater while nothing can tell."""
        try:
            found = self._find(workflow, job.invocation.trace_id, record.dispatch_attempted_at or self._clock())
        except RunLookupFailed as exc:
            if not final_attempt:
                raise RetryLater(type(exc).__name__) from exc
            found = None
        return _dispatched(found) if found else DispatchOutcome("unknown", detail=explain_unknown(self.repository))

    def _find(self, workflow: str, correlation: str, since: float) -> RunRef | None:
        """The run carrying `correlation`, None when GitHub listed runs and none was ours, or
        RunLookupFailed when no listing succeeded (which proves nothing either way)."""
        created_since = datetime.fromtimestamp(since, UTC) - CLOCK_SKEW
        listed = False
        for attempt in range(self._find_attempts):
            if attempt:
                self._sleep(self._find_interval)
            try:
                run = self._github.find_dispatched_run(workflow, correlation, created_since)
            except GitHubCircuitOpen as exc:
                raise RunLookupFailed("GitHub calls paused") from exc  # waiting here is what the breaker prevents
            except AmbiguousRun as exc:
                # Taking either could link (or re-dispatch past) someone else's run: proves nothing.
                get_logger().warning("looking for the run found several", extra={"reason": str(exc)})
                raise RunLookupFailed(str(exc)) from exc
            except GitHubError as exc:
                get_logger().warning("looking for the run failed", extra={"reason": type(exc).__name__})
                continue
            if run is not None:
                return run
            listed = True
        if not listed:
            raise RunLookupFailed("no run listing succeeded")
        return None

    def _mark_attempt(self, record: JobRecord, when: float | None) -> None:
        record.dispatch_attempted_at = when
        record.updated_at = self._clock()
        self._jobs.put(record)


def _dispatched(run: RunRef) -> DispatchOutcome:
    return DispatchOutcome("dispatched", run_id=run.run_id, html_url=run.html_url)
