"""Problems, their life cycle, GPOs and partners through the API, on real PostGIS."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo.problems import STATUSES
from tests.clock import TODAY
from tests.plan_helpers import adopt, propose

BELFORT = (6.8628, 47.6379)  # central Belfort, inside the demo CSP


def new_problem(client: TestClient, csp_id: int, **body: Any) -> Any:
    payload = {"category": "rassemblements", "title": "Rassemblement dans un hall"}
    payload.update(body)
    if "geometry" not in payload and "lon" not in payload:
        payload["lon"], payload["lat"] = BELFORT
    return client.post(f"/api/csp/{csp_id}/problems", json=payload)


def test_create_and_place_a_problem(client: TestClient, csp_id: int) -> None:
    response = new_problem(client, csp_id, address="2 rue de la Paix")
    assert response.status_code == 201, response.text
    problem = response.json()
    assert problem["status"] == "signale" and problem["status_label"] == "Signalé"
    assert problem["sector"] is None and problem["gpo_id"] is None  # no adopted plan yet
    assert [e["status"] for e in problem["events"]] == ["signale"]
    assert problem["synthetic"] is False

    plan = propose(client, csp_id, k=3, seed=0)
    adopt(client, plan["id"])
    gpos = client.get(f"/api/csp/{csp_id}/gpos").json()
    assert gpos["count"] == 3 and {g["sector"] for g in gpos["data"]} == {0, 1, 2}
    placed = client.get(f"/api/problems/{problem['id']}").json()
    assert placed["sector"] in {0, 1, 2}
    gpo = next(g for g in gpos["data"] if g["sector"] == placed["sector"])
    assert placed["gpo_id"] == gpo["id"]
    # the sector is the one whose outline holds the point
    sector = plan["sectors"]["features"][placed["sector"]]
    assert shapely.geometry.shape(sector["geometry"]).covers(shapely.Point(*BELFORT))
    # a new problem is placed at once; lines and polygons too
    line = new_problem(
        client,
        csp_id,
        category="rodeos",
        title="Rodéos",
        geometry={"type": "LineString", "coordinates": [[6.860, 47.637], [6.864, 47.638]]},
    ).json()
    assert line["sector"] is not None and line["geometry"]["type"] == "LineString"

    # adopting another plan moves the GPOs and the problems with it
    other = propose(client, csp_id, k=2, seed=0)
    adopt(client, other["id"])
    gpos = client.get(f"/api/csp/{csp_id}/gpos").json()
    assert {g["sector"] for g in gpos["data"]} == {0, 1}
    assert client.get(f"/api/problems/{problem['id']}").json()["sector"] in {0, 1}
    assert client.get(f"/api/csp/{csp_id}/problems", params={"sector": 2}).json()["features"] == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"lon": 47.6379, "lat": 6.8628}, "inversées"),
        ({"lon": 2.35, "lat": 48.85}, "hors de CSP"),
        ({"lon": 6.86, "lat": 147.6}, "lat"),
        ({"category": "vol_de_pommes"}, "category"),
        ({"priority": "urgente"}, "priority"),
        ({"reported_on": str(TODAY + timedelta(days=3))}, "dans le futur"),
        ({"title": ""}, "title"),
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[6.86, 47.63], [6.87, 47.64], [6.87, 47.63], [6.86, 47.64], [6.86, 47.63]]
                    ],
                }
            },
            "invalide",
        ),
        ({"geometry": {"type": "Point", "coordinates": [6.86]}}, "geometry"),
        ({"partner_id": 999}, "partner_id"),
    ],
)
def test_bad_problems_are_refused(
    client: TestClient, csp_id: int, body: dict[str, Any], needle: str
) -> None:
    before = len(client.get(f"/api/csp/{csp_id}/problems").json()["features"])
    response = new_problem(client, csp_id, **body)
    assert response.status_code == 422, response.text
    # The French sentence, and the field by its name in the request.
    assert needle in json.dumps(response.json(), ensure_ascii=False)
    assert response.json()["fields"], response.json()
    assert len(client.get(f"/api/csp/{csp_id}/problems").json()["features"]) == before


def test_life_cycle(client: TestClient, csp_id: int) -> None:
    reported = TODAY - timedelta(days=60)
    problem = new_problem(client, csp_id, reported_on=str(reported)).json()
    pid = problem["id"]

    def step(status: str, on: date) -> Any:
        return client.post(
            f"/api/problems/{pid}/transitions", json={"status": status, "on": str(on)}
        )

    refused = step("resolu", reported)
    assert (
        refused.status_code == 409
        and "« Signalé » ne peut pas passer à « Résolu »" in refused.json()["detail"]
    )
    assert step("analyse", reported - timedelta(days=1)).status_code == 422  # before the report
    assert step("analyse", reported + timedelta(days=5)).status_code == 200
    assert step("actions_en_cours", reported + timedelta(days=10)).status_code == 200
    partner = client.post(
        f"/api/csp/{csp_id}/partners",
        json={"organisation": "Territoire Habitat", "type": "bailleur_social"},
    ).json()
    action = client.post(
        f"/api/problems/{pid}/actions",
        json={
            "type": "parties_communes",
            "lead_partner_id": partner["id"],
            "start_on": str(reported + timedelta(days=10)),
            "due_on": str(reported + timedelta(days=40)),
        },
    )
    assert action.status_code == 201, action.text
    act = action.json()["actions"][0]
    assert act["lead_partner"] == "Territoire Habitat" and act["overdue"]  # due date passed
    no_eval = step("evalue", reported + timedelta(days=50))
    assert (
        no_eval.status_code == 409 and "demande d'abord une évaluation" in no_eval.json()["detail"]
    )
    evaluation = client.post(
        f"/api/problems/{pid}/evaluations",
        json={
            "evaluated_on": str(reported + timedelta(days=50)),
            "outcome": "positif",
            "indicators": {"signalements_avant": 8, "signalements_apres": 1},
        },
    )
    assert evaluation.status_code == 201
    assert step("evalue", reported + timedelta(days=50)).status_code == 200
    done = step("resolu", reported + timedelta(days=55))
    assert done.status_code == 200
    body = done.json()
    assert body["status"] == "resolu"
    assert [e["status"] for e in body["events"]] == [
        "signale",
        "analyse",
        "actions_en_cours",
        "evalue",
        "resolu",
    ]
    assert step("analyse", TODAY).status_code == 409  # closed
    skipped = client.patch(f"/api/actions/{act['id']}", json={"status": "realisee"})
    assert skipped.status_code == 409 and "En cours" in skipped.json()["detail"]
    for status in ("en_cours", "realisee"):
        patched = client.patch(f"/api/actions/{act['id']}", json={"status": status})
        assert patched.status_code == 200 and patched.json()["status"] == status
    bad = client.patch(f"/api/actions/{act['id']}", json={"status": "finie"})
    assert bad.status_code == 422 and "finie" in str(bad.json()["detail"])


def test_gpo_cadence_partners_and_thematic(client: TestClient, csp_id: int, engine: Engine) -> None:
    plan = propose(client, csp_id, k=2, seed=0)
    adopt(client, plan["id"])
    gpo = client.get(f"/api/csp/{csp_id}/gpos").json()["data"][0]
    assert gpo["kind"] == "sector" and gpo["cadence_days"] == 15 and not gpo["overdue"]
    with engine.begin() as conn:  # the GPOs have existed for two months
        conn.execute(text("UPDATE gpo SET created_at = :t"), {"t": TODAY - timedelta(days=60)})
    held = TODAY - timedelta(days=20)
    meeting = client.post(f"/api/gpos/{gpo['id']}/meetings", json={"held_on": str(held)})
    assert meeting.status_code == 201
    assert client.get(f"/api/gpos/{gpo['id']}").json()["last_meeting_on"] is None  # planned
    closed = client.post(f"/api/meetings/{meeting.json()['id']}/close", json={})
    assert closed.status_code == 200, closed.text
    gpo = client.get(f"/api/gpos/{gpo['id']}").json()
    assert gpo["last_meeting_on"] == str(held) and gpo["overdue"]  # 20 days > 15
    monthly = client.patch(f"/api/gpos/{gpo['id']}", json={"cadence_days": 30})
    assert monthly.status_code == 200 and not monthly.json()["overdue"]
    assert client.patch(f"/api/gpos/{gpo['id']}", json={"cadence_days": 45}).status_code == 422
    chief = client.patch(
        f"/api/gpos/{gpo['id']}",
        json={"chief_name": "Martin", "chief_grade": "Capitaine", "partner_ids": [999]},
    )
    assert chief.status_code == 422 and "999" in chief.json()["detail"]

    thematic = client.post(
        f"/api/csp/{csp_id}/gpos",
        json={"name": "GPO transports", "theme": "transports", "sectors": [0, 1]},
    )
    assert thematic.status_code == 201 and thematic.json()["sectors"] == [0, 1]
    unknown = client.post(
        f"/api/csp/{csp_id}/gpos",
        json={"name": "GPO MNA", "theme": "mineurs_non_accompagnes", "sectors": [5]},
    )
    assert unknown.status_code == 422 and "5" in unknown.json()["detail"]
    url = f"/api/gpos/{thematic.json()['id']}"
    narrowed = client.patch(url, json={"sectors": [1, 1], "categories": ["transports"]})
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["sectors"] == [1] and narrowed.json()["categories"] == ["transports"]
    assert client.patch(url, json={"sectors": [7]}).json()["detail"].startswith("Secteurs : 7")
    sector_gpo = client.patch(f"/api/gpos/{gpo['id']}", json={"sectors": [0, 1]})
    assert sector_gpo.status_code == 422 and sector_gpo.json()["fields"][0]["field"] == "sectors"
    bad_theme = client.post(f"/api/csp/{csp_id}/gpos", json={"name": "X", "theme": "foot"})
    assert bad_theme.status_code == 422


def test_demo_has_synthetic_problems(client: TestClient, csp_id: int, engine: Engine) -> None:
    problems = client.get(f"/api/csp/{csp_id}/problems", params={"limit": 100_000}).json()
    features = problems["features"]
    assert 200 < len(features) < 1000  # two years at about 3 per 1 000 inhabitants a year
    assert all(f["properties"]["synthetic"] for f in features)
    assert {f["properties"]["status"] for f in features} <= set(STATUSES)
    assert {f["geometry"]["type"] for f in features} == {"Point", "LineString", "Polygon"}
    with engine.connect() as conn:
        outside, events, closed_without_evaluation = conn.execute(
            text(
                "SELECT "
                "(SELECT count(*) FROM problem p, csp c WHERE c.id = p.csp_id "
                " AND NOT ST_Covers(c.geom, p.anchor)), "
                "(SELECT count(*) FROM problem_event), "
                "(SELECT count(*) FROM problem p WHERE p.status = 'resolu' AND NOT EXISTS "
                " (SELECT 1 FROM evaluation e WHERE e.problem_id = p.id))"
            )
        ).one()
    assert outside == 0 and events > len(features) and closed_without_evaluation == 0
    detail = client.get(f"/api/problems/{features[-1]['id']}").json()
    assert detail["description"].startswith("Problématique synthétique")


CSV_GOOD = """category;title;reported_on;lon;lat;wkt;address
stupefiants;Point de deal;2025-03-02;6.8628;47.6379;;1 rue A
rodeos;Rodéos;2025-04-10;;;LINESTRING (6.860 47.637, 6.864 47.638);
nuisances;Tapage;2025-05-01;6,8601;47,6402;;
"""

CSV_BAD = """category,title,reported_on,lon,lat
stupefiants,Point de deal,2025-03-02,6.8628,47.6379
vol_de_pommes,Vol,2025-03-02,6.8628,47.6379
nuisances,Tapage,2025-03-02,47.6379,6.8628
nuisances,Tapage,02/03/2025,6.8628,47.6379
nuisances,,2025-03-02,6.8628,47.6379
"""


def test_bulk_import_is_all_or_nothing(client: TestClient, csp_id: int) -> None:
    def count() -> int:
        return len(
            client.get(f"/api/csp/{csp_id}/problems", params={"limit": 100_000}).json()["features"]
        )

    before = count()
    bad = client.post(
        f"/api/csp/{csp_id}/problems/import", files={"file": ("bad.csv", CSV_BAD.encode())}
    )
    assert bad.status_code == 422, bad.text
    errors = {(e["row"], e["column"]) for e in bad.json()["errors"]}
    assert errors == {(2, "category"), (4, "reported_on"), (5, "title")}
    assert count() == before
    # rows that parse but lie outside the CSP are named too (swapped coordinates)
    swapped = CSV_BAD.splitlines()[0] + "\n" + CSV_BAD.splitlines()[3] + "\n"
    outside = client.post(
        f"/api/csp/{csp_id}/problems/import", files={"file": ("swapped.csv", swapped.encode())}
    )
    assert outside.status_code == 422
    assert "inversées" in outside.json()["errors"][0]["reason"]

    good = client.post(
        f"/api/csp/{csp_id}/problems/import", files={"file": ("ok.csv", CSV_GOOD.encode())}
    )
    assert good.status_code == 201, good.text
    assert good.json() == {"imported": 3} and count() == before + 3
    mine = client.get(
        f"/api/csp/{csp_id}/problems", params={"from": "2025-03-02", "to": "2025-05-01"}
    ).json()["features"]
    real = [f for f in mine if not f["properties"]["synthetic"]]
    assert sorted(f["geometry"]["type"] for f in real) == ["LineString", "Point", "Point"]

    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [6.85, 47.64]},
                "properties": {
                    "category": "cambriolages",
                    "title": "Série",
                    "reported_on": "2025-01-05",
                },
            }
        ],
    }
    response = client.post(
        f"/api/csp/{csp_id}/problems/import",
        files={"file": ("p.geojson", json.dumps(geojson).encode())},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"imported": 1}


def test_activity_report(client: TestClient, csp_id: int) -> None:
    """Figures recomputed here from the problems' own histories."""
    start, end = TODAY - timedelta(days=365), TODAY
    report = client.get("/api/reports", params={"csp": csp_id, "from": str(start), "to": str(end)})
    assert report.status_code == 200, report.text
    body = report.json()
    features = client.get(f"/api/csp/{csp_id}/problems", params={"limit": 100_000}).json()[
        "features"
    ]
    opened = [
        f for f in features if start <= date.fromisoformat(f["properties"]["reported_on"]) <= end
    ]
    assert body["problems_opened"] == len(opened)
    resolved_days = []
    for f in features:
        if f["properties"]["status"] != "resolu":
            continue
        on = date.fromisoformat(f["properties"]["status_on"])
        if start <= on <= end:
            resolved_days.append((on - date.fromisoformat(f["properties"]["reported_on"])).days)
    assert body["problems_resolved"] == len(resolved_days) > 0
    resolved_days.sort()
    n = len(resolved_days)
    median = (resolved_days[(n - 1) // 2] + resolved_days[n // 2]) / 2
    assert body["median_days_to_resolution"] == pytest.approx(median)
    assert sum(c["opened"] for c in body["by_category"]) == body["problems_opened"]
    assert body["meetings_held"] == 0 and body["sectors"] == 0  # no plan adopted yet

    csv = client.get(
        "/api/reports",
        params={"csp": csp_id, "from": str(start), "to": str(end), "format": "csv"},
    )
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("categorie;libelle;ouvertes")
    assert lines[-1].startswith(f"total;Toutes catégories;{len(opened)};{n};")

    everywhere = client.get("/api/reports", params={"from": str(start), "to": str(end)}).json()
    assert everywhere["problems_opened"] == body["problems_opened"]  # one CSP in the demo
    assert client.get("/api/reports", params={"sector": 1}).status_code == 422
    assert (
        client.get("/api/reports", params={"from": "2025-05-01", "to": "2025-01-01"}).status_code
        == 422
    )
    assert client.get("/api/reports", params={"csp": 999}).status_code == 404


def test_a_deleted_problem_loses_its_placement(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    plan = propose(client, csp_id, k=2, seed=0)
    adopt(client, plan["id"])
    with engine.begin() as conn:
        placed = conn.execute(text("SELECT count(*) FROM problem_place")).scalar_one()
        problems = conn.execute(text("SELECT count(*) FROM problem")).scalar_one()
        assert placed == problems > 0
        conn.execute(text("DELETE FROM problem WHERE id IN (SELECT id FROM problem LIMIT 5)"))
        assert conn.execute(text("SELECT count(*) FROM problem_place")).scalar_one() == placed - 5


def test_a_place_outside_the_csp_is_refused_in_french_naming_the_field(
    client: TestClient, csp_id: int
) -> None:
    """Issue 23: « geometry: […] lies outside CSP 1 » is said in French, coded, under the
    map's field."""
    response = new_problem(client, csp_id, lon=2.35, lat=48.85)  # Paris, far from Belfort
    assert response.status_code == 422
    body = response.json()
    said = (
        f"le lieu [2.35, 48.85] (longitude, latitude) est hors de CSP {csp_id} ; "
        "placez-le à l'intérieur"
    )
    assert body == {
        "detail": f"Emplacement sur la carte : {said}",
        "type": "InvalidInputError",
        "code": "outside_territory",
        "fields": [
            {
                "loc": ["geometry"],
                "field": "geometry",
                "label": "Emplacement sur la carte",
                "msg": said,
                "type": "outside_territory",
            }
        ],
    }
