"""The /bilans page's table per GPO in real Chromium, on the small case of
``tests/api/test_reports_gpos.py`` (figures derived there by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.test_reports_gpos import PERIOD, build_case

pytestmark = pytest.mark.browser


def test_the_gpo_table(  # type: ignore[no-untyped-def]
    browser, live_server: str, client: TestClient, engine: Engine, artifacts: Path
) -> None:
    csp_id = client.get("/api/csp").json()["data"][0]["id"]
    ids = build_case(client, csp_id, engine)
    page = browser.new_page(role="planificateur", viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/bilans")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    page.fill("#report-from", PERIOD["from"])
    page.fill("#report-to", PERIOD["to"])
    with page.expect_response(lambda r: f"from={PERIOD['from']}" in r.url):
        page.click("#report-show")
    page.wait_for_function(
        f"document.querySelector('#report-csv').href.includes('from={PERIOD['from']}')"
    )
    cells = [
        page.locator(f"#report-gpos tr[data-gpo='{ids[k]}'] > *").all_inner_texts()
        for k in ("0", "1", "theme")
    ]
    assert cells[0] == ["GPO Secteur 1", "2", "75 %", "1", "1", "1 sur 2"]
    assert cells[1] == ["GPO Secteur 2", "1", "—", "1", "0", "0 sur 1"]
    assert cells[2] == ["GPO transports", "0", "—", "1", "0", "0 sur 1"]
    with page.expect_download() as download:
        page.click("#report-gpo-csv")
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert content.startswith("gpo;nom;type;secteur;reunions_tenues")
    page.screenshot(path=str(artifacts / "reports_gpos.png"))
    assert errors == []
    page.close()
