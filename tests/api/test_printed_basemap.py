"""The printed maps draw the base map an officer reads (issue 19): the A4 sheet of a plan of
Massy (tests/fixtures) with its buildings, the names of its communes and main streets (no
two names overlapping, none over a sector's name, measured in Chromium), a declared link
(issue 20), the legend of the base layers and the OpenStreetMap attribution. Real PostGIS,
real Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Polygon, box, mapping

from api.services.territory import import_layer_file
from tests.api.massy import FIXTURES

pytestmark = pytest.mark.browser


def _upload(client: TestClient, path: Path, kind: str, name: str) -> dict[str, object]:
    response = client.post(
        "/api/layers",
        data={"kind": kind, "name": name},
        files={"file": (path.name, path.read_bytes())},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _plan_in_halves(client: TestClient, csp_id: int) -> int:
    """A plan of the CSP cut in two by a meridian (« Ouest », « Est »), on a grid of
    resolution 9; its id."""
    assert client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 9}).status_code == 201
    outline = gpd.GeoDataFrame.from_features(client.get(f"/api/csp/{csp_id}").json()).union_all()
    x0, y0, x1, y1 = outline.bounds
    middle = (x0 + x1) / 2
    halves = [box(x0 - 1, y0 - 1, middle, y1 + 1), box(middle, y0 - 1, x1 + 1, y1 + 1)]
    layer = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"nom": n}, "geometry": mapping(outline & h)}
            for n, h in zip(("Ouest", "Est"), halves, strict=True)
        ],
    }
    response = client.post(
        f"/api/csp/{csp_id}/plans/import",
        data={"name": "Deux moitiés"},
        files={"file": ("moities.geojson", json.dumps(layer), "application/geo+json")},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


# The boxes of every name and sector label as Chromium draws them: each text's own box
# (getBBox) turned and placed by its transform (getScreenCTM), as four corners.
BOXES_JS = """() => [...document.querySelectorAll("svg text.name, svg text.label")].map((t) => {
  const b = t.getBBox(), m = t.getScreenCTM();
  const corner = (x, y) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
  return { name: t.classList.contains("name"), text: t.textContent,
           corners: [corner(b.x, b.y), corner(b.x + b.width, b.y),
                     corner(b.x + b.width, b.y + b.height), corner(b.x, b.y + b.height)] };
})"""


def test_the_plan_sheet_of_massy_draws_buildings_names_and_links(  # type: ignore[no-untyped-def]
    client: TestClient, massy: int, browser, tmp_path: Path, artifacts: Path
) -> None:
    # The hand-made extract (tests/fixtures/SOURCES.md) as buildings (its three buildings
    # near the station) and as streets: « Rue d'essai » (residential), « Pont d'essai »
    # (primary, on a bridge), a railway; then Massy's OpenStreetMap roads.
    extract = FIXTURES / "buildings_hand_massy.osm.pbf"
    _upload(client, extract, "buildings", "Bâtiments (essai)")
    _upload(client, extract, "barriers", "Rues (essai)")
    # A declared link (a footbridge written by hand) across the middle of Massy.
    link = tmp_path / "liaisons.geojson"
    gpd.GeoDataFrame(
        {"nom": ["Passerelle d'essai"]},
        geometry=[shapely.LineString([(2.262, 48.728), (2.272, 48.731)])],
        crs=4326,
    ).to_file(link)
    _upload(client, link, "links", "Liaisons (essai)")
    plan_id = _plan_in_halves(client, massy)

    sheet = client.get(f"/secteurs/{plan_id}/impression")
    assert sheet.status_code == 200, sheet.text
    html = sheet.text
    # Massy's sectors span its 5.0 km (Lambert-93 x from 643 765 to 648 800 m, the
    # fixture's bounds), under the 6 km up to which buildings are printed: the three, in
    # one path (one outline each).
    buildings = re.findall(r'<path d="([^"]+)" fill="#dcd8d1" stroke="none" class="building"', html)
    assert len(buildings) == 1 and buildings[0].count("M") == 3
    # Names: Massy's, and the primary road's (a main road: printed up to 10 km wide), not
    # the residential street's (only up to 3 km wide).
    assert re.search(r'class="name commune-name"[^>]*>Massy</text>', html)
    assert re.search(r'class="name street-name"[^>]*>Pont d&#39;essai</text>', html)
    assert "Rue d&#39;essai" not in html
    # The declared link, dashed, and the legends.
    assert html.count('class="declared-link"') == 1
    assert '<span class="legend-link"></span>Liaisons déclarées (bac, pont…)' in html
    legend = re.search(r'<div class="sub base-legend">(.*?)</div>', html)
    assert legend is not None
    # The communes met by the printed extent (Massy's, 5 % wider): Massy and the two
    # neighbours west (x from 640 542 m) and north (y from 6 848 652 m), not the one east
    # (x from 649 664 m, 860 m past Massy, beyond the 250 m margin). The extract's three
    # lines: two streets and a railway.
    assert legend.group(1) == (
        "Fond de plan : Communes : 3 communes · Eau : non importée · Rues : 2 tronçons · "
        "Voies ferrées : 1 tronçon · Bâtiments : 3 bâtiments · "
        "Liaisons déclarées (bac, pont…) : 1 · © les contributeurs d&#39;OpenStreetMap"
    )

    # With Massy's 4 786 OpenStreetMap road segments, many names compete for the page:
    # Chromium's own boxes of the names never overlap one another nor a sector's name.
    import_layer_file(
        client.app.state.context,  # type: ignore[attr-defined]
        path=FIXTURES / "roads_osm_massy.geojson",
        kind="barriers",
        name="Routes",
    )
    html = client.get(f"/secteurs/{plan_id}/impression").text
    assert len(html) < 250_000  # one path per base layer: 4 788 lines stay small
    streets = re.findall(r'class="name street-name"[^>]*>([^<]+)</text>', html)
    assert len(streets) > 10 and len(set(streets)) == len(streets)
    page = browser.new_page()
    page.set_content(html)
    boxes = page.evaluate(BOXES_JS)
    page.screenshot(path=str(artifacts / "plan_sheet_massy.png"), full_page=True)
    (artifacts / "plan_sheet_massy.html").write_text(html)
    page.close()
    assert sum(b["name"] for b in boxes) == len(streets) + html.count("commune-name")
    shapes = [(b["name"], b["text"], Polygon(b["corners"])) for b in boxes]
    for i, (name_a, text_a, a) in enumerate(shapes):
        for name_b, text_b, b in shapes[i + 1 :]:
            if name_a or name_b:
                assert a.intersection(b).area < 0.5, (text_a, text_b)
