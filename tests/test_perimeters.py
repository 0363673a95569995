"""What each perimeter keeps from the others, beyond ids in paths (tests/test_access.py):
documents of requests, reports without a CSP, partners' contacts, the folium map,
the référents' evidence, communes, GPO contacts, a partner without its organisation.
Each was a leak found by a review of the authorization."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from api.schemas import PartnerCreate
from api.services import gpos
from tests.access_world import World
from tests.clock import TODAY
from tests.roles import bearer_for


def _ctx(world: World) -> Any:
    return world.client.app.state.context  # type: ignore[attr-defined]


def _carried_out_with_document(world: World, not_of: str) -> int:
    """A request of another commune than ``not_of``, carried out by the admin, with its
    recommendations' document."""
    client, admin, csp = world.client, world.headers["admin"], world.ids["csp_id"]
    order = ["demandee", "acceptee", "planifiee", "realisee"]
    target = next(
        r
        for r in client.get("/api/audits", headers=admin).json()["data"]
        if r["commune_code"] != not_of and r["status"] in order
    )
    referent = client.get(f"/api/csp/{csp}/referents", headers=admin).json()["data"][0]["id"]
    today = str(TODAY)
    steps = {
        "acceptee": {"status": "acceptee", "on": today},
        "planifiee": {
            "status": "planifiee",
            "on": today,
            "planned_on": today,
            "referent_id": referent,
        },
        "realisee": {"status": "realisee", "on": today},
    }
    for name in order[order.index(target["status"]) + 1 :]:
        step = client.post(
            f"/api/audits/{target['id']}/transitions", json=steps[name], headers=admin
        )
        assert step.status_code == 200, step.text
    uploaded = client.post(
        f"/api/audits/{target['id']}/document",
        files={"file": ("preco.txt", b"Preconisations confidentielles", "text/plain")},
        headers=admin,
    )
    assert uploaded.status_code == 200, uploaded.text
    return int(target["id"])


def test_another_perimeters_document_does_not_exist(world: World, massy: int) -> None:
    client, commune = world.client, world.headers["commune"]
    own = client.get("/api/me", headers=commune).json()["commune_codes"][0]
    request_id = _carried_out_with_document(world, not_of=own)
    other_referent = bearer_for(_ctx(world), "referent", csp_ids=[massy])
    for headers in (commune, other_referent):
        assert client.get(f"/api/audits/{request_id}", headers=headers).status_code == 404
        got = client.get(f"/api/audits/{request_id}/document", headers=headers)
        assert got.status_code == 404 and b"confidentielles" not in got.content
    mine = client.get(f"/api/audits/{request_id}/document", headers=world.headers["referent"])
    assert mine.status_code == 200 and mine.content == b"Preconisations confidentielles"


def test_a_report_without_a_csp_covers_the_callers_csps_only(world: World, massy: int) -> None:
    client = world.client
    planner = bearer_for(_ctx(world), "planificateur", csp_ids=[massy])
    every = client.get("/api/reports", headers=world.headers["admin"]).json()
    assert every["problems_opened"] > 0
    mine = client.get("/api/reports", headers=planner)
    assert mine.status_code == 200
    # Massy has no problem, no meeting, no adopted sector: nothing of the demo's counts.
    body = mine.json()
    assert (body["problems_opened"], body["meetings_held"], body["sectors"]) == (0, 0, 0)
    as_csv = client.get("/api/reports", params={"format": "csv"}, headers=planner)
    assert as_csv.status_code == 200
    own = client.get("/api/reports", headers=world.headers["planificateur"]).json()
    assert own["problems_opened"] == every["problems_opened"]  # its CSP is all there is


def test_a_partner_reads_the_contacts_of_its_gpos_partners_only(world: World) -> None:
    client, ids = world.client, world.ids
    admin = world.headers["admin"]
    member, stranger = (
        gpos.create_partner(
            _ctx(world),
            ids["csp_id"],
            PartnerCreate(organisation=name, type=kind, contact_name=person, contact=phone),
        )
        for name, kind, person, phone in (
            ("Mairie", "mairie", "M. Adjoint", "03 84 00 00 00"),
            ("Association hors GPO", "association", "Mme Confidentielle", "06 12 34 56 78"),
        )
    )
    joined = client.patch(
        f"/api/gpos/{ids['gpo_id']}", json={"partner_ids": [member.id]}, headers=admin
    )
    assert joined.status_code == 200, joined.text
    for role in ("partenaire", "chef"):
        seen = {
            p["id"]: p
            for p in client.get(
                f"/api/csp/{ids['csp_id']}/partners", headers=world.headers[role]
            ).json()["data"]
        }
        assert seen[member.id]["contact"] == "03 84 00 00 00"
        assert seen[stranger.id]["organisation"] == "Association hors GPO"
        assert (seen[stranger.id]["contact_name"], seen[stranger.id]["contact"]) == (None, None)


def test_the_planners_folium_map_draws_no_problem(world: World) -> None:
    client, csp = world.client, world.ids["csp_id"]
    planner, admin = world.headers["planificateur"], world.headers["admin"]
    theirs = client.get("/cartographie/carte.html", params={"csp": csp}, headers=planner)
    assert theirs.status_code == 200 and "L.circleMarker(" not in theirs.text
    assert "signalée le" not in theirs.text
    direction = client.get("/cartographie/carte.html", params={"csp": csp}, headers=admin)
    assert direction.text.count("L.circleMarker(") > 10


def test_a_commune_gets_no_evidence_counts(world: World) -> None:
    client, csp = world.client, world.ids["csp_id"]
    refused = client.get(
        "/api/audits",
        params={"csp": csp, "evidence": "true", "radius": 25},
        headers=world.headers["commune"],
    )
    assert refused.status_code == 403 and "evidence" in refused.json()["detail"]
    queue = client.get(
        "/api/audits", params={"csp": csp, "evidence": "true"}, headers=world.headers["referent"]
    )
    assert queue.status_code == 200 and "evidence" in queue.json()["data"][0]


def test_the_chefs_contact_is_for_the_gpo_and_the_direction(world: World) -> None:
    client, ids, admin = world.client, world.ids, world.headers["admin"]
    chief = {"chief_name": "Cne Martin", "chief_contact": "06 99 88 77 66"}
    assert client.patch(f"/api/gpos/{ids['gpo_id']}", json=chief, headers=admin).status_code == 200
    for role, contact in (
        ("planificateur", None),
        ("chef", "06 99 88 77 66"),
        ("partenaire", "06 99 88 77 66"),
        ("admin", "06 99 88 77 66"),
    ):
        gpo = client.get(f"/api/gpos/{ids['gpo_id']}", headers=world.headers[role]).json()
        assert (gpo["chief_name"], gpo["chief_contact"]) == ("Cne Martin", contact), role


def test_communes_are_listed_within_the_perimeter(world: World, massy: int) -> None:
    client = world.client
    planner = bearer_for(_ctx(world), "planificateur", csp_ids=[massy])
    codes = [f["id"] for f in client.get("/api/communes", headers=planner).json()["features"]]
    assert codes == ["91377"]
    commune = client.get("/api/communes", headers=world.headers["commune"]).json()["features"]
    own = client.get("/api/me", headers=world.headers["commune"]).json()["commune_codes"]
    assert [f["id"] for f in commune] == own


def test_a_partner_without_its_organisation_updates_nothing(world: World, engine: Any) -> None:
    client, ids, admin = world.client, world.ids, world.headers["admin"]
    # An account cannot be made so…
    made = client.post(
        "/api/accounts",
        json={
            "email": "p@x.example",
            "role": "partenaire",
            "password": "une longue phrase",
            "gpo_ids": [ids["gpo_id"]],
        },
        headers=admin,
    )
    assert made.status_code == 422 and made.json()["fields"][0]["field"] == "partner"
    # …but its organisation may go (a partner removed: ON DELETE SET NULL).
    with engine.begin() as conn:
        conn.execute(text("UPDATE account SET partner_id = NULL WHERE role = 'partenaire'"))
    unled = client.post(
        f"/api/problems/{ids['problem_id']}/actions", json={"type": "patrouilles"}, headers=admin
    ).json()["actions"][-1]
    for action_id in (unled["id"], ids["action_id"]):
        refused = client.patch(
            f"/api/actions/{action_id}",
            json={"status": "realisee"},
            headers=world.headers["partenaire"],
        )
        assert refused.status_code == 403


def test_a_thematic_gpos_partner_reads_its_themes_problems_only(world: World) -> None:
    """The transport operator of the « Transports » GPO reads the transport problems of the
    sectors that GPO spans, not the other problems of those sectors."""
    client, ids, admin = world.client, world.ids, world.headers["admin"]
    everything = client.get(f"/api/csp/{ids['csp_id']}/gpos", headers=admin).json()["data"]
    theme = next(g for g in everything if g["kind"] == "thematic" and g["categories"])
    operator = theme["partner_ids"][0]
    header = bearer_for(_ctx(world), "partenaire", gpo_ids=[theme["id"]], partner_id=operator)
    seen = client.get(
        f"/api/csp/{ids['csp_id']}/problems", params={"limit": 100000}, headers=header
    ).json()["features"]
    assert seen, "the theme's sectors hold transport problems"
    assert {f["properties"]["category"] for f in seen} <= set(theme["categories"])
    all_in_sectors = client.get(
        f"/api/csp/{ids['csp_id']}/problems",
        params={"sector": theme["sectors"], "limit": 100000},
        headers=admin,
    ).json()["features"]
    other = next(
        f for f in all_in_sectors if f["properties"]["category"] not in theme["categories"]
    )
    assert client.get(f"/api/problems/{other['id']}", headers=header).status_code == 404
    assert {f["id"] for f in seen} == {
        f["id"] for f in all_in_sectors if f["properties"]["category"] in theme["categories"]
    }
