"""Authentication over HTTP against PostGIS: the OAuth2 token endpoint, the pages'
cookie sign-in, the caller (/api/me), session expiry (idle and absolute), sign-out,
the caller's personal access tokens, the CSRF check of cookie-authenticated writes, and
the security headers. Routes are not restricted yet: anonymous callers keep working."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.deps import CSRF_COOKIE, SESSION_COOKIE
from api.schemas import AccountCreate
from api.security import CSP, CSP_INLINE_SCRIPTS
from api.services import accounts, audit_log
from api.services.context import Context
from geo.accounts import MAX_FAILURES_PER_ACCOUNT, Actor

PASSWORD = "correct horse battery"
EMAIL = "dg@police.example"
WRONG = {
    "detail": "Adresse électronique ou mot de passe incorrect.",
    "type": "InvalidCredentialsError",
    "code": "invalid_credentials",
}


@pytest.fixture
def client(anonymous_client: TestClient) -> TestClient:
    """These tests sign in themselves: a client without the admin's token."""
    return anonymous_client


@pytest.fixture
def ctx(factory: sessionmaker[Session]) -> Iterator[Context]:
    yield Context(factory)


@pytest.fixture
def account(ctx: Context) -> Any:
    return accounts.create_account(
        ctx.acting(Actor.cli("tester")),
        AccountCreate(email=EMAIL, name="Direction 90", role="admin", password=PASSWORD),
    )


def token_for(client: TestClient, email: str = EMAIL, password: str = PASSWORD) -> Any:
    return client.post("/api/auth/token", data={"username": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient) -> str:
    """Sign in through the pages' endpoint: the client keeps the cookies; the CSRF token."""
    response = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client.cookies[CSRF_COOKIE]


def entries(ctx: Context, **filters: Any) -> list[Any]:
    return audit_log.list_entries(ctx, **filters).data


# -- POST /api/auth/token -----------------------------------------------------------------
def test_token_endpoint(client: TestClient, account: Any, ctx: Context, engine: Engine) -> None:
    response = token_for(client, "  DG@Police.Example")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 12 * 3600
    assert body["access_token"].startswith("psqs_")
    me = client.get("/api/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() == {
        "id": account.id,
        "email": EMAIL,
        "name": "Direction 90",
        "role": "admin",
        "role_label": "Direction (DDSP)",
        "gpo_ids": [],
        "commune_codes": [],
        "csp_ids": [],
        "via": "session",
    }
    (login,) = entries(ctx, action="login")
    assert login.actor == f"account:{account.id}" and login.address == "testclient"
    with engine.connect() as conn:  # only the hash of the session id is stored
        stored = conn.execute(text("SELECT session_hash, user_agent FROM web_session")).one()
    assert body["access_token"] not in stored[0] and len(stored[0]) == 64
    assert stored[1] == "testclient"


@pytest.mark.usefixtures("account")
def test_the_same_401_for_an_unknown_email_and_a_wrong_password(
    client: TestClient, ctx: Context
) -> None:
    unknown = token_for(client, "nobody@police.example")
    wrong = token_for(client, password="wrong password!")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == WRONG
    assert unknown.headers["www-authenticate"] == "Bearer"
    failed = entries(ctx, action="login_failed")
    assert sorted(e.detail["reason"] for e in failed) == ["unknown e-mail", "wrong password"]
    assert client.post("/api/auth/token", data={"username": EMAIL}).status_code == 422
    # bounded as the OpenAPI document says: an e-mail longer than the sign-in attempts'
    # column was the database's « texte trop long » naming no field (schemathesis)
    long = "a" * 250 + "@x.fr"
    for response in (
        client.post("/api/auth/token", data={"username": long, "password": "p"}),
        client.post("/api/auth/login", json={"email": long, "password": "p"}),
    ):
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["msg"] == "au plus 254 caractères"
    form = client.get("/openapi.json").json()["components"]["schemas"]
    username = form["Body_issue_token_api_auth_token_post"]["properties"]["username"]
    assert (username["minLength"], username["maxLength"]) == (1, 254)


@pytest.mark.usefixtures("account")
def test_token_endpoint_is_throttled(client: TestClient, ctx: Context) -> None:
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert token_for(client, password="wrong password!").status_code == 401
    throttled = token_for(client)  # the right password: not even checked
    assert throttled.status_code == 429
    assert throttled.json()["type"] == "TooManyAttemptsError"
    assert "Trop de tentatives" in throttled.json()["detail"]
    assert len(entries(ctx, action="login_throttled")) == 1


# -- the caller ---------------------------------------------------------------------------
@pytest.mark.usefixtures("account")
def test_me_anonymous_is_401(client: TestClient) -> None:
    for headers in (
        {},
        bearer("psqs_unknown"),
        bearer("psq_unknown"),
        {"Authorization": "Basic x"},
    ):
        response = client.get("/api/me", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "detail": "Connexion requise : identifiez-vous.",
            "type": "AuthenticationRequiredError",
            "code": "authentication_required",
        }
    client.cookies.set(SESSION_COOKIE, "psqs_forged")
    assert client.get("/api/me").status_code == 401


def test_cookie_sign_in(client: TestClient, account: Any) -> None:
    response = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200 and response.json()["via"] == "cookie"
    cookies = {c.split("=")[0]: c for c in response.headers.get_list("set-cookie")}
    assert "HttpOnly" in cookies[SESSION_COOKIE] and "HttpOnly" not in cookies[CSRF_COOKIE]
    for cookie in cookies.values():
        assert "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    me = client.get("/api/me")
    assert me.status_code == 200 and me.json()["id"] == account.id
    # signed in, signing in again is a write like another: it needs the CSRF token
    again = client.post("/api/auth/login", json={"email": EMAIL, "password": "no"})
    assert again.status_code == 403
    headers = {"X-CSRF-Token": client.cookies[CSRF_COOKIE]}
    again = client.post("/api/auth/login", json={"email": EMAIL, "password": "no"}, headers=headers)
    assert again.json() == WRONG


@pytest.mark.usefixtures("account")
@pytest.mark.usefixtures("account")
def test_a_cross_site_form_cannot_sign_anyone_in(client: TestClient) -> None:
    """Login CSRF: a form of another site can only send form or text bodies, and the
    sign-in takes JSON only."""
    body = f'{{"email": "{EMAIL}", "password": "{PASSWORD}"}}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(
            "/api/auth/login", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 422
    assert SESSION_COOKIE not in client.cookies


@pytest.mark.usefixtures("account")
def test_cookies_are_secure_over_https(client: TestClient) -> None:
    response = client.post(
        "https://testserver/api/auth/login", json={"email": EMAIL, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


@pytest.mark.usefixtures("account")
def test_bearer_comes_before_the_cookie(client: TestClient, ctx: Context) -> None:
    sign_in(client)
    other = accounts.create_account(
        ctx.acting(Actor.cli("tester")),
        AccountCreate(email="other@police.example", role="admin", password=PASSWORD),
    )
    token = accounts.create_token(ctx.acting(Actor.cli("tester")), other.id, "script").token
    me = client.get("/api/me", headers=bearer(token)).json()
    assert (me["id"], me["via"]) == (other.id, "token")
    # a bearer value that opens nothing is anonymous, whatever the cookie
    assert client.get("/api/me", headers=bearer("psq_revoked")).status_code == 401


# -- expiry and sign-out ------------------------------------------------------------------
@pytest.mark.usefixtures("account")
def test_idle_expiry(client: TestClient, engine: Engine) -> None:
    sign_in(client)
    with engine.begin() as conn:
        conn.execute(text("UPDATE web_session SET last_seen_at = now() - interval '29 minutes'"))
    assert client.get("/api/me").status_code == 200  # within the idle time: touched
    with engine.begin() as conn:
        seen = conn.scalar(
            text("SELECT now() - last_seen_at < interval '1 minute' FROM web_session")
        )
        assert seen
        conn.execute(text("UPDATE web_session SET last_seen_at = now() - interval '31 minutes'"))
    assert client.get("/api/me").status_code == 401


@pytest.mark.usefixtures("account")
def test_absolute_expiry(client: TestClient, engine: Engine) -> None:
    sign_in(client)
    with engine.begin() as conn:
        hours = conn.scalar(
            text("SELECT extract(epoch FROM expires_at - created_at) FROM web_session")
        )
        assert hours == 12 * 3600
        conn.execute(text("UPDATE web_session SET expires_at = now() - interval '1 second'"))
    assert client.get("/api/me").status_code == 401


def test_the_expiry_times_come_from_the_settings() -> None:
    policy = Settings(session_idle_minutes=5, session_lifetime_hours=2).session_policy()
    assert (policy.idle.total_seconds(), policy.lifetime.total_seconds()) == (300, 7200)


@pytest.mark.usefixtures("account")
def test_disabled_accounts_lose_their_sessions(client: TestClient, ctx: Context) -> None:
    sign_in(client)
    accounts.disable_account(ctx.acting(Actor.cli("tester")), EMAIL)
    assert client.get("/api/me").status_code == 401


def test_logout(client: TestClient, account: Any, ctx: Context, engine: Engine) -> None:
    csrf = sign_in(client)
    session_cookie = client.cookies[SESSION_COOKIE]
    response = client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert all('=""' in c or "Max-Age=0" in c for c in response.headers.get_list("set-cookie"))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT revoked_at IS NOT NULL FROM web_session"))
    client.cookies.set(SESSION_COOKIE, session_cookie)  # replayed: revoked
    assert client.get("/api/me").status_code == 401
    (logout,) = entries(ctx, action="logout")
    assert logout.actor == f"account:{account.id}" and logout.entity == "web_session"
    # a bearer session ends the same way
    client.cookies.clear()
    token = token_for(client).json()["access_token"]
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/me", headers=bearer(token)).status_code == 401
    # without a session: nothing to do
    assert client.post("/api/auth/logout").status_code == 204


@pytest.mark.usefixtures("account")
def test_ended_sessions_are_purged_at_the_next_sign_in(client: TestClient, engine: Engine) -> None:
    for _ in range(3):
        token = token_for(client).json()["access_token"]
        assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    with engine.begin() as conn:
        # Each sign-in purged the session revoked before it: only the last one is left.
        assert conn.scalar(text("SELECT count(*) FROM web_session")) == 1
        # Not revoked but past its absolute expiry, it is purged all the same.
        conn.execute(text("UPDATE web_session SET revoked_at = NULL, expires_at = now()"))
    live = token_for(client).json()["access_token"]
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM web_session")) == 1
    assert client.get("/api/me", headers=bearer(live)).status_code == 200


# -- the caller's personal access tokens --------------------------------------------------
def test_my_tokens(client: TestClient, account: Any, ctx: Context) -> None:
    csrf = {"X-CSRF-Token": sign_in(client)}
    created = client.post("/api/me/tokens", json={"name": "QGIS"}, headers=csrf)
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("psq_") and created.json()["account_id"] == account.id
    listed = client.get("/api/me/tokens").json()
    assert listed["count"] == 1 and "token" not in listed["data"][0]
    assert listed["data"][0]["name"] == "QGIS"
    me = client.get("/api/me", headers=bearer(token)).json()
    assert (me["id"], me["via"]) == (account.id, "token")
    assert client.post("/api/me/tokens", json={"name": " "}, headers=csrf).status_code == 422
    # another account's token is not found, and stays valid
    other = accounts.create_account(
        ctx.acting(Actor.cli("tester")),
        AccountCreate(email="other@police.example", role="admin", password=PASSWORD),
    )
    theirs = accounts.create_token(ctx.acting(Actor.cli("tester")), other.id, "theirs")
    refused = client.delete(f"/api/me/tokens/{theirs.id}", headers=csrf)
    assert refused.status_code == 404 and refused.json()["type"] == "NotFoundError"
    assert client.get("/api/me", headers=bearer(theirs.token)).status_code == 200
    assert client.delete("/api/me/tokens/999999", headers=csrf).status_code == 404
    revoked = client.delete(f"/api/me/tokens/{created.json()['id']}", headers=csrf)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/api/me", headers=bearer(token)).status_code == 401
    assert [e.action for e in entries(ctx, entity="api_token", actor=f"account:{account.id}")] == [
        "revoke",
        "create",
    ]
    client.cookies.clear()
    assert client.get("/api/me/tokens").status_code == 401
    assert client.post("/api/me/tokens", json={"name": "x"}).status_code == 401


# -- CSRF ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("account")
def test_cookie_writes_need_the_csrf_token(client: TestClient) -> None:
    csrf = sign_in(client)
    refused = client.post("/api/me/tokens", json={"name": "x"})
    assert refused.status_code == 403
    assert refused.json()["type"] == "CsrfRejectedError"
    assert "anti-CSRF" in refused.json()["detail"]
    wrong = client.post("/api/me/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    # an existing, open route is protected the same way once the cookie is there
    assert client.delete("/api/plans/999999").status_code == 403
    assert client.delete("/api/plans/999999", headers={"X-CSRF-Token": csrf}).status_code == 404
    assert client.post("/api/auth/logout").status_code == 403
    # with the token: passes; from another site: refused even with the token
    same = {"X-CSRF-Token": csrf, "Origin": "http://testserver"}
    assert client.post("/api/me/tokens", json={"name": "x"}, headers=same).status_code == 201
    cross = {"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
    assert client.post("/api/me/tokens", json={"name": "x"}, headers=cross).status_code == 403
    cross = {"X-CSRF-Token": csrf, "Referer": "https://evil.example/page"}
    assert client.post("/api/me/tokens", json={"name": "x"}, headers=cross).status_code == 403
    # reads need nothing
    assert client.get("/api/me").status_code == 200


@pytest.mark.usefixtures("account")
def test_bearer_writes_need_no_csrf_token(client: TestClient) -> None:
    token = token_for(client).json()["access_token"]
    sign_in(client)  # the cookie is there too, but the bearer token decides
    created = client.post("/api/me/tokens", json={"name": "script"}, headers=bearer(token))
    assert created.status_code == 201


def test_without_credentials_nothing_changes(client: TestClient) -> None:
    """An anonymous write is refused before anything is looked up (401, whatever the id
    or the body); signing out needs nothing."""
    for response in (client.delete("/api/plans/999999"), client.post("/api/csp/1/gpos", json={})):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    cross = {"Origin": "https://evil.example"}
    assert client.post("/api/auth/logout", headers=cross).status_code == 204


# -- security headers ---------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/health", "/", "/static/js/api.js", "/api/nothing"])
def test_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "script-src 'self';" in CSP
    assert "access-control-allow-origin" not in response.headers


def test_generated_pages_with_inline_scripts_have_their_policy(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.headers["content-security-policy"] == CSP_INLINE_SCRIPTS
    assert "frame-ancestors 'none'" in CSP_INLINE_SCRIPTS
    assert response.headers["x-frame-options"] == "DENY"


def test_cors_stays_closed(client: TestClient) -> None:
    preflight = client.options(
        "/api/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers


# -- the pages' side ----------------------------------------------------------------------
@pytest.mark.usefixtures("account")
def test_navigation_and_the_sign_out_form(client: TestClient, engine: Engine) -> None:
    home = client.get("/").text
    assert 'href="/connexion"' in home and "Se connecter" in home and "Mon compte" not in home
    assert client.get("/compte", follow_redirects=False).headers["location"] == (
        "/connexion?next=/compte"
    )
    csrf = sign_in(client)
    home = client.get("/").text
    assert "Direction 90" in home and "Direction (DDSP)" in home and "Se déconnecter" in home
    assert f'name="csrf_token" value="{csrf}"' in home
    assert client.get("/compte").status_code == 200
    # the sign-out form: its csrf_token field is checked like the header
    assert client.post("/deconnexion", follow_redirects=False).status_code == 403
    bad = client.post("/deconnexion", data={"csrf_token": "x"}, follow_redirects=False)
    assert bad.status_code == 403
    out = client.post("/deconnexion", data={"csrf_token": csrf}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/connexion")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT revoked_at IS NOT NULL FROM web_session"))
    assert SESSION_COOKIE not in client.cookies
    assert "Se connecter" in client.get("/connexion").text
