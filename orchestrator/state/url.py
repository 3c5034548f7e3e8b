"""STATE_STORE URLs: `memory://`, `sqlite:///relative`, `sqlite:////absolute`, `dynamodb://TABLE`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class StateStoreUrlError(ValueError):
    pass


@dataclass(frozen=True)
class StateStoreUrl:
    kind: Literal["memory", "sqlite", "dynamodb"]
    sqlite_path: Path | None = None
    table: str | None = None


def parse_state_store_url(url: str) -> StateStoreUrl:
    if url == "memory://":
        return StateStoreUrl("memory")
    if url.startswith("sqlite:///"):
        # SQLAlchemy's form: three slashes then a relative path, four for an absolute one.
        path = url.removeprefix("sqlite:///")
        if not path or path.endswith("/"):
            raise StateStoreUrlError("sqlite URL needs a file path, e.g. sqlite:///.orchestrator/state.db")
        return StateStoreUrl("sqlite", sqlite_path=Path(path))
    if url.startswith("dynamodb://"):
        table = url.removeprefix("dynamodb://")
        if not _TABLE_NAME.match(table):
            raise StateStoreUrlError(f"not a DynamoDB table name: {table!r}")
        return StateStoreUrl("dynamodb", table=table)
    raise StateStoreUrlError(f"unsupported {url!r}: use memory://, sqlite:///path/to/state.db or dynamodb://TABLE")
