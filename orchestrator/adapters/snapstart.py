"""Lambda SnapStart's runtime hooks: what the snapshot must not hold, and what each environment
restored from it must not share with the others restored from the same snapshot.

With SnapStart (template parameter `InteractionsSnapStart`), Lambda runs the module's init once,
when a version is published, snapshots the process, and resumes every new execution environment
from that snapshot. The managed Python runtimes (3.12+) provide `snapshot_restore_py`, whose
`register_before_snapshot` and `register_after_restore` take the callables run at those moments.
With SnapStart off they are registered and never called; elsewhere (tests, `serve`) there is
nothing to register.

Not hooked, on purpose: credentials. With SnapStart on, Lambda gives the function container
credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI and its token) instead of access keys, so the
boto3 clients built at init hold refreshable credentials that fetch themselves again when they
near expiry, on whichever environment is running. `os.urandom`, `secrets` and uuid4 read the
kernel's generator on every call, so trace ids and tokens stay unique without a hook.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

from orchestrator.observability.logging import get_logger

Hook = Callable[[], None]

_POWERTOOLS_PARAMETERS = "aws_lambda_powertools.utilities.parameters"


class Closable(Protocol):
    """A botocore client: `close()` drops its pooled connections; the next call opens new ones."""

    def close(self) -> None: ...


def register_hooks(*, before_snapshot: Sequence[Hook], after_restore: Sequence[Hook]) -> bool:
    """Registers the hooks with the runtime; False (and nothing registered) without it.
    Lambda runs the before-snapshot hooks in reverse order of registration, the after-restore
    ones in order."""
    try:
        import snapshot_restore_py  # type: ignore[import-not-found,unused-ignore]  # the runtime's own
    except ImportError:
        get_logger().debug("snapshot_restore_py not available: no SnapStart hooks registered")
        return False
    for hook in before_snapshot:
        snapshot_restore_py.register_before_snapshot(hook)
    for hook in after_restore:
        snapshot_restore_py.register_after_restore(hook)
    return True


def reseed_random() -> None:
    """`random`'s module-level generator (the rate limit's retry jitter) from fresh OS entropy:
    restored from one snapshot, every environment would otherwise draw the same sequence."""
    random.seed()


def connections_dropper(clients: Sequence[Closable]) -> Hook:
    """A hook that drops the clients' pooled connections. A connection open in the snapshot would be
    shared by every restored environment, and its peer has long forgotten it; priming sends nothing,
    so the pools should be empty, and this makes sure."""

    def drop_connections() -> None:
        for client in clients:
            client.close()

    return drop_connections


def forget_cached_parameters() -> None:
    """Powertools Parameters' cache (decrypted SSM values, for their max_age), if it was ever
    loaded: no secret value goes into the snapshot, and a restored environment reads its own."""
    parameters = sys.modules.get(_POWERTOOLS_PARAMETERS)
    if parameters is not None:
        parameters.clear_caches()


def log_restored() -> None:
    get_logger().info("restored from snapshot")
