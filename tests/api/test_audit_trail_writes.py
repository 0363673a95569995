"""The audit trail (issue 16) of the other writes: problems and their life cycle, GPOs,
safety studies and their documents, the territory, layers, grids, addresses and the
synthetic data of the demo loader, and the printed sheets and reports downloaded."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.audit_helpers import me, one, read, trail
from tests.clock import TODAY
from tests.plan_helpers import adopt, propose

BELFORT = (6.8628, 47.6379)
PLACE_ARMES = (6.8640, 47.6378)
SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "ban_sample_belfort.csv"


def test_problem_writes(client: TestClient, csp_id: int) -> None:
    reported = TODAY - timedelta(days=30)
    problem = client.post(
        f"/api/csp/{csp_id}/problems",
        json={
            "category": "rassemblements",
            "title": "Hall",
            "lon": BELFORT[0],
            "lat": BELFORT[1],
            "reported_on": str(reported),
        },
    ).json()
    pid = problem["id"]
    created = one(client, entity="problem", action="create", entity_id=pid)
    assert created["detail"]["category"] == "rassemblements" and created["actor"] == me(client)

    url = f"/api/problems/{pid}/transitions"
    assert client.post(url, json={"status": "analyse", "on": str(reported)}).status_code == 200
    step = one(client, entity="problem", action="transition", entity_id=pid)
    assert step["changes"] == {"status": ["signale", "analyse"]}

    action = client.post(
        f"/api/problems/{pid}/actions",
        json={"type": "parties_communes", "start_on": str(reported)},
    ).json()["actions"][0]
    made = one(client, entity="action", action="create", entity_id=action["id"])
    assert made["changes"]["type"] == [None, "parties_communes"]
    assert made["detail"] == {"problem_id": pid}
    patched = client.patch(f"/api/actions/{action['id']}", json={"status": "en_cours"})
    assert patched.status_code == 200
    updated = one(client, entity="action", action="update", entity_id=action["id"])
    assert updated["changes"] == {"status": ["prevue", "en_cours"]}

    evaluated = client.post(
        f"/api/problems/{pid}/evaluations",
        json={"evaluated_on": str(TODAY), "outcome": "positif"},
    )
    assert evaluated.status_code == 201
    assert one(client, entity="problem", action="evaluate", entity_id=pid)["detail"]["outcome"] == (
        "positif"
    )

    csv_file = "category,title,reported_on,lon,lat\nnuisances,Tapage,2025-01-01,6.86,47.638\n"
    imported = client.post(
        f"/api/csp/{csp_id}/problems/import", files={"file": ("p.csv", csv_file.encode())}
    )
    assert imported.status_code in (200, 201), imported.text
    entry = one(client, entity="problem", action="import")
    assert entry["detail"]["count"] == 1 and entry["detail"]["file"] == "p.csv"


def test_gpo_writes(client: TestClient, csp_id: int) -> None:
    plan = propose(client, csp_id, k=2, seed=0)
    adopt(client, plan["id"])
    gpo = client.get(f"/api/csp/{csp_id}/gpos").json()["data"][0]
    assert client.patch(f"/api/gpos/{gpo['id']}", json={"cadence_days": 30}).status_code == 200
    update = one(client, entity="gpo", action="update", entity_id=gpo["id"])
    assert update["changes"] == {"cadence_days": [15, 30]}
    meeting = client.post(
        f"/api/gpos/{gpo['id']}/meetings", json={"held_on": str(TODAY), "place": "Mairie"}
    ).json()
    entry = one(client, entity="meeting", action="create", entity_id=meeting["id"])
    assert entry["changes"] == {"held_on": [None, str(TODAY)], "place": [None, "Mairie"]}
    assert entry["detail"] == {"gpo_id": gpo["id"], "invited": [], "e-mails": 0}
    thematic = client.post(
        f"/api/csp/{csp_id}/gpos",
        json={"name": "GPO transports", "theme": "transports", "sectors": [0, 1]},
    ).json()
    made = one(client, entity="gpo", action="create", entity_id=thematic["id"])
    assert made["changes"]["name"] == [None, "GPO transports"]

    pack = client.get(f"/gpo/{gpo['id']}/reunion")  # the page on screen is not an export
    assert pack.status_code == 200
    assert trail(client, action="export") == []


def test_audit_request_writes_and_download(client: TestClient, csp_id: int) -> None:
    referent = client.post(
        f"/api/csp/{csp_id}/referents", json={"name": "Cne Durand", "grade": "Capitaine"}
    ).json()
    made = one(client, entity="referent", action="create", entity_id=referent["id"])
    assert made["changes"]["name"] == [None, "Cne Durand"]
    filed = client.post(
        "/api/audits",
        json={
            "commune_code": "90010",
            "kind": "videoprotection",
            "site": {"type": "Point", "coordinates": list(PLACE_ARMES)},
            "site_name": "Place d'Armes",
            "need": "Rassemblements nocturnes.",
            "contact_name": "Mme Martin",
            "contact_email": "securite@mairie-belfort.example",
        },
    ).json()
    rid = filed["id"]
    entry = one(client, entity="audit_request", action="create", entity_id=rid)
    assert entry["detail"]["commune_code"] == "90010"
    url = f"/api/audits/{rid}/transitions"
    for body in (
        {"status": "acceptee"},
        {"status": "planifiee", "planned_on": str(TODAY), "referent_id": referent["id"]},
        {"status": "realisee"},
    ):
        assert client.post(url, json=body).status_code == 200
    steps = trail(client, entity="audit_request", action="transition", entity_id=rid)
    assert [e["changes"]["status"] for e in steps] == [
        ["planifiee", "realisee"],
        ["acceptee", "planifiee"],
        ["demandee", "acceptee"],
    ]
    pdf = b"%PDF-1.4 preconisations confidentielles"
    uploaded = client.post(
        f"/api/audits/{rid}/document", files={"file": ("preco.pdf", pdf, "application/pdf")}
    )
    assert uploaded.status_code == 200
    upload = one(client, entity="audit_document", action="upload", entity_id=rid)
    assert upload["detail"] == {
        "filename": "preco.pdf",
        "media_type": "application/pdf",
        "size": len(pdf),
    }
    assert client.get(f"/api/audits/{rid}/document").content == pdf
    download = one(client, entity="audit_document", action="download", entity_id=rid)
    assert download["detail"]["size"] == len(pdf)
    assert "confidentielles" not in read(client, "/api/audit-log.csv").text


def test_addresses_grid_and_layer_writes(client: TestClient, csp_id: int) -> None:
    imported = client.post(
        "/api/addresses/import", files={"file": (SAMPLE.name, SAMPLE.read_bytes())}
    )
    assert imported.status_code == 201
    entry = one(client, entity="addresses", action="import")
    assert entry["detail"]["count"] == 9 and entry["detail"]["communes"]
    grid = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 8}).json()
    built = one(client, entity="grid", action="build", entity_id=grid["id"])
    assert built["detail"]["resolution"] == 8 and built["actor"] == me(client)


def test_the_demo_loader_writes_as_cli_demo(
    client: TestClient, demo_adopted: sessionmaker[Session]
) -> None:
    del demo_adopted
    demo = trail(client, actor="cli:demo")
    kinds = {(e["entity"], e["action"]) for e in demo}
    assert {
        ("csp", "import"),
        ("layer", "import"),
        ("qpv_list", "import"),
        ("grid", "build"),
        ("problem", "load_synthetic"),
        ("plan", "create"),
        ("plan", "adopt"),
        ("audit_request", "load_synthetic"),
        ("meeting", "load_synthetic"),
    } <= kinds
    csp = next(e for e in demo if e["entity"] == "csp")
    assert csp["detail"]["communes_inserted"] > 0
    assert all(e["actor"] == "cli:demo" and e["address"] is None for e in demo)
    loaded = next(e for e in demo if e["entity"] == "problem")
    assert loaded["detail"]["count"] > 0

    csp_id = client.get("/api/csp").json()["data"][0]["id"]
    report = client.get("/api/reports", params={"csp": csp_id, "format": "csv"})
    assert report.status_code == 200
    export = one(client, entity="report", action="export")
    assert export["detail"]["csp_id"] == csp_id and export["actor"] == me(client)
    assert client.get("/api/reports", params={"csp": csp_id}).status_code == 200
    assert len(trail(client, action="export")) == 1  # the JSON report is not an export
