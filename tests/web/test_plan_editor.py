"""The plan editor in real headless Chromium: paint three cells into another sector with
the mouse, see the metrics change, undo, redo, save, reload, compare, adopt, export."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import h3
import pytest
from PIL import Image

from tests.plan_helpers import border_chain
from tests.web.axe import serious_violations

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
    assert "pas encore enregistrée" in page.locator("#save-state").inner_text()
    assert "Version enregistrée\n1" in page.locator("#editor-metrics").inner_text()
    assert page.locator("body").get_attribute("data-unsaved") == "3"
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
    layer = gpd.read_file(path, layer=path.stem)  # not its QGIS style's layer
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
    # The saved version (the proposal 1, this copy 2), not the count of edits (4).
    assert " · version 2 · " in sheet.locator(".sub").first.inner_text()
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
    hands_tools(page, sectors, locked=source)
    assert serious_violations(page) == []  # the editor, after all that
    page.close()


def pointer_tap(page: Any, h3_cell: str, kind: str) -> None:
    """A press and release of a pointer of ``kind`` (mouse, touch, pen) on a cell's centre,
    sent as pointer events (as a finger or a pen sends them)."""
    x, y = page.evaluate(
        """(h3) => {
            const centre = psqEditor.cells.get(h3).layer.getCenter();
            const p = psqEditor.map.latLngToContainerPoint(centre);
            const box = document.getElementById('map').getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        h3_cell,
    )
    init = {"clientX": x, "clientY": y, "pointerId": 7, "pointerType": kind}
    init |= {"isPrimary": True, "button": 0, "bubbles": True}
    page.dispatch_event("#map", "pointerdown", init)
    page.dispatch_event("#map", "pointerup", init)


def now_sectors(page: Any) -> dict[str, int]:
    return dict(page.evaluate("[...psqEditor.cells].map(([h3, c]) => [h3, c.sector])"))


def hands_tools(page: Any, initial: dict[str, int], locked: int) -> None:
    """Touch and pen through pointer events, the larger and whole-commune brushes, the
    keyboard move of the selected cell, the focus kept across a re-render, and the
    unsaved edits counted apart from the saved version."""
    free = sorted({s for s in initial.values() if s != locked})
    a, b = free[0], free[1]
    version = int(page.locator("body").get_attribute("data-version"))

    def edited() -> dict[str, int]:
        nonlocal version
        version += 1
        page.wait_for_selector(f"body[data-version='{version}']")
        return now_sectors(page)

    # A finger paints one cell of sector a into sector b.
    page.check(f"#target-{b}")
    touched = min(h for h, s in initial.items() if s == a)
    pointer_tap(page, touched, "touch")
    assert edited()[touched] == b
    # A pen with the large brush: several cells in one edit.
    page.click("#brush-sizes [data-brush=large]")
    before = now_sectors(page)
    pen = max(h for h, s in before.items() if s == a)
    pointer_tap(page, pen, "pen")
    after = edited()
    assert after[pen] == b and sum(before[h] != after[h] for h in after) >= 2
    # The whole-commune brush: every cell of the commune under the pointer, whichever
    # free sector it was in (a commune with no cell in the locked sector).
    page.click("#brush-sizes [data-brush=commune]")
    communes = dict(page.evaluate("[...psqEditor.cells].map(([h3, c]) => [h3, c.commune])"))
    before = after
    commune = next(
        c
        for c in sorted({v for v in communes.values() if v})
        if all(before[h] != locked for h, v in communes.items() if v == c)
        and any(before[h] == a for h, v in communes.items() if v == c)
        and any(before[h] == a for h, v in communes.items() if v != c)
    )
    cell = min(h for h, v in communes.items() if v == commune and before[h] == a)
    pointer_tap(page, cell, "mouse")
    after = edited()
    assert {after[h] for h, v in communes.items() if v == commune} == {b}
    # The keyboard: Entrée on the map selects the cell at its centre, then the move form
    # sends it to a neighbouring sector.
    border = next(
        h
        for h, s in sorted(after.items())
        if s == b and any(after.get(n) == a for n in h3.grid_ring(h, 1))
    )
    page.evaluate(
        """(h3) => { psqEditor.map.setView(psqEditor.cells.get(h3).layer.getCenter(),
            psqEditor.map.getZoom(), { animate: false }); }""",
        border,
    )
    page.focus("#map")
    page.keyboard.press("Enter")
    assert page.evaluate("psqEditor.selected()") == border
    page.select_option("#move-to", str(a))
    page.focus("#move-cell")
    page.keyboard.press("Enter")
    after = edited()
    assert after[border] == a
    # Locking from the keyboard re-renders the table: the focus stays on that button.
    page.focus(f"button.lock[data-sector='{b}']")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"button.lock[data-sector='{b}'][aria-pressed='true']")
    focused = page.evaluate(
        "document.activeElement.matches('button.lock') && document.activeElement.dataset.sector"
    )
    assert focused == str(b)
    # Each sector named once, on one of its own cells, after all these edits.
    labels = dict(page.evaluate("psqEditor.labels()"))
    assert sorted(labels) == sorted(set(initial.values()))
    assert all(after[h] == s for s, h in labels.items())
    # (a label put away fades out for 200 ms before it leaves the page)
    page.wait_for_function(f"document.querySelectorAll('.sector-label').length === {len(labels)}")
    # The saved version (the proposal: 1) and the cells changed since, apart.
    changed = sum(initial[h] != s for h, s in after.items())
    metrics = page.locator("#editor-metrics").inner_text()
    assert "Version enregistrée\n1" in metrics
    assert f"{changed} modifications non enregistrées" in metrics.replace("\u202f", " ")


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
