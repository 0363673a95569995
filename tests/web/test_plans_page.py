"""The sector plans page in real headless Chromium: propose, see, adopt."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

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
    assert "4 secteurs" in summary and "communes coupées : 90010" in summary
    assert page.locator(".devbar .mark.out").count() == 0  # every sector within ±5 %

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
    page.click("#adopt")
    page.wait_for_selector("#plan-list .badge.adopted")
    assert page.locator("#adopt").is_disabled()
    page.screenshot(path=str(artifacts / "plans.png"))

    hosts = {urlsplit(u).netloc for u in requested if not u.startswith("data:")}
    assert hosts == {urlsplit(live_server).netloc}, requested
    assert errors == []
    page.close()
