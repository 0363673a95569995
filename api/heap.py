"""The Python heap of the long-running server (``psq serve``).

A pass of Python's garbage collector over its oldest generation walks every container
object the process keeps and holds the GIL while it does: every thread of the server, so
every request in flight, waits for it. Once the app is imported (FastAPI, SQLAlchemy,
GeoPandas, Shapely, pyproj, SciPy: ~300 000 objects) such a pass takes 170 to 450 ms on
the benchmark's busy 2-core machine; the collector runs one whenever the objects promoted
to the oldest generation since the last one reach a quarter of it: the rare ~600 ms OGC
pages of issue 21 (``bench/RESULTS.md``, « Issue 21, third round »), seen in the access
lines' ``gc_ms`` / ``gc_full`` (:data:`api.logs.GC_PAUSES`).

:func:`settle_heap` is called once the server has started (the modules imported, the
demo loaded): it first builds what the app would build at its first requests (FastAPI
builds each route's context, its dependencies and validators, when a request first
walks past it: ~30 000 objects), collects what start-up left as garbage, then moves every
object left to the collector's permanent generation (``gc.freeze()``), which no pass walks
again. The oldest generation then holds only what the server keeps since (its caches):
measured in the process after 100 OGC pages, 13 000 objects and a full pass of 2 to 21
ms, against 360 000 objects and 440 to 740 ms unfrozen (34 to 45 ms frozen without the
routes built first). Nothing is leaked: what is frozen is what the server keeps for its
lifetime (modules, classes, functions, the app and its routes), and an object frozen
then dropped is still freed by its reference count. The tests, which build and drop many
apps in one process, do not call it.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def settle_heap(warm: Callable[[], object] | None = None) -> int:
    """Build what ``warm`` builds (what the first requests would), collect the garbage
    of start-up, then freeze what is left out of the collector's passes; the number of
    objects frozen."""
    start = time.perf_counter()
    if warm is not None:
        warm()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "start-up heap frozen: %d objects out of the collector's passes (%.0f ms)",
        frozen,
        (time.perf_counter() - start) * 1000,
    )
    return frozen
