"""The audit trail (issue 16) over HTTP: who wrote (a signed-in account with its address,
the CLI's system user, a job's starter), a failed write leaves nothing, the
writes of plans and their editing, downloads and exports, and reading the trail (filters,
paging, CSV)."""

from __future__ import annotations

import csv
import getpass
import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.schemas import AccountCreate, PartnerCreate
from api.services import accounts, gpos
from api.services.context import Context
from geo.accounts import Actor
from tests.audit_helpers import me, one, read, trail
from tests.plan_helpers import adopt, border_cells, propose, wait_for_job

PASSWORD = "correct horse battery"
EMAIL = "planif@police.example"
PARTNER = {"organisation": "Territoire Habitat", "type": "bailleur_social"}


def signed_in(client: TestClient, factory: sessionmaker[Session]) -> tuple[int, dict[str, str]]:
    """An account and the bearer header of a session opened for it."""
    account = accounts.create_account(
        Context(factory).acting(Actor.cli("tester")),
        AccountCreate(email=EMAIL, name="Planif", role="admin", password=PASSWORD),
    )
    token = client.post("/api/auth/token", data={"username": EMAIL, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return account.id, {"Authorization": f"Bearer {token.json()['access_token']}"}


# -- who acts -----------------------------------------------------------------------------
def test_the_actor_and_address_of_writes(
    client: TestClient, csp_id: int, factory: sessionmaker[Session]
) -> None:
    created = client.post(f"/api/csp/{csp_id}/partners", json=PARTNER).json()
    entry = one(client, entity="partner", entity_id=created["id"])
    assert (entry["actor"], entry["action"]) == (me(client), "create")
    assert entry["actor"] == f"account:{entry['actor_account_id']}"
    assert entry["address"] == "testclient"
    assert entry["detail"]["organisation"] == "Territoire Habitat"
    # An anonymous caller writes nothing, so the trail has nothing to say.
    refused = client.post(
        f"/api/csp/{csp_id}/partners", json=PARTNER, headers={"Authorization": ""}
    )
    assert refused.status_code == 401
    assert len(trail(client, entity="partner")) == 1

    account_id, headers = signed_in(client, factory)
    mine = client.post(
        f"/api/csp/{csp_id}/partners", json={**PARTNER, "organisation": "Mairie"}, headers=headers
    ).json()
    entry = one(client, entity="partner", entity_id=mine["id"])
    assert entry["actor"] == f"account:{account_id}"
    assert entry["actor_account_id"] == account_id and entry["address"] == "testclient"
    assert one(client, actor=f"account:{account_id}", entity="partner")["id"] == entry["id"]


def test_a_cli_write_is_the_system_user(
    csp_id: int, database_url: str, monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    from psq.cli_common import database

    monkeypatch.setenv("DATABASE_URL", database_url)
    with database() as ctx:
        partner = gpos.create_partner(ctx, csp_id, PartnerCreate(**PARTNER))
    entry = one(client, entity="partner", entity_id=partner.id)
    assert entry["actor"] == f"cli:{getpass.getuser()}" and entry["address"] is None


def test_a_failed_write_leaves_no_entry(client: TestClient, csp_id: int) -> None:
    before = len(trail(client))
    bad = client.post(f"/api/csp/{csp_id}/partners", json={**PARTNER, "type": "inconnu"})
    assert bad.status_code == 422
    outside = client.post(
        f"/api/csp/{csp_id}/problems",
        json={"category": "rassemblements", "title": "Ailleurs", "lon": 2.35, "lat": 48.85},
    )
    assert outside.status_code == 422  # refused inside the service's transaction
    assert len(trail(client)) == before


# -- plans --------------------------------------------------------------------------------
def test_a_job_made_plan_carries_its_starter(
    client: TestClient, csp_id: int, factory: sessionmaker[Session]
) -> None:
    account_id, headers = signed_in(client, factory)
    response = client.post(f"/api/csp/{csp_id}/plans", json={"k": 2, "seed": 0}, headers=headers)
    assert response.status_code == 202
    job = wait_for_job(client, response.json())
    assert job["status"] == "done", job
    entry = one(client, entity="plan", action="create", entity_id=job["plan_id"])
    assert entry["actor"] == f"account:{account_id}" and entry["address"] == "testclient"
    assert entry["detail"]["parameters"]["k"] == 2 and entry["detail"]["csp_id"] == csp_id


def test_plan_adoption_editing_and_exports(client: TestClient, csp_id: int) -> None:
    plan = propose(client, csp_id, k=2, seed=0)
    pid = plan["id"]
    assert adopt(client, pid).status_code == 200
    adopted = one(client, entity="plan", action="adopt", entity_id=pid)
    assert adopted["changes"] == {"status": ["draft", "adopted"]}

    copy = client.post(f"/api/plans/{pid}/edit").json()
    started = one(client, entity="plan", action="start_editing", entity_id=copy["id"])
    assert started["detail"] == {"from_plan": pid}
    cells = client.get(f"/api/plans/{copy['id']}/cells").json()["features"]
    sectors = {c["properties"]["h3"]: c["properties"]["sector"] for c in cells}
    moved, _, target = border_cells(sectors, 2)
    edited = client.post(
        f"/api/plans/{copy['id']}/edits",
        json={"version": copy["version"], "assignments": dict.fromkeys(moved, target)},
    ).json()
    edit = one(client, entity="plan", action="edit", entity_id=copy["id"])
    assert edit["detail"]["moved_count"] == 2 and edit["detail"]["moved"] == sorted(moved)
    locks = client.put(
        f"/api/plans/{copy['id']}/locks", json={"version": edited["version"], "sectors": [0]}
    ).json()
    lock = one(client, entity="plan", action="lock", entity_id=copy["id"])
    assert lock["changes"] == {"locked_sectors": [[], [0]]}
    saved = client.post(
        f"/api/plans/{copy['id']}/save", json={"version": locks["version"], "comment": "Retouche"}
    )
    assert saved.status_code == 200, saved.text
    save = one(client, entity="plan", action="save_version", entity_id=copy["id"])
    assert save["changes"] == {"status": ["editing", "draft"]}
    assert save["detail"]["comment"] == "Retouche"
    assert client.delete(f"/api/plans/{copy['id']}").status_code == 204
    deleted = one(client, entity="plan", action="delete", entity_id=copy["id"])
    assert deleted["detail"]["status"] == "draft"

    export = client.get(f"/api/plans/{pid}/export", params={"format": "geojson", "crs": 2154})
    assert export.status_code == 200
    entry = one(client, entity="plan", action="export", entity_id=pid)
    assert entry["detail"] == {"format": "geojson", "crs": 2154}


def test_reoptimise_is_recorded(client: TestClient, csp_id: int) -> None:
    plan = propose(client, csp_id, k=3, seed=0)
    copy = client.post(f"/api/plans/{plan['id']}/edit").json()
    locked = client.put(
        f"/api/plans/{copy['id']}/locks", json={"version": copy["version"], "sectors": [0]}
    ).json()
    job = client.post(
        f"/api/plans/{copy['id']}/reoptimise", json={"version": locked["version"]}
    ).json()
    assert wait_for_job(client, job)["status"] == "done"
    entry = one(client, entity="plan", action="reoptimise", entity_id=copy["id"])
    assert entry["actor"] == me(client) and entry["detail"]["locked"] == [0]
    assert entry["detail"]["version"] == locked["version"]


# -- reading the trail --------------------------------------------------------------------
def test_filters_paging_and_csv(client: TestClient, csp_id: int) -> None:
    for name in ("A", "B", "C"):
        client.post(f"/api/csp/{csp_id}/partners", json={**PARTNER, "organisation": name})
    page = read(client, entity="partner", limit=2).json()
    assert (page["count"], page["total"], page["limit"], page["offset"]) == (2, 3, 2, 0)
    assert [e["detail"]["organisation"] for e in page["data"]] == ["C", "B"]  # newest first
    rest = read(client, entity="partner", limit=2, offset=2).json()
    assert [e["detail"]["organisation"] for e in rest["data"]] == ["A"]
    # the trail is stamped by PostgreSQL (real time), not by the app's frozen clock
    today, tomorrow = date.today(), date.today() + timedelta(days=1)
    assert len(trail(client, entity="partner", to=str(today))) == 3
    assert trail(client, entity="partner", **{"from": str(tomorrow)}) == []
    assert trail(client, action="nothing") == []
    assert len(trail(client, actor=me(client), entity="partner")) == 3
    bad = read(client, **{"from": str(tomorrow), "to": str(today)})
    assert bad.status_code == 422
    assert read(client, limit=0).status_code == 422

    response = read(client, "/api/audit-log.csv", entity="partner")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text), delimiter=";"))
    assert rows[0] == [
        "date",
        "acteur",
        "compte",
        "adresse",
        "action",
        "objet",
        "identifiant",
        "modifications",
        "détail",
        "en clair",
    ]
    assert len(rows) == 4 and {r[4] for r in rows[1:]} == {"create"}
    assert '"organisation": "C"' in rows[1][8]
    # the same entry in words, for a person: the partner's type named as the forms name it
    assert "Bailleur social" in rows[1][9] and "bailleur_social" not in rows[1][9]


def test_only_the_direction_reads_the_trail(
    client: TestClient, factory: sessionmaker[Session], csp_id: int
) -> None:
    for path in ("/api/audit-log", "/api/audit-log.csv"):
        anonymous = client.get(path, headers={"Authorization": ""})
        assert anonymous.status_code == 401
        assert anonymous.json()["type"] == "AuthenticationRequiredError"
    accounts.create_account(
        Context(factory).acting(Actor.cli("tests")),
        AccountCreate(
            email="referent@police.example",
            role="referent",
            password="un référent sûreté",
            csp_ids=[csp_id],
        ),
    )
    token = client.post(
        "/api/auth/token",
        data={"username": "referent@police.example", "password": "un référent sûreté"},
    ).json()["access_token"]
    for path in ("/api/audit-log", "/api/audit-log.csv"):
        refused = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403
        assert refused.json() == {
            "detail": "Accès refusé : votre rôle (Référent sûreté) ne permet pas cette "
            "opération (réservée à : Direction (DDSP)).",
            "type": "ForbiddenError",
            "code": "access_role_refused",
        }
    assert read(client).status_code == 200


def test_no_secret_in_the_trail(client: TestClient, factory: sessionmaker[Session]) -> None:
    signed_in(client, factory)
    text = read(client, "/api/audit-log.csv").text
    assert PASSWORD not in text and "psqs_" not in text and "argon2" not in text
