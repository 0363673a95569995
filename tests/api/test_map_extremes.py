"""The maps at their extreme parameters (issue 22): what stays costly is refused before
any work past its configurable budget, naming the parameter, and what was made fast
writes what the previous computation wrote."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import h3
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.repositories.base import GEOJSON_DECIMALS
from api.services.area_maps import hexagons_json
from tests.clock import TODAY

TEN_YEARS = {"from": str(TODAY - timedelta(days=3659)), "to": str(TODAY)}


def previous_hexagon_json(cell: str) -> str:
    """A cell's geometry as the maps wrote it before issue 22, one cell at a time."""
    polygon = shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
    rounded = shapely.set_precision(polygon, 10**-GEOJSON_DECIMALS)
    return json.dumps(json.loads(shapely.to_geojson(rounded)), separators=(",", ":"))


def test_hexagons_are_written_as_before() -> None:
    # Cells of every resolution a map takes, in metropolitan France and overseas, and
    # the distorted cells around an icosahedron's vertex (more than six corners).
    cells: list[str] = []
    for lat, lng in ((47.64, 6.86), (-21.1, 55.5), (16.2, -61.5), (4.9, -52.3)):
        for res in range(5, 12):
            cells += sorted(h3.grid_disk(h3.latlng_to_cell(lat, lng, res), 4))
    pentagon = h3.get_pentagons(5)[0]
    cells += sorted(h3.grid_disk(pentagon, 3))
    assert any(len(h3.cell_to_boundary(c)) > 6 for c in cells)
    assert hexagons_json(cells) == [previous_hexagon_json(c) for c in cells]


@pytest.fixture
def csp_id(client: TestClient, demo_adopted: sessionmaker[Session]) -> int:
    del demo_adopted
    return int(client.get("/api/csp").json()["data"][0]["id"])


def refusal(response: Any, code: str, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == code and body["fields"][0]["field"] == field, body
    return str(body["detail"])


def test_a_map_with_too_many_cells_is_refused_naming_res(client: TestClient, csp_id: int) -> None:
    client.app.state.context.map_cell_budget = 5_000  # the CSP: ~4 000 cells at res 10
    assert client.get(f"/api/csp/{csp_id}/hotspots", params={"res": 10}).status_code == 200
    for path in ("hotspots", "heat", "hotspots/comparison"):
        response = client.get(f"/api/csp/{csp_id}/{path}", params={"res": 11})
        detail = refusal(response, "map_too_many_cells", "res")
        assert "à la résolution 11" in detail and "5\u202f000 permises" in detail, detail
    # a GPO's sectors are smaller: their map at resolution 11 fits
    gpo = client.get(f"/api/csp/{csp_id}/gpos").json()["data"][0]["id"]
    small = client.get(f"/api/csp/{csp_id}/hotspots", params={"res": 11, "gpo": gpo})
    assert small.status_code == 200, small.text


def test_a_bandwidth_past_the_heat_budget_is_refused_and_the_default_made_coarser(
    client: TestClient, csp_id: int
) -> None:
    path = f"/api/csp/{csp_id}/heat"
    before = client.get(path, params=TEN_YEARS).json()
    narrow = client.get(path, params={**TEN_YEARS, "bandwidth": 50})
    assert narrow.status_code == 200, narrow.text
    client.app.state.context.heat_cell_budget = 20_000
    detail = refusal(
        client.get(path, params={**TEN_YEARS, "bandwidth": 50}), "heat_too_many_cells", "bandwidth"
    )
    assert "largeur de bande de 50 m" in detail and "20\u202f000 permises" in detail, detail
    minimum = int(detail.split("au moins ")[1].split(" m")[0].replace("\u202f", ""))
    fits = client.get(path, params={**TEN_YEARS, "bandwidth": minimum + 100})
    assert fits.status_code == 200, fits.text
    # the default bandwidth is kept; its grid's cells grow until the grid fits
    client.app.state.context.heat_cell_budget = 1_000
    after = client.get(path, params=TEN_YEARS).json()
    assert after["meta"]["bandwidth_m"] == before["meta"]["bandwidth_m"]
    assert after["meta"]["kde_cell_m"] > before["meta"]["kde_cell_m"]
    assert after["meta"]["problems"] == before["meta"]["problems"] and after["features"]
    hot = client.get(f"/api/csp/{csp_id}/hotspots", params=TEN_YEARS).json()
    assert hot["meta"]["kde_cell_m"] == after["meta"]["kde_cell_m"]
