"""One shape for every secret: a value given directly, or an SSM parameter asked for on each use.

The value never appears in repr(). Whoever must know of a newly read value (the process's
redactor) subscribes with `watch`; settings themselves know nothing of logging.
"""

from __future__ import annotations

from collections.abc import Callable


class SecretUnavailable(Exception):
    """A secret could not be read when needed (its SSM parameter is missing, unreadable or empty)."""


class Secret:
    """A secret setting's value: given, or read from its SSM parameter through `resolve`.

    One from SSM is asked for again on every use, through the resolver's cache (Powertools
    Parameters, `max_age`), so a rotated secret is picked up without a restart. Once a value was
    read, a failed re-read keeps it rather than failing the request.
    """

    def __init__(
        self,
        name: str,
        *,
        value: str | None,
        parameter: str | None = None,
        resolve: Callable[[str], str] | None = None,
    ) -> None:
        self.name = name
        self._value = value
        self._parameter = parameter if resolve is not None else None
        self._resolve = resolve
        self._watchers: list[Callable[[str], None]] = []

    def __repr__(self) -> str:
        return f"Secret({self.name})"

    @property
    def known_value(self) -> str | None:
        """The value as last given or read; None before the first read of one from SSM."""
        return self._value

    def watch(self, on_new_value: Callable[[str], None]) -> None:
        """Tell `on_new_value` of every value read from here on that differs from the last."""
        self._watchers.append(on_new_value)

    def get(self) -> str:
        if self._parameter is None or self._resolve is None:
            if self._value is None:
                raise SecretUnavailable(f"{self.name} is not configured")
            return self._value
        try:
            value = self._resolve(self._parameter).strip()
        except Exception as exc:  # noqa: BLE001 - any failure: the caller answers "unavailable"
            if self._value is not None:
                return self._value
            raise SecretUnavailable(f"{self.name}: could not read SSM parameter ({type(exc).__name__})") from None
        if not value:
            if self._value is not None:
                return self._value
            raise SecretUnavailable(f"{self.name}: SSM parameter is empty")
        if value != self._value:
            for on_new_value in self._watchers:
                on_new_value(value)
            self._value = value
        return value
