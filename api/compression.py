"""Compressed answers (an ASGI middleware installed by the app): the JSON and GeoJSON of
the API and the static files are gzipped when the client accepts it and the body is
larger than ``minimum_size`` bytes; a map's cells or a CSP's problems shrink five- to
tenfold.

The HTML pages are never compressed: they carry the CSRF token beside text a request can
choose, the conditions of a BREACH attack on compressed secrets."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

#: The paths whose answers hold no secret: data and static files.
COMPRESSED_PREFIXES = ("/api/", "/static/", "/tiles/", "/ogc/")


class Compression:
    """Gzip the answers under :data:`COMPRESSED_PREFIXES`, pass the others through."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=5)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(COMPRESSED_PREFIXES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
