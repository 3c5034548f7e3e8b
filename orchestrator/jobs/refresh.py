"""A list (or a derived command's workflow) that autocomplete found older than a minute, read
again into the cache (workflows/catalog.py)."""

from __future__ import annotations

from typing import cast

from orchestrator.jobs.envelopes import RefreshCache
from orchestrator.observability.logging import get_logger
from orchestrator.workflows.cache import ListSource
from orchestrator.workflows.catalog import WorkflowCatalog


def refresh_cache(message: RefreshCache, catalog: WorkflowCatalog) -> None:
    """Best effort, never retried by the queue: the next suggestion asks again if this one fails."""
    try:
        if message.source == "workflow" and message.workflow:
            catalog.trigger(message.workflow, message.ref or "main")
        elif message.source != "workflow":
            catalog.refresh(cast(ListSource, message.source))
    except Exception as exc:  # noqa: BLE001 - GitHub, the store: either way the next suggestion asks again
        get_logger().warning("cache not refreshed", extra={"source": message.source, "error": type(exc).__name__})
