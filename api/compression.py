"""Compressed answers (an ASGI middleware installed by the app): the JSON and GeoJSON of
the API and the static files are gzipped when the client accepts it and the body is
larger than ``minimum_size`` bytes; a map's cells or a CSP's problems shrink five- to
tenfold.

The large answers are mostly the same bytes again (the maps, the cells and the problems
lists are served from the map cache until a write changes them): their gzipped form is
kept too, by a digest of the body (:class:`GzipCache`), so that a GPO's 2 MB of problems
is compressed once per revision instead of at every request (30 ms of CPU each).

The answers of the API are the same bytes again until a write changes them: each carries
a weak ``ETag`` (the body's digest) with ``Cache-Control: private, no-cache``, so that a
browser asks again with ``If-None-Match`` and is answered ``304 Not Modified`` without a
body when nothing changed (:class:`_Validated`). A large body's digest is kept by the
body's identity (:class:`Digests`): the cached answers are served as the same ``bytes``
object, hashed once, not at every request (2.4 MB of a GPO's problems: ~3 ms each).

The HTML pages are never compressed: they carry the CSRF token beside text a request can
choose, the conditions of a BREACH attack on compressed secrets."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


#: The API's answers that carry an ``ETag`` (:func:`validated`).
VALIDATED_PREFIXES = ("/api/", "/ogc/")


def validated(path: str) -> bool:
    """Whether the answers at ``path`` carry an ``ETag`` and answer ``If-None-Match``: the
    API's and the OGC API's, not an OGC page of features (never the same bytes twice).

    >>> validated("/api/me"), validated("/ogc/collections/p/items"), validated("/static/a.js")
    (True, False, False)
    """
    return path.startswith(VALIDATED_PREFIXES) and OGC_ITEMS.match(path) is None


def digest(body: bytes) -> bytes:
    """The BLAKE2b digest of a body (20 bytes)."""
    return hashlib.blake2b(body, digest_size=20).digest()


class Digests:
    """The digests of large bodies by the bodies' identity (each held with its body, so
    that its ``id`` is not reused): a body served again as the same object is not hashed
    again. At most ``budget`` bytes of bodies, least recently used out first."""

    def __init__(self, budget: int = 64 * 1024 * 1024) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[int, tuple[bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, body: bytes) -> bytes:
        if len(body) < CACHED_FROM or len(body) > self.budget:
            return digest(body)
        with self._lock:
            found = self._items.get(id(body))
            if found is not None and found[0] is body:
                self._items.move_to_end(id(body))
                return found[1]
        made = digest(body)
        with self._lock:
            old = self._items.pop(id(body), None)
            self.size += len(body) - (len(old[0]) if old is not None else 0)
            self._items[id(body)] = (body, made)
            while self.size > self.budget:
                _, (dropped, _) = self._items.popitem(last=False)
                self.size -= len(dropped)
        return made


class GzipCache:
    """Gzipped bodies by the BLAKE2b digest of the body, at most ``budget`` bytes of them,
    least recently used out first; safe across threads."""

    def __init__(self, budget: int = 64 * 1024 * 1024, digests: Digests | None = None) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.digests = digests or Digests()

    def key(self, body: bytes) -> bytes:
        return self.digests.of(body)

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


class _Validated:
    """An ``ETag`` on a whole 200 answer to a ``GET`` (weak: the same for its gzipped
    form), ``Cache-Control: private, no-cache`` unless the route said otherwise, and
    ``304 Not Modified`` without a body when the request's ``If-None-Match`` names it."""

    def __init__(self, app: ASGIApp, digests: Digests) -> None:
        self.app = app
        self.digests = digests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asked = Headers(scope=scope).get("If-None-Match", "")
        start: Message | None = None

        async def validating(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] == 200:
                start = message  # held until the body says whether it comes whole
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held, start = start, None
            if message.get("more_body", False):  # streamed: no digest of the whole
                await send(held)
                await send(message)
                return
            headers = MutableHeaders(raw=list(held["headers"]))
            tag = f'W/"{self.digests.of(message.get("body", b"")).hex()}"'
            headers["ETag"] = tag
            if "cache-control" not in headers:
                headers["Cache-Control"] = "private, no-cache"
            if tag in (t.strip() for t in asked.split(",")) or asked.strip() == "*":
                for name in ("content-length", "content-type", "content-encoding"):
                    if name in headers:
                        del headers[name]
                await send({**held, "status": 304, "headers": headers.raw})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({**held, "headers": headers.raw})
            await send(message)

        await self.app(scope, receive, validating)


class Compression:
    """Gzip the answers under :data:`COMPRESSED_PREFIXES`, pass the others through; the
    API's answers to a ``GET`` are validated (:class:`_Validated`)."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024, compresslevel: int = 5) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.cache = GzipCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(COMPRESSED_PREFIXES):
            await self.app(scope, receive, send)
            return
        app = self.app
        if scope["method"] == "GET" and validated(scope["path"]):
            app = _Validated(app, self.cache.digests)
        if "gzip" in Headers(scope=scope).get("Accept-Encoding", ""):
            kept = kept_gzipped(scope["path"])
            responder: ASGIApp = _CachedGzip(
                app, self.minimum_size, self.compresslevel, self.cache if kept else None
            )
        else:
            responder = IdentityResponder(app, self.minimum_size)
        await responder(scope, receive, send)
