"""A dict that keeps its newest entries only: what an in-process store or cache may hold."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from orchestrator.observability.logging import get_logger

MAX_ITEMS = 10_000

V = TypeVar("V")


class BoundedMap(Generic[V]):
    """A dict that evicts its oldest entry past `limit`, counting evictions and logging the first."""

    def __init__(self, name: str, limit: int = MAX_ITEMS) -> None:
        self.name = name
        self.limit = limit
        self.evicted = 0
        self._items: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        return self._items.get(key)

    def set(self, key: str, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
            self.evicted += 1
            if self.evicted == 1:
                get_logger().warning("in-memory store full: evicting oldest", extra={"store": self.name})

    def pop(self, key: str) -> None:
        self._items.pop(key, None)

    def values(self) -> list[V]:
        return list(self._items.values())
