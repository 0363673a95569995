"""Requests that used to freeze the server or answer 500 (issue 22): each gets a clean
4xx naming what to fix."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient


def test_a_grid_too_fine_for_the_csp_is_refused_before_any_work(
    client: TestClient, csp_id: int
) -> None:
    grids = client.get(f"/api/csp/{csp_id}/grids").json()["count"]
    started = time.monotonic()
    response = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 15})
    assert time.monotonic() - started < 5  # used to build for minutes and take GBs
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("resolution : à la résolution 15, la grille compterait environ")
    assert "200 000" in detail and response.json()["type"] == "InvalidInputError"
    # street blocks are cut by the same H3 cells: the same budget
    blocks = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 14, "units": "blocks"})
    assert blocks.status_code == 422 and blocks.json()["detail"].startswith("resolution :")
    # past what H3 supports: the schema refuses it
    beyond = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 16})
    assert beyond.status_code == 422 and beyond.json()["detail"][0]["loc"][-1] == "resolution"
    assert client.get(f"/api/csp/{csp_id}/grids").json()["count"] == grids
