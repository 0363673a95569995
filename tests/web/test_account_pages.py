"""Signing in and out in real Chromium: the sign-in page, the navigation bar, the account
page and its personal access tokens, and writes from a signed-in page (CSRF token)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.schemas import AccountCreate
from api.services import accounts
from api.services.context import Context
from geo.accounts import Actor

pytestmark = pytest.mark.browser

EMAIL = "chef.centre@police.example"
PASSWORD = "correct horse battery"


@pytest.fixture
def account(factory: sessionmaker[Session]) -> None:
    accounts.create_account(
        Context(factory).acting(Actor.cli("tester")),
        AccountCreate(email=EMAIL, name="Lt Martin", role="admin", password=PASSWORD),
    )


def _sign_in(page, base: str, next_path: str | None = None) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/connexion" + (f"?next={next_path}" if next_path else ""))
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


@pytest.mark.usefixtures("account")
def test_sign_in_account_tokens_and_sign_out(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(role=None, viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server + "/connexion?next=/secteurs")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#nav-login").inner_text() == "Se connecter"
    # A wrong password: the French message next to the form, nothing else said.
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill("wrong password!")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_function("document.getElementById('login-error').textContent")
    assert page.locator("#login-error").inner_text() == (
        "Adresse électronique ou mot de passe incorrect."
    )
    # The right one: on to ?next=, the name and role in the navigation bar.
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server + "/secteurs")
    assert "Lt Martin" in page.locator("#nav-user").inner_text()
    assert "Direction (DDSP)" in page.locator("#nav-user").inner_text()
    assert page.locator("#nav-login").count() == 0
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["psq_session"]["httpOnly"] and not cookies["psq_csrf"]["httpOnly"]
    assert cookies["psq_session"]["sameSite"] == "Lax"

    # The account page: who, and a personal access token shown once.
    page.get_by_role("link", name="Mon compte").click()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#me-name").inner_text() == "Lt Martin"
    assert page.locator("#me-role").inner_text() == "Direction (DDSP)"
    assert "Aucun" in page.locator("#me-bindings").inner_text()
    # where QGIS and scripts find the API (no menu entry: a mayor would open it by mistake)
    links = page.locator("#api-links a")
    assert links.evaluate_all("links => links.map((a) => a.pathname)") == ["/ogc", "/docs"]
    page.get_by_label("Nom du jeton").fill("QGIS du poste")
    page.get_by_role("button", name="Créer un jeton").click()
    page.wait_for_selector("#token-new:not([hidden])")
    token = page.locator("#token-value").inner_text()
    assert token.startswith("psq_")
    row = page.locator("#token-table tbody tr", has_text="QGIS du poste")
    assert row.locator(".token-state").inner_text() == "Actif"
    me = page.request.get(
        live_server + "/api/me",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.ok and me.json()["via"] == "token"
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Révoquer").click()
    page.wait_for_function(
        "document.querySelector('#token-table .token-state')?.textContent.startsWith('Révoqué')"
    )
    assert page.locator("#token-error").inner_text() == ""

    # Sign out: back to the sign-in page, anonymous again.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(live_server + "/connexion")
    page.wait_for_selector("#nav-login")
    assert page.request.get(live_server + "/api/me").status == 401
    page.goto(live_server + "/compte")
    assert page.url == live_server + "/connexion?next=/compte"
    assert errors == []
    page.close()


@pytest.mark.usefixtures("account")
def test_next_must_be_a_path_of_the_site(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(role=None)
    _sign_in(page, live_server, "//evil.example/x")
    page.wait_for_url(live_server + "/")
    page.close()


@pytest.mark.usefixtures("account")
def test_signed_in_pages_send_the_csrf_token(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(role=None)
    _sign_in(page, live_server)
    page.wait_for_url(live_server + "/")
    page.wait_for_selector("body[data-ready=true]")
    # The shared helpers of api.js add the header: the write passes.
    created = page.evaluate(
        "import('/static/js/api.js').then((m) => m.postJSON('/api/me/tokens', {name: 'js'}))"
    )
    assert created["name"] == "js"
    # A bare fetch with the cookie but without the token is refused, in French.
    refused = page.evaluate(
        "fetch('/api/me/tokens', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({name: 'x'})}).then(async (r) => [r.status, await r.json()])"
    )
    assert refused[0] == 403 and refused[1]["type"] == "CsrfRejectedError"
    page.close()
