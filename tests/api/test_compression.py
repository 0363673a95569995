"""The API's data and the static files are gzipped for a client that accepts it; the HTML
pages, which carry the CSRF token, never are (api.compression)."""

from __future__ import annotations

import json
import zlib

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from api.compression import CACHED_FROM, Compression, Digests, JoinedBody


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
    """A map's bytes come again until a write changes them, as the OGC API's documents and
    single features: their gzipped form is kept, once. An OGC page of features carries the
    time it was written, never the same bytes twice: compressed, not kept."""
    paths = [
        "/api/map",
        "/ogc/api",
        "/ogc/collections/p",
        "/ogc/collections/p/items/7",
        "/ogc/collections/p/items",
        "/ogc/collections/p/items/",
    ]

    def large(request):  # type: ignore[no-untyped-def]
        # Each path its own bytes (the cache finds a body by its digest).
        return Response(request.url.path.encode() * CACHED_FROM, media_type="application/json")

    inner = Starlette(routes=[Route(path, large) for path in paths])
    compression = Compression(inner)
    client = TestClient(compression)
    gzip = {"Accept-Encoding": "gzip"}
    for _ in range(2):
        for path in paths:
            answer = client.get(path, headers=gzip)
            assert answer.headers["content-encoding"] == "gzip"
            assert answer.content == path.encode() * CACHED_FROM
    # The first four, once each; the two spellings of the pages' path never.
    assert len(compression.cache) == 4


def test_an_unchanged_answer_is_not_modified(client: TestClient, csp_id: int) -> None:
    """The API's answers carry a weak ETag (their digest, the same gzipped or not): asked
    again with it, an unchanged answer is a 304 without a body; a changed one a 200."""
    path = f"/api/csp/{csp_id}/cells"
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    tag = first.headers["etag"]
    assert tag.startswith('W/"') and first.headers["cache-control"] == "private, no-cache"
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.headers["etag"] == tag
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag and "content-encoding" not in again.headers
    other = client.get(path, headers={"If-None-Match": 'W/"0", ' + tag})
    assert other.status_code == 304
    tokens = client.get("/api/me/tokens")
    assert tokens.headers["etag"] != tag
    made = client.post("/api/me/tokens", json={"name": "Tableau de bord"})
    assert made.status_code == 201, made.text
    assert "etag" not in made.headers  # only a GET's answer is validated
    changed = client.get("/api/me/tokens", headers={"If-None-Match": tokens.headers["etag"]})
    assert changed.status_code == 200
    assert [t["name"] for t in changed.json()["data"]] == ["tests", "Tableau de bord"]
    page = client.get("/")  # the pages are not validated
    assert "etag" not in page.headers


def test_a_body_served_again_is_hashed_once() -> None:
    """The digest of a large body is kept by the body's identity: the same object gives
    the same digest object back; an equal body built anew is hashed (the same value)."""
    digests = Digests(budget=4 * CACHED_FROM)
    body = b"x" * CACHED_FROM
    first = digests.of(body)
    assert digests.of(body) is first
    assert digests.of(b"x" * CACHED_FROM) == first
    # past the budget, the least recently used bodies are let go
    others = [bytes([i]) * CACHED_FROM for i in range(4)]
    for other in others:
        digests.of(other)
    assert digests.size <= 4 * CACHED_FROM
    assert digests.of(body) is not first and digests.of(body) == first


def test_a_joined_body_is_gzipped_from_its_runs_kept() -> None:
    """A body of kept pieces (a GPO's problems' features) is one valid gzip member,
    assembled from runs of pieces each deflated once: after a piece put first and the
    last dropped (a new problem), only a few runs are deflated again."""
    pieces = [
        b'{"type":"Feature","id":%d,"properties":{"title":"Tapage"}}' % i for i in range(4000)
    ]
    served: list[JoinedBody] = []

    def joined(request):  # type: ignore[no-untyped-def]
        del request
        return Response(served[-1], media_type="application/json")

    compression = Compression(Starlette(routes=[Route("/api/problems", joined)]))
    client = TestClient(compression)
    for step in range(2):
        if step:
            pieces = [b'{"type":"Feature","id":-1}', *pieces[:-1]]
        served.append(JoinedBody.of(b'{"features":[', pieces, b",", b"]}"))
        before = len(compression.cache.runs)
        with client.stream("GET", "/api/problems", headers={"Accept-Encoding": "gzip"}) as answer:
            assert answer.headers["content-encoding"] == "gzip"
            raw = b"".join(answer.iter_raw())
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        assert inflate.decompress(raw) == served[-1] and inflate.eof and not inflate.unused_data
        added = len(compression.cache.runs) - before
        assert added > 40 if not step else 0 < added <= 4, added
