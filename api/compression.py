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
import operator
import re
import struct
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import anyio
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


class JoinedBody(bytes):
    """A body that is ``head + sep.join(pieces) + tail`` whose pieces are kept from one
    answer to the next (the same ``bytes`` objects: a kept list's features): its gzipped
    form is assembled from runs of pieces each deflated once (:func:`gzip_joined`), so a
    new answer that differs by a few pieces is compressed in those runs alone."""

    head: bytes
    pieces: tuple[bytes, ...]
    sep: bytes
    tail: bytes

    @classmethod
    def of(cls, head: bytes, pieces: Sequence[bytes], sep: bytes, tail: bytes) -> JoinedBody:
        body = cls(head + sep.join(pieces) + tail)
        body.head, body.pieces, body.sep, body.tail = head, tuple(pieces), sep, tail
        return body

    @classmethod
    def again(
        cls, before: object, head: bytes, pieces: Sequence[bytes], sep: bytes, tail: bytes
    ) -> JoinedBody:
        """``before`` (the answer held) when it is the body these parts make, else
        :meth:`of` them: a kept list a write left as it was is served again as the same
        object, neither hashed for its ``ETag`` nor compressed again.

        >>> pieces = [b"1", b"2"]
        >>> body = JoinedBody.of(b"[", pieces, b",", b"]")
        >>> JoinedBody.again(body, b"[", list(pieces), b",", b"]") is body
        True
        >>> JoinedBody.again(body, b"[", [b"1"], b",", b"]") is body
        False
        """
        if isinstance(before, cls) and before.made_of(head, pieces, sep, tail):
            return before
        return cls.of(head, pieces, sep, tail)

    def made_of(self, head: bytes, pieces: Sequence[bytes], sep: bytes, tail: bytes) -> bool:
        """Whether this body is the one these parts make, piece for piece the same
        objects."""
        return (
            self.head == head
            and self.tail == tail
            and self.sep == sep
            and len(self.pieces) == len(pieces)
            and all(map(operator.is_, self.pieces, pieces))
        )


#: A run of pieces ends, on average, every this many pieces (:func:`runs`).
RUN = 48
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no time
_LAST_BLOCK = b"\x03\x00"  # an empty, final deflate block


def runs(pieces: Sequence[bytes]) -> Iterator[tuple[int, int]]:
    """The runs of ``pieces`` (start, end) their gzipped form is made of: a run ends after
    a piece whose first bytes' CRC is a multiple of :data:`RUN`, so where runs end depends
    on the pieces, not on their positions (a piece put first, one dropped at the end,
    leave the other runs as they were).

    >>> pieces = [b"%d" % i for i in range(200)]
    >>> cuts = list(runs(pieces))
    >>> cuts[0][0], cuts[-1][1], all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))
    (0, 200, True)
    >>> [(a + 1, b + 1) for a, b in cuts][1:] == list(runs([b"x", *pieces]))[1:]
    True
    """
    start = 0
    last = len(pieces) - 1
    for i, piece in enumerate(pieces):
        if i == last or zlib.crc32(piece[:64]) % RUN == 0:
            yield start, i + 1
            start = i + 1


def _deflated(data: bytes, level: int, before: bytes = b"") -> bytes:
    """``data`` as raw deflate blocks ending on a byte boundary (a sync flush), which
    others can follow; they may refer back to ``before``, the bytes just before them in
    the stream (at most the window's 32 kB of them): nothing further back."""
    if before:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=before[-WINDOW:])
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


#: The deflate window: how far back compressed data may refer.
WINDOW = 32 * 1024


class Runs:
    """The deflated runs of pieces (:func:`runs`), each deflated after the run before it
    (which it may refer back to: as good a ratio as one stream), by the identity of both
    runs' pieces (each held with it, so that no ``id`` is reused), at most ``budget``
    bytes of them and of their runs' pieces, least recently used out first; safe across
    threads."""

    def __init__(self, budget: int = 48 * 1024 * 1024) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[tuple[object, ...], tuple[tuple[bytes, ...], bytes, int]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def deflated(
        self, before: tuple[bytes, ...], run: tuple[bytes, ...], sep: bytes, last: bool, level: int
    ) -> bytes:
        """The run's pieces joined by ``sep`` (and ``sep`` after them unless ``last``),
        deflated after the run ``before`` (joined the same way, ``sep`` after it; none
        for the first run)."""
        key = (last, sep, level, *map(id, before), None, *map(id, run))
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found[1]
        preceding = sep.join(before) + sep if before else b""
        data = sep.join(run) + (b"" if last else sep)
        made = _deflated(data, level, preceding)
        size = len(made) + len(data)
        with self._lock:
            old = self._items.pop(key, None)
            self.size += size - (old[2] if old is not None else 0)
            self._items[key] = (before + run, made, size)
            while self.size > self.budget:
                _, (_, _, dropped) = self._items.popitem(last=False)
                self.size -= dropped
        return made

    def __len__(self) -> int:
        return len(self._items)


def gzip_joined(body: JoinedBody, level: int, kept: Runs) -> bytes:
    """The gzipped form of ``body`` (one gzip member: its head, each run of its pieces
    deflated once after the run before it and kept in ``kept``, its tail, the CRC and
    length of the whole): a new answer that differs by a few pieces is deflated again in
    the runs that hold them and the runs after those.

    >>> import gzip
    >>> pieces = [b'{"id":%d,"title":"Tapage nocturne"}' % i for i in range(3000)]
    >>> body = JoinedBody.of(b"[", pieces, b",", b"]")
    >>> kept = Runs()
    >>> gzip.decompress(gzip_joined(body, 5, kept)) == body
    True
    >>> again = JoinedBody.of(b"[", [b'{"id":-1}', *pieces[:-1]], b",", b"]")
    >>> gzip.decompress(gzip_joined(again, 5, kept)) == again
    True
    """
    parts = [_GZIP_HEADER, _deflated(body.head, level)]
    pieces = body.pieces
    before: tuple[bytes, ...] = ()
    for start, end in runs(pieces):
        run = pieces[start:end]
        parts.append(kept.deflated(before, run, body.sep, end == len(pieces), level))
        before = run
    parts += [_deflated(body.tail, level), _LAST_BLOCK]
    parts.append(struct.pack("<II", zlib.crc32(body) & 0xFFFFFFFF, len(body) & 0xFFFFFFFF))
    return b"".join(parts)


class GzipCache:
    """Gzipped bodies by the BLAKE2b digest of the body, at most ``budget`` bytes of them,
    least recently used out first; safe across threads. ``runs``: the deflated runs of
    the joined bodies' pieces (:class:`JoinedBody`)."""

    def __init__(self, budget: int = 64 * 1024 * 1024, digests: Digests | None = None) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.digests = digests or Digests()
        self.runs = Runs()

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
    whole large body's gzipped form from the cache when it has been compressed before,
    and assembling a joined body's from its runs (:func:`gzip_joined`)."""

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
        if isinstance(body, JoinedBody):
            gzipped = await anyio.to_thread.run_sync(
                gzip_joined, body, self.compresslevel, cache.runs
            )
        else:
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
