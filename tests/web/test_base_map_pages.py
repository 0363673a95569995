"""Every map page draws the app's own base map (/tiles, no other host) with its legend."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

MAP_PAGES = (
    "/",
    "/carte",
    "/secteurs",
    "/problematiques",
    "/cartographie",
    "/etudes",
    "/commune",
    "/interventions",
)


def test_every_map_page_draws_the_base_map(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for path in MAP_PAGES:
        requested.clear()
        page.goto(live_server + path)
        page.wait_for_selector(".leaflet-tile-pane canvas", state="attached", timeout=15_000)
        legend = page.locator(".basemap-legend", has_text="Rues : non importées")
        legend.wait_for(timeout=15_000)
        assert "Communes : " in legend.inner_text(), path
        tiles = [u for u in requested if urlsplit(u).path.startswith("/tiles/")]
        assert tiles, path
        hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
        assert hosts == {urlsplit(live_server).netloc}, (path, hosts)
        scale = page.locator(".leaflet-control-scale").first.inner_text()
        assert "ft" not in scale and "mi" not in scale, path
    assert errors == []
    page.close()
