"""The sector plans page in real headless Chromium: propose, see, adopt."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd
import pytest
from shapely.geometry import box

pytestmark = pytest.mark.browser


def test_propose_show_and_adopt_a_plan(browser, live_server: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(live_server + "/secteurs")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    assert "Aucun plan" in page.locator("#plan-list").inner_text()

    page.fill("#k", "4")
    page.click("#propose")
    page.wait_for_selector("body[data-plan]", timeout=60_000)
    assert "enregistrée en brouillon" in page.locator("#job-stage").inner_text()
    assert page.locator("path.sector").count() == 4
    assert page.locator("#sector-table tbody tr").count() == 4
    summary = page.locator("#plan-summary").inner_text()
    assert "4 secteurs" in summary and "communes coupées : Belfort (90010) en " in summary
    assert page.locator(".devbar .mark.out").count() == 0  # every sector within ±5 %
    # The jargon of the summary sits in « ? » notes: compactness, p-median.
    assert page.locator("#plan-summary .term-note").count() == 2
    assert "Polsby-Popper" in page.locator("#plan-summary .term-note").first.inner_html()
    # The only plan: the comparison list says why it is empty.
    none = "aucune autre proposition sur la même grille"
    assert page.locator("#compare-with").inner_text() == none
    assert page.locator("#compare").is_disabled()
    # Beside the metrics, how far the proposal is proven to be from the best plan possible.
    bound = page.locator("#plan-bound").inner_text()
    assert bound.startswith("Distance au meilleur plan : à au plus "), bound
    # The time limit is the exact mode's own field.
    assert page.locator("#time-limit").is_hidden()
    page.select_option("#method", "exact")
    assert page.locator("#time-limit").is_visible()

    # The whole-communes reference cannot balance: the page says which sectors and why.
    page.select_option("#method", "communes")
    page.click("#propose")
    page.wait_for_function(
        "document.querySelectorAll('#plan-list li').length === 2", timeout=60_000
    )
    page.wait_for_selector("#plan-notes li.violation")
    assert "hors de la tolérance" in page.locator("#plan-notes").inner_text()

    page.locator("#plan-list button", has_text="Proposition").click()
    page.wait_for_function(
        "document.querySelector('#plan-title').textContent.includes('Proposition')"
    )
    proposal_id = int(
        page.locator("#plan-list button[aria-pressed=true]").get_attribute("data-plan-id")
    )
    sheet = browser.new_page()
    sheet.goto(f"{live_server}/secteurs/{proposal_id}/impression")
    text = sheet.locator("body").inner_text()
    assert "du meilleur plan possible" in text
    # Belfort has no streets nor buildings: the sheet's legend says so (issue 19), and no
    # OpenStreetMap data are drawn; its communes' names are.
    legend = sheet.locator(".base-legend").inner_text()
    assert "Rues : non importées" in legend and "Bâtiments : non importés" in legend
    assert "OpenStreetMap" not in legend
    assert sheet.locator("svg text.commune-name", has_text="Belfort").count() == 1
    sheet.close()
    page.click("#adopt")
    # Before adopting, the page says what changes for each GPO: no plan adopted yet, so
    # four new GPOs, each gaining its whole sector; nothing to override.
    page.wait_for_selector("#adoption:not([hidden]) #adoption-table tbody tr")
    rows = page.locator("#adoption-table tbody tr")
    assert rows.count() == 4
    assert all(t.startswith("nouveau GPO") for t in rows.all_inner_texts())
    assert page.locator("#adoption-override").is_hidden()
    page.click("#adoption-confirm")
    page.wait_for_selector("#plan-list .badge.adopted")
    # the list is redrawn before the plan is shown again: wait for the plan too
    page.wait_for_function("document.querySelector('#plan-title').textContent.includes('(Adopté)')")
    assert page.locator("#adopt").is_disabled()
    assert page.locator("#adoption").is_hidden()
    page.screenshot(path=str(artifacts / "plans.png"))

    # The whole-communes plan breaks its constraints: adopting it needs a reason.
    page.locator("#plan-list button", has_text="communes").click()
    page.wait_for_function("document.querySelector('#plan-title').textContent.includes('communes')")
    page.click("#adopt")
    page.wait_for_selector("#adoption:not([hidden]) #adoption-override:not([hidden])")
    table = page.locator("#adoption-table").inner_text()
    assert "GPO Secteur" in table  # the GPOs of the adopted plan continue
    assert "hors de la tolérance" in page.locator("#adoption-violations").inner_text()
    page.screenshot(path=str(artifacts / "plans_adoption.png"))
    page.click("#adoption-confirm")
    assert "Motif de la dérogation" in page.locator("#adoption-error").inner_text()
    assert page.locator("#plan-list .badge.adopted").count() == 1

    # Meanwhile another planner adopts it: this page's confirmation is told, not obeyed.
    communes_id = int(
        page.locator("#plan-list button[aria-pressed=true]").get_attribute("data-plan-id")
    )
    other = page.request.post(
        f"{live_server}/api/plans/{communes_id}/adopt",
        data={"confirm": True, "expected_adopted_plan_id": proposal_id, "override_reason": "Autre"},
        headers=page.csrf_headers(),
    )
    assert other.status == 200, other.text()
    page.fill("#override-reason", "Décision du comité de sécurité")
    page.click("#adoption-confirm")
    page.wait_for_function(
        "document.querySelector('#adoption-error').textContent.includes('rechargez')"
    )
    assert page.locator("#adoption-error").inner_text() == (
        "Un autre plan a été adopté entre-temps : rechargez."
    )

    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}, requested
    assert errors == []
    page.close()


def test_import_existing_sectors_and_propose_with_weights(  # type: ignore[no-untyped-def]
    browser, live_server: str, tmp_path: Path
) -> None:
    """Today's sectors (here: the CSP cut in two by a meridian) are uploaded and scored
    beside a proposal made with other workload weights."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/secteurs")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    assert page.input_value("#w-poor") == "2"  # the grid's weights are the defaults
    assert page.input_value("#w-problems") == "0"  # recorded problems weigh nothing by default
    assert "fictives" in page.locator("#w-problems-help").inner_text()
    assert page.locator("#station-seeds").is_disabled()  # no point layer in the demo

    csp_id = page.request.get(f"{live_server}/api/csp").json()["data"][0]["id"]
    outline = gpd.GeoDataFrame.from_features(
        page.request.get(f"{live_server}/api/csp/{csp_id}").json(), crs=4326
    ).union_all()
    x0, y0, x1, y1 = outline.bounds
    middle = (x0 + x1) / 2
    halves = [box(x0 - 1, y0 - 1, middle, y1 + 1), box(middle, y0 - 1, x1 + 1, y1 + 1)]
    layer = gpd.GeoDataFrame(
        {"nom": ["Ouest", "Est"]}, geometry=[outline.intersection(h) for h in halves], crs=4326
    )
    path = tmp_path / "secteurs_actuels.geojson"
    layer.to_file(path)

    page.set_input_files("#import-file", str(path))
    page.fill("#import-name", "Secteurs actuels")
    page.click("#import")
    page.wait_for_function(
        "document.querySelector('#plan-title').textContent.includes('Secteurs actuels')"
    )
    assert page.locator("#sector-table tbody tr").count() == 2
    assert "importé" in page.locator("#plan-list").inner_text()

    page.fill("#k", "2")
    page.fill("#w-poor", "0")
    page.fill("#w-problems", "50")
    assert page.locator("#objective-weight").is_disabled()  # only for the mixed objective
    page.select_option("#objective", "mix")
    page.fill("#objective-weight", "70")
    page.click("#propose")
    page.wait_for_function(
        "document.querySelectorAll('#plan-list li').length === 2", timeout=60_000
    )
    plans = page.request.get(f"{live_server}/api/csp/{csp_id}/plans").json()["data"]
    proposal = next(p for p in plans if p["origin"] == "engine")
    assert proposal["parameters"]["weights"]["poor_households"] == 0
    assert proposal["parameters"]["weights"]["problems"] == 50
    assert proposal["parameters"]["problems_counted"] > 100  # the demo's synthetic problems
    assert proposal["parameters"]["objective"] == "mix"
    assert proposal["parameters"]["objective_weight"] == 0.7
    # both plans compare on both objectives
    page.wait_for_selector(f"body[data-plan='{proposal['id']}']")
    assert "distance moyenne au centre " in page.locator("#plan-summary").inner_text()
    assert "p-médian" in page.locator("#plan-summary").inner_html()
    page.click("#compare")
    page.wait_for_selector("#comparison:not([hidden])")
    table = page.locator("#comparison-table").inner_text()
    assert "Distance moyenne au centre (p-médian, m)" in table
    assert "Longueur des limites (km)" in table
    # Every weight at 0: no workload anywhere, the sectors are balanced by area, and the
    # plan's notes say so first.
    for weight in ("#w-population", "#w-poor", "#w-social", "#w-problems"):
        page.fill(weight, "0")
    page.select_option("#objective", "boundary")
    page.click("#propose")
    page.wait_for_function(
        "document.querySelectorAll('#plan-list li').length === 3", timeout=60_000
    )
    page.wait_for_function(
        "document.querySelector('#plan-notes').textContent.includes('charge nulle')"
    )
    notes = page.locator("#plan-notes").inner_text()
    assert "les secteurs sont équilibrés selon leur surface" in notes, notes
    assert errors == []
    page.close()
