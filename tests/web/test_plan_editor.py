"""The plan editor in real headless Chromium: paint three cells into another sector with
the mouse, see the metrics change, undo, redo, save, reload, compare, adopt, export."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import pytest
from PIL import Image

from tests.plan_helpers import border_chain

pytestmark = pytest.mark.browser


def drag_through(page: Any, cells: list[str]) -> None:
    """Press the mouse on the first cell's centre, move through the others, release."""
    box = page.locator("#map").bounding_box()
    points = page.evaluate(
        """(cells) => cells.map((h3) => {
            const centre = psqEditor.cells.get(h3).layer.getCenter();
            const p = psqEditor.map.latLngToContainerPoint(centre);
            return [p.x, p.y];
        })""",
        cells,
    )
    (x, y), *rest = points
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    for x, y in rest:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()


def sector_row(page: Any, sector: int) -> str:
    return str(page.locator(f"#editor-sectors tr[data-sector='{sector}']").inner_text())


def test_paint_undo_redo_save_adopt_export(  # type: ignore[no-untyped-def]
    browser, live_server: str, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 950}, accept_downloads=True)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(live_server + "/secteurs")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    page.fill("#k", "4")
    page.click("#propose")
    page.wait_for_selector("body[data-plan]", timeout=60_000)
    parent_id = int(page.locator("body").get_attribute("data-plan"))

    page.click("#edit")  # a working copy opens in the editor
    page.wait_for_url(re.compile(r"/secteurs/edition\?plan=\d+"))
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    copy_id = int(page.url.rsplit("=", 1)[1])
    assert page.locator("body").get_attribute("data-version") == "1"
    sectors = dict(page.evaluate("[...psqEditor.cells].map(([h3, c]) => [h3, c.sector])"))
    chain, source, target = border_chain(sectors, 3)
    source_before = sector_row(page, source)

    page.check(f"#target-{target}")
    drag_through(page, chain)
    page.wait_for_selector("body[data-version='2']")
    assert sector_row(page, source) != source_before  # its workload and cell count changed
    assert f"{sum(1 for s in sectors.values() if s == source) - 3} cellules" in sector_row(
        page, source
    )
    assert "version 2" in page.locator("#save-state").inner_text()
    page.screenshot(path=str(artifacts / "plan_editor.png"))

    page.click("#undo")
    page.wait_for_selector("body[data-version='3']")
    assert sector_row(page, source) == source_before
    page.keyboard.press("Control+y")  # redo
    page.wait_for_selector("body[data-version='4']")
    moved = page.evaluate("(cells) => cells.map((h3) => psqEditor.cells.get(h3).sector)", chain)
    assert moved == [target] * 3

    page.fill("#save-comment", "Trois cellules rattachées au secteur voisin")
    page.click("#save")
    page.wait_for_url(re.compile(r"/secteurs\?csp=\d+&plan=\d+"))
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    saved_id = int(page.locator("body").get_attribute("data-plan"))
    assert saved_id == copy_id
    assert "Trois cellules" in page.locator("#plan-comment").inner_text()
    stored = page.evaluate(
        """async ([id, cells]) => {
            const fc = await (await fetch(`/api/plans/${id}/cells`)).json();
            const of = Object.fromEntries(fc.features.map((f) => [f.id, f.properties.sector]));
            return cells.map((h3) => of[h3]);
        }""",
        [saved_id, chain],
    )
    assert stored == [target] * 3

    page.select_option("#compare-with", str(parent_id))
    page.click("#compare")
    page.wait_for_selector("#comparison:not([hidden])")
    assert page.locator("path.changed-cell").count() == 3
    assert "3 cellule(s) changent de secteur" in page.locator("#comparison-title").inner_text()
    page.screenshot(path=str(artifacts / "plan_compare.png"))

    page.click("#adopt")
    page.wait_for_selector("#adoption:not([hidden]) #adoption-table tbody tr")
    if page.locator("#adoption-override").is_visible():
        page.fill("#override-reason", "Retouches validées en réunion")
    page.click("#adoption-confirm")
    page.wait_for_selector("#plan-list .badge.adopted")
    page.wait_for_function("document.querySelector('#plan-title').textContent.includes('Adopté')")

    page.select_option("#export-format", "gpkg")
    page.select_option("#export-crs", "2154")
    with page.expect_download() as download:
        page.click("#export")
    path = artifacts / download.value.suggested_filename
    download.value.save_as(path)
    layer = gpd.read_file(path)
    assert layer.crs.to_epsg() == 2154 and len(layer) == 4

    with page.expect_download() as download:
        page.click("#print-pdf")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]", pdf)  # A4 portrait
    (artifacts / "plan_A4.pdf").write_bytes(pdf)

    sheet = browser.new_page()
    sheet.goto(f"{live_server}/secteurs/{saved_id}/impression")
    assert sheet.locator("svg path").count() >= 4
    assert "Secteur 1" in (sheet.locator("svg").text_content() or "")
    figures = sheet.locator(".figures").inner_text()  # both objectives, and the plan's
    assert "Distance moyenne au centre (p-médian)" in figures and "non calculée" not in figures
    assert "Longueur des limites" in figures
    assert "longueur des limites, puis retouché à la main" in figures
    sheet.close()

    hosts = {urlsplit(u).netloc for u in requested if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(live_server).netloc}, requested
    assert errors == []
    page.close()


def test_a_refused_edit_is_reverted_on_the_map(  # type: ignore[no-untyped-def]
    browser, live_server: str
) -> None:
    """Painting out of a locked sector is refused before anything is sent."""
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    page.goto(live_server + "/secteurs")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    page.fill("#k", "3")
    page.click("#propose")
    page.wait_for_selector("body[data-plan]", timeout=60_000)
    page.click("#edit")
    page.wait_for_url(re.compile(r"/secteurs/edition\?plan=\d+"))
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    sectors = dict(page.evaluate("[...psqEditor.cells].map(([h3, c]) => [h3, c.sector])"))
    chain, source, target = border_chain(sectors, 1)
    page.click(f"button.lock[data-sector='{source}']")
    page.wait_for_selector(f"button.lock[data-sector='{source}'][aria-pressed='true']")
    version = page.locator("body").get_attribute("data-version")
    page.check(f"#target-{target}")
    drag_through(page, chain)
    assert "verrouillé" in page.locator("#editor-error").inner_text()
    assert page.locator("body").get_attribute("data-version") == version
    assert page.evaluate("(h3) => psqEditor.cells.get(h3).sector", chain[0]) == source
    page.close()


def test_png_sheet_is_one_a4_page(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """A plan made through the API, printed by the server's Chromium as a PNG."""
    page = browser.new_page()
    api = page.request
    csp_id = api.get(f"{live_server}/api/csp").json()["data"][0]["id"]
    job = api.post(
        f"{live_server}/api/csp/{csp_id}/plans", data={"k": 3}, headers=page.csrf_headers()
    ).json()
    while job["status"] in ("queued", "running"):
        page.wait_for_timeout(100)
        job = api.get(f"{live_server}/api/jobs/{job['id']}").json()
    response = api.get(f"{live_server}/secteurs/{job['plan_id']}/impression.png")
    assert response.ok and response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.body())) as image:
        width, height = image.size
    assert abs(height / width - 297 / 210) < 0.02  # A4 portrait: the sheet fits one page
    page.close()
