"""The grid and layers page (/carte) in real headless Chromium: problems per cell, layer
upload, barrier-blocked edges."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

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
