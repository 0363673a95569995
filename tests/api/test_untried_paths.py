"""Paths no test took before (issue 24): the partners list, the taxonomies, assigning
partners to a GPO, the default 20 MB document limit, the problems list's status and
category filters; and the route recorder that says every route is tried."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tests.route_log import CALLED

PARTNER = {
    "type": "bailleur_social",
    "organisation": "Office fictif de l'habitat",
    "contact_name": "Mme Exemple",
    "contact": "contact@bailleur.example",
}


def test_the_partners_list_holds_the_csp_partners(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    made = [
        client.post(f"/api/csp/{csp_id}/partners", json={**PARTNER, "organisation": name})
        for name in ("Office fictif A", "Office fictif B")
    ]
    assert [r.status_code for r in made] == [201, 201]
    listed = client.get(f"/api/csp/{csp_id}/partners")
    assert listed.status_code == 200
    body = listed.json()
    with engine.connect() as conn:
        in_db = conn.execute(
            text("SELECT count(*) FROM partner WHERE csp_id = :c"), {"c": csp_id}
        ).scalar()
    assert body["count"] == len(body["data"]) == in_db
    assert all(p["csp_id"] == csp_id for p in body["data"])
    ours = [p for p in body["data"] if p["organisation"].startswith("Office fictif")]
    assert sorted(p["organisation"] for p in ours) == ["Office fictif A", "Office fictif B"]
    for partner in ours:
        assert partner["type"] == "bailleur_social" and partner["type_label"] == "Bailleur social"
        assert partner["contact_name"] == "Mme Exemple" and partner["synthetic"] is False
    # The route recorder saw it (tests/route_log.py): the list is tried.
    assert ("GET", "/api/csp/{csp_id}/partners") in CALLED


def test_the_taxonomies(anonymous_client: TestClient) -> None:
    problems = anonymous_client.get("/api/taxonomy")
    assert problems.status_code == 200
    body = problems.json()
    assert body["statuses"]["signale"] == "Signalé"
    assert body["transitions"]["actions_en_cours"] == ["clos_sans_suite", "evalue"]
    assert body["partner_types"]["bailleur_social"] == "Bailleur social"
    assert set(body) >= {"categories", "priorities", "action_types", "outcomes", "themes"}
    assert body["themes"]["transports"] == "Transports"
    audits = anonymous_client.get("/api/audits/taxonomy")
    assert audits.status_code == 200
    studies = audits.json()
    assert set(studies["open_statuses"]) <= set(studies["statuses"])
    assert studies["evidence_radius_m"] > 0
    assert all(t in studies["statuses"] for v in studies["transitions"].values() for t in v)


def test_partners_are_assigned_to_a_gpo(
    client: TestClient, demo_adopted: sessionmaker[Session]
) -> None:
    del demo_adopted
    csp_id = client.get("/api/csp").json()["data"][0]["id"]
    gpo = client.get(f"/api/csp/{csp_id}/gpos").json()["data"][0]
    ids = [
        client.post(f"/api/csp/{csp_id}/partners", json={**PARTNER, "organisation": n}).json()["id"]
        for n in ("Office fictif C", "Office fictif D")
    ]
    assigned = client.patch(
        f"/api/gpos/{gpo['id']}", json={"partner_ids": ids, "version": gpo["version"]}
    )
    assert assigned.status_code == 200, assigned.text
    after = assigned.json()
    assert sorted(after["partner_ids"]) == sorted(ids)
    assert after["version"] == gpo["version"] + 1
    assert sorted(client.get(f"/api/gpos/{gpo['id']}").json()["partner_ids"]) == sorted(ids)
    entry = client.get("/api/audit-log", params={"entity": "gpo"}).json()["data"][0]
    assert entry["action"] == "update" and entry["entity_id"] == str(gpo["id"])
    assert sorted(entry["changes"]["partner_ids"][1]) == sorted(ids)


def test_the_default_document_limit_is_20_mb(client: TestClient) -> None:
    """20 MiB and a multipart margin of 256 KiB (api/uploads.py): a 20.5 MiB document is
    refused from its Content-Length, before any route reads it."""
    limit = 20 * 1024 * 1024
    response = client.post(
        "/api/audits/1/document",
        files={"file": ("rapport.pdf", b"%PDF" + b"0" * (limit + 512 * 1024))},
    )
    assert response.status_code == 413, response.text
    body = response.json()
    assert (body["type"], body["field"], body["kind"]) == ("TooLargeError", "file", "document")
    assert body["limit_bytes"] == limit
    assert body["detail"].startswith("Fichier : fichier trop volumineux")


def test_the_problems_list_filters_by_status_and_category(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    with engine.connect() as conn:
        (category, status), *_ = conn.execute(
            text(
                "SELECT category, status FROM problem WHERE csp_id = :c "
                "GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2"
            ),
            {"c": csp_id},
        ).all()
        statuses = [s for (s,) in conn.execute(text("SELECT DISTINCT status FROM problem"))][:2]

        def count(sql: str, **params: object) -> int:
            return int(conn.execute(text(sql), {"c": csp_id, **params}).scalar() or 0)

        both = count(
            "SELECT count(*) FROM problem WHERE csp_id = :c AND category = :k AND status = :s",
            k=category,
            s=status,
        )
        either = count(
            "SELECT count(*) FROM problem WHERE csp_id = :c AND status = ANY(:s)", s=statuses
        )
    url = f"/api/csp/{csp_id}/problems"
    page = client.get(url, params={"category": category, "status": status}).json()
    assert page["count"] == both > 0
    assert {(f["properties"]["category"], f["properties"]["status"]) for f in page["features"]} == {
        (category, status)
    }
    several = client.get(url, params={"status": statuses, "limit": 10}).json()
    assert several["count"] == either and len(several["features"]) == min(10, either)
    assert {f["properties"]["status"] for f in several["features"]} <= set(statuses)
    refused = client.get(url, params={"status": "inconnu"})
    assert refused.status_code == 422 and refused.json()["fields"][0]["field"] == "status"


def test_the_openapi_document_and_a_static_file(anonymous_client: TestClient) -> None:
    document = anonymous_client.get("/openapi.json")
    assert document.status_code == 200
    body = document.json()
    assert body["openapi"].startswith("3.") and body["info"]["title"] == "PSQ Secteurs"
    partners = body["paths"]["/api/csp/{csp_id}/partners"]
    assert set(partners) == {"get", "post"}
    # Every 422 has the one error shape (api.errors._one_error_shape).
    invalid = partners["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert invalid["$ref"].endswith("/ErrorPublic")
    script = anonymous_client.get("/static/js/api.js")
    assert script.status_code == 200 and "export const isoDay" in script.text
    assert ("GET", "/static/{path}") in CALLED and ("GET", "/openapi.json") in CALLED
