"""The direction's pages in real Chromium: it creates a chef de secteur's account bound
to a GPO, disables it, and finds both in the audit trail, searched and exported; no
other role opens these pages."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

READY = "document.body.dataset.ready === 'true'"


def test_the_direction_manages_accounts_and_reads_the_trail(
    browser: Any, live_demo: str, artifacts: Any
) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 950})
    page.goto(f"{live_demo}/comptes")
    page.wait_for_function(READY)
    assert page.locator("#account-error").inner_text() == ""
    page.get_by_label("Adresse électronique").fill("Chef.Sud@Police.example")
    page.get_by_label("Nom affiché").fill("Chef du secteur sud")
    page.get_by_label("Rôle").select_option("chef")
    assert page.locator("#bind-gpo").is_visible() and not page.locator("#bind-csp").is_visible()
    # Without a GPO, the server refuses and the page says which field.
    page.get_by_label("Mot de passe provisoire (12 caractères au moins)").fill("provisoire 2026!")
    page.get_by_role("button", name="Créer le compte").click()
    page.wait_for_function("document.querySelector('#account-error').textContent !== ''")
    assert "GPO" in page.locator("#account-error").inner_text()
    first_gpo = page.locator("#a-gpo option").first.get_attribute("value")
    page.locator("#a-gpo").select_option([first_gpo])
    page.get_by_role("button", name="Créer le compte").click()
    row = page.locator("#account-table tr[data-email='chef.sud@police.example']")
    row.wait_for()
    assert "Chef de secteur" in row.inner_text() and "actif" in row.inner_text()
    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Désactiver").click()
    page.wait_for_function(
        "document.querySelector(\"tr[data-email='chef.sud@police.example'] .account-state\")"
        ".textContent === 'désactivé'"
    )
    page.screenshot(path=str(artifacts / "comptes.png"))

    page.goto(f"{live_demo}/journal")
    page.wait_for_function(READY)
    # The filters list the objects and actions by their French names.
    page.get_by_label("Objet").select_option(label="compte")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_function(
        "document.querySelector('#journal-count').textContent.startsWith('Entrées')"
    )
    text = page.locator("#journal-table tbody").inner_text()
    assert "création" in text and "modification" in text
    assert "Actif : oui → non" in text  # the field in words (geo.messages.FIELD_LABELS)
    assert "compte\xa0n°\xa0" in text and "account" not in text
    assert "entity=account" in (page.locator("#journal-csv").get_attribute("href") or "")
    assert page.locator("#journal-error").inner_text() == ""
    page.screenshot(path=str(artifacts / "journal.png"))


@pytest.mark.parametrize("path", ["/comptes", "/journal"])
def test_no_other_role_opens_them(browser: Any, live_demo: str, path: str) -> None:
    page = browser.new_page(role="chef")
    response = page.goto(f"{live_demo}{path}")
    assert response.status == 403
    assert "Accès refusé" in page.locator("h1").inner_text()
