"""Discord's "Invalid Form Body" (50035) error tree, as the stand-in builds it."""

from __future__ import annotations

from typing import Any

INVALID_FORM_BODY = {"code": 50035, "message": "Invalid Form Body"}


class FormErrors:
    """Discord's nested "errors" object: keys follow the JSON path, leaves hold `_errors` lists."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def too_long(self, path: tuple[str | int, ...], limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def bad_length(self, path: tuple[str | int, ...], low: int, high: int) -> None:
        self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
