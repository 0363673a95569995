"""The grid and layers page (/carte) in real headless Chromium: problems per cell, layer
upload, barrier-blocked edges."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import pytest
from shapely.geometry import box

pytestmark = pytest.mark.browser


def _open(browser, live_server: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/carte")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    return page, requested, errors


def _offline(requested: list[str], live_server: str) -> bool:
    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    return hosts == {urlsplit(live_server).netloc}


def test_problems_per_cell_are_labelled_synthetic(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page, requested, errors = _open(browser, live_server)
    option = page.locator('#attr-select option[value="problems"]')
    assert option.inner_text() == "Problèmes enregistrés (fictifs)"  # the demo's are synthetic
    page.select_option("#attr-select", "problems")
    legend = page.locator(".legend").inner_text()
    assert "Problèmes enregistrés (fictifs)" in legend and "≤" in legend
    # A cell's tooltip says its problems are synthetic.
    page.evaluate(
        """() => {
          const cell = [...document.querySelectorAll('path.cell')]
            .find((p) => p.getAttribute('fill') !== '#f2f2f2');
          const at = { bubbles: true, clientX: 10, clientY: 10 };
          cell.dispatchEvent(new MouseEvent('mouseover', at));
        }"""
    )
    assert "(fictifs)" in page.locator(".leaflet-tooltip").inner_text()
    assert _offline(requested, live_server) and errors == []
    page.close()


def _zones(tmp_path: Path) -> Path:
    """Two quartiers in Belfort, in Lambert-93, in a GeoJSON that says so."""
    path = tmp_path / "quartiers.geojson"
    gpd.GeoDataFrame(
        {"code": ["Q1", "Q2"], "nom": ["Centre", "Glacis"]},
        geometry=[box(6.855, 47.632, 6.865, 47.640), box(6.865, 47.632, 6.875, 47.640)],
        crs=4326,
    ).to_crs(2154).to_file(path)
    return path


def test_upload_a_layer_and_see_it_in_the_toggles(  # type: ignore[no-untyped-def]
    browser, live_server: str, tmp_path: Path, artifacts: Path
) -> None:
    page, requested, errors = _open(browser, live_server)
    assert page.locator("#layer-list input").count() == 1  # the demo's Filosofi grid
    page.set_input_files("#layer-file", str(_zones(tmp_path)))
    page.select_option("#layer-kind", "zones")
    assert page.locator("#layer-kind option:checked").inner_text().startswith("Zones")
    page.fill("#layer-name", "Quartiers de Belfort")
    # The upload's progress next to the file field: every text it says, in order.
    page.evaluate(
        """() => {
          window.progressSaid = [];
          const text = document.getElementById('layer-progress-text');
          new MutationObserver(() => window.progressSaid.push(text.textContent))
            .observe(text, { childList: true, characterData: true, subtree: true });
        }"""
    )
    page.click("#layer-submit")
    row = page.locator("#layer-list .layer-row", has_text="Quartiers de Belfort")
    row.wait_for(timeout=15_000)
    said = page.evaluate("window.progressSaid")
    assert said[0] == "Envoi : 0 %" and said[-1] == "Lecture et contrôle du fichier…", said
    assert "Envoi : 100 %" in said  # the whole body sent (XHR's last upload progress)
    assert page.locator("#layer-progress").is_hidden()  # gone once the answer is in
    kinds = page.locator("#layer-kind option").all_inner_texts()
    assert "Bâtiments (fond de plan : OpenStreetMap, BD TOPO)" in kinds
    assert "Zones, 2 objets" in row.inner_text()
    assert page.locator("#layer-list input").count() == 2  # no reload: the list grew
    result = page.locator("#layer-result").inner_text()
    assert "« Quartiers de Belfort » importée" in result and "EPSG:2154" in result
    # The new layer is checked and drawn.
    assert row.locator("input").is_checked()
    page.wait_for_function(
        "document.querySelectorAll('.leaflet-overlay-pane path:not(.cell):not(.csp-outline)')"
        ".length >= 2"
    )
    assert page.locator("#layer-error").inner_text() == ""
    assert page.input_value("#layer-name") == ""  # the form is ready for the next one
    # Addresses for the geocoder and the base map, from the same page.
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "ban_sample_belfort.csv"
    page.set_input_files("#address-file", str(sample))
    page.click("#address-submit")
    page.locator("#address-result", has_text="adresse(s) lue(s)").wait_for(timeout=15_000)
    assert page.locator("#address-result").inner_text() == (
        "9 adresse(s) lue(s) : 9 ajoutée(s), 0 mise(s) à jour, 0 retirée(s)."
    )
    page.locator(".basemap-legend", has_text="Adresses : 9 adresses").wait_for(timeout=15_000)
    assert "Rues : non importées" in page.locator(".basemap-legend").inner_text()
    page.screenshot(path=str(artifacts / "grid_map_upload.png"))
    assert _offline(requested, live_server) and errors == []
    page.close()


def test_a_bad_layer_shows_the_error(  # type: ignore[no-untyped-def]
    browser, live_server: str, tmp_path: Path
) -> None:
    page, _, errors = _open(browser, live_server)
    page.set_input_files("#layer-file", str(_zones(tmp_path)))
    page.select_option("#layer-kind", "barriers")  # polygons are no barriers
    page.fill("#layer-name", "Pas des barrières")
    page.click("#layer-submit")
    error = page.locator("#layer-error")
    error.filter(has_text="Import refusé").wait_for(timeout=15_000)
    text = error.inner_text()
    assert text.startswith("Import refusé : Fichier : quartiers.geojson")
    assert "les coupures sont des lignes" in text
    assert page.locator("#layer-list input").count() == 1  # nothing imported
    # A declared CRS PROJ does not know is named.
    page.select_option("#layer-kind", "zones")
    page.fill("#layer-crs", "EPSG:99999")
    page.click("#layer-submit")
    error.filter(has_text="EPSG:99999").wait_for(timeout=15_000)
    assert page.locator("#layer-result").inner_text() == ""
    assert errors == []
    page.close()


def test_blocked_edges_toggle(  # type: ignore[no-untyped-def]
    browser, live_server: str, tmp_path: Path, artifacts: Path
) -> None:
    """A motorway and a river uploaded through the form, the grid rebuilt: the boundaries
    they block are drawn on demand, coloured by class, with a legend."""
    path = tmp_path / "barrieres.geojson"
    gpd.GeoDataFrame(
        {"highway": ["motorway", None], "waterway": [None, "river"]},
        geometry=gpd.GeoSeries.from_wkt(
            ["LINESTRING (6.80 47.62, 6.90 47.66)", "LINESTRING (6.84 47.60, 6.87 47.70)"]
        ),
        crs=4326,
    ).to_file(path)
    page, requested, errors = _open(browser, live_server)
    page.set_input_files("#layer-file", str(path))
    page.select_option("#layer-kind", "barriers")
    page.fill("#layer-name", "A36 et Savoureuse")
    page.click("#layer-submit")
    page.locator("#layer-result", has_text="grille reconstruite").wait_for(timeout=15_000)

    csp_id = page.request.get(f"{live_server}/api/csp").json()["data"][0]["id"]
    rebuilt = page.request.post(
        f"{live_server}/api/csp/{csp_id}/grids",
        data={"resolution": 9},
        headers=page.csrf_headers(),
    )
    assert rebuilt.ok, rebuilt.text()
    blocked = rebuilt.json()["blocked_edge_count"]
    assert blocked > 20

    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert page.locator("path.blocked-edge").count() == 0
    page.check("#edges-toggle")
    page.wait_for_function(f"document.querySelectorAll('path.blocked-edge').length === {blocked}")
    legend = page.locator(".legend").inner_text()
    assert "Limites bloquées par une barrière" in legend
    assert "Autoroute" in legend and "Rivière" in legend
    colours = set(
        page.eval_on_selector_all(
            "path.blocked-edge", "(ps) => ps.map((p) => p.getAttribute('stroke'))"
        )
    )
    assert colours == {"#c0392b", "#2980b9"}  # one colour per barrier class
    assert f"{blocked} limite(s)" in page.locator("#edges-summary").inner_text()
    page.screenshot(path=str(artifacts / "grid_map_edges.png"))

    page.uncheck("#edges-toggle")
    page.wait_for_function("document.querySelectorAll('path.blocked-edge').length === 0")
    assert "Limites bloquées" not in page.locator(".legend").inner_text()
    assert _offline(requested, live_server) and errors == []
    page.close()


def test_units_selector_shows_street_blocks(  # type: ignore[no-untyped-def]
    browser, live_server: str, tmp_path: Path, artifacts: Path
) -> None:
    """With a street-block grid built, « Unités » switches the choropleth between the H3
    cells and the blocks; without one, the selector is hidden."""
    page, requested, errors = _open(browser, live_server)
    assert page.locator("#units-field").is_hidden()
    csp_id = page.request.get(f"{live_server}/api/csp").json()["data"][0]["id"]
    path = tmp_path / "rues.geojson"
    gpd.GeoDataFrame(
        {"highway": ["primary", "residential", "residential"]},
        geometry=gpd.GeoSeries.from_wkt(
            [
                "LINESTRING (6.80 47.62, 6.90 47.66)",
                "LINESTRING (6.84 47.60, 6.87 47.70)",
                "LINESTRING (6.82 47.65, 6.90 47.63)",
            ]
        ),
        crs=4326,
    ).to_file(path)
    uploaded = page.request.post(
        f"{live_server}/api/layers",
        headers=page.csrf_headers(),
        multipart={
            "file": {
                "name": path.name,
                "mimeType": "application/geo+json",
                "buffer": path.read_bytes(),
            },
            "kind": "barriers",
            "name": "Rues",
        },
    )
    assert uploaded.ok, uploaded.text()
    built = page.request.post(
        f"{live_server}/api/csp/{csp_id}/grids",
        data={"resolution": 9, "units": "blocks"},
        headers=page.csrf_headers(),
    )
    assert built.ok, built.text()
    blocks = built.json()["cell_count"]

    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    assert page.locator("#units-field").is_visible()
    cells = page.locator("path.cell").count()
    page.select_option("#units-select", "blocks")
    page.wait_for_function(f"document.querySelectorAll('path.cell').length === {blocks}")
    assert blocks != cells
    summary = page.locator("#grid-summary").inner_text()
    assert "îlots" in summary
    # Plain words, not graph theory: « d'un seul tenant » or « en N morceaux séparés ».
    assert "composante" not in summary and ("d'un seul tenant" in summary or "morceaux" in summary)
    assert "îlots" in page.locator("#res-select").inner_text()
    assert "rues" in page.locator("#res-help").inner_text()
    page.select_option("#attr-select", "population")
    assert "Population" in page.locator(".legend").inner_text()
    page.screenshot(path=str(artifacts / "grid_map_blocks.png"))
    page.select_option("#units-select", "h3")
    page.wait_for_function(f"document.querySelectorAll('path.cell').length === {cells}")
    assert _offline(requested, live_server) and errors == []
    page.close()
