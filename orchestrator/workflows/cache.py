"""The state store's cache entries of what the worker reads from GitHub (workflows/catalog.py),
as both sides read them: their keys, freshness and bodies. No GitHub client here: the interactions
function imports this on its cold path (interactions/autocomplete.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from orchestrator.serialization import loads
from orchestrator.state.caches import Cached
from orchestrator.workflows.dispatch_inputs import DispatchTrigger

WORKFLOW_FRESH_SECONDS = 5 * 60  # a workflow's inputs are read from GitHub at most this often
LIST_FRESH_SECONDS = 60  # a list older than this is refreshed when someone is suggested from it
REFRESH_CLAIM_SECONDS = 60  # at most one refresh of each list (or workflow) queued per minute
# The sources kept in the cache ("choices" never is: an option's own choices are in the commands file).
ListSource = Literal["refs", "branches", "tags", "environments"]


def workflow_key(repository: str, workflow: str, ref: str) -> str:
    return f"workflow#{repository}#{workflow}#{ref}"


def list_key(repository: str, source: str) -> str:
    return f"list#{repository}#{source}"


@dataclass(frozen=True)
class CachedNames:
    names: tuple[str, ...]
    complete: bool  # every name GitHub has (False: the paging budget ran out first)
    fetched_at: float


def cached_trigger(entry: Cached | None) -> DispatchTrigger | None:
    """The workflow's inputs as cached; None when there are none (or the entry is not one we wrote)."""
    if entry is None:
        return None
    try:
        return DispatchTrigger.from_json(loads(entry.body))
    except (KeyError, TypeError, ValueError):
        return None


def cached_names(entry: Cached | None) -> CachedNames | None:
    if entry is None:
        return None
    try:
        body: Any = loads(entry.body)
        names = tuple(name for name in body["names"] if isinstance(name, str))
        return CachedNames(names, body["complete"] is True, entry.fetched_at)
    except (KeyError, TypeError, ValueError):
        return None
