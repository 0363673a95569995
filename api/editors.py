"""Working copies being edited, kept in memory between edits so that an edit costs
milliseconds; the stored plan's ``version`` says whether a kept editor is still current
(another process, or a failed transaction, may have changed the plan)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from geo.editing import PlanEditor


class EditorCache:
    """The most recently used :class:`PlanEditor` per plan, at most ``size`` of them.

    An editor is *taken* out while an edit uses it and *put* back once the edit is
    committed, so a failed edit never leaves a half-applied editor behind.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._items: OrderedDict[int, tuple[int, PlanEditor]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, plan_id: int, version: int) -> PlanEditor | None:
        """The editor of ``plan_id`` at ``version``, removed from the cache, or None."""
        with self._lock:
            item = self._items.pop(plan_id, None)
        if item is None or item[0] != version:
            return None
        return item[1]

    def put(self, plan_id: int, version: int, editor: PlanEditor) -> None:
        with self._lock:
            self._items[plan_id] = (version, editor)
            self._items.move_to_end(plan_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, plan_id: int) -> None:
        with self._lock:
            self._items.pop(plan_id, None)
