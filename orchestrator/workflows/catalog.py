"""What the commands need to know of the repository, read from GitHub by the worker and kept in the
state store's cache: each workflow's `workflow_dispatch` inputs (read again at most every 5 minutes,
with the ETag, so an unchanged file costs GitHub nothing), and the branch, tag and environment lists
autocomplete suggests from (the interactions function reads them from the cache, never from GitHub).

Everything is redacted before it is kept: a branch whose name reads as a secret is not offered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from orchestrator.clients.github_api import GitHubClient, ListKind, NameList
from orchestrator.clients.github_errors import GitHubError, GitHubRejected, GitHubUnreachable
from orchestrator.observability.logging import get_logger
from orchestrator.observability.redaction import active_redactor
from orchestrator.serialization import dumps_text
from orchestrator.state.caches import Cached, CacheStore
from orchestrator.workflows.cache import (
    LIST_FRESH_SECONDS,
    WORKFLOW_FRESH_SECONDS,
    CachedNames,
    ListSource,
    cached_names,
    cached_trigger,
    list_key,
    workflow_key,
)
from orchestrator.workflows.dispatch_inputs import DispatchTrigger, WorkflowFileError, read_dispatch_trigger

# Paging through a repository's lists: a page is 100 names, and the whole read has a time budget.
LIST_PAGES: dict[str, int] = {"branches": 20, "tags": 10, "environments": 3}
LIST_TIME_BUDGET_SECONDS = 8.0


class WorkflowUnavailable(Exception):
    """The workflow's inputs cannot be known; the message says why, for the user and the operator."""


class WorkflowCatalog:
    """The worker's reads, through the cache."""

    def __init__(
        self, github: GitHubClient, caches: CacheStore, repository: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._github = github
        self._caches = caches
        self._repository = repository
        self._clock = clock

    def trigger(self, workflow: str, ref: str) -> DispatchTrigger:
        """The workflow's inputs at `ref`: from the cache when read in the last 5 minutes, else from
        GitHub (304 when unchanged). GitHub failing with a cached copy: the copy, however old."""
        key = workflow_key(self._repository, workflow, ref)
        entry = self._get(key)
        kept = cached_trigger(entry)
        now = self._clock()
        if entry is not None and kept is not None and now - entry.fetched_at < WORKFLOW_FRESH_SECONDS:
            return kept
        where = f"{workflow} at {ref} in {self._repository}"
        try:
            file = self._github.workflow_file(workflow, ref, etag=entry.etag if kept is not None and entry else None)
        except GitHubRejected as exc:
            if exc.status == 404:
                raise WorkflowUnavailable(
                    f"{where} was not found (no such file on that branch or tag): an operator should check the "
                    "command's `workflow:` and `ref:`"
                ) from exc
            if exc.status in (401, 403):
                raise WorkflowUnavailable(
                    f"GitHub would not let the bot read {where} ({exc.status}): its token needs Contents: read"
                ) from exc
            raise WorkflowUnavailable(f"GitHub refused to return {where} ({exc.status})") from exc
        except GitHubUnreachable:
            if kept is not None:
                return kept
            raise  # as the dispatch would: the queue tries again later
        except GitHubError as exc:
            if kept is not None:
                get_logger().warning(
                    "workflow not read again, the cached copy used", extra={"error": type(exc).__name__}
                )
                return kept
            raise WorkflowUnavailable(
                f"GitHub did not return {where} ({type(exc).__name__}): try again shortly"
            ) from exc
        if file.text is None and kept is not None:
            trigger = kept
        else:
            try:
                trigger = read_dispatch_trigger(file.text or "")
            except WorkflowFileError as exc:
                raise WorkflowUnavailable(f"{where} cannot be read as a workflow: {exc}") from exc
        self._put(key, Cached(dumps_text(_kept_form(trigger)), now, file.etag))
        return trigger

    def names(self, source: ListSource, *, max_age: float = LIST_FRESH_SECONDS) -> CachedNames:
        """The list, from the cache when younger than `max_age`, else read from GitHub and kept."""
        entry = cached_names(self._get(list_key(self._repository, source)))
        if entry is not None and self._clock() - entry.fetched_at < max_age:
            return entry
        return self.refresh(source)

    def refresh(self, source: ListSource) -> CachedNames:
        """Read the list from GitHub within its budget (pages, seconds) and keep it."""
        started = time.monotonic()
        kinds: tuple[ListKind, ...] = ("branches", "tags") if source == "refs" else (source,)
        names: list[str] = []
        complete = True
        for kind in kinds:
            left = LIST_TIME_BUDGET_SECONDS - (time.monotonic() - started)
            listed: NameList = self._github.list_names(kind, max_pages=LIST_PAGES[kind], time_budget=max(left, 0.0))
            names += listed.names
            complete = complete and listed.complete
        if source != "environments":  # GitHub lists refs by name: the recently updated go first
            names = self._recent_first(names, kinds)
        redactor = active_redactor()
        kept = tuple(dict.fromkeys(name for name in names if redactor.text(name) == name))
        # A name left out (it reads as a secret) still exists: the list no longer says what does not.
        complete = complete and len(kept) == len(dict.fromkeys(names))
        now = self._clock()
        body = dumps_text({"names": list(kept), "complete": complete})
        self._put(list_key(self._repository, source), Cached(body, now))
        get_logger().info(
            "list refreshed",
            extra={
                "source": source,
                "names": len(kept),
                "complete": complete,
                "ms": round((time.monotonic() - started) * 1000),
            },
        )
        return CachedNames(kept, complete, now)

    def _recent_first(self, names: list[str], kinds: tuple[ListKind, ...]) -> list[str]:
        """The refs GitHub's activity shows updated lately, newest first, then the rest as listed;
        as listed when the activity cannot be read (GitHub Enterprise Server before 3.10, say)."""
        try:
            recent = self._github.recently_updated_refs()
        except GitHubError as exc:
            get_logger().info("ref activity not read: refs in GitHub's order", extra={"error": type(exc).__name__})
            return names
        prefixes = tuple(f"refs/{'heads' if kind == 'branches' else 'tags'}/" for kind in kinds)
        listed = set(names)
        first = [ref.split("/", 2)[2] for ref in recent if ref.startswith(prefixes)]
        first = [name for name in dict.fromkeys(first) if name in listed]
        chosen = set(first)
        return first + [name for name in names if name not in chosen]

    def _get(self, key: str) -> Cached | None:
        """The cache failing is a miss: GitHub is asked instead."""
        try:
            return self._caches.get(key)
        except Exception as exc:  # noqa: BLE001 - any store error; the read goes to GitHub
            get_logger().warning("cache not read", extra={"error": type(exc).__name__})
            return None

    def _put(self, key: str, entry: Cached) -> None:
        try:
            self._caches.put(key, entry)
        except Exception as exc:  # noqa: BLE001 - not kept this time; read from GitHub again next time
            get_logger().warning("cache not written", extra={"error": type(exc).__name__})


def _kept_form(trigger: DispatchTrigger) -> dict[str, Any]:
    """What the cache keeps: the free text (descriptions, defaults) redacted; the names, types and
    options as written, since they are what GitHub compares a dispatch with."""
    redactor = active_redactor()
    kept = trigger.to_json()
    for declared in kept["inputs"]:
        declared["description"] = redactor.text(declared["description"])
        if declared["default"] is not None:
            declared["default"] = redactor.text(declared["default"])
    if kept["run_name"] is not None:
        kept["run_name"] = redactor.text(kept["run_name"])
    return kept
