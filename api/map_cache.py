"""Computed problem maps and lists kept in memory: a hotspot analysis or the open problems
of a sector cost tens to hundreds of milliseconds, serving them again costs nothing. An
entry holds while the revision of its CSP's problems (migration 0019) has not moved: a
committed write, by any process, invalidates at their next read the entries of the CSP it
wrote in, and only those its topic can change (a new action step leaves the heat maps
valid; see :func:`api.repositories.base.problem_revision`).

A map a page draws may instead be served a little late (:meth:`MapCache.get_or_refresh`,
``PSQ_MAP_STALE_SECONDS``): after a write, the previous answer is served, marked with its
own revision, while one background worker computes the new one, as long as that answer
was known current less than ``stale_s`` seconds ago. The hot spots and heat a request or
the worker computes are brought up to date by appending
(:func:`api.services.area_maps.cached_area_maps`, which keeps its held points here under
revision 0 and finds the previous answer with :meth:`MapCache.held`): the semantics above
are the same, the work per new revision is smaller."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

log = logging.getLogger(__name__)


class MapCache(Generic[T]):
    """At most ``size`` values, least recently used out first, each valid for the
    revision it was computed at. Concurrent requests for the same missing entry compute
    it once: the others wait for it (a page asks for several answers of one analysis at
    the same time).

    ``stale_s`` (0: never) is how old, in seconds, an answer :meth:`get_or_refresh` may
    serve can be: the time since it was last known to hold every committed write."""

    def __init__(self, size: int = 64, stale_s: float = 0.0) -> None:
        self._size = size
        self.stale_s = stale_s
        self._items: OrderedDict[Hashable, tuple[int, T]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple[Hashable, int], threading.Lock] = {}
        #: When each entry was last known current (time.monotonic()): when the
        #: computation that made it started, or when a request last found its revision.
        self._current_at: dict[Hashable, float] = {}
        self._refreshing: set[Hashable] = set()
        self._worker: ThreadPoolExecutor | None = None

    def _get(self, key: Hashable, revision: int) -> tuple[bool, T | None]:
        with self._lock:
            item = self._items.get(key)
            if item is not None and item[0] == revision:
                self._items.move_to_end(key)
                self._current_at[key] = time.monotonic()
                return True, item[1]
        return False, None

    def peek(self, key: Hashable, revision: int) -> tuple[bool, T | None]:
        """Whether the entry is held for this revision, and its value."""
        return self._get(key, revision)

    def held(self, key: Hashable) -> tuple[int, T] | None:
        """The entry held for ``key`` whatever its revision, with that revision (what an
        answer kept up to date by appending starts from)."""
        with self._lock:
            return self._items.get(key)

    def held_keys(self) -> list[Hashable]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._items)

    def put(self, key: Hashable, revision: int, value: T, *, since: float | None = None) -> None:
        """Hold ``value`` for ``key`` at this revision (computed from the data as they
        were at ``since``, a time.monotonic(); now by default)."""
        with self._lock:
            self._items[key] = (revision, value)
            self._items.move_to_end(key)
            self._current_at[key] = time.monotonic() if since is None else since
            while len(self._items) > self._size:
                old, _ = self._items.popitem(last=False)
                self._current_at.pop(old, None)

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
                started = time.monotonic()
                value = compute()
                self.put(key, revision, value, since=started)
            finally:
                with self._lock:
                    self._computing.pop((key, revision), None)
        return value

    def get_or_refresh(
        self,
        key: Hashable,
        revision: int,
        compute: Callable[[], T],
        refresh: Callable[[], T],
    ) -> T:
        """The entry at ``revision`` as :meth:`get_or_compute` gives it, or, when the
        entry held is of an older revision but was known current less than
        :attr:`stale_s` seconds ago, that older entry at once, while one background
        worker computes the new one with ``refresh`` (which opens its own session:
        the request's will be closed). The answer may thus miss the writes of the last
        :attr:`stale_s` seconds; its own revision says which it is."""
        if self.stale_s > 0:
            now = time.monotonic()
            with self._lock:
                item = self._items.get(key)
                known = self._current_at.get(key)
                if item is not None and item[0] == revision:
                    self._items.move_to_end(key)
                    self._current_at[key] = now
                    return item[1]
                if (
                    item is not None
                    and item[0] < revision
                    and known is not None
                    and now - known <= self.stale_s
                ):
                    self._refresh_later(key, revision, refresh)
                    return item[1]
        return self.get_or_compute(key, revision, compute)

    def _refresh_later(self, key: Hashable, revision: int, refresh: Callable[[], T]) -> None:
        """Queue the computation of ``key`` at ``revision`` for the one background
        worker, unless that key is already queued (called holding the lock)."""
        if key in self._refreshing:
            return
        self._refreshing.add(key)
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="map-refresh")
        self._worker.submit(self._refresh, key, revision, refresh)

    def _refresh(self, key: Hashable, revision: int, refresh: Callable[[], T]) -> None:
        try:
            self.get_or_compute(key, revision, refresh)
        except Exception:  # the entry stays as it was; a request will compute it itself
            log.exception("map refresh failed")
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def wait_refreshed(self) -> None:
        """Wait until the background worker has nothing left to compute (tests)."""
        while True:
            with self._lock:
                if not self._refreshing:
                    return
            time.sleep(0.01)

    def __len__(self) -> int:
        return len(self._items)


def cached_json(
    cache: MapCache[Any], key: Hashable, revision: int, compute: Callable[[], BaseModel]
) -> bytes:
    """``compute()``'s JSON, serialised once per key and revision: an answer served as
    bytes is neither rebuilt nor re-validated at each request."""
    body: bytes = cache.get_or_compute(key, revision, lambda: compute().model_dump_json().encode())
    return body


def served_json(
    cache: MapCache[Any],
    key: Hashable,
    revision: int,
    compute: Callable[[], BaseModel],
    refresh: Callable[[], BaseModel],
) -> bytes:
    """:func:`cached_json` through :meth:`MapCache.get_or_refresh`: a map a page draws,
    possibly the previous revision's for at most ``cache.stale_s`` seconds."""
    body: bytes = cache.get_or_refresh(
        key,
        revision,
        lambda: compute().model_dump_json().encode(),
        lambda: refresh().model_dump_json().encode(),
    )
    return body
