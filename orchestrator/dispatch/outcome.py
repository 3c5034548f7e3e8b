from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

OutcomeKind = Literal["dispatched", "rejected", "unknown"]


@dataclass(frozen=True)
class DispatchOutcome:
    """What happened to a dispatch: the result saved by the idempotency layer and shown to the user.

    dispatched: a run started (run_id/html_url when known); rejected: GitHub refused, nothing
    started; unknown: GitHub may have started a run and we could not find out.
    """

    kind: OutcomeKind
    run_id: int | None = None
    html_url: str | None = None
    detail: str | None = None
    # Why, in a word operators can alert on: github_401..github_422, rate_limited, unreachable, ...
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DispatchOutcome:
        return cls(**{k: v for k, v in raw.items() if k in cls.__dataclass_fields__})
