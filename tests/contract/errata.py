"""Errata: reviewed corrections to the vendors' OpenAPI descriptions, applied before validation.

Places where a vendor's description contradicts what the vendor documents and really sends, so
that a faithful stand-in would be rejected. Each erratum replaces one node, and only if that node
is still exactly the upstream text we reviewed: once the vendor fixes it, the erratum stops
applying and test_openapi_helper's errata test says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class Erratum:
    pointer: str  # JSON pointer into the raw document
    expected: Any  # the upstream node we reviewed
    replacement: Any
    reason: str


_DISCORD_FIELD_ERROR: Final = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    "required": ["code", "message"],
}

DISCORD_ERRATA: Final[tuple[Erratum, ...]] = (
    Erratum(
        pointer="/components/schemas/InnerErrors/properties/_errors/items",
        expected={"$ref": "#/components/schemas/Error"},
        replacement=_DISCORD_FIELD_ERROR,
        reason=(
            "per-field errors in a 50035 'Invalid Form Body' carry string codes "
            '({"code": "BASE_TYPE_MAX_LENGTH", ...}, see discord-api-docs issue 1313); the '
            "description reuses Error, whose code is an integer, so every real 400 body fails"
        ),
    ),
    Erratum(
        pointer="/components/schemas/RatelimitedResponse/allOf/0",
        expected={"$ref": "#/components/schemas/Error"},
        replacement={
            "type": "object",
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            "required": ["message"],
        },
        reason=(
            "the rate-limit docs give `code` only 'for some limits' and their example 429 body "
            "has none (discord-api-spec issue 24); Error makes it required"
        ),
    ),
)

_JOB_CONCLUSIONS: Final = ["success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"]

GITHUB_ERRATA: Final[tuple[Erratum, ...]] = (
    Erratum(
        pointer="/components/parameters/created/schema",
        expected={"format": "date-time", "type": "string"},
        replacement={"type": "string"},
        reason=(
            "`created` takes GitHub's date *range* search syntax (`>=2026-01-01`, "
            "`2026-01-01..2026-01-31`, as its own description says), not one RFC 3339 date-time"
        ),
    ),
    Erratum(
        pointer="/components/schemas/job/properties/conclusion/enum",
        expected=_JOB_CONCLUSIONS,
        replacement=[*_JOB_CONCLUSIONS, None],
        reason=(
            "`conclusion` is `nullable` and the API sends null while a job runs, but OpenAPI 3.0.3 "
            "says a nullable enum accepts null only when null is listed, and it is not"
        ),
    ),
)


def apply_errata(document: Any, errata: Iterable[Erratum]) -> tuple[str, ...]:
    """Patch a freshly parsed document in place; return the pointers of the errata that applied."""
    applied: list[str] = []
    for erratum in errata:
        *parents, last = [t.replace("~1", "/").replace("~0", "~") for t in erratum.pointer.split("/")[1:]]
        holder = document
        try:
            for token in parents:
                holder = holder[int(token)] if isinstance(holder, list) else holder[token]
            key = int(last) if isinstance(holder, list) else last
            if holder[key] != erratum.expected:
                continue
        except (KeyError, IndexError, ValueError, TypeError):  # the path no longer exists upstream
            continue
        holder[key] = erratum.replacement
        applied.append(erratum.pointer)
    return tuple(applied)
