"""The base map's vector tiles on the real PostGIS: Massy, its OpenStreetMap roads and the
IDFM railways (tests/fixtures), decoded with mapbox-vector-tile."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy.orm import Session, sessionmaker

from api.services import basemap
from api.services.context import Context
from api.services.demo import load_demo
from api.services.territory import import_layer_file
from geo.basemap import MAX_STREET_LABELS
from tests.api.massy import FIXTURES, tile_of
from web.printing import base_map_layers, map_svg

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "boundaries"


@pytest.fixture
def massy_roads(factory: sessionmaker[Session], massy: int) -> int:
    """Massy with its OpenStreetMap roads as a barriers layer."""
    import_layer_file(
        Context(factory), path=FIXTURES / "roads_osm_massy.geojson", kind="barriers", name="Routes"
    )
    return massy


def _tile(client: TestClient, z: int, x: int, y: int) -> dict[str, list[dict[str, object]]]:
    response = client.get(f"/tiles/{z}/{x}/{y}.pbf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(response.content)
    return {name: layer["features"] for name, layer in decoded.items()}


def test_tiles_of_massy(client: TestClient, massy_roads: int, tmp_path: Path) -> None:
    # The station district of Massy (2.2656 E, 48.7305 N) at zoom 15: every road, with its
    # name and class; the communes with their names; no railway yet (none imported).
    x, y = tile_of(2.2656, 48.7305, 15)
    assert (x, y) == (16590, 11290)
    layers = _tile(client, 15, x, y)
    assert set(layers) == {"communes", "roads"}
    assert "Massy" in {f["properties"]["name"] for f in layers["communes"]}
    names = {f["properties"].get("name") for f in layers["roads"]}
    assert "Rue de Versailles" in names
    classes = {f["properties"]["class"] for f in layers["roads"]}
    assert "residential" in classes
    # At zoom 11 only the main network is drawn: no residential street.
    x11, y11 = tile_of(2.2656, 48.7305, 11)
    main = {f["properties"]["class"] for f in _tile(client, 11, x11, y11)["roads"]}
    assert main and main <= {"motorway", "motorway_link", "trunk", "trunk_link", "primary",
                             "primary_link"}  # fmt: skip

    # Importing the railways changes the tile (the cache follows the data).
    import_layer_file(
        client.app.state.context,  # type: ignore[attr-defined]
        path=FIXTURES / "railways_idfm_essonne.geojson",
        kind="barriers",
        name="Voies ferrées IDFM",
    )
    assert "railways" in _tile(client, 15, x, y)

    # The printed maps draw the same lines under their layers.
    base = basemap.printed_base(client.app.state.context, shapely.box(2.0, 48.5, 2.5, 48.9))  # type: ignore[attr-defined]
    groups = base.lines["group"].value_counts().to_dict()
    assert groups["roads"] + groups["main_roads"] == 4_786 and groups["railways"] > 0
    svg = map_svg(base_map_layers(base), shapely.box(2.25, 48.72, 2.28, 48.74))
    assert 'stroke="#c8c2b8"' in svg and 'stroke-dasharray="4 2"' in svg

    # Addresses from zoom 16 only, with their numbers.
    bano = tmp_path / "bano.csv"
    bano.write_text("913770001A-12,12B,Rue de Versailles,91300,Massy,OSM,48.7305,2.2656\n")
    imported = client.post("/api/addresses/import", files={"file": ("bano.csv", bano.read_bytes())})
    assert imported.status_code == 201, imported.text
    assert "addresses" not in _tile(client, 15, x, y)
    x16, y16 = tile_of(2.2656, 48.7305, 16)
    (address,) = _tile(client, 16, x16, y16)["addresses"]
    assert address["properties"] == {"number": "12 b", "street": "Rue de Versailles"}

    # The legend: what the territory has, and says what it has not.
    legend = client.get("/api/basemap", params={"csp": massy_roads}).json()
    lines = {layer["key"]: layer["legend"] for layer in legend["layers"]}
    assert lines["buildings"] == "Bâtiments : non importés"
    assert lines["addresses"] == "Adresses : 1 adresse"
    assert lines["communes"] == "Communes : 1 commune"
    assert "OpenStreetMap" in legend["attribution"]


def test_empty_outside_and_bad_tiles(client: TestClient, massy: int) -> None:
    del massy
    # An OpenStreetMap extract through the layers' upload: its 2 streets and its railway,
    # not its fence; the bridge flag from its other tags.
    osm = FIXTURES / "streets_hand_massy.osm"
    layer = client.post(
        "/api/layers",
        data={"kind": "barriers", "name": "OSM (essai)"},
        files={"file": (osm.name, osm.read_bytes())},
    )
    assert layer.status_code == 201, layer.text
    assert layer.json()["feature_count"] == 3
    features = client.get(f"/api/layers/{layer.json()['id']}/features").json()["features"]
    assert sorted((f["properties"]["category"], f["properties"]["bridge"]) for f in features) == [
        ("primary", True), ("railway", False), ("residential", False)]  # fmt: skip
    # Belfort is not in this database: its tile is empty, and so is one over the ocean.
    assert (
        client.get("/tiles/15/{}/{}.pbf".format(*tile_of(6.8628, 47.6397, 15))).status_code == 204
    )
    assert client.get("/tiles/3/0/7.pbf").status_code == 204
    beyond = client.get("/tiles/3/8/0.pbf")
    assert beyond.status_code == 422
    assert beyond.json()["detail"] == "x : 8 hors de la grille du niveau 3 (0 à 7)"
    too_deep = client.get("/tiles/23/0/0.pbf")
    assert too_deep.status_code == 422 and too_deep.json()["fields"][0]["field"] == "z"
    assert client.get("/tiles/3/a/0.pbf").status_code == 422
    legend = client.get("/api/basemap").json()
    lines = {layer["key"]: layer["legend"] for layer in legend["layers"]}
    assert lines["addresses"] == "Adresses : non importées"
    assert lines["railways"] == "Voies ferrées : 1 tronçon"
    assert lines["water"] == "Eau : non importée"
    # The same extract in the binary format of OpenStreetMap's extracts (.osm.pbf).
    pbf = FIXTURES / "streets_hand_massy.osm.pbf"
    binary = client.post(
        "/api/layers",
        data={"kind": "barriers", "name": "OSM PBF (essai)"},
        files={"file": (pbf.name, pbf.read_bytes())},
    )
    assert binary.status_code == 201, binary.text
    read = client.get(f"/api/layers/{binary.json()['id']}/features").json()["features"]
    assert sorted(
        (f["properties"]["category"], f["properties"]["name"], f["properties"]["bridge"])
        for f in read
    ) == [("primary", "Pont d'essai", True), ("railway", None, False),
          ("residential", "Rue d'essai", False)]  # fmt: skip
    assert sorted(shape(f["geometry"]).length for f in read) == sorted(
        shape(f["geometry"]).length for f in features
    )


def _counts(base_map: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    return {layer["key"]: layer["count"] for layer in base_map["layers"]}  # type: ignore[misc]


def test_the_full_demo_has_streets_and_addresses(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    """``psq demo``'s territory (without the adopted plans' synthetic life): Belfort with
    its BANO addresses (35 847 in the file, of which 9 lie more than 50 m past the
    simplified commune outlines and are left out), and Massy with its 4 786 OSM road
    segments and the IDFM railways."""
    reports = load_demo(Context(factory), demo_dir=DEMO_DIR, adopt=False)
    belfort, massy = (r.csp_id for r in reports)
    legend = _counts(client.get("/api/basemap").json())
    assert legend["addresses"] == 35_838 and legend["roads"] == 4_786
    assert legend["railways"] == 185  # the IDFM file's segments, all near Massy
    in_belfort = client.get("/api/basemap", params={"csp": belfort}).json()["layers"]
    assert {b["key"]: b["legend"] for b in in_belfort}["roads"] == "Rues : non importées"
    in_massy = _counts(client.get("/api/basemap", params={"csp": massy}).json())
    assert in_massy["roads"] > 4_000 and in_massy["addresses"] == 0
    grids = client.get(f"/api/csp/{massy}/grids").json()["data"]
    assert {g["units"] for g in grids} == {"h3", "blocks"}
    found = client.get("/api/geocode", params={"q": "12 fbg de france belfort"}).json()
    assert found["data"][0]["label"] == "12 Faubourg de France 90000 Belfort"


def test_names_over_the_base_map(client: TestClient, massy_roads: int) -> None:
    del massy_roads
    roads = gpd.read_file(FIXTURES / "roads_osm_massy.geojson")
    view = (2.2606, 48.7275, 2.2706, 48.7335)  # the station district, about a screen at z16
    answer = client.get(
        "/api/basemap/labels", params={"bbox": ",".join(map(str, view)), "zoom": 16}
    )
    assert answer.status_code == 200, answer.text
    labels = answer.json()["labels"]
    streets = [label for label in labels if label["kind"] == "street"]
    names = [label["text"] for label in streets]
    # Each named street of the view once (at most the cap), never an unnamed one.
    assert len(names) == len(set(names)) and 0 < len(names) <= MAX_STREET_LABELS
    box = shapely.box(*view)
    in_view = set(roads.loc[roads.intersects(box) & roads["name"].notna(), "name"])
    assert set(names) <= in_view and "Rue de Versailles" in names
    # Each name is written on its own street, inside the view, along it (the angle of the
    # street's stretch there, as drawn in Web Mercator), never upside down.
    metric = roads.to_crs(3857)
    for label in streets:
        point = gpd.GeoSeries([shapely.Point(label["lon"], label["lat"])], crs=4326).to_crs(3857)[0]
        assert box.contains(shapely.Point(label["lon"], label["lat"]))
        own = metric[metric["name"] == label["text"]]
        nearest = own.distance(point).idxmin()
        assert own.distance(point)[nearest] < 0.5, label
        line = own.geometry[nearest]
        segments = [
            shapely.LineString(p) for p in zip(line.coords[:-1], line.coords[1:], strict=True)
        ]
        (x0, y0), (x1, y1) = min(segments, key=point.distance).coords
        azimuth = math.degrees(math.atan2(x1 - x0, y1 - y0))
        expected = (azimuth - 90) % 180
        expected = expected - 180 if expected > 90 else expected
        assert -90 < label["angle"] <= 90
        turn = abs(label["angle"] - expected) % 180
        assert min(turn, 180 - turn) < 15, (label, expected)
    # Massy's name inside Massy; none at zoom 10; no street names below zoom 15.
    wide = client.get(
        "/api/basemap/labels", params={"bbox": "2.2,48.69,2.33,48.76", "zoom": 12}
    ).json()
    (massy,) = [label for label in wide["labels"] if label["text"] == "Massy"]
    communes = gpd.read_file(FIXTURES / "communes_massy.geojson")
    outline = communes.loc[communes["code_insee"] == "91377"].geometry.iloc[0]
    assert outline.contains(shapely.Point(massy["lon"], massy["lat"]))
    assert {label["kind"] for label in wide["labels"]} == {"commune"}
    assert client.get(
        "/api/basemap/labels", params={"bbox": "2.2,48.69,2.33,48.76", "zoom": 10}
    ).json() == {"labels": []}
    # A view too wide for street names, or no view at all: said in French.
    too_wide = client.get("/api/basemap/labels", params={"bbox": "1.5,48.0,2.5,49.0", "zoom": 15})
    assert too_wide.status_code == 422 and too_wide.json()["code"] == "basemap_view_too_wide"
    assert "vue trop large pour les noms de rues" in too_wide.json()["detail"]
    missing = client.get("/api/basemap/labels", params={"zoom": 15})
    assert missing.status_code == 422 and "obligatoire" in missing.json()["detail"]
