"""Computed problem maps and lists kept in memory: a hotspot analysis or the open problems
of a sector cost tens to hundreds of milliseconds, serving them again costs nothing. An
entry holds while the problem change log (migration 0009) has not moved, so any write to
problems, their placements, steps, actions or evaluations, by any process, invalidates
every entry at its next read."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class MapCache(Generic[T]):
    """At most ``size`` values, least recently used out first, each valid for the
    revision it was computed at."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, tuple[int, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, revision: int, compute: Callable[[], T]) -> T:
        with self._lock:
            item = self._items.get(key)
            if item is not None and item[0] == revision:
                self._items.move_to_end(key)
                return item[1]
        value = compute()  # outside the lock: other maps are served meanwhile
        with self._lock:
            self._items[key] = (revision, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
