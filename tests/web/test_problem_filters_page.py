"""The problems page's filters, sector outlines, list and exports in real headless
Chromium, as a chef de secteur on the demo as shipped: three problems of our own in the
chef's GPO, found by category and text, opened from the list, exported."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import shapely
import shapely.geometry

pytestmark = pytest.mark.browser

#: Ours: title, category. The search is « zzyzx ECOLE » among the nuisances: only the first.
OURS = [
    ("Tags zzyzx devant l'école", "nuisances"),
    ("Tags zzyzx sur la mairie", "nuisances"),
    ("Rodéos zzyzx près de l'école", "rodeos"),
]


def _place_ours(page: Any, live: str) -> list[int]:
    """Record our three problems inside the chef's GPO, as the chef; their ids."""
    csp_id = page.request.get(f"{live}/api/csp").json()["data"][0]["id"]
    gpo = page.request.get(f"{live}/api/csp/{csp_id}/gpos").json()["data"][0]
    plans = page.request.get(f"{live}/api/csp/{csp_id}/plans").json()["data"]
    adopted = next(p for p in plans if p["status"] == "adopted")
    sectors = page.request.get(f"{live}/api/plans/{adopted['id']}").json()["sectors"]
    outline = next(
        shapely.geometry.shape(f["geometry"])
        for f in sectors["features"]
        if f["properties"]["sector"] == gpo["sector"]
    )
    inside = outline.buffer(-0.002).representative_point()
    ids = []
    for i, (title, category) in enumerate(OURS):
        created = page.request.post(
            f"{live}/api/csp/{csp_id}/problems",
            headers=page.csrf_headers(),
            data={
                "title": title,
                "category": category,
                "lon": inside.x + 0.0002 * i,
                "lat": inside.y,
            },
        )
        assert created.status == 201, created.text()
        ids.append(created.json()["id"])
    return ids


def test_filter_by_category_and_text_then_export(  # type: ignore[no-untyped-def]
    browser, live_demo: str, artifacts: Path
) -> None:
    page = browser.new_page(role="chef", viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_demo + "/problematiques")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    # The adopted plan's sectors are drawn under the problems, named.
    sectors = int(page.locator("body").get_attribute("data-sectors"))
    assert sectors > 0 and page.locator("path.sector-outline").count() == sectors
    assert page.locator(".sector-outline-label").count() == sectors
    page.screenshot(path=str(artifacts / "problems_filters_before.png"))

    ids = _place_ours(page, live_demo)
    loads = int(page.locator("body").get_attribute("data-loads"))
    page.select_option("#filter-category", ["nuisances"])
    page.wait_for_function(f"Number(document.body.dataset.loads) > {loads}")
    page.fill("#filter-q", "zzyzx ECOLE")
    page.wait_for_function("document.body.dataset.count === '1'")
    assert page.locator("body").get_attribute("data-problems") == "1"
    assert page.locator("path.problem").count() == 1
    rows = page.locator("#problem-list button[data-problem]")
    assert rows.count() == 1 and rows.first.get_attribute("data-problem") == str(ids[0])
    assert "1 problématique(s) correspondent" in page.locator("#problem-count").inner_text()
    # The filters are in the URL: a link reopens them.
    assert "category=nuisances" in page.url and "q=zzyzx+ECOLE" in page.url

    # A row opens the problem's record.
    rows.first.click()
    page.wait_for_selector(f"body[data-detail='{ids[0]}']")
    assert page.locator("#detail-title").inner_text() == OURS[0][0]
    assert f"problem={ids[0]}" in page.url
    page.screenshot(path=str(artifacts / "problems_filtered.png"))

    # The exports hold the filtered list.
    with page.expect_download() as download:
        page.click("#export-csv")
    assert download.value.suggested_filename.endswith(".csv")
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    exported = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [(int(r["n°"]), r["titre"], r["fictif"]) for r in exported] == [
        (ids[0], OURS[0][0], "non")
    ]
    with page.expect_download() as download:
        page.click("#export-geojson")
    collection = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [f["id"] for f in collection["features"]] == [ids[0]]

    # The same link, opened anew, shows the same list and record.
    link = page.url
    again = browser.new_page(role="chef", viewport={"width": 1366, "height": 900})
    again.goto(link)
    again.wait_for_selector("body[data-ready=true]", timeout=30_000)
    assert again.locator("body").get_attribute("data-count") == "1"
    assert again.input_value("#filter-q") == "zzyzx ECOLE"
    assert again.locator("body").get_attribute("data-detail") == str(ids[0])
    again.close()

    # Without the category, the text finds our three (all open).
    page.select_option("#filter-category", [])
    page.fill("#filter-q", "zzyzx")
    page.wait_for_function("document.body.dataset.count === '3'")
    # Nothing matches: the page says so.
    page.fill("#filter-q", "zzyzx introuvable")
    page.wait_for_function("document.body.dataset.count === '0'")
    assert (
        page.locator("#problem-count").inner_text()
        == "Aucune problématique ne correspond à ces filtres."
    )
    assert page.locator("#problem-list button").count() == 0
    assert not page.locator("#export-csv").is_visible()
    # A period backwards is refused, in French, naming it.
    page.fill("#filter-q", "")
    page.fill("#filter-since", "2025-05-02")
    page.fill("#filter-until", "2025-05-01")
    page.click("#filter-apply")
    page.wait_for_selector("#filter-since[aria-invalid=true]")
    said = "le début (02/05/2025) suit la fin (01/05/2025)"
    assert page.locator("#filter-since-error").inner_text() == said
    assert page.locator("#filter-error").inner_text() == (
        f"Filtres refusés : Début de la période : {said}"
    )
    assert errors == []
    page.close()
