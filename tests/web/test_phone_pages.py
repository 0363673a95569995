"""The pages at a phone's width (390 px), in real Chromium: nothing pushes the page
sideways (the account corner wraps, wide tables scroll in their own box), the side panel
is part of the page rather than a small box scrolling inside it, and the map legends
start closed so the map can be seen. At a laptop's width the cartography page is no wider
than the window (its trend's table for screen readers once made it 3 000 px wide), and its
list of open problems leads to each one's record."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

READY = "['true', '1'].includes(document.body.dataset.ready)"
WIDTH = "document.documentElement.scrollWidth"


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(READY, timeout=60_000)


def test_a_chef_on_his_phone(browser: Any, live_demo: str) -> None:
    page = browser.new_page("chef", viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for path in ("/problematiques", "/gpo", "/mes-actions", "/interventions", "/cartographie"):
        _open(page, f"{live_demo}{path}")
        assert page.evaluate(WIDTH) == 390, path
        # the account corner is on screen, under the menu
        logout = page.locator("#nav-logout").bounding_box()
        assert logout["x"] + logout["width"] <= 390, path
        if path == "/interventions":
            # the red dots are explained (the legend is closed, its text is there)
            assert "Intervention récente" in page.locator(".map-legend").text_content()
    # a GPO's workspace (its facts, its tables), from the list
    _open(page, f"{live_demo}/gpo")
    page.locator("#gpo-table tbody a").first.click()
    page.wait_for_function("document.body.dataset.ready === 'true' && location.pathname !== '/gpo'")
    assert page.evaluate(WIDTH) == 390
    _open(page, f"{live_demo}/cartographie")
    # the cartography page: its filters are in the page, not in a box scrolling inside it
    panel = page.locator("aside.panel")
    assert panel.evaluate("p => p.scrollHeight <= p.clientHeight + 1")
    # the map first, on screen at once; the panel (filters, open problems) under it
    map_box = page.locator(".map-wrap").bounding_box()
    assert map_box is not None and map_box["y"] < 768 / 2
    assert panel.bounding_box()["y"] >= map_box["y"] + map_box["height"] - 1  # type: ignore[index]
    # the legends start closed: the map is seen first; the base map's attribution stays
    assert page.locator(".legend-toggle").first.get_attribute("aria-expanded") == "false"
    assert page.locator(".basemap-legend details").first.get_attribute("open") is None
    assert "OpenStreetMap" in page.locator(".basemap-legend").inner_text()
    page.locator(".legend-toggle").first.click()
    assert page.locator(".legend-toggle").first.get_attribute("aria-expanded") == "true"
    # the open problems are folded under the map, behind their count; unfolded, the first
    # 10, then 10 more at each « Voir les 10 suivantes »
    toggle = page.get_by_role("button", name="Problématiques ouvertes")
    assert toggle.get_attribute("aria-expanded") == "false"
    count = int(page.locator("#open-count").inner_text())
    assert count > 20 and not page.locator("#open-problems").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    shown = page.locator("#open-problems > li[data-problem]:visible")
    assert shown.count() == 10
    more = page.locator("#open-more")
    assert more.inner_text() == f"Voir les 10 suivantes ({min(count, 100) - 10} non affichées)"
    more.click()
    assert shown.count() == 20
    # the focus goes to the first one just shown
    assert page.evaluate("document.activeElement.closest('li[data-problem]')") is not None
    assert page.evaluate(WIDTH) == 390
    assert errors == []


def test_the_cartography_page_is_no_wider_than_a_laptop(browser: Any, live_demo: str) -> None:
    page = browser.new_page("chef", viewport={"width": 1366, "height": 768})
    _open(page, f"{live_demo}/cartographie")
    page.wait_for_function("document.querySelector('#trend-chart table')")
    assert page.evaluate(WIDTH) == 1366
    # the legends of a wide screen start open, and the open problems are all listed
    assert page.locator(".legend-toggle").first.get_attribute("aria-expanded") == "true"
    assert page.locator("#open-toggle").get_attribute("aria-expanded") == "true"
    listed = page.locator("#open-problems > li[data-problem]:visible").count()
    assert listed == min(int(page.locator("#open-count").inner_text()), 100)
    assert page.locator("#open-more").is_hidden()
    # an open problem's title leads to its record, shown in view on the problems page
    link = page.locator("#open-problems a").first
    title = link.inner_text()
    link.click()
    page.wait_for_function("document.body.dataset.ready === 'true' && document.body.dataset.detail")
    assert page.locator("#detail-title").inner_text().startswith(title)
    page.wait_for_timeout(600)  # the panel's smooth scroll
    top = page.locator("#detail-title").bounding_box()["y"]
    assert 0 <= top < 768
