"""The cartographie des problématiques in real headless Chromium, offline: a GPO's heat
layer, hot spots and clustered markers, the trend chart and open problems; the meeting
pack as an A4 PDF naming the sector; the folium map served with local assets only."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader

from tests.web.requests import on_failure

pytestmark = pytest.mark.browser
READY_OR_ERROR = (
    "document.body.dataset.ready === '1' || document.getElementById('error').textContent"
)


def test_gpo_page_renders_heat_hotspots_and_markers_offline(  # type: ignore[no-untyped-def]
    browser, live_demo: str, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 950})
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    failed: list[str] = []
    on_failure(page, failed.append)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # The sector GPOs (the demo also has a thematic « Transports » GPO).
    gpos = [
        g
        for g in page.request.get(f"{live_demo}/api/csp/1/gpos").json()["data"]
        if g["kind"] == "sector"
    ]
    gpo = max(gpos, key=lambda g: g["open_problems"])
    page.goto(f"{live_demo}/cartographie?csp=1&gpo={gpo['id']}")
    page.wait_for_function(READY_OR_ERROR, timeout=30_000)
    assert not page.locator("#error").inner_text(), (page.locator("#error").inner_text(), errors)
    assert page.locator("#gpo-select").input_value() == str(gpo["id"])
    assert page.evaluate("navigator.language") == "fr-FR"  # date fields in jj/mm/aaaa
    # Heat bands and Gi* cells drawn; markers clustered (clusters or single markers).
    assert int(page.locator("body").get_attribute("data-heat-bands")) > 0
    assert page.locator("canvas").count() >= 1  # the heat bands are drawn on a canvas
    assert int(page.locator("body").get_attribute("data-hot-cells")) > 0
    assert page.locator("path.gi-cell").count() > 0
    # A hot cell's tooltip says its chance of being luck in words, no z or p.
    page.locator("path.gi-cell").first.hover(force=True)
    tip = page.locator(".leaflet-tooltip").last.inner_text()
    assert "d'être dû au hasard" in tip and "z =" not in tip, tip
    shown = int(page.locator("body").get_attribute("data-problems"))
    assert shown > 0
    clusters = page.locator(".marker-cluster").count()
    singles = page.locator("path.problem").count()
    assert clusters > 0 and singles < shown  # grouped, not one marker each
    # The sector in focus, its neighbours faded.
    assert page.locator("path.sector-focus").count() == 1
    assert page.locator("path.sector-faded").count() == len(gpos) - 1
    # Legend, synthetic banner, figures, trend chart and open problems, in French. By
    # default the hot spots and the grouped problems only; the heat is one click away.
    legend = page.locator(".cartography-legend .legend-body").inner_text()
    assert "Point chaud (99 %)" in legend and "Chaleur" not in legend
    page.get_by_label("Chaleur (densité de noyau)").check()
    legend = page.locator(".cartography-legend .legend-body").inner_text()
    assert "Chaleur" in legend
    # The legend stays within the map (it scrolls), folds behind « Légende » and the page
    # remembers it folded.
    box, frame = (page.locator(sel).bounding_box() for sel in (".cartography-legend", "#map"))
    assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]
    assert box["x"] + box["width"] <= frame["x"] + frame["width"]
    toggle = page.get_by_role("button", name="Légende")
    assert toggle.get_attribute("aria-expanded") == "true"
    toggle.click()
    assert page.locator(".cartography-legend .legend-body").is_hidden()
    assert page.evaluate("localStorage.getItem('psq-legend-open')") == "0"
    folded = page.locator(".cartography-legend").bounding_box()
    assert folded["height"] < 60
    toggle.click()
    assert page.locator(".cartography-legend .legend-body").is_visible()
    # No key figure clips its text.
    clipped = page.evaluate(
        """[...document.querySelectorAll('#key-figures div')]
            .filter((d) => d.scrollWidth > d.clientWidth + 1).length"""
    )
    assert clipped == 0
    assert page.locator("#synthetic-banner").is_visible()
    assert "fictives" in page.locator("#synthetic-banner").inner_text()
    assert page.locator("#trend-chart rect").count() > 0
    assert int(page.locator("#open-count").inner_text()) == gpo["open_problems"]
    # The sector's last two quarters hold fewer problems than Gi* needs: no earlier hot
    # spot, so no prediction index (the whole CSP has one, below).
    assert (
        "Aucun point chaud dans la période précédente"
        in page.locator("#comparison-text").inner_text()
    )
    page.screenshot(path=str(artifacts / "cartography_gpo.png"))

    # Whole CSP: no sector faded, no meeting pack, and a prediction index.
    page.select_option("#gpo-select", "")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("path.sector-faded").count() == 0
    assert page.locator("#pack-pdf").is_hidden()  # a meeting pack is a GPO's
    comparison = page.locator("#comparison-text")
    assert "fois plus qu'une surface égale prise au hasard" in comparison.inner_text()
    # the technical term waits in its « ? » note
    assert "PAI" in comparison.locator("details.term-note").first.text_content()
    assert "PAI" not in comparison.inner_text()
    # Every sector named once, inside its own polygon, no two names overlapping.
    labels = page.evaluate(
        """[...document.querySelectorAll('.sector-label')].map((e) => {
            const r = e.getBoundingClientRect();
            return [e.textContent, r.left, r.top, r.right, r.bottom];
        })"""
    )
    assert len(labels) == len(gpos)
    for i, (name, *a) in enumerate(labels):
        for other, *b in labels[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, (name, other)
    shown = int(page.locator("body").get_attribute("data-problems"))

    # Filter on one category: the map follows.
    page.click("summary")
    for box in page.locator("input[name=category]").all():
        if box.get_attribute("value") != "stupefiants":
            box.uncheck()
    page.click("#apply")
    page.wait_for_function(
        f"document.body.dataset.ready === '1' && Number(document.body.dataset.problems) < {shown}"
    )
    # One day: too few problems for hot spots, which the page says instead of drawing any.
    page.fill("#date-from", page.locator("#date-to").input_value())
    page.click("#apply")
    page.wait_for_function(
        "document.body.dataset.ready === '1' && Number(document.body.dataset.problems) < 30"
    )
    figures = page.locator("#key-figures").inner_text()
    assert "Trop peu de données pour calculer des points chauds" in figures
    assert page.locator("path.gi-cell").count() == 0
    # A marker's popup links to the problem's record on the problems page.
    first = page.request.get(f"{live_demo}/api/csp/1/open-problems?limit=1").json()["data"][0]
    page.goto(f"{live_demo}/problematiques?csp=1&problem={first['id']}")
    page.wait_for_selector(f"body[data-detail='{first['id']}']", timeout=15_000)
    assert first["title"] in page.locator("#detail-title").inner_text()

    assert hosts == {urlsplit(live_demo).netloc}, hosts  # nothing from outside
    assert not failed and not errors, (failed, errors)


def test_meeting_pack_is_an_a4_pdf_naming_the_sector(  # type: ignore[no-untyped-def]
    browser, live_demo: str, artifacts: Path
) -> None:
    gpos = browser.new_page().request.get(f"{live_demo}/api/csp/1/gpos").json()["data"]
    gpo = gpos[0]
    html = browser.new_page().request.get(f"{live_demo}/gpo/{gpo['id']}/reunion").text()
    assert gpo["name"] in html and "prochaine réunion" in html and "fictives" in html
    # Its map numbers the listed open problems as its table does: 1 … n, each once.
    listed = len(re.findall(r'<td class="num">\d+</td>', html))
    assert listed > 0
    numbers = re.findall(r'class="label">(\d+)</text>', html)
    assert sorted(map(int, numbers)) == list(range(1, listed + 1))
    # The base map: the demo's Belfort has no streets, which the legend says (issue 19).
    assert "Rues : non importées" in html and "Bâtiments : non importés" in html
    assert 'class="name commune-name"' in html
    (artifacts / "meeting_pack.html").write_text(html)
    response = browser.new_page().request.get(f"{live_demo}/gpo/{gpo['id']}/reunion.pdf")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    for sheet in reader.pages:  # A4 portrait: 210 x 297 mm = 595 x 842 pt
        assert (
            abs(float(sheet.mediabox.width) - 595) < 2
            and abs(float(sheet.mediabox.height) - 842) < 2
        )
    text = "".join(sheet.extract_text() for sheet in reader.pages)
    assert gpo["name"] in text
    png = browser.new_page().request.get(f"{live_demo}/gpo/{gpo['id']}/reunion.png")
    assert png.status == 200 and png.body().startswith(b"\x89PNG")
    (artifacts / "meeting_pack.png").write_bytes(png.body())


def test_folium_map_loads_only_local_assets(browser, live_demo: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    tiles: list[str] = []
    page.on("request", lambda r: tiles.append(r.url) if "/tiles/" in r.url else None)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    gpo = page.request.get(f"{live_demo}/api/csp/1/gpos").json()["data"][0]
    page.goto(f"{live_demo}/cartographie/carte.html?csp=1&gpo={gpo['id']}")
    page.wait_for_selector(".leaflet-interactive", timeout=15_000)
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.locator(".marker-cluster, path.leaflet-interactive").count() > 0
    # The base map from the app's own tiles, under a metric scale bar.
    page.wait_for_selector(".leaflet-tile-pane canvas", state="attached")
    assert tiles and all(urlsplit(u).netloc == urlsplit(live_demo).netloc for u in tiles)
    scale = page.locator(".leaflet-control-scale").inner_text()
    assert scale.strip().endswith(("m", "km")) and "ft" not in scale and "mi" not in scale
    assert "données fictives" in page.content()
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "© les contributeurs d'OpenStreetMap" in attribution
    page.screenshot(path=str(artifacts / "cartography_folium.png"))
    assert hosts == {urlsplit(live_demo).netloc} and not errors, (hosts, errors)
