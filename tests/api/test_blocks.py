"""Street-block grids through the API and the CLI, against the real PostGIS: Massy and
its OpenStreetMap roads."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.services.context import Context
from api.services.territory import import_layer_file, import_territory
from geo.territory import read_communes
from psq.cli import app
from tests.plan_helpers import propose

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def massy(factory: sessionmaker[Session]) -> int:
    """A CSP « Massy » (commune 91377 among its neighbours), without any layer."""
    report = import_territory(
        Context(factory),
        layer=read_communes(FIXTURES / "communes_massy.geojson"),
        csp_name="Massy",
        csp_code="MASSY",
        commune_codes=["91377"],
    )
    return report.csp_id


@pytest.fixture
def massy_roads(factory: sessionmaker[Session], massy: int) -> int:
    import_layer_file(
        Context(factory),
        path=FIXTURES / "roads_osm_massy.geojson",
        kind="barriers",
        name="Routes OSM",
    )
    return massy


def _coverage(engine: Engine, csp_id: int, units: str) -> tuple[float, float, float, int]:
    """Symmetric difference with the CSP, sum of the pairwise overlaps (m²), the CSP's
    area and the number of invalid units, computed by PostGIS."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                """WITH u AS (SELECT c.h3, c.geom FROM cell c JOIN grid g ON g.id = c.grid_id
                              WHERE g.csp_id = :id AND g.units = :units AND g.resolution = 9)
                   SELECT ST_Area(ST_SymDifference((SELECT ST_Union(geom) FROM u), s.geom)
                                  ::geography),
                          (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)
                                                       ::geography)), 0)
                           FROM u a JOIN u b ON a.h3 < b.h3 AND ST_Intersects(a.geom, b.geom)),
                          ST_Area(s.geom::geography),
                          (SELECT count(*) FROM u WHERE NOT ST_IsValid(geom))
                   FROM csp s WHERE s.id = :id"""
            ),
            {"id": csp_id, "units": units},
        ).one()


def test_blocks_need_a_barrier_layer(client: TestClient, massy: int) -> None:
    response = client.post(f"/api/csp/{massy}/grids", json={"resolution": 9, "units": "blocks"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("Unités : des îlots demandent une couche de coupures")
    bad = client.post(f"/api/csp/{massy}/grids", json={"resolution": 9, "units": "streets"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["loc"][-1] == "units"
    missing = client.get(f"/api/csp/{massy}/cells", params={"res": 9, "units": "blocks"})
    assert missing.status_code == 404 and "grille d'îlots" in missing.json()["detail"]


def test_blocks_grid_covers_the_csp(client: TestClient, massy_roads: int, engine: Engine) -> None:
    csp = massy_roads
    assert client.post(f"/api/csp/{csp}/grids", json={"resolution": 9}).status_code == 201
    response = client.post(f"/api/csp/{csp}/grids", json={"resolution": 9, "units": "blocks"})
    assert response.status_code == 201, response.text
    grid = response.json()
    assert grid["units"] == "blocks" and grid["parameters"]["units"] == "blocks"
    assert grid["parameters"]["cutting_line_count"] > 1000
    # Both grids of resolution 9 live side by side, H3 first.
    grids = client.get(f"/api/csp/{csp}/grids").json()["data"]
    assert [(g["units"], g["resolution"]) for g in grids] == [("h3", 9), ("blocks", 9)]
    assert grids[1]["cell_count"] > 2 * grids[0]["cell_count"]

    diff, overlap, area, invalid = _coverage(engine, csp, "blocks")
    assert diff / area < 1e-4 and overlap / area < 1e-6 and invalid == 0

    blocks = client.get(f"/api/csp/{csp}/cells", params={"res": 9, "units": "blocks"}).json()
    ids = [f["id"] for f in blocks["features"]]
    assert len(ids) == grid["cell_count"] and all(i.startswith("b") for i in ids)
    assert sum(f["properties"]["area_m2"] for f in blocks["features"]) == pytest.approx(
        area, rel=1e-3
    )
    cells = client.get(f"/api/csp/{csp}/cells", params={"res": 9}).json()["features"]
    assert len(cells) == grids[0]["cell_count"]  # the H3 grid is untouched
    edges = client.get(
        f"/api/csp/{csp}/edges", params={"res": 9, "units": "blocks", "blocked": "true"}
    ).json()["features"]
    assert edges and {e["properties"]["barrier"] for e in edges} <= {"motorway", "trunk"}


def test_a_proposal_on_blocks(client: TestClient, massy_roads: int) -> None:
    csp = massy_roads
    assert (
        client.post(f"/api/csp/{csp}/grids", json={"resolution": 9, "units": "blocks"}).status_code
        == 201
    )
    no_h3 = client.post(f"/api/csp/{csp}/plans", json={"k": 3})
    assert no_h3.status_code == 404  # the H3 grid was not built
    station = [2.2731, 48.7302]  # near Massy-Palaiseau station
    plan = propose(client, csp, k=3, units="blocks", seeds=[station])
    assert plan["units"] == "blocks" and plan["metrics"]["contiguous"]
    cells = client.get(f"/api/plans/{plan['id']}/cells").json()["features"]
    assert {c["properties"]["sector"] for c in cells} == {0, 1, 2}
    assert all(c["id"].startswith("b") for c in cells)
    seed = plan["parameters"]["seed_units"][0]
    assert next(c for c in cells if c["id"] == seed)["properties"]["sector"] == 0
    # The editor and the comparison work on blocks like on cells.
    copy = client.post(f"/api/plans/{plan['id']}/edit").json()
    assert copy["units"] == "blocks"
    editor = client.get(f"/api/plans/{copy['id']}/editor")
    assert editor.status_code == 200
    state = editor.json()
    # The copy of a contiguous plan on blocks: the same figures, nothing detached.
    assert state["metrics"]["contiguous"] and state["detached"] == []
    assert state["metrics"]["max_deviation"] == pytest.approx(plan["metrics"]["max_deviation"])
    assert state["locked_sectors"] == [] and state["violations"] == plan["violations"]
    h3_plan = client.post(f"/api/csp/{csp}/grids", json={"resolution": 9})
    assert h3_plan.status_code == 201
    other = propose(client, csp, k=3)
    compared = client.get(f"/api/plans/{plan['id']}/compare", params={"with": other["id"]})
    assert compared.status_code == 422 and "îlots résolution" in compared.json()["detail"]


def test_cli_builds_blocks(massy: int, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    del massy
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    build = ["grid", "build", "--csp", "Massy", "--res", "9", "--units", "blocks"]
    refused = runner.invoke(app, build)
    said = " ".join(refused.output.split())
    assert refused.exit_code != 0 and "des îlots demandent une couche de coupures" in said
    wrong = runner.invoke(app, ["grid", "build", "--csp", "Massy", "--units", "rues"])
    assert wrong.exit_code != 0 and "--units attend h3 ou blocks" in wrong.output
    roads = str(FIXTURES / "roads_osm_massy.geojson")
    imported = runner.invoke(app, ["import-layer", roads, "--kind", "barriers", "--name", "Routes"])
    assert imported.exit_code == 0, imported.output
    built = runner.invoke(app, build)
    assert built.exit_code == 0, built.output
    assert "îlots" in built.output
