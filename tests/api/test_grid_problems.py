"""Recorded problems per cell: counted in PostGIS, shown with the cells, weighted in
proposals. Against the real PostGIS, on the demo CSP and its synthetic problems."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.plan_helpers import propose, run_job

# Each problem's anchor against every cell that covers it: a problem on the boundary of
# several cells is counted in each of them here, once in the API.
COVERS = """
    SELECT c.h3, count(p.id) FROM cell c JOIN grid g ON g.id = c.grid_id
    JOIN problem p ON p.csp_id = g.csp_id AND ST_Covers(c.geom, p.anchor)
    WHERE g.csp_id = :csp AND g.resolution = 9 GROUP BY c.h3
"""


def _cell_counts(client: TestClient, csp_id: int) -> tuple[dict[str, int], dict[str, int]]:
    features = client.get(f"/api/csp/{csp_id}/cells", params={"res": 9}).json()["features"]
    props = [f["properties"] for f in features]
    return (
        {p["h3"]: p["problems"] for p in props if p["problems"]},
        {p["h3"]: p["synthetic_problems"] for p in props if p["synthetic_problems"]},
    )


def _covers(engine: Engine, csp_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        return {str(h3): int(n) for h3, n in conn.execute(text(COVERS), {"csp": csp_id})}


def test_cells_count_the_problems_whose_anchor_they_cover(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    counts, synthetic = _cell_counts(client, csp_id)
    with engine.connect() as conn:
        total = conn.execute(
            text("SELECT count(*) FROM problem WHERE csp_id = :csp"), {"csp": csp_id}
        ).scalar_one()
    assert total > 100  # the demo's synthetic problems
    assert counts == _covers(engine, csp_id)
    assert sum(counts.values()) == total  # every problem lies in the CSP, counted once
    assert synthetic == counts  # the demo's problems are all synthetic

    # A real problem on a street: its anchor (not its first point) is what counts.
    street = client.post(
        f"/api/csp/{csp_id}/problems",
        json={
            "category": "rodeos",
            "title": "Rodéos",
            "geometry": {"type": "LineString", "coordinates": [[6.850, 47.637], [6.866, 47.638]]},
        },
    )
    assert street.status_code == 201, street.text
    # A real problem exactly on a vertex shared by three cells: counted once.
    with engine.connect() as conn:
        x, y = conn.execute(
            text(
                """SELECT ST_X(v), ST_Y(v) FROM (
                     SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(c.geom, 1)), 1) AS v
                     FROM cell c JOIN grid g ON g.id = c.grid_id
                     WHERE g.csp_id = :csp AND g.resolution = 9 AND NOT c.clipped
                     ORDER BY c.h3 LIMIT 1) s"""
            ),
            {"csp": csp_id},
        ).one()
        around = set(
            conn.scalars(
                text(
                    """SELECT c.h3 FROM cell c JOIN grid g ON g.id = c.grid_id
                       WHERE g.csp_id = :csp AND g.resolution = 9
                       AND ST_Covers(c.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"""
                ),
                {"csp": csp_id, "x": x, "y": y},
            )
        )
    assert len(around) == 3
    vertex = client.post(
        f"/api/csp/{csp_id}/problems",
        json={"category": "rassemblements", "title": "Au sommet", "lon": x, "lat": y},
    )
    assert vertex.status_code == 201, vertex.text

    after, synthetic_after = _cell_counts(client, csp_id)
    covers = _covers(engine, csp_id)
    assert sum(after.values()) == total + 2
    assert sum(covers.values()) == total + 4  # the vertex problem in each of its 3 cells
    assert synthetic_after == synthetic  # the new ones are real
    # The API counts the vertex problem once, in the cell of lowest H3 id…
    assert {h3: after.get(h3, 0) - counts.get(h3, 0) for h3 in around} == {
        h3: int(h3 == min(around)) for h3 in around
    }
    # …and agrees with ST_Covers everywhere else.
    assert {h: n for h, n in after.items() if h not in around} == {
        h: n for h, n in covers.items() if h not in around
    }


def _total_workload(plan: dict[str, Any]) -> float:
    return sum(f["properties"]["workload"] for f in plan["sectors"]["features"])


def test_a_proposal_weights_the_recorded_problems(client: TestClient, csp_id: int) -> None:
    counts, _ = _cell_counts(client, csp_id)
    n = sum(counts.values())
    cells = client.get(f"/api/csp/{csp_id}/cells", params={"res": 9}).json()["features"]
    population = sum(c["properties"]["population"] for c in cells)

    plain = propose(client, csp_id, k=3, seed=0, weights={"population": 1, "problems": 0})
    weighted = propose(client, csp_id, k=3, seed=0, weights={"population": 1, "problems": 200})
    assert _total_workload(plain) == pytest.approx(population, rel=1e-4)
    assert _total_workload(weighted) == pytest.approx(population + 200 * n, rel=1e-4)
    assert weighted["parameters"]["problems_counted"] == n
    assert weighted["parameters"]["weights"]["problems"] == 200
    # The sector holding the most problems gets more workload than its population alone.
    plans = client.get(f"/api/plans/{weighted['id']}/cells").json()["features"]
    sector_of = {f["properties"]["h3"]: f["properties"]["sector"] for f in plans}
    # Each cell's workload is the plan's: its population and its problems.
    population_of = {c["id"]: c["properties"]["population"] for c in cells}
    assert {f["id"]: f["properties"]["workload"] for f in plans} == pytest.approx(
        {h3: population_of[h3] + 200 * counts.get(h3, 0) for h3 in population_of}, abs=0.02
    )
    per_sector = [0] * 3
    for h3, k in counts.items():
        per_sector[sector_of[h3]] += k
    for feature in weighted["sectors"]["features"]:
        s = feature["properties"]["sector"]
        pop = sum(c["properties"]["population"] for c in cells if sector_of[c["id"]] == s)
        assert feature["properties"]["workload"] == pytest.approx(
            pop + 200 * per_sector[s], rel=1e-4
        )


def test_problem_weights_belong_to_proposals_not_grids(client: TestClient, csp_id: int) -> None:
    response = client.post(
        f"/api/csp/{csp_id}/grids", json={"resolution": 8, "weights": {"problems": 1}}
    )
    assert response.status_code == 422
    assert (
        "les problématiques sont comptées à chaque lecture des cellules"
        in response.json()["detail"]
    )
    typo = run_job(client, csp_id, {"k": 3, "weights": {"problem": 1}})
    assert typo["status"] == "failed"
    assert "inconnue(s) : problem ;" in typo["error"] and "problems" in typo["error"]
