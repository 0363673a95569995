"""Every map page draws the app's own base map (/tiles, no other host) with its legend."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import pytest
import shapely
from sqlalchemy.orm import Session, sessionmaker

from api.services.context import Context
from api.services.territory import import_layer_file

pytestmark = pytest.mark.browser

MAP_PAGES = (
    "/",
    "/carte",
    "/secteurs",
    "/problematiques",
    "/cartographie",
    "/etudes",
    "/commune",
    "/commune/90010",
    "/interventions",
)
#: The pages showing sectors, which draw the declared links too (issue 20).
SECTOR_PAGES = ("/secteurs", "/cartographie", "/secteurs/edition")


def test_every_map_page_draws_the_base_map(  # type: ignore[no-untyped-def]
    browser, live_demo: str, demo_adopted: sessionmaker[Session], tmp_path: Path
) -> None:
    """The demo as shipped (an adopted plan, GPOs): every map page, the GPO's workspace
    and the plan editor included."""
    # A declared link (issue 20: a ferry, a bridge…, a ``links`` layer): the pages that
    # show sectors draw it dashed over their map and count it under the base map's legend.
    path = tmp_path / "liaisons.geojson"
    gpd.GeoDataFrame(
        {"nom": ["Passerelle d'essai"]},
        geometry=[shapely.LineString([(6.855, 47.637), (6.870, 47.642)])],  # in Belfort
        crs=4326,
    ).to_file(path)
    import_layer_file(Context(demo_adopted), path=path, kind="links", name="Liaisons (essai)")
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    gpo = page.request.get(f"{live_demo}/api/csp/1/gpos").json()["data"][0]
    plans = page.request.get(f"{live_demo}/api/csp/1/plans").json()["data"]
    adopted = next(p for p in plans if p["status"] == "adopted")
    copy = page.request.post(
        f"{live_demo}/api/plans/{adopted['id']}/edit", headers=page.csrf_headers()
    ).json()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for path in (*MAP_PAGES, f"/gpo/{gpo['id']}", f"/secteurs/edition?plan={copy['id']}"):
        requested.clear()
        page.goto(live_demo + path)
        page.wait_for_selector(".leaflet-tile-pane canvas", state="attached", timeout=15_000)
        legend = page.locator(".basemap-legend", has_text="Rues : non importées")
        legend.wait_for(timeout=15_000)
        # (a small map starts with its legend closed: its text is there, folded)
        assert "Communes : " in (legend.text_content() or ""), path
        tiles = [u for u in requested if urlsplit(u).path.startswith("/tiles/")]
        assert tiles, path
        hosts = {urlsplit(u).netloc for u in requested if not u.startswith(("data:", "blob:"))}
        assert hosts == {urlsplit(live_demo).netloc}, (path, hosts)
        scale = page.locator(".leaflet-control-scale").first.inner_text()
        assert "ft" not in scale and "mi" not in scale, path
        if path.split("?")[0] in SECTOR_PAGES:
            page.wait_for_selector("#map[data-declared-links='1']", timeout=15_000)
            assert page.locator("path.declared-link").count() == 1, path
            links = page.locator(".basemap-legend .declared-links").inner_text()
            assert links == "Liaisons déclarées (bac, pont…) : 1", path
    assert errors == []
    page.close()
