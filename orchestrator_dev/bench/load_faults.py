"""The misbehaviours the load test's `--faults` mode has the stand-in GitHub and Discord commit.

Each is one `Fault` for the next matching request; the load test injects them spread over the
run, so they land on different commands' dispatches and edits rather than on one unlucky job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from orchestrator.clients.retries import DEFAULT_TIMEOUT
from orchestrator_dev.standins.http_standin import Fault

DISPATCH_PATH = r"/actions/workflows/[^/]+/dispatches$"
EDIT_PATH = r"/messages/@original$"


@dataclass(frozen=True)
class InjectedFault:
    label: str
    target: Literal["github", "discord"]
    fault: Fault


def _just_past_client_timeout() -> float:
    read = DEFAULT_TIMEOUT.read
    assert read is not None, "the API clients always set a read timeout"
    # Half a second after the worker gives up waiting, the dispatch is applied: a run it never heard of.
    return read + 0.5


def _dispatch(label: str, fault: Fault) -> InjectedFault:
    return InjectedFault(label, "github", replace(fault, method="POST", path=DISPATCH_PATH))


def _edit(label: str, fault: Fault) -> InjectedFault:
    return InjectedFault(label, "discord", replace(fault, method="PATCH", path=EDIT_PATH))


_SECONDARY_RATE_LIMIT = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}
_DISCORD_RATE_LIMIT = {"message": "You are being rate limited.", "retry_after": 0.5, "global": False}

# One of each kind of trouble. The dispatch ones are ambiguous on purpose (a 5xx or a lost answer
# may or may not have started a run), half with the run started behind the failure.
FAULT_KINDS: tuple[InjectedFault, ...] = (
    _dispatch("GitHub dispatch 502, no run", Fault(status=502, body={"message": "Server Error"})),
    _dispatch("GitHub dispatch 503, run started", Fault(status=503, body={"message": "Unavailable"}, then_apply=True)),
    _dispatch(
        "GitHub dispatch 429 Retry-After 1",
        Fault(status=429, body=_SECONDARY_RATE_LIMIT, headers={"Retry-After": "1"}),
    ),
    _dispatch("GitHub dispatch connection reset, no run", Fault(drop=True)),
    _dispatch("GitHub dispatch connection reset, run started", Fault(drop=True, then_apply=True)),
    _dispatch("GitHub dispatch answered after the client's timeout", Fault(delay=_just_past_client_timeout())),
    _edit(
        "Discord edit 429 retry_after 0.5",
        Fault(status=429, body=_DISCORD_RATE_LIMIT, headers={"Retry-After": "1"}),
    ),
    _edit("Discord edit 502", Fault(status=502, body={"message": "502: Bad Gateway", "code": 0})),
    _edit(
        "Discord edit 500, edit applied",
        Fault(status=500, body={"message": "500: Internal Server Error", "code": 0}, then_apply=True),
    ),
)


def spread(faults: Sequence[InjectedFault], commands: int) -> dict[int, list[InjectedFault]]:
    """Which command's send injects which faults: evenly over the run, the first not at the very start."""
    plan: dict[int, list[InjectedFault]] = {}
    for j, fault in enumerate(faults):
        plan.setdefault(int((j + 0.5) * commands / len(faults)), []).append(fault)
    return plan
