"""Computed problem maps and lists kept in memory: a hotspot analysis or the open problems
of a sector cost tens to hundreds of milliseconds, serving them again costs nothing. An
entry holds while the revision of its CSP's problems (migration 0019) has not moved: a
committed write, by any process, invalidates at their next read the entries of the CSP it
wrote in, and only those its topic can change (a new action step leaves the heat maps
valid; see :func:`api.repositories.base.problem_revision`)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class MapCache(Generic[T]):
    """At most ``size`` values, least recently used out first, each valid for the
    revision it was computed at. Concurrent requests for the same missing entry compute
    it once: the others wait for it (a page asks for several answers of one analysis at
    the same time)."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, tuple[int, T]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple[Hashable, int], threading.Lock] = {}

    def _get(self, key: Hashable, revision: int) -> tuple[bool, T | None]:
        with self._lock:
            item = self._items.get(key)
            if item is not None and item[0] == revision:
                self._items.move_to_end(key)
                return True, item[1]
        return False, None

    def peek(self, key: Hashable, revision: int) -> tuple[bool, T | None]:
        """Whether the entry is held for this revision, and its value."""
        return self._get(key, revision)

    def put(self, key: Hashable, revision: int, value: T) -> None:
        """Hold ``value`` for ``key`` at this revision."""
        with self._lock:
            self._items[key] = (revision, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def get_or_compute(self, key: Hashable, revision: int, compute: Callable[[], T]) -> T:
        found, value = self._get(key, revision)
        if found:
            return value  # type: ignore[return-value]
        with self._lock:
            computing = self._computing.setdefault((key, revision), threading.Lock())
        with computing:  # one computation per key and revision; the others wait here
            found, value = self._get(key, revision)
            if found:
                return value  # type: ignore[return-value]
            try:
                value = compute()
                self.put(key, revision, value)
            finally:
                with self._lock:
                    self._computing.pop((key, revision), None)
        return value

    def __len__(self) -> int:
        return len(self._items)


def cached_json(
    cache: MapCache[Any], key: Hashable, revision: int, compute: Callable[[], BaseModel]
) -> bytes:
    """``compute()``'s JSON, serialised once per key and revision: an answer served as
    bytes is neither rebuilt nor re-validated at each request."""
    body: bytes = cache.get_or_compute(key, revision, lambda: compute().model_dump_json().encode())
    return body
