"""The direction manages accounts over HTTP: list, create with bindings, disable (its
tokens stop working) and enable; every change in the audit trail; no other role."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.audit_helpers import me, one
from tests.roles import as_role


def test_the_direction_creates_disables_and_enables_accounts(
    client: TestClient, csp_id: int
) -> None:
    body = {
        "email": "Planif.Nord@Police.example",
        "name": "État-major",
        "role": "planificateur",
        "password": "une phrase de passe longue",
        "csp_ids": [csp_id],
    }
    created = client.post("/api/accounts", json=body)
    assert created.status_code == 201, created.text
    account = created.json()
    assert (account["email"], account["role_label"], account["csp_ids"]) == (
        "planif.nord@police.example",
        "État-major (planification)",
        [csp_id],
    )
    assert account["area_csp_ids"] == [csp_id] and "password" not in account
    assert client.post("/api/accounts", json=body).status_code == 409
    listed = client.get("/api/accounts").json()
    assert account["id"] in [a["id"] for a in listed["data"]]
    entry = one(client, entity="account", action="create", entity_id=account["id"])
    assert entry["actor"] == me(client)

    # Refusals name their field, in the body.
    bad = client.post("/api/accounts", json={**body, "email": "x@y.example", "role": "maire"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "role"
    assert bad.json()["detail"].startswith("Rôle : valeur inconnue « maire »")
    unbound = client.post("/api/accounts", json={**body, "email": "z@y.example", "csp_ids": []})
    assert unbound.status_code == 422 and unbound.json()["fields"][0]["field"] == "csp"

    # Disabled, its token stops working; enabled again, it works.
    token = client.post(
        "/api/auth/token", data={"username": body["email"], "password": body["password"]}
    ).json()["access_token"]
    theirs = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=theirs).status_code == 200
    off = client.patch(f"/api/accounts/{account['id']}", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/api/me", headers=theirs).status_code == 401
    assert one(client, entity="account", action="update", entity_id=account["id"])["changes"] == {
        "active": [True, False]
    }
    on = client.patch(f"/api/accounts/{account['id']}", json={"active": True})
    assert on.json()["active"] is True

    # The direction cannot lock itself out.
    own = client.get("/api/me").json()["id"]
    refused = client.patch(f"/api/accounts/{own}", json={"active": False})
    assert refused.status_code == 422 and refused.json()["fields"][0]["field"] == "active"
    assert client.patch("/api/accounts/999999", json={"active": False}).status_code == 404


def test_no_other_role_reads_or_writes_accounts(client: TestClient, csp_id: int) -> None:
    referent = as_role(client, "referent", csp_ids=[csp_id])
    assert client.get("/api/accounts", headers=referent).status_code == 403
    body = {"email": "a@b.example", "role": "admin", "password": "une phrase de passe longue"}
    assert client.post("/api/accounts", json=body, headers=referent).status_code == 403
