"""LOG_LEVEL's values: read by the logger at import and checked with the other settings."""

from __future__ import annotations

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_LOG_LEVEL = "INFO"


def log_level(value: str | None) -> str | None:
    """LOG_LEVEL as one of LOG_LEVELS (any case, blanks around), or None when it is not one."""
    level = (value or DEFAULT_LOG_LEVEL).strip().upper() or DEFAULT_LOG_LEVEL
    return level if level in LOG_LEVELS else None
