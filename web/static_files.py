"""The static assets (scripts, styles, vendored libraries, icons), served whole."""

from __future__ import annotations

from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

#: The request headers that ask for part of a file.
_PARTIAL = (b"range", b"if-range")


class WholeFiles(StaticFiles):
    """:class:`StaticFiles` that ignores ``Range`` (RFC 9110 §14.2 lets a server do so):
    the assets are small and fetched whole, and a malformed range (« bytes=5-2 ») was
    Starlette's English plain-text 400, not the app's answer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _PARTIAL]
            scope = {**scope, "headers": headers}
        await super().__call__(scope, receive, send)
