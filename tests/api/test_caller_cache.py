"""The caller kept per credential (issue 22): a request whose credential was resolved
costs one query, and any change of the account, its bindings, its token or its session,
made by this process or by another one (plain SQL here), takes effect at the next
request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from api.schemas import AccountCreate
from api.services import accounts
from api.services.context import Context
from geo.accounts import Actor

PASSWORD = "correct horse battery"
EMAIL = "ref@police.example"
CLI = Actor.cli("tester")


@pytest.fixture
def ctx(factory: sessionmaker[Session]) -> Iterator[Context]:
    yield Context(factory)


@pytest.fixture
def token(ctx: Context, engine: Engine) -> str:
    """The personal access token of a référent of one CSP (made with SQL: no territory)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO csp (id, code, name, geom) VALUES (71, 'c71', 'CSP 71', "
                "ST_Multi(ST_MakeEnvelope(6, 47, 7, 48, 4326))), (72, 'c72', 'CSP 72', "
                "ST_Multi(ST_MakeEnvelope(7, 47, 8, 48, 4326)))"
            )
        )
    account = accounts.create_account(
        ctx.acting(CLI),
        AccountCreate(
            email=EMAIL, name="Référente", role="referent", password=PASSWORD, csp_ids=[71]
        ),
    )
    return accounts.create_token(ctx.acting(CLI), account.id, "script").token


def _statements(client: TestClient, headers: dict[str, str]) -> tuple[Any, int]:
    """GET /api/me and the number of SQL statements the app sent for it."""
    engine = client.app.state.context.factory.kw["bind"]  # type: ignore[attr-defined]
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/api/me", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return response, len(sent)


def test_a_resolved_credential_costs_one_query(
    anonymous_client: TestClient, token: str, engine: Engine
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    first, cold = _statements(anonymous_client, headers)
    assert first.status_code == 200 and first.json()["csp_ids"] == [71]
    again, warm = _statements(anonymous_client, headers)
    assert again.json() == first.json()
    # the revision and the time, in one query; resolving it asked four (the token, the
    # account, its bindings, the revision)
    assert warm == 1 and cold >= 4
    # what every request writes (a later last use) keeps it; a change of binding does not
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_token SET last_used_at = now() + interval '1 second'"))
    assert _statements(anonymous_client, headers)[1] == 1
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO account_csp (account_id, csp_id) SELECT id, 72 FROM account")
        )
    rebound, count = _statements(anonymous_client, headers)
    assert rebound.json()["csp_ids"] == [71, 72] and count >= 4


def test_every_account_change_takes_effect_at_once(
    anonymous_client: TestClient, token: str, ctx: Context, engine: Engine
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    me = anonymous_client.get("/api/me", headers=headers)
    assert me.json()["role"] == "referent"
    steps: list[tuple[str, Any]] = [
        ("UPDATE account SET name = 'Autre nom'", ("name", "Autre nom")),
        ("UPDATE account SET role = 'planificateur'", ("role", "planificateur")),
        ("DELETE FROM account_csp", ("csp_ids", [])),
    ]
    for statement, (key, expected) in steps:
        with engine.begin() as conn:
            conn.execute(text(statement))
        assert anonymous_client.get("/api/me", headers=headers).json()[key] == expected, statement
    # disabled through the service, then enabled: 401 then 200 at once
    accounts.disable_account(ctx.acting(CLI), EMAIL)
    assert anonymous_client.get("/api/me", headers=headers).status_code == 401
    accounts.enable_account(ctx.acting(CLI), EMAIL)
    assert anonymous_client.get("/api/me", headers=headers).status_code == 200
    # the token expired, revoked
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_token SET expires_at = now() - interval '1 second'"))
    assert anonymous_client.get("/api/me", headers=headers).status_code == 401
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_token SET expires_at = NULL, revoked_at = now()"))
    assert anonymous_client.get("/api/me", headers=headers).status_code == 401


def test_a_session_signed_out_ends_at_once(
    anonymous_client: TestClient, token: str, engine: Engine
) -> None:
    del token  # its account
    signed = anonymous_client.post(
        "/api/auth/token", data={"username": EMAIL, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert anonymous_client.get("/api/me", headers=headers).status_code == 200
    assert _statements(anonymous_client, headers)[1] == 1
    with engine.begin() as conn:
        conn.execute(text("UPDATE web_session SET revoked_at = now()"))
    assert anonymous_client.get("/api/me", headers=headers).status_code == 401


def test_a_request_without_a_credential_resolves_nothing(
    anonymous_client: TestClient, token: str
) -> None:
    """No credential, or a value no credential has the form of: anonymous at once, no
    query (api.deps.resolved_caller, on the event loop); a credential of the right form
    but unknown is looked up, and refused."""
    for headers in ({}, {"Cookie": "psq_session=abc"}, {"Authorization": "Bearer abc"}):
        refused, count = _statements(anonymous_client, headers)
        assert refused.status_code == 401 and count == 0, headers
    unknown, count = _statements(anonymous_client, {"Authorization": f"Bearer {token}x"})
    assert unknown.status_code == 401 and count >= 2
