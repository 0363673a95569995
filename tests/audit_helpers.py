"""Reading the audit trail in tests, through ``GET /api/audit-log``, as the DDSP's
direction (the trail is ``admin``'s alone): an admin account with a personal token,
created once per test client."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.schemas import AccountCreate
from api.services import accounts
from geo.accounts import Actor

READER = "journal@police.example"


def reader(client: TestClient) -> dict[str, str]:
    """The bearer header of the test client's admin reader (made on first use)."""
    headers: dict[str, str] | None = getattr(client, "audit_reader", None)
    if headers is None:
        ctx = client.app.state.context  # type: ignore[attr-defined]
        tests = Actor.cli("tests")
        admin = accounts.create_account(
            ctx.acting(tests),
            AccountCreate(email=READER, role="admin", password="lecture du journal 90"),
        )
        token = accounts.create_token(ctx.acting(tests), admin.id, "journal").token
        headers = {"Authorization": f"Bearer {token}"}
        client.audit_reader = headers  # type: ignore[attr-defined]
    return headers


def me(client: TestClient) -> str:
    """The actor the test client's requests are recorded as (its admin account)."""
    return f"account:{client.get('/api/me').json()['id']}"


def read(client: TestClient, path: str = "/api/audit-log", **params: Any) -> Any:
    """``GET`` a page of the trail (or its CSV, ``path``) as the admin reader."""
    return client.get(path, params=params, headers=reader(client))


def trail(client: TestClient, **filters: Any) -> list[dict[str, Any]]:
    """The entries matching ``filters`` (query parameters), newest first."""
    response = read(client, limit=1000, **filters)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def one(client: TestClient, **filters: Any) -> dict[str, Any]:
    """The only entry matching ``filters``."""
    entries = trail(client, **filters)
    assert len(entries) == 1, entries
    return entries[0]
