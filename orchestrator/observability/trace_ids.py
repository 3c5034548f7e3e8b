"""One trace id per interaction, matched to the Lambda's X-Ray root when there is one."""

from __future__ import annotations

import os
import re

# Root=1-5759e988-bd862e3fe1be46a994272793: 8 hex of time + 24 hex of id = 32 hex,
# so the trace id *is* the X-Ray root without its dashes and an operator can go from one to the other.
_XRAY_ROOT = re.compile(r"Root=1-([0-9a-f]{8})-([0-9a-f]{24})")
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def new_trace_id(xray_header: str | None = None) -> str:
    if xray_header:
        match = _XRAY_ROOT.search(xray_header)
        if match:
            return match.group(1) + match.group(2)
    return os.urandom(16).hex()  # 128 random bits, as uuid4 (which costs four times as much)


def is_trace_id(value: object) -> bool:
    return isinstance(value, str) and bool(_TRACE_ID.match(value))


def trace_fingerprint(trace_id: str | None) -> str:
    """The first 8 characters: short enough for a message, long enough to search logs by."""
    return trace_id[:8] if trace_id else "unknown"
