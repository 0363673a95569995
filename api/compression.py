"""Compressed answers (an ASGI middleware installed by the app): the JSON and GeoJSON of
the API and the static files are gzipped when the client accepts it and the body is
larger than ``minimum_size`` bytes; a map's cells or a CSP's problems shrink five- to
tenfold.

The large answers are mostly the same bytes again (the maps, the cells and the problems
lists are served from the map cache until a write changes them): their gzipped form is
kept too, by a digest of the body (:class:`GzipCache`), so that a GPO's 2 MB of problems
is compressed once per revision instead of at every request (30 ms of CPU each).

The HTML pages are never compressed: they carry the CSRF token beside text a request can
choose, the conditions of a BREACH attack on compressed secrets."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

#: The paths whose answers hold no secret: data and static files.
COMPRESSED_PREFIXES = ("/api/", "/static/", "/tiles/", "/ogc/")
#: The OGC API's pages of features (``/ogc/collections/{id}/items``) are never the same
#: bytes twice: each carries the time it was written (``timeStamp``). Compressed, never
#: kept (see :func:`kept_gzipped`).
OGC_ITEMS = re.compile(r"^/ogc/collections/[^/]+/items/?$")
#: Bodies from this size on have their gzipped form kept: under it, compressing costs
#: about as little as the digest that would find it.
CACHED_FROM = 32 * 1024


def kept_gzipped(path: str) -> bool:
    """Whether the gzipped form of a large answer at ``path`` is kept: when the same bytes
    can be asked again. The maps, cells, lists and static files are the same bytes until a
    write changes them, and so are the OGC API's documents (landing page, collections,
    queryables, ``/ogc/api``) and single features (``/items/{featureId}``); an OGC page of
    features never is: kept, 1 000 000 problems in pages of 450 kB would fill the cache's
    64 MB with bodies never read again and push the maps' out.

    >>> kept_gzipped("/api/csp/1/cells"), kept_gzipped("/ogc/collections/problems/items")
    (True, False)
    >>> kept_gzipped("/ogc/collections/problems/items/12"), kept_gzipped("/ogc/api")
    (True, True)
    """
    return OGC_ITEMS.match(path) is None


class GzipCache:
    """Gzipped bodies by the BLAKE2b digest of the body, at most ``budget`` bytes of them,
    least recently used out first; safe across threads."""

    def __init__(self, budget: int = 64 * 1024 * 1024) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(body: bytes) -> bytes:
        return hashlib.blake2b(body, digest_size=20).digest()

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: bytes, gzipped: bytes) -> None:
        if len(gzipped) > self.budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.size += len(gzipped) - (len(old) if old is not None else 0)
            self._items[key] = gzipped
            while self.size > self.budget:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


class _CachedGzip(GZipResponder):
    """Starlette's gzip responder (large bodies compressed on a worker thread), reading a
    whole large body's gzipped form from the cache when it has been compressed before."""

    def __init__(
        self, app: ASGIApp, minimum_size: int, compresslevel: int, cache: GzipCache | None
    ):
        super().__init__(app, minimum_size, compresslevel)
        self.cache = cache

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        cache = self.cache
        if cache is None or more_body or len(body) < CACHED_FROM or self._compressor is not None:
            return await super().apply_compression(body, more_body=more_body)
        key = cache.key(body)
        found = cache.get(key)
        if found is not None:
            return found
        gzipped = await super().apply_compression(body, more_body=False)
        cache.put(key, gzipped)
        return gzipped


class Compression:
    """Gzip the answers under :data:`COMPRESSED_PREFIXES`, pass the others through."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024, compresslevel: int = 5) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.cache = GzipCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(COMPRESSED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if "gzip" in Headers(scope=scope).get("Accept-Encoding", ""):
            kept = kept_gzipped(scope["path"])
            responder: ASGIApp = _CachedGzip(
                self.app, self.minimum_size, self.compresslevel, self.cache if kept else None
            )
        else:
            responder = IdentityResponder(self.app, self.minimum_size)
        await responder(scope, receive, send)
