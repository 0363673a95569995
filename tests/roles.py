"""Signing tests in: an account of a role with its bindings, and its bearer header.

Accounts are made through the service (as ``cli:tests``), one per e-mail and test
client; the header carries a personal access token, so that requests are authenticated
the way scripts and QGIS are (the pages' cookie sessions are tried by the web tests).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.schemas import AccountCreate
from api.services import accounts
from api.services.context import Context
from geo.accounts import Actor

PASSWORD = "mot de passe des tests 90"


def bearer_for(
    ctx: Context,
    role: str,
    *,
    email: str | None = None,
    gpo_ids: list[int] | None = None,
    commune_codes: list[str] | None = None,
    csp_ids: list[int] | None = None,
    partner_id: int | None = None,
) -> dict[str, str]:
    """The ``Authorization`` header of a new account of ``role`` with these bindings."""
    tests = Actor.cli("tests")
    account = accounts.create_account(
        ctx.acting(tests),
        AccountCreate(
            email=email or f"{role}-{len(accounts.list_accounts(ctx).data)}@tests.example",
            role=role,
            password=PASSWORD,
            gpo_ids=gpo_ids or [],
            commune_codes=commune_codes or [],
            csp_ids=csp_ids or [],
            partner_id=partner_id,
        ),
    )
    token = accounts.create_token(ctx.acting(tests), account.id, "tests").token
    return {"Authorization": f"Bearer {token}"}


def as_role(client: TestClient, role: str, **bindings: Any) -> dict[str, str]:
    """The header of a new account of ``role`` on the test client's app."""
    return bearer_for(client.app.state.context, role, **bindings)  # type: ignore[attr-defined]
