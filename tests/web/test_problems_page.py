"""The problems page in real headless Chromium: place a problem on the map, submit the
French form, see it on the map."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import shapely
import shapely.geometry

pytestmark = pytest.mark.browser


def test_place_a_problem_and_see_it(browser, live_server: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(live_server + "/problematiques")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    shown = int(page.locator("body").get_attribute("data-problems"))
    assert shown > 0 and page.locator("path.problem").count() == shown
    assert page.locator("#synthetic-banner").is_visible()  # the demo's problems are synthetic
    assert "fictive" in page.locator("#problem-count").inner_text()

    page.fill("#title", "Rassemblement dans le hall du n° 12")
    page.click("#submit-problem")
    assert "placez d'abord la problématique" in page.locator("#form-error").inner_text()

    box = page.locator("#map").bounding_box()
    page.click("[data-shape=Point]")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.select_option("#category", "rassemblements")
    page.select_option("#priority", "haute")
    page.click("#submit-problem")
    page.wait_for_selector("body[data-created]")
    said = page.locator("#form-ok").inner_text()
    # its sector said by name (« Secteur N »), never as a number; here no plan is adopted
    assert said.startswith("Problématique n° ") and "secteur n°" not in said, said
    assert re.search(r"\((secteur : .+|aucun plan adopté : secteur à déterminer)\)\.$", said)
    page.wait_for_function(f"Number(document.body.dataset.problems) === {shown + 1}")
    created = page.locator("body").get_attribute("data-created")
    # The saved problem opens.
    assert page.locator("body").get_attribute("data-detail") == created
    assert page.locator("#detail-title").inner_text() == "Rassemblement dans le hall du n° 12"
    problem = page.request.get(f"{live_server}/api/problems/{created}").json()
    assert problem["title"] == "Rassemblement dans le hall du n° 12"
    assert problem["priority"] == "haute" and problem["synthetic"] is False
    csp = page.request.get(f"{live_server}/api/csp/{problem['csp_id']}").json()
    outline = shapely.geometry.shape(csp["features"][0]["geometry"])
    assert outline.covers(shapely.geometry.shape(problem["geometry"]))

    # The chef de secteur follows it up: steps, an action, its evaluation.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(f"body[data-detail='{created}']")
    assert "Signalé le" in page.locator("#detail-events").inner_text()
    for step in ("analyse", "actions_en_cours"):
        page.click(f"#detail-steps [data-step={step}]")
        page.wait_for_selector(f"#detail-steps [data-step]:not([data-step={step}])")
    page.select_option("#action-type", "parties_communes")
    page.click("#action-form button")
    page.wait_for_function(
        "document.querySelector('#detail-actions').textContent.includes('parties communes')"
    )
    page.fill("#evaluation-before", "8")
    page.fill("#evaluation-after", "1")
    page.click("#evaluation-form button")
    page.wait_for_function(
        "document.querySelector('#detail-evaluations').textContent.includes('positif')"
    )
    page.click("#detail-steps [data-step=evalue]")
    page.wait_for_selector("#detail-steps [data-step=resolu]")
    page.click("#detail-steps [data-step=resolu]")
    page.wait_for_function("document.querySelector('#detail-meta').textContent.includes('Résolu')")
    followed = page.request.get(f"{live_server}/api/problems/{created}").json()
    assert [e["status"] for e in followed["events"]] == [
        "signale",
        "analyse",
        "actions_en_cours",
        "evalue",
        "resolu",
    ]
    assert followed["evaluations"][0]["indicators"] == {
        "signalements_avant": 8.0,
        "signalements_apres": 1.0,
    }
    page.screenshot(path=str(artifacts / "problem_follow_up.png"))

    # A street drawn as a line.
    page.click("[data-shape=LineString]")
    for dx in (-40, 40):
        page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + 30)
    page.fill("#title", "Rodéos rue des Lilas")
    page.select_option("#category", "rodeos")
    page.click("#submit-problem")
    page.wait_for_function(f"document.body.dataset.created !== '{created}'")
    line = page.request.get(
        f"{live_server}/api/problems/{page.locator('body').get_attribute('data-created')}"
    ).json()
    assert line["geometry"]["type"] == "LineString"
    page.screenshot(path=str(artifacts / "problems.png"))

    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}, requested
    assert errors == []
    page.close()


def test_place_a_problem_from_an_address(browser, live_server: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    """The base map drawn from the app's own tiles (no other host), its legend saying what
    the territory lacks; an address suggested as one types places the point; a click
    says the nearest address."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "ban_sample_belfort.csv"
    imported = page.request.post(
        f"{live_server}/api/addresses/import",
        headers=page.csrf_headers(),
        multipart={
            "file": {"name": sample.name, "mimeType": "text/csv", "buffer": sample.read_bytes()}
        },
    )
    assert imported.ok
    page.goto(live_server + "/problematiques")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    page.wait_for_selector(".leaflet-tile-pane canvas", state="attached", timeout=15_000)
    legend = page.locator(".basemap-legend")
    page.wait_for_selector(".basemap-legend [data-layer=roads]")
    assert "Rues : non importées" in legend.inner_text()
    assert "Adresses : 9 adresses" in legend.inner_text()
    assert "OpenStreetMap" in legend.inner_text()
    # Suggestions as one types: no button pressed.
    page.type("#geocode-q", "3 pl d'ar", delay=30)
    page.locator("#geocode-results button", has_text="3 Place d'Armes").click()
    assert page.input_value("#address") == "3 Place d'Armes 90000 Belfort"
    page.fill("#title", "Alcoolisation place d'Armes")
    page.select_option("#category", "alcoolisation")
    page.click("#submit-problem")
    page.wait_for_selector("body[data-created]")
    created = page.locator("body").get_attribute("data-created")
    problem = page.request.get(f"{live_server}/api/problems/{created}").json()
    assert problem["geometry"] == {"type": "Point", "coordinates": [6.864, 47.6378]}
    assert problem["address"] == "3 Place d'Armes 90000 Belfort"
    # A click on the map (centred on the place d'Armes) says the nearest address.
    page.click("[data-shape=Point]")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("document.querySelector('#near-address').textContent.includes('près')")
    assert "près du 3 place d'Armes" in page.locator("#near-address").inner_text()
    # A problem recorded without an address (here 8 m east of the place d'Armes) says the
    # address nearest it in its record.
    body = {"category": "rassemblements", "title": "Sans adresse", "lon": 6.8641, "lat": 47.6378}
    csp = problem["csp_id"]
    headers = page.csrf_headers()
    bare = page.request.post(f"{live_server}/api/csp/{csp}/problems", data=body, headers=headers)
    bare = bare.json()
    page.goto(f"{live_server}/problematiques?csp={csp}&problem={bare['id']}")
    page.wait_for_selector(f"body[data-detail='{bare['id']}']", timeout=15_000)
    page.wait_for_function("document.querySelector('#detail-meta').textContent.includes('près')")
    assert page.locator("#detail-meta").inner_text().endswith(" · près du 3 place d'Armes")
    page.screenshot(path=str(artifacts / "problems_base_map.png"))
    tiles = [u for u in requested if "/tiles/" in u]
    assert tiles and all(urlsplit(u).path.endswith(".pbf") for u in tiles)
    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}, requested
    page.close()


def test_report_page(browser, live_server: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/bilans")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    report = page.request.get(f"{live_server}/api/reports").json()
    figures = page.locator("#report-figures").inner_text()
    assert "Problématiques ouvertes" in figures and str(report["problems_opened"]) in figures
    assert page.locator("#report-table tbody tr").count() == len(report["by_category"])
    with page.expect_download() as download:
        page.click("#report-csv")
    assert Path(download.value.path()).read_text(encoding="utf-8").startswith("categorie;")
    page.screenshot(path=str(artifacts / "reports.png"))
    assert errors == []
    page.close()
