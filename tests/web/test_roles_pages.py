"""Who is who, in real Chromium: each demo account signs in through the sign-in form,
lands on its role's start page, sees in the navigation bar exactly the pages its role
opens, uses them without a refused request or a script error, and signs out. The sign-in
page lists the demo accounts only on the app's own local database holding only the demo;
without any account it says how to create the first admin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.services import accounts
from api.services.context import Context
from api.services.demo_accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, create_demo_accounts
from api.services.gpos import list_gpos
from api.services.territory import import_territory
from geo.accounts import ROLES, Actor
from geo.territory import read_communes
from psq.app import create_app
from tests.conftest import DEMO_DIR, serving
from tests.route_log import record_routes
from tests.web.axe import serious_violations
from tests.web.requests import on_failure
from web.pages import NAVIGATION, START_PAGES, page_policy

pytestmark = pytest.mark.browser

#: Where each role lands after signing in (the admin keeps the home page).
START = {
    "admin": "/",
    "planificateur": "/secteurs",
    "chef": "/problematiques",
    "partenaire": "/mes-actions",
    "commune": "/commune",
    "referent": "/etudes",
}
#: The navigation bar of each role, as the policies of api/access.py open the pages.
NAV = {
    "admin": [
        "Accueil",
        "Grille et couches",
        "Secteurs",
        "Problématiques",
        "GPO",
        "Mes actions",
        "Cartographie",
        "Bilans",
        "Études de sûreté",
        "Espace commune",
        "Interventions",
        "Comptes",
        "Journal",
    ],
    "planificateur": [
        "Accueil",
        "Grille et couches",
        "Secteurs",
        "GPO",
        "Cartographie",
        "Bilans",
        "Espace commune",
        "Interventions",
    ],
    "chef": [
        "Accueil",
        "Problématiques",
        "GPO",
        "Mes actions",
        "Cartographie",
        "Interventions",
    ],
    "partenaire": ["Accueil", "Problématiques", "GPO", "Mes actions", "Cartographie"],
    "commune": ["Accueil", "Études de sûreté", "Espace commune", "Interventions"],
    "referent": ["Accueil", "Études de sûreté", "Interventions"],
}
READY = "['true', '1'].includes(document.body.dataset.ready)"


@pytest.fixture
def live_local_demo(settings: Settings, demo_adopted: sessionmaker[Session]) -> Iterator[str]:
    """The demo as ``psq serve`` shows it on its own local cluster."""
    del demo_adopted
    with serving(settings, local_database=True) as url:
        yield url


def watch(page: Any) -> dict[str, list[str]]:
    """The script errors, console errors and refused or failed requests of ``page``."""
    seen: dict[str, list[str]] = {"errors": [], "console": [], "refused": []}
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on(
        "console",
        lambda m: seen["console"].append(f"{page.url}: {m.text}") if m.type == "error" else None,
    )
    page.on(
        "response",
        lambda r: seen["refused"].append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    on_failure(page, lambda text: seen["refused"].append(f"failed {text}"))
    return seen


def sign_in(page: Any, email: str, password: str) -> None:
    """Fill and send the sign-in form of the page open on /connexion."""
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def test_the_navigation_follows_the_routes_policies() -> None:
    for role, labels in NAV.items():
        assert [i.label for i in NAVIGATION if page_policy(i.path).admits(role)] == labels
    for role, path in START_PAGES.items():
        assert page_policy(path).admits(role), (role, path)
    assert [i.label for i in NAVIGATION if page_policy(i.path).admits(None)] == ["Accueil"]


def test_the_sign_in_page_lists_the_demo_accounts(
    browser: Any, live_local_demo: str, artifacts: Path
) -> None:
    page = browser.new_page(role=None, viewport={"width": 1400, "height": 1000})
    seen = watch(page)
    page.goto(live_local_demo + "/connexion")
    page.wait_for_selector("body[data-ready=true]")
    table = page.locator("#demo-accounts table")
    assert table.locator("caption").inner_text() == "Comptes de démonstration"
    rows = table.locator("tbody tr")
    assert rows.evaluate_all("rows => rows.map((r) => r.dataset.role)") == list(ROLES)
    for role in ROLES:
        row = table.locator(f"tr[data-role={role}]")
        assert row.locator("th").inner_text() == ROLES[role]
        assert row.locator(".demo-email").inner_text() == DEMO_ACCOUNTS[role]
        assert row.locator(".demo-password").inner_text() == DEMO_PASSWORD
    assert "Belfort" in table.locator("tr[data-role=commune] td").nth(2).inner_text()
    assert page.locator("#first-admin").count() == 0  # accounts exist
    page.screenshot(path=str(artifacts / "connexion.png"), full_page=True)
    assert serious_violations(page) == []
    # « Utiliser » fills the form.
    table.locator("tr[data-role=chef] .demo-use").click()
    assert page.get_by_label("Adresse électronique").input_value() == DEMO_ACCOUNTS["chef"]
    assert seen == {"errors": [], "console": [], "refused": []}
    page.close()


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_signs_in_to_its_start_page_and_its_pages(
    browser: Any, live_local_demo: str, artifacts: Path, role: str
) -> None:
    base = live_local_demo
    page = browser.new_page(role=None, viewport={"width": 1400, "height": 900})
    seen = watch(page)
    page.goto(base + "/connexion")
    sign_in(page, DEMO_ACCOUNTS[role], DEMO_PASSWORD)
    page.wait_for_url(base + START[role])
    page.wait_for_function(READY, timeout=30_000)
    assert page.locator("#nav-role").inner_text() == ROLES[role]
    # A demo person: the chef and the partner are the demo data's fictitious people.
    assert re.search(r"\((démo|fictif|fictive)\)", page.locator("#nav-user").inner_text())
    assert page.locator("#main-nav a").all_inner_texts() == NAV[role]
    assert page.locator("#account-nav a", has_text="Mon compte").is_visible()
    page.screenshot(path=str(artifacts / f"start_{role}.png"))
    assert seen == {"errors": [], "console": [], "refused": []}, seen
    inaccessible = serious_violations(page, once=True)

    # Every page of its navigation works for it: no refused call, no script error, no
    # serious or critical accessibility violation (axe-core).
    for link in page.locator("#main-nav a").evaluate_all("links => links.map((a) => a.pathname)"):
        if link == "/":
            continue
        page.goto(base + link)
        page.wait_for_function(READY, timeout=30_000)
        assert page.locator("#nav-role").inner_text() == ROLES[role]
        inaccessible += serious_violations(page, once=True)  # by the first role that opens it
    assert seen == {"errors": [], "console": [], "refused": []}, seen
    assert inaccessible == [], "\n".join(inaccessible)

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(base + "/connexion")
    assert page.locator("#nav-login").is_visible()
    assert page.request.get(base + "/api/me").status == 401
    page.close()


def test_a_commune_may_not_open_the_problems(browser: Any, live_local_demo: str) -> None:
    page = browser.new_page(role="commune")
    response = page.goto(live_local_demo + "/problematiques")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Accès refusé"
    assert "Commune" in page.locator("#forbidden-message").inner_text()
    assert page.locator("#main-nav a").all_inner_texts() == NAV["commune"]
    problem = page.request.get(live_local_demo + "/api/problems/1")
    assert problem.status == 403
    assert problem.json()["detail"].startswith("Accès refusé")
    # Its commune page opens on its own commune, the only one it may choose.
    page.goto(live_local_demo + "/commune")
    page.wait_for_function(READY, timeout=30_000)
    me = page.request.get(live_local_demo + "/api/me").json()
    assert page.locator("#commune-select").input_value() == me["commune_codes"][0]
    assert page.locator("#commune-select option").count() == len(me["commune_codes"])
    # Its account page names its commune (the demo binds the mayor's account to Belfort).
    assert me["commune_codes"] == ["90010"]
    page.goto(live_local_demo + "/compte")
    page.wait_for_function(READY, timeout=30_000)
    assert page.locator("#me-bindings").inner_text() == "Commune Belfort (90010)"
    page.close()


def test_an_anonymous_visit_signs_in_and_comes_back(browser: Any, live_local_demo: str) -> None:
    page = browser.new_page(role=None)
    page.goto(live_local_demo + "/secteurs")
    assert page.url == live_local_demo + "/connexion?next=/secteurs"
    sign_in(page, DEMO_ACCOUNTS["planificateur"], DEMO_PASSWORD)
    page.wait_for_url(live_local_demo + "/secteurs")
    page.wait_for_function(READY, timeout=30_000)
    page.close()


def test_the_anonymous_home_page_calls_to_sign_in(browser: Any, live_local_demo: str) -> None:
    page = browser.new_page(role=None)
    seen = watch(page)
    page.goto(live_local_demo + "/")
    assert page.locator("#welcome h1").inner_text() == "PSQ Secteurs"
    assert page.locator("#main-nav a").all_inner_texts() == ["Accueil"]
    page.locator("#welcome-login").click()
    page.wait_for_url(live_local_demo + "/connexion")
    assert seen == {"errors": [], "console": [], "refused": []}, seen
    page.close()


# -- when the sign-in page lists the demo accounts, and the first admin ------------------
def _login_page(settings: Settings, *, local_database: bool) -> str:
    with TestClient(record_routes(create_app(settings, local_database=local_database))) as client:
        response = client.get("/connexion")
        assert response.status_code == 200
        return response.text


def test_the_demo_accounts_only_on_the_local_demo(
    settings: Settings, demo_adopted: sessionmaker[Session]
) -> None:
    shown = _login_page(settings, local_database=True)
    assert "Comptes de démonstration" in shown and DEMO_PASSWORD in shown
    assert all(email in shown for email in DEMO_ACCOUNTS.values())
    # An explicit DATABASE_URL: never listed.
    hidden = _login_page(settings, local_database=False)
    assert "Comptes de démonstration" not in hidden and DEMO_PASSWORD not in hidden
    # Another CSP beside the demo's: real data, never listed.
    communes = read_communes(DEMO_DIR / "communes_90.geojson")
    import_territory(
        Context(demo_adopted),
        layer=communes,
        csp_name="Héricourt (essai)",
        csp_code="essai",
        commune_codes=["90049"],
    )
    other = _login_page(settings, local_database=True)
    assert "Comptes de démonstration" not in other and DEMO_PASSWORD not in other


def test_the_demo_accounts_are_made_once(demo_adopted: sessionmaker[Session]) -> None:
    ctx = Context(demo_adopted)
    made = {a.email: a for a in accounts.list_accounts(ctx).data}
    assert {made[e].role for e in DEMO_ACCOUNTS.values()} == set(ROLES)
    chef, partner = made[DEMO_ACCOUNTS["chef"]], made[DEMO_ACCOUNTS["partenaire"]]
    assert partner.gpo_ids == chef.gpo_ids
    gpos = {g.id: g for g in list_gpos(ctx, chef.area_csp_ids[0]).data}
    assert gpos[chef.gpo_ids[0]].open_problems == max(
        g.open_problems for g in gpos.values() if g.kind == "sector"
    )
    # The demo loaded again: nothing new, nothing changed.
    assert create_demo_accounts(ctx.acting(Actor.cli("demo")), csp_id=chef.area_csp_ids[0]) == []
    assert {a.email: a for a in accounts.list_accounts(ctx).data} == made


def test_the_demo_partner_speaks_for_an_organisation(demo_adopted: sessionmaker[Session]) -> None:
    partner = accounts.get_account(Context(demo_adopted), DEMO_ACCOUNTS["partenaire"])
    assert partner.partner_id is not None


def test_without_any_account_the_page_says_how_to_make_the_first_admin(
    settings: Settings, factory: sessionmaker[Session]
) -> None:
    del factory  # an empty database
    page = _login_page(settings, local_database=True)
    assert "Aucun compte n'existe encore" in page
    assert "psq users add ADRESSE@EXEMPLE.FR --role admin" in page
    assert "PSQ_PASSWORD" in page
    assert "Comptes de démonstration" not in page
