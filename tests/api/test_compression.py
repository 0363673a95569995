"""The API's data and the static files are gzipped for a client that accepts it; the HTML
pages, which carry the CSRF token, never are (api.compression)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient


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
