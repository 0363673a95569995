"""Buildings on the base map (issue 19): imported from an OpenStreetMap extract through
the layers' upload and from a BD TOPO-like GeoPackage through ``psq import-layer``,
drawn in the tiles from zoom 15 under the roads, counted by the legend. Massy
(tests/fixtures), the hand-made ``buildings_hand_massy.osm(.pbf)``; real PostGIS."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from psq.cli import app as cli
from tests.api.massy import FIXTURES, tile_of


def _tile(client: TestClient, z: int, lon: float, lat: float) -> dict[str, list[dict[str, object]]]:
    x, y = tile_of(lon, lat, z)
    response = client.get(f"/tiles/{z}/{x}/{y}.pbf")
    assert response.status_code == 200, response.text
    decoded = mapbox_vector_tile.decode(response.content)
    return {name: layer["features"] for name, layer in decoded.items()}


def _upload(client: TestClient, path: Path, kind: str, name: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/layers",
        data={"kind": kind, "name": name},
        files={"file": (path.name, path.read_bytes())},
    )


def _layer_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM layer")).scalar_one())


# The hand-made extract's three buildings (two `building=yes`, one `building=house`) and
# its patch of grass, all in the zoom-16 tile 33180/22581 (lon 2.263184 to 2.268677).
HOUSE_CENTRE_LON, HOUSE_CENTRE_LAT = 2.2661, 48.7286
TILE_16_WEST, TILE_16_EAST = 2.26318359375, 2.2686767578125


def test_buildings_from_an_osm_extract(client: TestClient, massy: int, engine: Engine) -> None:
    lon, lat = HOUSE_CENTRE_LON, HOUSE_CENTRE_LAT
    assert "buildings" not in _tile(client, 16, lon, lat)  # cached before the import
    legend = client.get("/api/basemap", params={"csp": massy}).json()["layers"]
    assert {b["key"]: b["legend"] for b in legend}["buildings"] == "Bâtiments : non importés"

    # The extract as buildings: its closed ways tagged building (GDAL's multipolygons),
    # not its grass, not its streets; the same file as barriers: its streets and railway.
    pbf = FIXTURES / "buildings_hand_massy.osm.pbf"
    built = _upload(client, pbf, "buildings", "Bâtiments (essai)")
    assert built.status_code == 201, built.text
    assert (built.json()["kind"], built.json()["feature_count"]) == ("buildings", 3)
    assert built.json()["warnings"] == []
    features = client.get(f"/api/layers/{built.json()['id']}/features").json()["features"]
    classes = sorted((f["properties"]["category"], f["properties"]["name"] or "") for f in features)
    assert classes == [("house", ""), ("yes", ""), ("yes", "Immeuble d'essai")]
    assert {f["geometry"]["type"] for f in features} == {"MultiPolygon"}
    streets = _upload(client, pbf, "barriers", "Rues (essai)")
    assert streets.status_code == 201 and streets.json()["feature_count"] == 3

    # Zoom 16: the three outlines, drawn first after the communes (under the roads).
    layers = _tile(client, 16, lon, lat)
    assert list(layers) == ["communes", "buildings", "roads", "railways"]
    assert sorted(str(f["properties"]["class"]) for f in layers["buildings"]) == [
        "house", "yes", "yes"]  # fmt: skip
    assert {f["geometry"]["type"] for f in layers["buildings"]} == {"Polygon"}
    # The house spans lon 2.2660 to 2.2662: in tile units (4096 across the tile),
    # (2.2661 - 2.263184) / (2.268677 - 2.263184) * 4096 = 2174.6 at its centre.
    house = next(f for f in layers["buildings"] if f["properties"]["class"] == "house")
    ring = house["geometry"]["coordinates"][0]  # type: ignore[index]
    centre_x = (min(x for x, _ in ring) + max(x for x, _ in ring)) / 2
    expected = (lon - TILE_16_WEST) / (TILE_16_EAST - TILE_16_WEST) * 4096
    assert abs(centre_x - expected) <= 1.0 and round(expected, 1) == 2174.6
    assert len(_tile(client, 15, lon, lat)["buildings"]) == 3  # from zoom 15…
    assert "buildings" not in _tile(client, 14, lon, lat)  # … not below
    legend = client.get("/api/basemap", params={"csp": massy}).json()["layers"]
    assert {b["key"]: b["legend"] for b in legend}["buildings"] == "Bâtiments : 3 bâtiments"

    # An extract without buildings is refused, naming the file, and nothing is written.
    before = _layer_count(engine)
    refused = _upload(client, FIXTURES / "streets_hand_massy.osm", "buildings", "Rien")
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"].startswith("Fichier : streets_hand_massy.osm : aucun bâtiment")
    assert _layer_count(engine) == before


def test_buildings_from_a_geopackage_by_the_cli(
    massy: int,
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A BD TOPO-like GeoPackage in Lambert-93: its roads' layer first, then ``batiment``
    (two buildings in Massy, one outside the territory in Paris, with their altitude); the
    command says its stages on stderr."""
    del massy
    path = tmp_path / "bdtopo_extrait.gpkg"
    road = gpd.GeoDataFrame(
        {"nature": ["Route à 1 chaussée"]},
        geometry=[shapely.LineString([(2.2650, 48.7300), (2.2670, 48.7310)])],
        crs=4326,
    )
    road.to_crs(2154).to_file(path, layer="troncon_de_route")
    buildings = gpd.GeoDataFrame(
        {
            "nature": ["Indifférenciée", "Église", "Indifférenciée"],
            "usage_1": ["Résidentiel", None, "Commercial et services"],
        },
        geometry=shapely.force_3d(  # BD TOPO's buildings have their altitude
            [
                shapely.box(2.2645, 48.7290, 2.2648, 48.7292),
                shapely.box(2.2652, 48.7290, 2.2655, 48.7292),
                shapely.box(2.3500, 48.8500, 2.3503, 48.8502),  # Paris: outside
            ],
            85.0,
        ),
        crs=4326,
    )
    buildings.to_crs(2154).to_file(path, layer="batiment")
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(
        cli, ["import-layer", str(path), "--kind", "buildings", "--name", "BD TOPO bâtiments"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "Lecture de bdtopo_extrait.gpkg…",
        "Contrôle de 3 objet(s) sur le territoire…",
        "Écriture de 3 objet(s)…",
    ]
    assert "Couche « BD TOPO bâtiments »" in result.stdout and "3 objet(s)" in result.stdout
    assert "1 objet(s) sur 3 hors du territoire" in result.stdout
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT category, ST_NDims(geom) FROM layer_feature ORDER BY id")
        ).all()
    assert stored == [("Résidentiel", 2), ("Église", 2), ("Commercial et services", 2)]
