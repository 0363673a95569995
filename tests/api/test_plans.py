"""Sector plans through the API: proposals as jobs, plans, cells, adoption, import."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.plan_helpers import CONFIRMED, adopt, propose, run_job


def test_proposal_is_a_valid_partition(client: TestClient, csp_id: int, engine: Engine) -> None:
    plan = propose(client, csp_id, k=4, seed=1)
    assert plan["status"] == "draft" and plan["origin"] == "engine" and plan["k"] == 4
    assert plan["violations"] == []
    metrics = plan["metrics"]
    assert metrics["max_deviation"] <= 0.05 and metrics["contiguous"]
    assert set(metrics["split_communes"]) == {"90010"}  # only Belfort is split
    assert len(plan["sectors"]["features"]) == 4
    # Independent check in PostGIS: the sectors cover the CSP, with no overlap.
    with engine.connect() as conn:
        union, total, csp = conn.execute(
            text(
                "SELECT ST_Area(ST_Union(s.geom)::geography), SUM(ST_Area(s.geom::geography)), "
                "ST_Area(c.geom::geography) FROM plan_sector s, csp c "
                "WHERE s.plan_id = :p AND c.id = :c GROUP BY c.geom"
            ),
            {"p": plan["id"], "c": csp_id},
        ).one()
    assert abs(union - csp) / csp < 1e-4
    assert abs(total - union) / union < 1e-6

    cells = client.get(f"/api/plans/{plan['id']}/cells").json()["features"]
    grid = client.get(f"/api/csp/{csp_id}/grids").json()["data"][0]
    assert len(cells) == grid["cell_count"]
    assert {c["properties"]["sector"] for c in cells} == {0, 1, 2, 3}


def test_proposal_optimises_the_chosen_objective(client: TestClient, csp_id: int) -> None:
    boundary = propose(client, csp_id, k=4, seed=1)
    distance = propose(client, csp_id, k=4, seed=1, objective="distance")
    assert boundary["parameters"]["objective"] == "boundary"
    assert distance["parameters"]["objective"] == "distance"
    m, other = distance["metrics"], boundary["metrics"]
    assert m["pmedian_distance_m"] < other["pmedian_distance_m"]
    assert m["cut_length_m"] > other["cut_length_m"]  # each plan wins on its own objective
    assert m["max_deviation"] <= 0.05 and distance["violations"] == []
    refused = client.post(f"/api/csp/{csp_id}/plans", json={"k": 3, "objective": "vitesse"})
    assert refused.status_code == 422
    assert "valeur attendue parmi" in refused.json()["detail"]
    assert [f["field"] for f in refused.json()["fields"]] == ["objective"]
    refused = client.post(
        f"/api/csp/{csp_id}/plans", json={"k": 3, "objective": "mix", "objective_weight": 1.5}
    )
    assert refused.status_code == 422
    assert [f["field"] for f in refused.json()["fields"]] == ["objective_weight"]


def test_same_seed_same_plan(client: TestClient, csp_id: int) -> None:
    first = client.get(f"/api/plans/{propose(client, csp_id, k=3, seed=5)['id']}/cells").json()
    again = client.get(f"/api/plans/{propose(client, csp_id, k=3, seed=5)['id']}/cells").json()
    assert [f["properties"]["sector"] for f in first["features"]] == [
        f["properties"]["sector"] for f in again["features"]
    ]


def test_seed_points_head_their_sectors(client: TestClient, csp_id: int) -> None:
    station = [6.8628, 47.6379]  # central Belfort
    plan = propose(client, csp_id, k=4, seeds=[station])
    assert plan["parameters"]["seed_units"]
    cells = client.get(f"/api/plans/{plan['id']}/cells").json()["features"]
    seed = plan["parameters"]["seed_units"][0]
    assert next(c for c in cells if c["id"] == seed)["properties"]["sector"] == 0


def test_whole_communes_baseline_lists_its_violations(client: TestClient, csp_id: int) -> None:
    plan = propose(client, csp_id, k=4, method="communes")
    assert plan["origin"] == "communes"
    assert plan["metrics"]["communes_split"] == 0
    assert any(v["constraint"] == "balance" for v in plan["violations"])


def test_a_zero_workload_is_balanced_by_area_and_the_plan_says_so(
    client: TestClient, csp_id: int
) -> None:
    """Every workload weight at 0: the sectors are balanced by area (they were drawn of
    any size), and the plan's first note says so to the planner (plans page, A4 sheet)."""
    plan = propose(client, csp_id, k=3, seed=1, weights={"population": 0.0})
    assert plan["notes"][0].startswith(
        "charge nulle sur tout le territoire (ni population ni problème compté) : les "
        "secteurs sont équilibrés selon leur surface"
    ), plan["notes"]
    assert plan["violations"] == [] and plan["metrics"]["contiguous"]
    sectors = plan["metrics"]["sectors"]
    assert {s["workload"] for s in sectors} == {0}
    areas = [s["area_km2"] for s in sectors]
    assert max(areas) / min(areas) <= 1.1 / 0.9, areas


def test_engine_infeasibility_fails_the_job_with_the_reason(
    client: TestClient, csp_id: int
) -> None:
    job = run_job(client, csp_id, {"k": 4, "whole_commune_population": 10_000_000})
    assert job["status"] == "failed"
    # In French, the commune by its name first, and what to change on the form.
    assert job["error"].startswith(
        "Communes jamais coupées sous (habitants) : trop chargé pour rester entier : "
        "Belfort (90010, charge "
    ), job["error"]
    assert "(actuellement 10\u202f000\u202f000 habitants)" in job["error"]
    assert job["plan_id"] is None


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"k": 100_000}, 422, "k"),
        ({"k": 700}, 422, "plus que les 661 cellules"),
        ({}, 422, "soit le nombre de secteurs"),
        ({"k": 3, "target_workload": 1000}, 422, "soit le nombre de secteurs"),
        ({"k": 3, "tolerance": 2}, 422, "tolerance"),
        ({"k": 3, "resolution": 10}, 404, "aucune grille de résolution 10"),
        ({"k": 3, "seeds": [[2.35, 48.85]]}, 422, "[2.35, 48.85]"),
        ({"k": 3, "seeds": [[47.64, 6.86]]}, 422, "inversées"),
        ({"k": 3, "seeds": [[200, 0]]}, 422, "n'est pas une position"),
        ({"k": 3, "locked": {"89abc": 0}}, 422, "89abc"),
        ({"k": 3, "whole_commune_population": float("inf")}, 422, "whole_commune_population"),
        ({"k": 3, "weights": {"crime": 1}}, None, None),
    ],
)
def test_bad_requests_are_refused_naming_the_value(
    client: TestClient, csp_id: int, body: dict[str, Any], status: int | None, needle: str | None
) -> None:
    if status is None:  # only the job can tell: it fails, naming the variable
        job = run_job(client, csp_id, body)
        assert job["status"] == "failed" and "crime" in job["error"]
        return
    payload = json.dumps(body)  # Python writes inf as Infinity, which Starlette accepts
    response = client.post(
        f"/api/csp/{csp_id}/plans", content=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert needle is not None and needle in json.dumps(response.json(), ensure_ascii=False)


def test_unknown_ids_are_404(client: TestClient, csp_id: int) -> None:
    assert client.post("/api/csp/999/plans", json={"k": 2}).status_code == 404
    assert client.get("/api/plans/999").json()["type"] == "NotFoundError"
    assert client.get("/api/plans/999/cells").status_code == 404
    assert client.post("/api/plans/999/adopt", json=CONFIRMED).status_code == 404
    assert client.get("/api/jobs/999").status_code == 404
    assert client.get(f"/api/csp/{csp_id}/plans").json() == {"data": [], "count": 0}


def test_one_adopted_plan_per_csp(client: TestClient, csp_id: int, engine: Engine) -> None:
    first = propose(client, csp_id, k=3)
    second = propose(client, csp_id, k=5)
    assert adopt(client, first["id"]).json()["status"] == "adopted"
    adopted = adopt(client, second["id"]).json()
    assert adopted["status"] == "adopted" and adopted["version"] == 2
    assert client.get(f"/api/plans/{first['id']}").json()["status"] == "archived"
    listing = client.get(f"/api/csp/{csp_id}/plans").json()
    assert [p["status"] for p in listing["data"]] == ["adopted", "archived"]
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM plan WHERE status = 'adopted'")) == 1


def test_existing_sector_layer_is_imported_and_scored(client: TestClient, csp_id: int) -> None:
    proposal = propose(client, csp_id, k=4, seed=2)
    layer = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": f["geometry"], "properties": {"nom": f"S{f['id']}"}}
            for f in proposal["sectors"]["features"]
        ],
    }
    response = client.post(
        f"/api/csp/{csp_id}/plans/import",
        data={"name": "Secteurs actuels"},
        files={"file": ("secteurs.geojson", json.dumps(layer), "application/geo+json")},
    )
    assert response.status_code == 201, response.text
    imported = response.json()
    assert imported["origin"] == "import" and imported["name"] == "Secteurs actuels"
    assert [f["properties"]["name"] for f in imported["sectors"]["features"]] == [
        "S0",
        "S1",
        "S2",
        "S3",
    ]
    # The same polygons give the same cells, hence the same metrics.
    assert imported["metrics"]["max_deviation"] == pytest.approx(
        proposal["metrics"]["max_deviation"], abs=1e-4
    )


def test_import_of_points_is_refused(client: TestClient, csp_id: int) -> None:
    layer = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [6.86, 47.64]},
                "properties": {},
            }
        ],
    }
    response = client.post(
        f"/api/csp/{csp_id}/plans/import",
        data={"name": "x"},
        files={"file": ("points.geojson", json.dumps(layer), "application/geo+json")},
    )
    assert response.status_code == 422
    assert "doivent être des polygones" in response.json()["detail"]


def test_qpv_outlines_are_never_split(client: TestClient, csp_id: int) -> None:
    # A QPV outline across central Belfort: its cells must end up in one sector.
    qpv = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code_qp": "QN09099Z", "lib_qp": "Quartier test"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[6.855, 47.633], [6.868, 47.633], [6.868, 47.641], [6.855, 47.641],
                         [6.855, 47.633]]
                    ],
                },
            }
        ],
    }  # fmt: skip
    response = client.post(
        "/api/layers",
        data={"kind": "zones", "name": "QPV test"},
        files={"file": ("qpv.geojson", json.dumps(qpv), "application/geo+json")},
    )
    assert response.status_code == 201, response.text
    plan = propose(client, csp_id, k=6, seed=3)
    cells = client.get(f"/api/plans/{plan['id']}/cells").json()["features"]
    inside = [
        c["properties"]["sector"]
        for c in cells
        if 6.856 < c["geometry"]["coordinates"][0][0][0][0] < 6.867
        and 47.634 < c["geometry"]["coordinates"][0][0][0][1] < 47.640
    ]
    assert len(inside) > 5 and len(set(inside)) == 1
    # Kept whole, a QPV heavier than a sector makes the request infeasible, naming it.
    job = run_job(client, csp_id, {"k": 30, "whole_commune_population": 0})
    assert job["status"] == "failed" and "QN09099Z" in job["error"]


def test_police_stations_of_a_point_layer_seed_the_sectors(client: TestClient, csp_id: int) -> None:
    stations = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"type": "commissariat", "nom": "Commissariat central"},
                "geometry": {"type": "Point", "coordinates": [6.8590, 47.6395]},
            },
            {
                "type": "Feature",
                "properties": {"type": "bureau de police", "nom": "Bureau des Résidences"},
                "geometry": {"type": "Point", "coordinates": [6.8480, 47.6290]},
            },
            {
                "type": "Feature",
                "properties": {"type": "école", "nom": "Une école"},
                "geometry": {"type": "Point", "coordinates": [6.8700, 47.6450]},
            },
        ],
    }
    response = client.post(
        "/api/layers",
        data={"kind": "points", "name": "Police"},
        files={"file": ("police.geojson", json.dumps(stations), "application/geo+json")},
    )
    assert response.status_code == 201, response.text
    plan = propose(
        client, csp_id, k=4, seed_point_types=["Commissariat", "bureau de police"], seed=1
    )
    seeds = plan["parameters"]["seed_units"]
    assert len(seeds) == 2  # the school is not a seed
    sector_of = {
        c["id"]: c["properties"]["sector"]
        for c in client.get(f"/api/plans/{plan['id']}/cells").json()["features"]
    }
    assert [sector_of[s] for s in seeds] == [0, 1]
    # Distances are measured to the seed where there is one.
    assert plan["metrics"]["sectors"][0]["mean_distance_m"] > 0
