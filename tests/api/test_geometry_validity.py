"""Geometry never stored invalid (issue 22): a self-intersecting polygon is repaired (no
area lost) or refused, naming the feature; never stored with ``ST_IsValid`` false."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

#: A bow-tie over central Belfort: its ring crosses itself at (6.86, 47.64). Its signed
#: area is 0; repaired, it is two triangles (see the test).
BOW_TIE = [[6.85, 47.635], [6.87, 47.645], [6.87, 47.635], [6.85, 47.645], [6.85, 47.635]]
#: A ring of three aligned points (exact in binary, so truly aligned): it encloses no
#: area, its repair is two lines.
FLAT = [[6.8125, 47.625], [6.84375, 47.640625], [6.875, 47.65625], [6.8125, 47.625]]


def _zones(*rings: list[list[float]]) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"code": f"Z{i}", "nom": f"Zone {i}"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for i, ring in enumerate(rings)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def test_a_bow_tie_in_a_layer_is_stored_repaired(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    del csp_id  # the demo territory
    square = [[6.86, 47.63], [6.861, 47.63], [6.861, 47.631], [6.86, 47.631], [6.86, 47.63]]
    response = client.post(
        "/api/layers",
        data={"kind": "zones", "name": "Quartiers"},
        files={"file": ("quartiers.geojson", _zones(square, BOW_TIE))},
    )
    assert response.status_code == 201, response.text
    layer = response.json()
    assert any("objet 2 (son contour se recoupe près de [" in w for w in layer["warnings"]), layer
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, ST_IsValid(geom), ST_Area(geom), ST_NumGeometries(geom) "
                "FROM layer_feature WHERE layer_id = :id ORDER BY code"
            ),
            {"id": layer["id"]},
        ).all()
    assert [r[0] for r in rows] == ["Z0", "Z1"]
    assert all(r[1] for r in rows)
    # Two triangles, each of base 0.01 (the vertical edge at x = 6.85, resp. 6.87) and
    # height 0.01 (to the crossing at x = 6.86): 2 x 0.01 x 0.01 / 2 = 0.0001 degree².
    assert rows[1][2] == pytest.approx(0.0001, rel=1e-6)
    assert rows[1][3] == 2


def test_a_polygon_without_area_is_refused_naming_it(client: TestClient, csp_id: int) -> None:
    del csp_id
    response = client.post(
        "/api/layers",
        data={"kind": "zones", "name": "Plat"},
        files={"file": ("plat.geojson", _zones(BOW_TIE, FLAT))},
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "géométrie invalide irréparable" in detail and "feature 2" in detail
    assert "aucune surface" in detail and "feature 1" not in detail


def test_a_bow_tie_sector_in_a_plan_import(client: TestClient, csp_id: int, engine: Engine) -> None:
    csp = client.get(f"/api/csp/{csp_id}").json()
    x0, y0, x1, y1 = csp["bbox"]
    mx = (x0 + x1) / 2
    west = [[x0, y0], [mx, y0], [mx, y1], [x0, y1], [x0, y0]]
    east_bow_tie = [[mx, y0], [x1, y1], [x1, y0], [mx, y1], [mx, y0]]
    layer = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"nom": name}, "geometry": g}
            for name, g in (
                ("Ouest", {"type": "Polygon", "coordinates": [west]}),
                ("Est", {"type": "Polygon", "coordinates": [east_bow_tie]}),
            )
        ],
    }
    response = client.post(
        f"/api/csp/{csp_id}/plans/import",
        data={"name": "Secteurs dessinés"},
        files={"file": ("secteurs.geojson", json.dumps(layer), "application/geo+json")},
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert any(
        "secteur « Est » (entité 2) : géométrie invalide (son contour se recoupe" in n
        for n in plan["notes"]
    ), plan["notes"]
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT name, ST_IsValid(geom), ST_Area(geom) FROM plan_sector WHERE plan_id = :id"
            ),
            {"id": plan["id"]},
        ).all()
    assert sorted(r[0] for r in rows) == ["Est", "Ouest"]
    assert all(r[1] and r[2] > 0 for r in rows)


def test_coordinates_the_libraries_cannot_read_are_refused_in_french(
    client: TestClient, csp_id: int
) -> None:
    """The reason a geometry is refused is said in French, never in the words of shapely,
    GEOS or NumPy (issue 22's hostile run: « setting an array element with a sequence »,
    « A linearring requires at least 4 coordinates », « Self-intersection[x y] »)."""
    lon, lat = 6.86, 47.64
    refused = {
        "Polygon": [
            [[[lon, lat], [lon + 0.01, lat]]],  # 2 positions
            [[[lon, lat, 1, 2], [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]]],  # ragged
            [lon, lat],  # a position where rings are expected
            [
                [
                    [lon, lat],
                    [lon + 0.01, lat + 0.01],
                    [lon + 0.01, lat],
                    [lon, lat + 0.01],
                    [lon, lat],
                ]
            ],
        ],
        "LineString": [[[lon, lat]]],
        "Point": [lon],
    }
    said = []
    for kind, variants in refused.items():
        for coordinates in variants if kind == "Polygon" else [variants]:
            problem = {
                "category": "autre",
                "title": "t",
                "geometry": {"type": kind, "coordinates": coordinates},
            }
            response = client.post(f"/api/csp/{csp_id}/problems", json=problem)
            assert response.status_code == 422, response.text
            said.append(response.json()["detail"])
    assert all(d.startswith("Emplacement sur la carte : ") for d in said), said
    english = ("array", "requires", "coordinates", "Self-intersection", "float", "must", "element")
    assert not [d for d in said if any(word in d for word in english)], said
    assert "un contour de polygone compte au moins 4 positions" in said[0]
    assert "son contour se recoupe près de [" in said[3]
    # deeper than a MultiPolygon, or more positions than any drawing: refused before shapely
    deep = {"type": "MultiPolygon", "coordinates": [[[[[lon, lat]]]]]}
    response = client.post(f"/api/csp/{csp_id}/problems", json={**problem, "geometry": deep})
    assert response.status_code == 422 and "trop imbriquées" in response.json()["detail"]
    many = [[lon + i * 1e-7, lat] for i in range(100_001)]
    big = {"type": "MultiPoint", "coordinates": many}
    response = client.post(f"/api/csp/{csp_id}/problems", json={**problem, "geometry": big})
    assert response.status_code == 422 and "au plus 100" in response.json()["detail"]
