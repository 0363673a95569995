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

    # Every value in words (geo.value_labels), never a code: a chef de secteur's step of a
    # problem of his GPO and a new action on it (vidéoprotection, due on a date, led by
    # one of the GPO's partners), read by the direction.
    chef = browser.new_page("chef")
    gpo_id = chef.request.get(f"{live_demo}/api/me").json()["gpo_ids"][0]
    gpo = chef.request.get(f"{live_demo}/api/gpos/{gpo_id}").json()
    listed = chef.request.get(
        f"{live_demo}/api/csp/{gpo['csp_id']}/open-problems?limit=100&gpo={gpo_id}"
    ).json()["data"]
    problem = next(p for p in listed if p["status"] == "signale")
    partners = chef.request.get(f"{live_demo}/api/csp/{gpo['csp_id']}/partners").json()["data"]
    lead = next(p for p in partners if p["id"] == gpo["partner_ids"][0])
    writes = [
        ("transitions", {"status": "analyse", "on": "2026-06-15"}),
        (
            "actions",
            {
                "type": "videoprotection",
                "start_on": "2026-06-15",
                "due_on": "2026-07-31",
                "lead_partner_id": lead["id"],
            },
        ),
    ]
    for path, body in writes:
        answer = chef.request.post(
            f"{live_demo}/api/problems/{problem['id']}/{path}",
            data=body,
            headers=chef.csrf_headers(),
        )
        assert answer.ok, answer.text()
    page.get_by_label("Objet").select_option("")
    page.get_by_label("Acteur").select_option(label="chef@demo.psq.example")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_function(
        "document.querySelector('#journal-table tbody').textContent.includes('Vidéoprotection')"
    )
    text = page.locator("#journal-table tbody").inner_text()
    assert "Statut : Signalé → Analysé" in text and "Date : 15/06/2026" in text
    assert "Type d'action : — → Vidéoprotection" in text
    assert "Statut : — → Prévue" in text and "Échéance : — → 31/07/2026" in text
    assert f"Partenaire pilote : — → {lead['organisation']}" in text
    assert f"Problématique : n° {problem['id']}" in text
    for code in ("videoprotection", "signale", "analyse", "prevue", "2026-07-31"):
        assert code not in text, code
    page.screenshot(path=str(artifacts / "journal-values.png"))

    # An unknown address, or a GPO outside the chef's perimeter, opened in the browser: a
    # page in French, not the API's JSON (which other clients still get).
    missing = (("/gpo/999999", "Introuvable : GPO n° 999999"), ("/nulle-part", "Aucune page"))
    for path, said in missing:
        answer = chef.goto(f"{live_demo}{path}")
        assert answer.status == 404 and "text/html" in answer.headers["content-type"]
        assert chef.locator("h1").inner_text() == "Page introuvable"
        assert chef.locator("#forbidden-message").inner_text().startswith(said)
    assert chef.request.get(f"{live_demo}/nulle-part").json()["type"] == "RouteNotFound"


@pytest.mark.parametrize("path", ["/comptes", "/journal"])
def test_no_other_role_opens_them(browser: Any, live_demo: str, path: str) -> None:
    page = browser.new_page(role="chef")
    response = page.goto(f"{live_demo}{path}")
    assert response.status == 403
    assert "Accès refusé" in page.locator("h1").inner_text()
