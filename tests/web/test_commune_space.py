"""The mayor's space in real headless Chromium on the demo (issue 18): the demo's commune
account (Belfort, the CSP's most populated commune) opens its own dashboard — its
fictitious convention and its renewal date, the GPOs of its territory, the SSMSI figures
of the Territoire de Belfort with their source and vintage, its alert preferences — and
reaching another commune's space by its URL is a « Commune introuvable » page (404)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.clock import TODAY

pytestmark = pytest.mark.browser
BELFORT, ANDELNANS = "90010", "90001"
READY_OR_ERROR = (
    "document.body.dataset.ready === '1' || document.getElementById('error').textContent"
)


def test_the_mayor_sees_its_own_space_and_not_another(  # type: ignore[no-untyped-def]
    browser, live_demo: str, artifacts: Path
) -> None:
    page = browser.new_page("commune", viewport={"width": 1440, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_demo}/commune")
    page.wait_for_function(READY_OR_ERROR, timeout=60_000)
    assert not page.locator("#error").inner_text(), errors
    assert page.url.endswith(f"/commune/{BELFORT}")
    assert [o.get_attribute("value") for o in page.locator("#commune-select option").all()] == [
        BELFORT
    ]

    # its convention over a quartier, started four years ago: renewed once, next in two
    today = TODAY
    renewal = date(
        today.year + 2, today.month, 28 if (today.month, today.day) == (2, 29) else today.day
    )
    conventions = page.locator("#dash-conventions").inner_text()
    assert "Quartier centre (fictif) — Reconduite" in conventions
    assert f"reconduction tacite le {renewal:%d/%m/%Y}" in conventions
    assert "3 référent(s) (fictive)" in conventions
    contracts = page.locator("#dash-contracts").inner_text()
    assert "Contrat de sécurité intégrée de l'agglomération (fictif) — en vigueur" in contracts
    assert page.locator("#dash-contracts a").get_attribute("href").endswith("/diagnostic.pdf")
    assert page.locator("#dash-gpos li").count() >= 1
    assert "prochaine réunion" in page.locator("#dash-gpos").inner_text()
    assert "fictives" in page.locator("#dash-problems").inner_text()
    # SSMSI, département 90: 234 burglaries in 2025 against 192 in 2024, +21,875 %
    assert page.locator("#dash-ssmsi-caption").inner_text().endswith("département 90")
    row = page.locator("#dash-ssmsi tbody tr", has_text="Cambriolages de logement").inner_text()
    assert row.split("\t") == ["Cambriolages de logement", "2025", "234", "3,2", "+21,9 %"]
    source = page.locator("#dash-ssmsi-source").inner_text()
    assert "SSMSI" in source and "produit le 22/01/2026" in source
    # its preferences as the demo set them: e-mail and SMS, silent from 22:00 to 07:00
    assert page.locator("#pref-sms").is_checked()
    assert page.locator("#pref-quiet-from").input_value() == "22:00"
    page.screenshot(path=str(artifacts / "commune_space.png"), full_page=True)

    # a whole-commune convention over Belfort overlaps its quartier's: refused, in French
    page.click("#convention-new summary")
    page.fill("#conv-quartier", "Toute la commune")
    page.check("#conv-whole")
    page.click("#conv-submit")
    page.wait_for_function("document.getElementById('conv-result').textContent")
    result = page.locator("#conv-result").inner_text()
    assert result.startswith("Toute la commune : ce quartier est déjà couvert"), result
    assert page.locator("#dash-conventions li").count() == 1

    other = page.goto(f"{live_demo}/commune/{ANDELNANS}")
    assert other is not None and other.status == 404
    assert page.locator("h1").inner_text() == "Commune introuvable"
    answer = page.request.get(f"{live_demo}/api/communes/{ANDELNANS}/dashboard")
    assert answer.status == 404
    assert errors == []
