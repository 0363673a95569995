"""The API's data and the static files are gzipped for a client that accepts it; the HTML
pages, which carry the CSRF token, never are (api.compression)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from api.compression import CACHED_FROM, Compression


def test_data_is_compressed_pages_are_not(client: TestClient, csp_id: int) -> None:
    cells = client.get(f"/api/csp/{csp_id}/cells", headers={"Accept-Encoding": "gzip"})
    assert cells.status_code == 200
    assert cells.headers["content-encoding"] == "gzip"
    assert cells.headers["vary"] == "Accept-Encoding"
    # httpx inflated it: the body is the GeoJSON itself.
    body = cells.json()
    assert body["type"] == "FeatureCollection" and body["features"]

    plain = client.get(f"/api/csp/{csp_id}/cells", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert json.loads(plain.content) == body

    small = client.get("/api/health/live", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under 1 KB: not worth it

    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "content-encoding" not in page.headers


def test_large_answers_keep_their_gzipped_form_but_ogc_pages_do_not() -> None:
    """A map's bytes come again until a write changes them: their gzipped form is kept. An
    OGC page carries the time it was written, never the same bytes twice: not kept."""
    body = b"x" * (CACHED_FROM + 1)

    def large(_request):  # type: ignore[no-untyped-def]
        return Response(body, media_type="application/json")

    inner = Starlette(routes=[Route("/api/map", large), Route("/ogc/collections/p/items", large)])
    compression = Compression(inner)
    client = TestClient(compression)
    gzip = {"Accept-Encoding": "gzip"}
    page = client.get("/ogc/collections/p/items", headers=gzip)
    assert page.headers["content-encoding"] == "gzip" and page.content == body
    assert len(compression.cache) == 0
    for _ in range(2):
        answer = client.get("/api/map", headers=gzip)
        assert answer.headers["content-encoding"] == "gzip" and answer.content == body
    assert len(compression.cache) == 1
