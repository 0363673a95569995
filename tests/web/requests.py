"""What the browser tests count as a failed request."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def failure(request: Any) -> str | None:
    """``url reason`` of a request that failed, or None for a base-map tile or the names
    of a view that the page itself gave up (``net::ERR_ABORTED``): the map drops the tiles
    of a view it left, and leaving the page drops those in flight. Every other failure
    counts, aborted or not."""
    reason = request.failure or ""
    path = urlsplit(request.url).path
    if reason == "net::ERR_ABORTED" and (
        path.startswith("/tiles/") or path == "/api/basemap/labels"
    ):
        return None
    return f"{request.url} {reason}"


def on_failure(page: Any, record: Any) -> None:
    """Call ``record(text)`` for each failed request of the page (see :func:`failure`)."""

    def seen(request: Any) -> None:
        text = failure(request)
        if text is not None:
            record(text)

    page.on("requestfailed", seen)
