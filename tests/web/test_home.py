"""The home page in real headless Chromium, served by the app on loopback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.web.requests import on_failure

pytestmark = pytest.mark.browser


def test_home_page_draws_the_territory_offline(browser, live_server: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    failures: list[str] = []
    on_failure(page, failures.append)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(live_server + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)

    assert page.locator("path.commune").count() == 101  # every commune of the territory
    assert page.locator("path.commune-csp").count() == 10  # those of the demo CSP
    assert page.locator("path.csp-outline").count() == 1
    assert "Légende" in page.locator(".legend").inner_text()
    assert page.locator("#csp-select option").all_inner_texts() == ["Belfort"]
    assert page.locator("#stat-communes").inner_text() == "10"
    assert page.locator("#stat-population").inner_text().replace("\u202f", " ") == "71 619"
    assert page.locator("#commune-list li").count() == 10
    assert page.locator("html").get_attribute("lang") == "fr"

    page.screenshot(path=str(artifacts / "home.png"))
    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}, requested
    assert failures == [] and errors == []

    # Clicking a commune of the list opens its popup.
    page.locator("#commune-list li", has_text="Valdoie").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Code INSEE : 90099" in popup.inner_text()
    page.close()


def test_api_docs_are_served_offline(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(live_server + "/docs")
    page.get_by_text("/api/csp/{csp_id}", exact=True).wait_for(timeout=15_000)
    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}, requested
    page.close()


def test_grid_map_page(browser, live_server: str, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/carte")
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    cells = page.locator("path.cell")
    assert cells.count() > 600  # the demo CSP's res-9 cells
    assert "Charge de travail" in page.locator(".legend").inner_text()
    # Switch the choropleth to the population's origin: a categorical legend.
    page.select_option("#attr-select", "source")
    assert "Carreaux Filosofi" in page.locator(".legend").inner_text()
    # Toggle the Filosofi layer on.
    page.locator("#layer-list input").first.check()
    page.wait_for_function("document.querySelectorAll('path').length > 1200")
    assert "niveau communal" in page.locator("#qpv-note").inner_text()
    page.screenshot(path=str(artifacts / "grid_map.png"))
    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}
    assert errors == []
    page.close()
