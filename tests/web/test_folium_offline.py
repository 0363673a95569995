"""folium maps served offline: every asset rewritten to web/static/vendor, unknown ones refused,
and the page drawn by real headless Chromium without a request leaving the app."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from geo.errors import UnavailableError
from tests.web.requests import on_failure
from web.folium_maps import (
    CDN_ASSETS,
    VENDOR_DIR,
    VENDOR_URL,
    UnknownAssetError,
    first_external_url,
    import_folium,
    localise_assets,
    render_map,
)

BELFORT = (47.638, 6.862)
SECTOR = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"nom": "Secteur Centre", "problemes": 12},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[6.84, 47.62], [6.88, 47.62], [6.88, 47.65], [6.84, 47.65], [6.84, 47.62]]
                ],
            },
        }
    ],
}


def feature_map() -> Any:
    """A map using every folium feature whose assets are vendored (no tiles: offline)."""
    folium = import_folium()
    from branca.colormap import LinearColormap

    rng = np.random.default_rng(90)
    # No tile layer to set maxZoom, which MarkerCluster needs: give it to the map.
    m = folium.Map(location=BELFORT, zoom_start=13, tiles=None, maxZoom=18)
    folium.GeoJson(
        SECTOR,
        name="Secteurs",
        tooltip=folium.GeoJsonTooltip(["nom"], aliases=["Secteur"]),
        popup=folium.GeoJsonPopup(["problemes"], aliases=["Problématiques"]),
    ).add_to(m)
    heat = rng.normal(BELFORT, 0.006, size=(300, 2))
    folium.plugins.HeatMap(heat.tolist(), name="Densité", radius=20).add_to(m)
    cluster = folium.plugins.MarkerCluster(name="Signalements").add_to(m)
    for lat, lon in rng.normal((47.645, 6.85), 0.001, size=(40, 2)):
        folium.Marker((lat, lon)).add_to(cluster)
    folium.Marker((47.63, 6.875), icon=folium.Icon(icon="info-sign")).add_to(m)  # glyphicon
    folium.Marker((47.632, 6.845), icon=folium.Icon(prefix="fa", icon="house")).add_to(m)
    folium.CircleMarker((47.64, 6.87), radius=8, color="#e15759", fill=True).add_to(m)
    LinearColormap(["#ffffb2", "#bd0026"], vmin=0, vmax=12, caption="Problématiques").add_to(m)
    folium.LayerControl().add_to(m)
    folium.FitBounds([[47.615, 6.83], [47.66, 6.89]]).add_to(m)
    return m


def test_a_map_with_every_feature_loads_only_vendored_files() -> None:
    m = feature_map()
    raw = m.get_root().render()
    # The mapping is exactly what folium renders: nothing missing, nothing stale.
    assert set(re.findall(r"https?://[^\"'\s]+", raw)) == set(CDN_ASSETS)

    html = render_map(m)
    assert re.search(r"https?:|//cdn", html) is None
    local = set(re.findall(rf"(?:src|href)=\"{VENDOR_URL}/([^\"]+)\"", html))
    assert local == set(CDN_ASSETS.values())
    assert all((VENDOR_DIR / path).is_file() for path in local)


def test_vendored_stylesheets_find_their_fonts_and_images() -> None:
    """The relative url(...) of every vendored CSS file (fonts, marker sprites) resolves."""
    missing = []
    for css in VENDOR_DIR.rglob("*.css"):
        for ref in re.findall(r"url\(\s*[\"']?([^\"')]+)", css.read_text()):
            if ref.startswith(("data:", "#")):
                continue
            if not (css.parent / re.split(r"[?#]", ref)[0]).resolve().is_file():
                missing.append(f"{css.relative_to(VENDOR_DIR)}: {ref}")
    assert missing == []


def test_an_unknown_cdn_script_is_refused_by_name() -> None:
    url = "https://unpkg.com/leaflet.fullscreen@3.0.0/Control.FullScreen.js"
    html = render_map(feature_map()).replace("</head>", f'<script src="{url}"></script></head>')
    with pytest.raises(UnknownAssetError, match=re.escape(url)) as error:
        localise_assets(html)
    assert error.value.url == url
    assert isinstance(error.value, ValueError)


def _iframe(document: str) -> str:
    """An <iframe> holding ``document``, as folium's IFrame popups embed it."""
    data = base64.b64encode(document.encode()).decode()
    return f'<iframe src="data:text/html;charset=utf-8;base64,{data}"></iframe>'


@pytest.mark.parametrize(
    ("html", "url"),
    [
        ('<link rel="stylesheet" href="https://cdn.x.org/a.css"/>', "https://cdn.x.org/a.css"),
        ("<script src='//cdn.x.org/a.js'></script>", "//cdn.x.org/a.js"),
        ("<style>@import 'https://fonts.x.org/f.css';</style>", "https://fonts.x.org/f.css"),
        ('<div style="background: url(https://x.org/i.png)"></div>', "https://x.org/i.png"),
        ('<img srcset="http://x.org/i.png 2x">', "http://x.org/i.png"),
        ('var p = $(`<img src="https://x.org/i.png">`)[0];', "https://x.org/i.png"),
        ('{"html": "\\u003cimg src=\\"https://x.org/i.png\\"\\u003e"}', "https://x.org/i.png"),
        ('img.src = "https://x.org/i.png";', "https://x.org/i.png"),
        (
            'L.tileLayer(\n  "https://tile.osm.org/{z}/{x}/{y}.png", {})',
            "https://tile.osm.org/{z}/{x}/{y}.png",
        ),
        ('<a href="#"><img src="https://x.org/i.png"></a>', "https://x.org/i.png"),
        (_iframe('<script src="https://x.org/v.js"></script>'), "https://x.org/v.js"),
        # A known URL with anything appended is another URL.
        (
            '<script src="https://code.jquery.com/jquery-3.7.1.min.js?v=2"></script>',
            "https://code.jquery.com/jquery-3.7.1.min.js?v=2",
        ),
    ],
)
def test_what_would_be_fetched_from_outside_is_refused(html: str, url: str) -> None:
    with pytest.raises(UnknownAssetError) as error:
        localise_assets(html)
    assert error.value.url == url
    assert url in str(error.value)


@pytest.mark.parametrize(
    "html",
    [
        '<a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
        '"attribution": "\\u003ca href=\\"https://www.openstreetmap.org/copyright\\"\\u003eOSM"',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
        "<td>Signalé sur https://www.example.org/forum</td>",
        "<style>.x { background: url(\"data:image/svg+xml,%3csvg xmlns='http://www.w3.org/2000/svg'/%3e\") }</style>",  # noqa: E501
        '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css"/>',
        _iframe("<b>Secteur Centre</b>"),
    ],
)
def test_what_is_not_fetched_is_left_alone(html: str) -> None:
    assert first_external_url(html) is None
    assert localise_assets(html) == html


def test_vendor_url_follows_where_the_app_is_mounted() -> None:
    html = '<script src="https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js"></script>'
    assert localise_assets(html, vendor_url="/psq/static/vendor/") == (
        '<script src="/psq/static/vendor/d3/d3.min.js"></script>'
    )


def test_missing_folium_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "folium", None)  # what `import folium` sees when absent
    with pytest.raises(UnavailableError, match=r"pip install 'folium>=0\.20'"):
        import_folium()


@pytest.mark.browser
def test_the_map_draws_in_chromium_without_leaving_the_app(  # type: ignore[no-untyped-def]
    browser, live_server: str, artifacts: Path
) -> None:
    html = render_map(feature_map())
    page_url = f"{live_server}/essai-carte-folium"
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.route(
        page_url,
        lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
    )
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    failures: list[str] = []
    on_failure(page, failures.append)

    def on_response(response: Any) -> None:
        if response.status >= 400:
            failures.append(f"{response.url} {response.status}")

    page.on("response", on_response)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(page_url)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.L === 'object' && typeof L.map === 'function'")
    page.locator("canvas.leaflet-heatmap-layer").wait_for(timeout=15_000)
    assert page.locator(".marker-cluster").count() >= 1
    assert page.locator(".marker-cluster").first.inner_text().strip() == "40"
    assert page.locator(".awesome-marker .glyphicon-info-sign").count() == 1
    assert page.locator(".awesome-marker .fa-house").count() == 1
    legend = page.locator(".legend.leaflet-control svg#legend")
    assert legend.locator("rect").count() > 0
    assert "Problématiques" in legend.text_content()
    assert page.locator(".leaflet-control-layers-overlays label").count() == 3
    assert page.locator("path.leaflet-interactive").count() == 2  # the sector and the circle

    # The icon fonts came from the vendored copies (their CSS finds them relatively).
    fonts = page.evaluate(
        """async () => {
            await document.fonts.ready;
            return [...document.fonts].filter(f => f.status === 'loaded')
                .map(f => f.family.replaceAll('"', ''));
        }"""
    )
    assert {"Glyphicons Halflings", "Font Awesome 6 Free"} <= set(fonts), fonts

    # GeoJsonTooltip: hovering the sector shows its name.
    centre = page.evaluate(
        """() => {
            const map = window[document.querySelector('.folium-map').id];
            const p = map.latLngToContainerPoint([47.635, 6.86]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }"""
    )
    page.mouse.move(*centre)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=5_000)
    assert "Secteur Centre" in tooltip.inner_text()

    page.screenshot(path=str(artifacts / "folium_offline.png"))
    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}, requested
    assert any("/static/vendor/" in u for u in requested)
    assert failures == [] and errors == []
    page.close()
