"""Suggestions as the user types (Discord's APPLICATION_COMMAND_AUTOCOMPLETE, answered with type 8).

Discord allows no deferring here and waits 3 seconds, and a keystroke is no place for GitHub: the
answer comes from the state store's cache (one read; a command whose options come from its workflow
reads the workflow's entry too, at most once a minute per instance), which the worker fills
(workflows/catalog.py). A list older than a minute is still used,
and a refresh queued: at most one per list per minute, whatever the number of instances and users.
Nothing here ever fails: an empty or cold cache suggests what was typed, as the single choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from orchestrator.commands.model import CommandSpec, OptionSpec
from orchestrator.discord.outbound import choices
from orchestrator.discord.wire import MAX_CHOICE_CHARS, MAX_CHOICES
from orchestrator.interactions.payload import Caller, Interaction
from orchestrator.jobs.envelopes import RefreshCache
from orchestrator.observability.logging import get_logger
from orchestrator.queues.base import JobQueue, send_best_effort
from orchestrator.state.caches import CacheStore
from orchestrator.workflows.cache import (
    LIST_FRESH_SECONDS,
    REFRESH_CLAIM_SECONDS,
    WORKFLOW_FRESH_SECONDS,
    cached_names,
    cached_trigger,
    list_key,
    workflow_key,
)
from orchestrator.workflows.derive import DerivationError, derive_command

WORKFLOW_MEMO_SECONDS = 60


def ranked(names: Iterable[str], typed: str, limit: int = MAX_CHOICES) -> list[str]:
    """The names containing what was typed (any case): those starting with it first, each group in
    the list's own order (most recently updated first, where GitHub says)."""
    wanted = typed.casefold()
    starts: list[str] = []
    contains: list[str] = []
    for name in names:
        if len(name) > MAX_CHOICE_CHARS:
            continue  # Discord would refuse the whole answer
        folded = name.casefold()
        if folded.startswith(wanted):
            starts.append(name)
            if len(starts) == limit:
                break
        elif wanted in folded and len(contains) < limit:
            contains.append(name)
    return (starts + contains)[:limit]


class Suggestions:
    def __init__(
        self, caches: CacheStore, queue: JobQueue, repository: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._caches = caches
        self._queue = queue
        self._repository = repository
        self._clock = clock
        # When this process last asked for each refresh: a stale list is not claimed on every keystroke.
        self._asked: dict[str, float] = {}
        self._workflows: dict[str, tuple[float, CommandSpec]] = {}  # derived commands, by name, and when

    def answer(self, interaction: Interaction, caller: Caller, spec: CommandSpec | None) -> dict[str, Any]:
        focused = next((option for option in interaction.options if option.focused), None)
        if focused is None:
            return choices([])
        typed = str(focused.value or "").strip()[:MAX_CHOICE_CHARS]
        echo = [typed] if typed else []
        if spec is None:
            return choices(echo)  # a command since removed: running it says so
        if spec.allow is not None and not spec.allow.permits(caller.user_id, caller.roles):
            return choices([])  # no peek at the repository for someone who may not run it
        try:
            option = self._option(spec, focused.name)
            if option is None or option.autocomplete is None:
                return choices(echo)
            if option.autocomplete == "choices":
                return choices(ranked((str(choice) for choice in option.choices), typed))
            key = list_key(self._repository, option.autocomplete)
            listed = cached_names(self._caches.get(key))
            if listed is None or self._clock() - listed.fetched_at >= LIST_FRESH_SECONDS:
                self._refresh(key, RefreshCache(option.autocomplete))
            found = ranked(listed.names, typed) if listed is not None else []
        except Exception as exc:  # noqa: BLE001 - the state store's errors included: a suggestion never fails
            get_logger().warning("suggestions from what was typed only", extra={"error": type(exc).__name__})
            return choices(echo)
        return choices(found or echo)

    def _option(self, spec: CommandSpec, name: str) -> OptionSpec | None:
        if not spec.options_from_workflow:
            return spec.option(name)
        derived = self._derived(spec)
        if derived is None:
            # Not read yet: an `options:` entry of the file may already say where its suggestions come from.
            override = next((o for o in spec.overrides if o.autocomplete and o.name.lower() == name), None)
            return OptionSpec(name, "string", "", autocomplete=override.autocomplete) if override else None
        return derived.option(name)

    def _derived(self, spec: CommandSpec) -> CommandSpec | None:
        """The command as its cached workflow makes it, kept in this process for a minute: a workflow
        changes rarely, and one keystroke then costs one read (its list's), not two."""
        now = self._clock()
        kept = self._workflows.get(spec.name)
        if kept is not None and now - kept[0] < WORKFLOW_MEMO_SECONDS:
            return kept[1]
        key = workflow_key(self._repository, spec.workflow, spec.ref)
        entry = self._caches.get(key)
        trigger = cached_trigger(entry)
        if entry is None or trigger is None or now - entry.fetched_at >= WORKFLOW_FRESH_SECONDS:
            self._refresh(key, RefreshCache("workflow", spec.workflow, spec.ref))
        try:
            derived = derive_command(spec, trigger) if trigger is not None else None
        except DerivationError:
            derived = None
        if derived is not None:
            self._workflows[spec.name] = (now, derived)
        return derived

    def _refresh(self, key: str, request: RefreshCache) -> None:
        now = self._clock()
        if now - self._asked.get(key, float("-inf")) < REFRESH_CLAIM_SECONDS:
            return
        self._asked[key] = now
        if self._caches.claim_refresh(key, now=now, interval=REFRESH_CLAIM_SECONDS):
            send_best_effort(self._queue, request.to_message(), what="refresh")
