"""The vendored GitHub webhook payloads (see data/README.md), fitted to a test's run and repository."""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

REQUESTED = "workflow_run_requested.json"
COMPLETED_SUCCESS = "workflow_run_completed_success.json"
REQUESTED_ACTION_REQUIRED = "workflow_run_requested_action_required.json"
COMPLETED_STATUS_QUEUED = "workflow_run_completed_status_queued.json"
PUSH = "push.json"
WORKFLOW_RUN_FILES = (REQUESTED, COMPLETED_SUCCESS, REQUESTED_ACTION_REQUIRED, COMPLETED_STATUS_QUEUED)


@functools.cache
def _load(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return raw


def vendored(name: str) -> dict[str, Any]:
    """A fresh copy of a payload exactly as vendored."""
    return copy.deepcopy(_load(name))


def for_run(name: str, run_id: int, repository: str) -> dict[str, Any]:
    """A vendored payload about our run in our repository (id, link and repository rewritten only)."""
    payload = vendored(name)
    run = payload["workflow_run"]
    run["id"] = run_id
    run["html_url"] = f"https://github.com/{repository}/actions/runs/{run_id}"
    payload["repository"]["full_name"] = repository
    return payload


def in_progress(run_id: int, repository: str) -> dict[str, Any]:
    """DERIVED (the package has no in_progress example): the real `requested` payload with the
    action, status and updated_at an in_progress delivery of the same run would carry."""
    payload = for_run(REQUESTED, run_id, repository)
    payload["action"] = "in_progress"
    payload["workflow_run"].update(status="in_progress", conclusion=None, updated_at="2020-10-05T16:33:40Z")
    return payload


def completed(run_id: int, repository: str, conclusion: str = "success") -> dict[str, Any]:
    """The real `completed` payload; any other conclusion (e.g. failure) is DERIVED from it."""
    payload = for_run(COMPLETED_SUCCESS, run_id, repository)
    payload["workflow_run"]["conclusion"] = conclusion
    return payload


def encode(payload: dict[str, Any]) -> bytes:
    """Compact JSON, as GitHub sends it; sign and send these same bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
