"""The commune's page and the référents' queue in real headless Chromium, offline: a
request filed by a point clicked on the map, the duplicate flagged then confirmed, the
camera suggestion drawn with its coverage circles; the queue sorted and a request
accepted from its detail panel."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import shapely
from sqlalchemy import Engine, text

from tests.web.requests import on_failure

pytestmark = pytest.mark.browser
BELFORT = "90010"
READY_OR_ERROR = (
    "document.body.dataset.ready === '1' || document.getElementById('error').textContent"
)


def watch(page):  # type: ignore[no-untyped-def]
    """Hosts asked, failed requests and page errors of ``page``."""
    seen: dict[str, list[str]] = {"hosts": [], "failed": [], "errors": []}
    page.on("request", lambda r: seen["hosts"].append(urlsplit(r.url).netloc))
    on_failure(page, seen["failed"].append)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    return seen


def file_request(page, base: str, lon: float, need: str):  # type: ignore[no-untyped-def]
    """A study request for a public space of Belfort at (lon, 47.6378), filed through the
    API as the page's account: the answer, checked to be a 201."""
    filed = page.request.post(
        f"{base}/api/audits",
        headers=page.csrf_headers(),
        data={
            "commune_code": BELFORT,
            "kind": "espace_public",
            "site": {"type": "Point", "coordinates": [lon, 47.6378]},
            "need": need,
            "contact_name": "Mme Test",
            "contact_phone": "03 84 00 00 00",
            "confirm_duplicate": True,
        },
    )
    assert filed.status == 201, filed.text()
    return filed


def test_a_commune_files_a_request_and_asks_where_cameras_go(  # type: ignore[no-untyped-def]
    browser, live_demo: str, artifacts: Path, engine: Engine
) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    seen = watch(page)
    page.goto(f"{live_demo}/commune?code={BELFORT}")
    page.wait_for_function(READY_OR_ERROR, timeout=30_000)
    assert not page.locator("#error").inner_text(), seen["errors"]
    assert page.locator("#commune-select").input_value() == BELFORT
    assert page.locator("#synthetic-banner").is_visible()
    assert page.locator("path.leaflet-interactive").count() > 10  # the H3 cells
    before = int(page.locator("body").get_attribute("data-requests"))

    # Place the site by clicking the middle of the map, fill the form, send it.
    page.click("#draw-point")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.select_option("#kind", "videoprotection")
    page.fill("#site-name", "Parvis de test")
    page.fill("#need", "Regroupements nocturnes, dégradations : étude de vidéoprotection.")
    page.fill("#contact-name", "M. Test")
    page.fill("#contact-email", "test@mairie.example")
    page.click("#submit-request")
    page.wait_for_function(f"Number(document.body.dataset.requests) === {before + 1}")
    assert "envoyée" in page.locator("#request-result").inner_text()
    assert "Parvis de test" in page.locator("#requests").inner_text()
    with engine.connect() as conn:
        site, inside = conn.execute(
            text(
                "SELECT ST_AsText(r.geom), ST_Intersects(r.geom, c.geom) FROM audit_request r "
                "JOIN commune c ON c.code = r.commune_code WHERE r.site_name = 'Parvis de test'"
            )
        ).one()
    assert inside and shapely.from_wkt(site).geom_type == "Point"

    # The same point again: flagged, then filed on confirmation.
    page.click("#draw-point")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.fill("#need", "Même site, nouvelle demande.")
    page.fill("#contact-name", "M. Test")
    page.fill("#contact-email", "test@mairie.example")
    page.click("#submit-request")
    page.wait_for_selector("#duplicate-box:not([hidden])")
    assert "déjà en cours" in page.locator("#duplicate-text").inner_text()
    page.click("#confirm-duplicate")
    page.wait_for_function(f"Number(document.body.dataset.requests) === {before + 2}")

    # Where would 3 cameras cover the most problems?
    page.fill("#cameras", "3")
    page.click("#coverage-run")
    page.wait_for_function(
        "document.body.dataset.coverage === '1' || document.getElementById('error').textContent",
        timeout=30_000,
    )
    assert not page.locator("#error").inner_text()
    assert page.locator("path.coverage-circle").count() == 3
    assert page.locator("#coverage-table tbody tr").count() == 3
    # Each suggested site says the address nearest it, once the server has answered (the
    # demo's territory has no address table here: « — »; the answer's text is tested
    # with addresses in tests/api/test_geocoding.py).
    page.wait_for_function(
        "[...document.querySelectorAll('#coverage-table .near-address')]"
        ".every((c) => c.textContent !== '…')"
    )
    near = page.locator("#coverage-table .near-address").all_inner_texts()
    assert len(near) == 3 and all(t == "—" or t.startswith("près d") for t in near), near
    text_shown = page.locator("#coverage-text").inner_text()
    assert "optimum exact" in text_shown and "fictifs" in text_shown
    assert "Vos sites demandés" in page.locator("#requested-scores").inner_text()
    assert page.locator("path.requested-circle").count() >= 1  # its requested sites, scored
    page.screenshot(path=str(artifacts / "commune.png"))

    assert set(seen["hosts"]) == {urlsplit(live_demo).netloc}, seen["hosts"]
    assert not seen["failed"] and not seen["errors"], seen


def test_a_commune_places_its_site_at_one_of_its_own_addresses(  # type: ignore[no-untyped-def]
    browser, live_server: str
) -> None:
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "ban_sample_belfort.csv"
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    seen = watch(page)
    imported = page.request.post(
        f"{live_server}/api/addresses/import",
        headers=page.csrf_headers(),
        multipart={
            "file": {"name": sample.name, "mimeType": "text/csv", "buffer": sample.read_bytes()}
        },
    )
    assert imported.ok
    geocoded: list[str] = []
    page.on("request", lambda r: "/api/geocode" in r.url and geocoded.append(r.url))
    page.goto(f"{live_server}/commune?code={BELFORT}")
    page.wait_for_function(READY_OR_ERROR, timeout=30_000)
    assert not page.locator("#error").inner_text(), seen["errors"]

    # Valdoie has a "Rue de la République" too: the server keeps Belfort's only.
    page.fill("#address", "rue de la république")
    page.press("#address", "Enter")
    page.locator("#address-results button").first.wait_for()
    assert page.locator("#address-results button").all_inner_texts() == [
        "5 Rue de la République 90000 Belfort"
    ]
    assert f"commune={BELFORT}" in geocoded[-1]
    page.locator("#address-results button").click()
    assert page.input_value("#address") == "5 Rue de la République 90000 Belfort"
    assert page.locator("#address-results li").count() == 0
    # The site's marker (the base map's names are markers too, of class basemap-label).
    assert page.locator(".leaflet-marker-icon:not(.basemap-label)").count() == 1
    assert "Site placé" in page.locator("#site-hint").inner_text()

    # An address of another commune: none in this one, said so.
    page.fill("#address", "7 rue de belfort offemont")
    page.click("#address-search")
    page.locator("#address-results li.hint").wait_for()
    assert "Aucune adresse trouvée dans la commune" in page.locator("#address-results").inner_text()

    # A request filed 8 m east of 3 place d'Armes: the référents' queue says the address
    # nearest its site in its detail.
    filed = file_request(page, live_server, 6.8641, "Regroupements place d'Armes.")
    csp_id = page.request.get(f"{live_server}/api/csp").json()["data"][0]["id"]
    page.goto(f"{live_server}/etudes?csp={csp_id}")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.click(f"#queue tbody tr[data-id='{filed.json()['id']}']")
    page.wait_for_function("document.getElementById('detail-near')?.textContent.includes('près')")
    assert page.locator("#detail-near").inner_text() == "(près du 3 place d'Armes)"
    assert not seen["failed"] and not seen["errors"], seen
    page.close()


def test_the_referents_queue_sorts_and_moves_a_request(  # type: ignore[no-untyped-def]
    browser, live_demo: str, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 950})
    seen = watch(page)
    page.goto(f"{live_demo}/etudes?csp=1")
    page.wait_for_function(READY_OR_ERROR, timeout=30_000)
    assert not page.locator("#error").inner_text(), seen["errors"]
    rows = page.locator("#queue tbody tr")
    assert rows.count() > 0
    assert page.locator("#referents tbody tr").count() == 3  # the demo's fictitious référents
    evidence = [
        int(r.split("\n")[0])
        for r in page.locator("#queue tbody td:nth-child(5)").all_inner_texts()
    ]
    assert evidence == sorted(evidence, reverse=True)  # most evidence first
    page.select_option("#order", "waiting")
    page.wait_for_selector("body[data-ready='1']")
    waits = [
        int(t.split(" j")[0].replace("\u202f", ""))
        for t in page.locator("#queue tbody td:nth-child(4)").all_inner_texts()
    ]
    assert waits == sorted(waits, reverse=True)

    # Accept a request from its detail panel.
    queue = page.request.get(f"{live_demo}/api/audits?csp=1&status=demandee").json()["data"]
    if not queue:  # the seeded demo may have none waiting: file one
        filed = file_request(page, live_demo, 6.8640, "Square occupé la nuit.")
        queue = [filed.json()]
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
    request_id = queue[0]["id"]
    page.click(f"#queue tbody tr[data-id='{request_id}']")
    page.locator(".step-form[data-status='acceptee'] button").click()
    page.wait_for_function(
        f"document.querySelector(\"#queue tbody tr[data-id='{request_id}']\")"
        "?.innerText.includes('Acceptée')"
    )
    assert page.locator(".step-form[data-status='planifiee']").count() == 1
    assert page.request.get(f"{live_demo}/api/audits/{request_id}").json()["status"] == "acceptee"
    page.screenshot(path=str(artifacts / "audit_queue.png"))
    assert set(seen["hosts"]) == {urlsplit(live_demo).netloc}, seen["hosts"]
    assert not seen["failed"] and not seen["errors"], seen
