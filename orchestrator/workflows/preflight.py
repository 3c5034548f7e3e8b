"""The worker's checks between an accepted command and its dispatch, against the workflow as it is:

- a command with `options_from_workflow` gets its options derived (workflows/derive.py) and the
  user's values checked against them (the interactions function could only check their types);
- any command's inputs are compared with what the workflow declares (workflows/drift.py), and drift
  answered with the same line `validate --remote` prints, before GitHub's 422 "Unexpected inputs";
- a value offered by autocomplete from the repository's lists is checked against the list
  (autocomplete only suggests: Discord lets users send anything).

A hand-written command whose workflow cannot be read right now is dispatched unchecked (GitHub
still refuses a real mismatch, and dispatch/explain.py explains it); a derived one cannot be.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

from orchestrator.clients.github_errors import GitHubCircuitOpen, GitHubError, GitHubUnreachable
from orchestrator.commands.model import LISTED_SOURCES, CommandSpec, OptionValue
from orchestrator.discord.wire import MAX_CHOICE_CHARS
from orchestrator.dispatch.dispatcher import RetryLater
from orchestrator.dispatch.explain import UNREACHABLE, explain_circuit_open
from orchestrator.dispatch.inputs import InputsTooLarge, render_inputs
from orchestrator.interactions.options import check_options, invoked_options
from orchestrator.jobs.envelopes import Job
from orchestrator.observability.logging import get_logger
from orchestrator.workflows.cache import ListSource
from orchestrator.workflows.catalog import WorkflowCatalog, WorkflowUnavailable
from orchestrator.workflows.derive import DerivationError, derive_command
from orchestrator.workflows.drift import sent_drift

RECHECK_SECONDS = 5  # a value missing from a list older than this: the list is read again first
_SOURCE_WORDS = {"refs": "branch or tag", "branches": "branch", "tags": "tag", "environments": "environment"}


@dataclass(frozen=True)
class Refused:
    """Nothing may be dispatched; `reason` is for operators' alarms, `detail` for the user."""

    detail: str
    reason: str


class Preflight:
    def __init__(self, catalog: WorkflowCatalog, repository: str) -> None:
        self._catalog = catalog
        self._repository = repository

    def check(self, spec: CommandSpec, job: Job, *, final_attempt: bool) -> CommandSpec | Refused:
        """The command to dispatch (its options derived when they come from the workflow), or why not.
        Raises RetryLater when GitHub cannot be reached (as the dispatch itself would); on the final
        attempt a hand-written command goes on unchecked, for the dispatcher to say what happened."""
        if spec.options_from_workflow:
            return self._checked(spec, job, final_attempt=final_attempt)
        try:
            return self._checked(spec, job, final_attempt=final_attempt)
        except RetryLater:
            raise
        except Exception as exc:  # noqa: BLE001 - a check that fails must not stop a command that worked before it
            get_logger().warning("workflow not checked before dispatch", extra={"reason": type(exc).__name__})
            return spec

    def _checked(self, spec: CommandSpec, job: Job, *, final_attempt: bool) -> CommandSpec | Refused:
        name = spec.name
        if spec.workflow.isdigit():  # a workflow named by its id has no file path to read
            return self._check_listed(spec, job.invocation.options)
        try:
            trigger = self._catalog.trigger(spec.workflow, spec.ref)
        except GitHubCircuitOpen as exc:
            # Nothing sent: the dispatcher tells a hand-written command's user so at once, as usual.
            return Refused(explain_circuit_open(exc), "circuit_open") if spec.options_from_workflow else spec
        except GitHubUnreachable as exc:
            if not final_attempt:
                raise RetryLater(type(exc).__name__) from exc
            if spec.options_from_workflow:
                return Refused(UNREACHABLE, "unreachable")
            return spec
        except WorkflowUnavailable as exc:
            if spec.options_from_workflow:
                return Refused(
                    f"/{name} takes its options from its workflow, and {exc}. Nothing was started.", "workflow"
                )
            get_logger().warning("workflow not checked before dispatch", extra={"reason": str(exc)})
            return self._check_listed(spec, job.invocation.options)
        if spec.options_from_workflow:
            try:
                spec = derive_command(spec, trigger)
            except DerivationError as exc:
                return Refused(
                    f"/{name} cannot take its options from its workflow: {exc}. Nothing was started.", "workflow"
                )
            _, problems = check_options(spec, invoked_options(spec, job.invocation.options))
            if problems:
                return Refused(f"/{name} was not run: " + "; ".join(problems) + ". Nothing was started.", "invalid")
        try:
            inputs = render_inputs(spec, job)
        except InputsTooLarge:
            return spec  # the dispatcher says so, as before
        errors = sent_drift(spec, trigger, inputs)
        if errors:
            lines = "\n".join(f"- {found.problem}" for found in errors)
            return Refused(
                f"/{name} and its workflow disagree, so GitHub would refuse it:\n{lines}\nNothing was started. "
                "An operator can fix it: `python -m orchestrator validate --remote` lists every such problem.",
                "drift",
            )
        return self._check_listed(spec, job.invocation.options)

    def _check_listed(self, spec: CommandSpec, options: dict[str, OptionValue]) -> CommandSpec | Refused:
        for option in spec.options:
            value = options.get(option.name)
            if option.autocomplete not in LISTED_SOURCES or not isinstance(value, str) or len(value) > MAX_CHOICE_CHARS:
                continue  # a name over 100 characters is never listed (Discord could not offer it)
            source = cast(ListSource, option.autocomplete)
            try:
                listed = self._catalog.names(source)
                if value not in listed.names and listed.complete and time.time() - listed.fetched_at > RECHECK_SECONDS:
                    listed = self._catalog.refresh(source)  # made since the list was read?
            except GitHubError as exc:
                get_logger().warning("value not checked against its list", extra={"error": type(exc).__name__})
                continue
            if value not in listed.names and listed.complete:
                what = _SOURCE_WORDS[source]
                return Refused(
                    f"`{option.name}` must be a {what} of {self._repository}, and `{value}` is not one. "
                    "Nothing was started: pick one of the suggestions as you type.",
                    "invalid",
                )
        return spec
