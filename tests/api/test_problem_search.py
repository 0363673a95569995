"""The problems page's search and exports, and a thematic GPO's categories, on a
constructed set of seven problems in three sectors of the demo's adopted plan (its
synthetic problems removed), on real PostGIS. Counts are derived by hand from the table
below."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.services import cartography
from api.services.context import Context
from tests.roles import bearer_for

#: The set: key, title, category, sector (A, B or C), reported on, description, address.
PROBLEMS = [
    ("p1", "Fraude au tramway", "transports", "A", "2025-01-10", "Contrôles évités",
     "Place de la République"),
    ("p2", "Véhicules sur le trottoir", "stationnement", "A", "2025-02-15", None, None),
    ("p3", "Halls occupés", "rassemblements", "A", "2025-03-01", None, None),
    ("p4", "Bus caillassé", "transports", "B", "2025-04-20", "Des écoliers témoins", None),
    ("p5", "Rodéos au parc", "rodeos", "B", "2025-05-05", None, None),
    ("p6", "Stationnement gênant devant l'école", "stationnement", "C", "2025-06-01", None, None),
    ("p7", "Deal au square", "stupefiants", "C", "2025-06-15", None, "Square ÉMILE Zola"),
]  # fmt: skip


@dataclass
class Scene:
    client: TestClient
    csp_id: int
    ids: dict[str, int]  # problem key -> id
    sectors: dict[str, int]  # A, B, C -> sector index
    points: dict[str, tuple[float, float]]  # problem key -> lon, lat
    gpos: dict[str, dict[str, Any]]  # A, B, C -> sector GPO; T -> the thematic one

    def keys(self, features: list[dict[str, Any]]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[f["id"]] for f in features]

    def search(self, headers: dict[str, str] | None = None, **params: Any) -> Any:
        response = self.client.get(
            f"/api/csp/{self.csp_id}/problems", params=params, headers=headers or {}
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def scene(client: TestClient, demo_adopted: sessionmaker[Session], engine: Engine) -> Scene:
    del demo_adopted
    with engine.begin() as conn:  # the demo's synthetic problems out: only ours remain
        conn.execute(
            text(
                "TRUNCATE evaluation, action_event, meeting_decision, action, problem_event, "
                "problem_place, problem CASCADE"
            )
        )
    csp_id = int(client.get("/api/csp").json()["data"][0]["id"])
    plans = client.get(f"/api/csp/{csp_id}/plans").json()["data"]
    adopted = next(p for p in plans if p["status"] == "adopted")
    plan = client.get(f"/api/plans/{adopted['id']}").json()
    outlines = {
        f["properties"]["sector"]: shapely.geometry.shape(f["geometry"])
        for f in plan["sectors"]["features"]
    }
    chosen = sorted(outlines)[:3]
    sectors = dict(zip("ABC", chosen, strict=True))
    gpo_list = client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
    gpos = {
        name: next(g for g in gpo_list if g["kind"] == "sector" and g["sector"] == s)
        for name, s in sectors.items()
    }
    thematic = client.post(
        f"/api/csp/{csp_id}/gpos",
        json={
            "name": "Transports",
            "theme": "transports",
            "sectors": [sectors["A"], sectors["B"]],
            "categories": ["transports", "stationnement"],
        },
    )
    assert thematic.status_code == 201, thematic.text
    gpos["T"] = thematic.json()
    ids, points = {}, {}
    for i, (key, title, category, sector, on, description, address) in enumerate(PROBLEMS):
        # Distinct points well inside the sector.
        inner = outlines[sectors[sector]].buffer(-0.002)
        centre = inner.representative_point()
        point = shapely.Point(centre.x + 0.0001 * i, centre.y)
        assert inner.contains(point)
        response = client.post(
            f"/api/csp/{csp_id}/problems",
            json={
                "category": category,
                "title": title,
                "description": description,
                "address": address,
                "reported_on": on,
                "lon": point.x,
                "lat": point.y,
            },
        )
        assert response.status_code == 201, response.text
        assert response.json()["sector"] == sectors[sector]
        ids[key] = response.json()["id"]
        points[key] = (point.x, point.y)
    analysed = client.post(
        f"/api/problems/{ids['p2']}/transitions", json={"status": "analyse", "on": "2025-02-20"}
    )
    assert analysed.status_code == 200, analysed.text
    return Scene(client, csp_id, ids, sectors, points, gpos)


def test_each_filter_on_the_constructed_set(scene: Scene) -> None:
    everything = scene.search()
    assert everything["count"] == 7
    # Newest first.
    assert scene.keys(everything["features"]) == ["p7", "p6", "p5", "p4", "p3", "p2", "p1"]
    # A GPO: its sectors; a thematic one also its categories (A and B; transports, stationnement).
    assert scene.keys(scene.search(gpo=scene.gpos["A"]["id"])["features"]) == ["p3", "p2", "p1"]
    assert scene.keys(scene.search(gpo=scene.gpos["T"]["id"])["features"]) == ["p4", "p2", "p1"]
    sectors = scene.search(sector=[scene.sectors["A"], scene.sectors["C"]])
    assert scene.keys(sectors["features"]) == ["p7", "p6", "p3", "p2", "p1"]
    categories = scene.search(category=["transports", "stationnement"])
    assert scene.keys(categories["features"]) == ["p6", "p4", "p2", "p1"]
    assert scene.keys(scene.search(status="analyse")["features"]) == ["p2"]
    assert scene.search(status="signale")["count"] == 6
    # The period includes both ends.
    period = scene.search(since="2025-03-01", until="2025-05-05")
    assert scene.keys(period["features"]) == ["p5", "p4", "p3"]
    assert scene.keys(scene.search(**{"from": "2025-06-01"})["features"]) == ["p7", "p6"]
    # Text: title, description or address, case and accents ignored.
    assert scene.keys(scene.search(q="TRAMWAY")["features"]) == ["p1"]
    assert scene.keys(scene.search(q="ecoliers")["features"]) == ["p4"]
    assert scene.keys(scene.search(q="émile")["features"]) == ["p7"]
    assert scene.keys(scene.search(q="republique")["features"]) == ["p1"]
    assert scene.keys(scene.search(q="stationnement")["features"]) == ["p6"]
    # Every word, wherever it is: « école » in p6's title, « gênant » too.
    assert scene.keys(scene.search(q="ECOLE genant")["features"]) == ["p6"]
    assert scene.keys(scene.search(q="bus ecoliers")["features"]) == ["p4"]  # title, description
    assert scene.search(q="bus tramway")["count"] == 0
    assert scene.search(q="%")["count"] == 0  # a wildcard is a character
    # Filters combine.
    both = scene.search(category="stationnement", sector=scene.sectors["C"])
    assert scene.keys(both["features"]) == ["p6"]
    # Paging: count is every match.
    first = scene.search(limit=2)
    assert first["count"] == 7 and scene.keys(first["features"]) == ["p7", "p6"]
    last = scene.search(limit=2, offset=6)
    assert last["count"] == 7 and scene.keys(last["features"]) == ["p1"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"since": "2025-05-02", "until": "2025-05-01"}, "since"),
        ({"from": "2025-05-02", "to": "2025-05-01"}, "from"),
        ({"category": ["transports", "foot"]}, "category"),
        ({"status": "fini"}, "status"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_filters_are_a_french_422_naming_them(
    scene: Scene, params: dict[str, Any], named: str
) -> None:
    for suffix in ("", ".csv", ".geojson"):
        response = scene.client.get(f"/api/csp/{scene.csp_id}/problems{suffix}", params=params)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert response.json()["fields"][0]["field"] == named, detail


def test_bad_paging_and_gpo(scene: Scene) -> None:
    url = f"/api/csp/{scene.csp_id}/problems"
    for params in ({"limit": 0}, {"limit": 100_001}, {"offset": -1}, {"gpo": "x"}):
        response = scene.client.get(url, params=params)
        assert response.status_code == 422, params
        assert response.json()["fields"][0]["loc"][-1] in params
    assert scene.client.get(url, params={"gpo": 999_999}).status_code == 404


def test_exports_parse_back(scene: Scene) -> None:
    url = f"/api/csp/{scene.csp_id}/problems"
    response = scene.client.get(url + ".csv", params={"category": "transports"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert [int(r["n°"]) for r in rows] == [scene.ids["p4"], scene.ids["p1"]]
    p1 = rows[1]
    assert p1["titre"] == "Fraude au tramway"
    assert p1["catégorie"] == "Transports (incivilités, fraude, agressions)"
    assert p1["statut"] == "Signalé" and p1["signalé le"] == "2025-01-10"
    assert p1["secteur"] == str(scene.sectors["A"] + 1)
    assert p1["GPO"] == scene.gpos["A"]["name"]
    assert p1["adresse"] == "Place de la République"
    assert p1["fictif"] == "non"
    lon, lat = scene.points["p1"]
    assert abs(float(p1["longitude"]) - lon) < 1e-6 and abs(float(p1["latitude"]) - lat) < 1e-6

    response = scene.client.get(url + ".geojson", params={"gpo": scene.gpos["T"]["id"]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    collection = json.loads(response.content)
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    assert [f["id"] for f in collection["features"]] == [
        scene.ids["p4"],
        scene.ids["p2"],
        scene.ids["p1"],
    ]
    feature = collection["features"][2]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == pytest.approx(list(scene.points["p1"]), abs=1e-6)
    assert feature["properties"]["gpo"] == scene.gpos["A"]["name"]
    assert feature["properties"]["synthetic"] is False

    # Each export is in the audit trail, with its format, filters and count.
    trail = scene.client.get("/api/audit-log", params={"entity": "problem", "action": "export"})
    entries = trail.json()["data"]
    assert sorted((e["detail"]["format"], e["detail"]["count"]) for e in entries) == [
        ("csv", 2),
        ("geojson", 3),
    ]
    csv_entry = next(e for e in entries if e["detail"]["format"] == "csv")
    assert csv_entry["detail"]["filters"]["category"] == ["transports"]


def test_export_size_is_bounded(scene: Scene) -> None:
    scene.client.app.state.context.export_rows = 3  # type: ignore[attr-defined]
    url = f"/api/csp/{scene.csp_id}/problems.csv"
    response = scene.client.get(url)  # 7 problems
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Début de la période : 7 problématiques")
    narrowed = scene.client.get(url, params={"since": "2025-04-01"})  # 4 problems
    assert narrowed.status_code == 422 and narrowed.json()["fields"][0]["field"] == "gpo"
    fits = scene.client.get(url, params={"since": "2025-05-01"})  # p5, p6, p7
    assert fits.status_code == 200
    assert len(list(csv.reader(io.StringIO(fits.content.decode("utf-8-sig"))))) == 1 + 3


def test_a_chef_lists_and_exports_its_gpo_only(scene: Scene) -> None:
    ctx: Context = scene.client.app.state.context  # type: ignore[attr-defined]
    chef = bearer_for(ctx, "chef", gpo_ids=[scene.gpos["A"]["id"]])
    mine = scene.search(headers=chef)
    assert mine["count"] == 3 and scene.keys(mine["features"]) == ["p3", "p2", "p1"]
    # Filters narrow within the perimeter, never widen it.
    assert scene.search(headers=chef, sector=scene.sectors["B"])["count"] == 0
    url = f"/api/csp/{scene.csp_id}/problems"
    assert (
        scene.client.get(url, params={"gpo": scene.gpos["B"]["id"]}, headers=chef).status_code
        == 404
    )
    exported = scene.client.get(url + ".geojson", headers=chef)
    assert exported.status_code == 200
    assert sorted(f["id"] for f in exported.json()["features"]) == sorted(
        scene.ids[k] for k in ("p1", "p2", "p3")
    )
    rows = list(
        csv.DictReader(
            io.StringIO(scene.client.get(url + ".csv", headers=chef).content.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert sorted(int(r["n°"]) for r in rows) == sorted(scene.ids[k] for k in ("p1", "p2", "p3"))
    # A role that may not read problem records may not export them.
    planner = bearer_for(ctx, "planificateur", csp_ids=[scene.csp_id])
    for suffix in ("", ".csv", ".geojson"):
        refused = scene.client.get(url + suffix, headers=planner)
        assert refused.status_code == 403 and "Accès refusé" in refused.json()["detail"]


def test_a_thematic_gpo_sees_its_categories_only(
    scene: Scene, demo_adopted: sessionmaker[Session]
) -> None:
    client, base, theme = scene.client, f"/api/csp/{scene.csp_id}", scene.gpos["T"]
    period = {"gpo": theme["id"], "from": "2025-01-01", "to": "2025-12-31"}
    # Cartography: of A and B's five problems, p1, p2 and p4 are of the theme.
    hotspots = client.get(f"{base}/hotspots", params=period).json()
    assert hotspots["meta"]["problems"] == 3
    assert sum(f["properties"]["count"] for f in hotspots["features"]) == 3
    heat = client.get(f"{base}/heat", params=period).json()
    assert heat["meta"]["problems"] == 3
    trend = client.get(f"{base}/trend", params=period).json()
    assert {s["category"]: sum(s["counts"]) for s in trend["series"]} == {
        "stationnement": 1,
        "transports": 2,
    }
    opened = client.get(f"{base}/open-problems", params={"gpo": theme["id"]}).json()
    assert opened["count"] == 3
    assert sorted(p["id"] for p in opened["data"]) == sorted(
        scene.ids[k] for k in ("p1", "p2", "p4")
    )
    # The sector GPO A still sees all its problems.
    sector_a = client.get(
        f"{base}/hotspots", params={**period, "gpo": scene.gpos["A"]["id"]}
    ).json()
    assert sector_a["meta"]["problems"] == 3  # p1, p2, p3

    # The meeting pack, as of 1 May 2025: opened since the cadence's start (1 or 16 April:
    # p4 only, p5 being a rodéo); recent maps over the 90 days up to then (p2, p4).
    pack = cartography.meeting_pack(Context(demo_adopted), theme["id"], date(2025, 5, 1))
    assert [p.title for p in pack.opened] == ["Bus caillassé"]
    assert pack.resolved == []
    assert pack.open_count == 3
    assert sorted(p.id for p in pack.open_list) == sorted(scene.ids[k] for k in ("p1", "p2", "p4"))
    assert len(pack.open_points) == 3
    assert pack.recent.meta.problems == 2
    assert set(pack.open_points["category"]) == {"transports", "stationnement"}
    sheet = client.get(f"/gpo/{theme['id']}/reunion")
    assert sheet.status_code == 200, sheet.text
    assert (
        "Thème : problématiques de catégorie Stationnement anarchique / sécurité routière, "
        "Transports (incivilités, fraude, agressions) seulement"
    ) in sheet.text
