"""Layers and grids through the API, against the real PostGIS."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import DEMO_DIR

FILOSOFI = DEMO_DIR / "filosofi2019_carreaux200m_belfort.geojson"


def test_demo_has_its_grid_and_layers(client: TestClient, csp_id: int) -> None:
    grids = client.get(f"/api/csp/{csp_id}/grids").json()
    [grid] = grids["data"]
    assert grid["resolution"] == 9 and grid["cell_count"] > 600
    assert grid["component_count"] == 1
    layers = client.get(f"/api/csp/{csp_id}/layers").json()
    assert [lay["kind"] for lay in layers["data"]] == ["population_grid"]
    assert layers["data"][0]["features_in_csp"] > 500
    assert len(layers["qpv_by_commune"]["90010"]) == 6  # Belfort's QPVs, commune level only


def test_cells_geojson(client: TestClient, csp_id: int, engine: Engine) -> None:
    body = client.get(f"/api/csp/{csp_id}/cells", params={"res": 9}).json()
    props = [f["properties"] for f in body["features"]]
    assert len(props) == client.get(f"/api/csp/{csp_id}/grids").json()["data"][0]["cell_count"]
    assert {p["source"] for p in props} <= {"grid", "commune", "grid+commune", "none"}
    assert all(p["workload"] >= p["population"] for p in props)
    # The cells tile the CSP exactly (checked by PostGIS itself).
    with engine.connect() as conn:
        diff, overlap, area = conn.execute(
            text(
                """SELECT ST_Area(ST_SymDifference(ST_Union(c.geom), s.geom)::geography),
                          sum(ST_Area(c.geom::geography)) - ST_Area(ST_Union(c.geom)::geography),
                          ST_Area(s.geom::geography)
                   FROM cell c JOIN grid g ON g.id = c.grid_id JOIN csp s ON s.id = g.csp_id
                   WHERE g.csp_id = :id AND g.resolution = 9 GROUP BY s.geom"""
            ),
            {"id": csp_id},
        ).one()
    # Floating-point noise only: far under the 0.01 % the grid promises.
    assert diff / area < 1e-5 and abs(overlap) / area < 1e-5


def test_missing_grid_is_404_with_a_hint(client: TestClient, csp_id: int) -> None:
    response = client.get(f"/api/csp/{csp_id}/cells", params={"res": 11})
    assert response.status_code == 404
    assert "aucune grille de résolution 11" in response.json()["detail"]
    assert client.get(f"/api/csp/{csp_id}/cells", params={"res": 16}).status_code == 422


def test_build_a_grid_through_the_api(client: TestClient, csp_id: int) -> None:
    response = client.post(
        f"/api/csp/{csp_id}/grids", json={"resolution": 8, "weights": {"population": 1}}
    )
    assert response.status_code == 201, response.text
    grid = response.json()
    assert grid["resolution"] == 8 and grid["parameters"]["weights"] == {"population": 1}
    cells = client.get(f"/api/csp/{csp_id}/cells", params={"res": 8}).json()["features"]
    assert all(c["properties"]["workload"] == c["properties"]["population"] for c in cells)
    bad = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 8, "weights": {"crime": 1}})
    assert bad.status_code == 422 and "crime" in bad.json()["detail"]


def _upload(client: TestClient, path: Path, kind: str, name: str, **extra: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as f:
        return client.post(
            "/api/layers",
            files={"file": (path.name, f, "application/geo+json")},
            data={"kind": kind, "name": name, **extra},
        )


def _layer_count(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(text("SELECT count(*) FROM layer")).scalar_one(),
            conn.execute(text("SELECT count(*) FROM layer_feature")).scalar_one(),
        )


def test_upload_barriers_and_points(client: TestClient, csp_id: int, tmp_path: Path) -> None:
    road = gpd.GeoDataFrame(
        {"highway": ["motorway", "primary"], "bridge": ["no", "yes"]},
        geometry=gpd.GeoSeries.from_wkt(
            ["LINESTRING (6.83 47.62, 6.87 47.66)", "LINESTRING (6.84 47.65, 6.86 47.63)"]
        ),
        crs=4326,
    )
    path = tmp_path / "roads.geojson"
    road.to_file(path)
    response = _upload(client, path, "barriers", "Routes")
    assert response.status_code == 201, response.text
    layer = response.json()
    assert layer["feature_count"] == 2 and layer["kind"] == "barriers"
    features = client.get(f"/api/layers/{layer['id']}/features").json()["features"]
    assert [f["properties"]["category"] for f in features] == ["motorway", "primary"]
    assert [f["properties"]["bridge"] for f in features] == [False, True]
    listed = client.get(f"/api/csp/{csp_id}/layers").json()["data"]
    assert "Routes" in [lay["name"] for lay in listed]
    # The grid now sees the motorway.
    grid = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 9}).json()
    assert grid["parameters"]["barrier_line_count"] == 2
    assert grid["blocked_edge_count"] > 0


def _swapped(tmp_path: Path) -> Path:
    path = tmp_path / "swapped.geojson"
    gpd.GeoDataFrame(
        {"type": ["mairie"]}, geometry=gpd.points_from_xy([47.638], [6.863]), crs=4326
    ).to_file(path)
    return path


def _polygons_as_barriers(tmp_path: Path) -> Path:
    path = tmp_path / "poly.geojson"
    gpd.read_file(FILOSOFI).head(3).assign(highway="motorway").to_file(path)
    return path


def _overlapping_grid(tmp_path: Path) -> Path:
    squares = gpd.read_file(FILOSOFI).head(10)
    squares = gpd.GeoDataFrame(
        squares,
        geometry=[*list(squares.geometry)[:-1], squares.geometry.iloc[0].buffer(0.0005)],
        crs=4326,
    )
    path = tmp_path / "overlap.geojson"
    squares.to_file(path)
    return path


def _elsewhere(tmp_path: Path) -> Path:
    path = tmp_path / "paris.geojson"
    gpd.GeoDataFrame(
        {"type": ["mairie"]}, geometry=gpd.points_from_xy([2.35], [48.85]), crs=4326
    ).to_file(path)
    return path


def _wrong_crs(tmp_path: Path) -> Path:
    path = tmp_path / "lambert_as_wgs84.geojson"
    gdf = gpd.read_file(FILOSOFI).head(5).to_crs(2154)
    # Lambert-93 metres written with a WGS84 declaration.
    data = json.loads(gdf.to_json())
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("make", "kind", "fragment"),
    [
        (_swapped, "points", "une fois latitude et longitude échangées"),
        (_polygons_as_barriers, "barriers", "les coupures sont des lignes"),
        (_overlapping_grid, "population_grid", "des carreaux de la grille se chevauchent"),
        (_elsewhere, "points", "aucun objet ne touche le territoire"),
        (_wrong_crs, "population_grid", "le système de coordonnées déclaré est-il le bon"),
    ],
)
def test_bad_layers_are_refused_and_nothing_written(  # type: ignore[no-untyped-def]
    client: TestClient, csp_id: int, engine: Engine, tmp_path: Path, make, kind: str, fragment: str
) -> None:
    del csp_id
    before = _layer_count(engine)
    response = _upload(client, make(tmp_path), kind, "Mauvaise couche")
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    assert _layer_count(engine) == before


def test_unknown_kind_and_duplicate_name(client: TestClient, csp_id: int, engine: Engine) -> None:
    del csp_id
    response = _upload(client, FILOSOFI, "rivers", "X")
    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == ["body", "kind"]
    before = _layer_count(engine)
    name = "Filosofi 2019 — carreaux 200 m (extrait Belfort)"
    again = _upload(client, FILOSOFI, "population_grid", name)
    assert again.status_code == 422 and "existe déjà" in again.json()["detail"]
    assert _layer_count(engine) == before


def test_declared_crs(client: TestClient, csp_id: int, engine: Engine, tmp_path: Path) -> None:
    """A GeoJSON in Lambert-93 without a ``crs`` member is read as WGS84: refused, unless
    the importer declares its CRS, which the layer then records with a warning."""
    del csp_id
    path = tmp_path / "zones_l93.geojson"
    zones = gpd.GeoDataFrame(
        {"code": ["Z1"], "nom": ["Centre"]},
        geometry=gpd.GeoSeries.from_wkt(
            ["POLYGON ((6.85 47.63, 6.87 47.63, 6.87 47.65, 6.85 47.63))"]
        ),
        crs=4326,
    ).to_crs(2154)
    data = json.loads(zones.to_json())
    data.pop("crs", None)
    path.write_text(json.dumps(data))
    before = _layer_count(engine)

    undeclared = _upload(client, path, "zones", "Zones L93")
    assert undeclared.status_code == 422
    assert "le système de coordonnées déclaré est-il le bon" in undeclared.json()["detail"]
    unknown = _upload(client, path, "zones", "Zones L93", crs="EPSG:99999")
    assert unknown.status_code == 422 and "« EPSG:99999 »" in unknown.json()["detail"]
    assert _layer_count(engine) == before

    declared = _upload(client, path, "zones", "Zones L93", crs="EPSG:2154")
    assert declared.status_code == 201, declared.text
    layer = declared.json()
    assert layer["source_crs"] == "EPSG:2154"
    overridden = "système de coordonnées déclaré EPSG:2154 utilisé à la place de celui du fichier"
    assert any(overridden in w for w in layer["warnings"])
    [feature] = client.get(f"/api/layers/{layer['id']}/features").json()["features"]
    x0, y0 = feature["geometry"]["coordinates"][0][0]
    assert (x0, y0) == pytest.approx((6.85, 47.63), abs=1e-5)


def test_edges_endpoint_draws_the_table(
    client: TestClient, csp_id: int, engine: Engine, tmp_path: Path
) -> None:
    """The blocked edges are those of ``cell_edge``, each drawn as the boundary its two
    cells share (as long as the stored length)."""
    path = tmp_path / "a36.geojson"
    gpd.GeoDataFrame(
        {"highway": ["motorway", "motorway"], "railway": [None, None]},
        geometry=gpd.GeoSeries.from_wkt(
            ["LINESTRING (6.80 47.62, 6.90 47.66)", "LINESTRING (6.84 47.60, 6.87 47.70)"]
        ),
        crs=4326,
    ).to_file(path)
    assert _upload(client, path, "barriers", "A36").status_code == 201
    grid = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 9}).json()
    assert grid["blocked_edge_count"] > 20

    with engine.connect() as conn:
        table = {
            (a, b): (barrier, blocked, shared_m)
            for a, b, barrier, blocked, shared_m in conn.execute(
                text("SELECT a, b, barrier, blocked, shared_m FROM cell_edge WHERE grid_id = :g"),
                {"g": grid["id"]},
            )
        }
    blocked = client.get(f"/api/csp/{csp_id}/edges", params={"res": 9, "blocked": "true"})
    assert blocked.status_code == 200, blocked.text
    features = blocked.json()["features"]
    got = {(f["properties"]["a"], f["properties"]["b"]): f for f in features}
    assert set(got) == {pair for pair, (_, is_blocked, _) in table.items() if is_blocked}
    assert len(features) == grid["blocked_edge_count"]
    for pair, feature in got.items():
        barrier, _, shared_m = table[pair]
        assert feature["properties"]["barrier"] == barrier == "motorway"
        assert feature["properties"]["shared_m"] == pytest.approx(shared_m, abs=0.01)
        assert feature["properties"]["blocked"] is True
        assert feature["geometry"]["type"] in {"LineString", "MultiLineString"}
    lines = gpd.GeoDataFrame.from_features(features, crs=4326).to_crs(2154)
    stored = [table[pair][2] for pair in got]
    assert lines.length.to_numpy() == pytest.approx(stored, rel=1e-3, abs=0.5)

    open_ = client.get(f"/api/csp/{csp_id}/edges", params={"res": 9, "blocked": "false"})
    everything = client.get(f"/api/csp/{csp_id}/edges", params={"res": 9}).json()["features"]
    assert len(open_.json()["features"]) + len(features) == len(everything) == len(table)
    assert client.get(f"/api/csp/{csp_id}/edges", params={"res": 11}).status_code == 404
    bad = client.get(f"/api/csp/{csp_id}/edges", params={"blocked": "maybe"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["loc"] == ["query", "blocked"]


@pytest.mark.usefixtures("csp_id")
def test_a_feature_text_longer_than_its_column_is_refused_whole(
    client: TestClient, tmp_path: Path, engine: Engine
) -> None:
    """A point's name over 300 characters used to answer 500 (issue 22): a 422 naming the
    column and the feature, and no layer written."""
    before = _layer_count(engine)
    points = gpd.GeoDataFrame(
        {"type": ["camera", "camera"], "nom": ["Place d'Armes", "N" * 301]},
        geometry=gpd.GeoSeries.from_wkt(["POINT (6.86 47.64)", "POINT (6.85 47.63)"]),
        crs=4326,
    )
    path = tmp_path / "cameras.geojson"
    points.to_file(path)
    response = _upload(client, path, "points", "Caméras")
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "« nom »" not in detail and "« name »" in detail and "objet 2" in detail
    assert "plus de 300 caractères" in detail
    assert _layer_count(engine) == before
