"""A GPO's meetings through the API, as its chef and its partner would run them: plan and
invite (the outbox holds one e-mail per recipient with an .ics file), the agenda, the
attendance, decisions carried out at once, the close with its stored compte rendu, and
the follow-up of the actions decided (dated, signed steps; « Mes actions »)."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from pypdf import PdfReader
from sqlalchemy import Engine, text

from tests.access_world import World, other_gpo_problem
from tests.clock import TODAY


def _outbox(engine: Engine, meeting_id: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT kind, recipient, subject, attachment FROM notification "
                "WHERE entity_type = 'meeting' AND entity_id = :m ORDER BY id"
            ),
            {"m": meeting_id},
        ).mappings()
        return [dict(r) for r in rows]


def _event(ics: bytes) -> Any:
    calendar = icalendar.Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def _problems_of(engine: Engine, gpo_id: int, after: date, until: date) -> set[int]:
    """The problems placed in a sector GPO reported in (after, until]: counted from the
    placement table's ``gpo_id``, not the way the agenda selects them."""
    with engine.connect() as conn:
        return set(
            conn.scalars(
                text(
                    "SELECT p.id FROM problem p JOIN problem_place pp ON pp.problem_id = p.id "
                    "WHERE pp.gpo_id = :g AND p.reported_on > :a AND p.reported_on <= :u"
                ),
                {"g": gpo_id, "a": after, "u": until},
            )
        )


def test_a_chef_runs_a_meeting_from_invitation_to_compte_rendu(
    world: World, engine: Engine
) -> None:
    client, ids = world.client, world.ids
    chef, partner = world.headers["chef"], world.headers["partenaire"]
    gpo_id, problem_id = ids["gpo_id"], ids["problem_id"]
    gpo = client.get(f"/api/gpos/{gpo_id}", headers=chef).json()
    members = gpo["partner_ids"]
    chef_email = client.get("/api/me", headers=chef).json()["email"]
    partner_email = client.get("/api/me", headers=partner).json()["email"]

    # Plan: every partner of the GPO invited; one e-mail per recipient with its .ics.
    planned = client.post(
        f"/api/gpos/{gpo_id}/meetings",
        json={"held_on": str(TODAY), "starts_at": "09:30", "place": "Salle du conseil"},
        headers=chef,
    )
    assert planned.status_code == 201, planned.text
    meeting = planned.json()
    assert meeting["status"] == "prevue" and meeting["invited_at"] is not None
    assert sorted(p["partner_id"] for p in meeting["partners"]) == sorted(members)
    assert all(p["invited"] and p["present"] is None for p in meeting["partners"])
    mails = _outbox(engine, meeting["id"])
    assert {m["recipient"] for m in mails} >= {chef_email, partner_email}
    assert all(m["kind"] == "meeting_invitation" for m in mails)
    calendar, event = _event(mails[0]["attachment"])
    assert str(calendar["METHOD"]) == "REQUEST" and gpo["name"] in str(event["SUMMARY"])
    paris = datetime.combine(TODAY, datetime.strptime("09:30", "%H:%M").time())
    start = paris.replace(tzinfo=ZoneInfo("Europe/Paris"))
    assert event.decoded("DTSTART") == start and str(event["LOCATION"]) == "Salle du conseil"
    # The invitation as a file, for members only.
    ics = client.get(f"/api/meetings/{meeting['id']}/invitation.ics", headers=partner)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert _event(ics.content)[1]["UID"] == event["UID"]
    commune = world.headers["commune"]
    assert client.get(f"/api/meetings/{meeting['id']}", headers=commune).status_code == 403

    # The agenda: the problems of the GPO reported since its last closed meeting.
    agenda = client.get(f"/api/meetings/{meeting['id']}/agenda", headers=partner).json()
    since = date.fromisoformat(agenda["since"])
    assert since == date.fromisoformat(gpo["last_meeting_on"])
    assert {p["id"] for p in agenda["new_problems"]} == _problems_of(engine, gpo_id, since, TODAY)
    assert all(date.fromisoformat(a["due_on"]) <= TODAY for a in agenda["due_actions"])
    # Hot-spot changes: the comparison of the GPO's last 90 days with the 90 before.
    compared = client.get(
        f"/api/csp/{ids['csp_id']}/hotspots/comparison", params={"gpo": gpo_id}, headers=chef
    ).json()
    trends = [f["properties"]["trend"] for f in compared["features"]]
    assert {c["trend"]: c["cells"] for c in agenda["hotspot_changes"]} == {
        t: trends.count(t) for t in ("new", "intensifying", "persistent", "diminishing")
    }

    # Attendance and minutes; a partner does not write them; a stale version is a 409.
    assert (
        client.patch(f"/api/meetings/{meeting['id']}", json={"notes": "x"}, headers=partner)
    ).status_code == 403
    present = members[0]
    attended = client.patch(
        f"/api/meetings/{meeting['id']}",
        json={
            "attendance": [{"partner_id": present, "present": True, "represented_by": "M. Roy"}],
            "attendees": ["Brigadier Leroy"],
            "notes": "Tour de table des problématiques.",
            "version": meeting["version"],
        },
        headers=chef,
    )
    assert attended.status_code == 200, attended.text
    row = next(p for p in attended.json()["partners"] if p["partner_id"] == present)
    assert row["present"] and row["represented_by"] == "M. Roy"
    stale = client.patch(
        f"/api/meetings/{meeting['id']}",
        json={"notes": "autre", "version": meeting["version"]},
        headers=chef,
    )
    assert stale.status_code == 409 and "version" in stale.json()["detail"]

    # Decisions, carried out at once.
    lead = ids["partner_id"]
    due = TODAY + timedelta(days=21)
    decided = client.post(
        f"/api/meetings/{meeting['id']}/decisions",
        json={
            "kind": "action",
            "problem_id": problem_id,
            "text": "Rondes en soirée",
            "action": {"type": "patrouilles", "lead_partner_id": lead, "due_on": str(due)},
        },
        headers=chef,
    )
    assert decided.status_code == 201, decided.text
    decision = decided.json()["decisions"][-1]
    assert decision["kind"] == "action" and decision["problem_id"] == problem_id
    assert "Rondes en soirée" in decision["text"] and decision["action_id"] is not None
    action = client.get(f"/api/actions/{decision['action_id']}", headers=partner).json()
    assert action["lead_partner_id"] == lead and action["due_on"] == str(due)
    assert [e["status"] for e in action["events"]] == ["prevue"]
    step = client.post(
        f"/api/meetings/{meeting['id']}/decisions",
        json={"kind": "step", "problem_id": problem_id, "step": {"status": "actions_en_cours"}},
        headers=chef,
    )
    assert step.status_code == 201, step.text
    problem = client.get(f"/api/problems/{problem_id}", headers=chef).json()
    assert problem["status"] == "actions_en_cours"
    note = client.post(
        f"/api/meetings/{meeting['id']}/decisions",
        json={"kind": "note", "text": "Point sur la vidéoprotection au prochain GPO."},
        headers=chef,
    )
    assert note.status_code == 201
    # Refused, naming the field: a problem of another GPO, a lead partner outside it.
    _, foreign = other_gpo_problem(world)
    other = client.post(
        f"/api/meetings/{meeting['id']}/decisions",
        json={"kind": "note", "problem_id": foreign, "text": "hors GPO"},
        headers=world.headers["admin"],
    )
    assert other.status_code == 422 and other.json()["fields"][0]["field"] == "problem_id"
    outsider = client.post(
        f"/api/csp/{ids['csp_id']}/partners",
        json={"organisation": "Association hors GPO", "type": "association"},
        headers=chef,
    ).json()
    refused = client.post(
        f"/api/meetings/{meeting['id']}/decisions",
        json={
            "kind": "action",
            "problem_id": problem_id,
            "action": {"type": "prevention", "lead_partner_id": outsider["id"]},
        },
        headers=chef,
    )
    assert refused.status_code == 422 and refused.json()["fields"][0]["field"] == "lead_partner_id"
    missing = client.post(
        f"/api/meetings/{meeting['id']}/decisions",
        json={"kind": "action", "problem_id": problem_id},
        headers=chef,
    )
    assert missing.status_code == 422

    # Close: the compte rendu is stored, for members; the next date from the cadence.
    closed = client.post(f"/api/meetings/{meeting['id']}/close", json={}, headers=chef)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "close" and body["has_report"] and body["closed_by"]
    weeks = round(gpo["cadence_days"] / 7)
    assert body["next_proposed_on"] == str(TODAY + timedelta(weeks=weeks))
    pdf = client.get(f"/api/meetings/{meeting['id']}/compte-rendu.pdf", headers=partner)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    words = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "DIFFUSION RESTREINTE" in words.upper() and "Rondes en soirée" in words
    again = client.post(f"/api/meetings/{meeting['id']}/close", json={}, headers=chef)
    assert again.status_code == 409 and "close" in again.json()["detail"]
    late = client.patch(f"/api/meetings/{meeting['id']}", json={"notes": "x"}, headers=chef)
    assert late.status_code == 409
    after = client.get(f"/api/gpos/{gpo_id}", headers=chef).json()
    assert after["last_meeting_on"] == str(TODAY) and not after["overdue"]
    with engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT action FROM audit_log WHERE entity = 'meeting' AND entity_id = :m "
                "ORDER BY id"
            ),
            {"m": str(meeting["id"])},
        ).scalars()
        assert list(logged) == ["create", "update", "decide", "decide", "decide", "close", "export"]


def test_planning_is_checked_and_changes_are_told(world: World, engine: Engine) -> None:
    client, ids, chef = world.client, world.ids, world.headers["chef"]
    gpo_id = ids["gpo_id"]
    # Before the GPO existed, more than a year ahead, a partner outside the GPO: refused.
    for held_on in (date(2000, 1, 1), TODAY + timedelta(days=400)):
        bad = client.post(
            f"/api/gpos/{gpo_id}/meetings", json={"held_on": str(held_on)}, headers=chef
        )
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "held_on"
    outsider = client.post(
        f"/api/csp/{ids['csp_id']}/partners",
        json={"organisation": "Transporteur hors GPO", "type": "transporteur"},
        headers=chef,
    ).json()
    bad = client.post(
        f"/api/gpos/{gpo_id}/meetings",
        json={"held_on": str(TODAY + timedelta(days=7)), "invited_partner_ids": [outsider["id"]]},
        headers=chef,
    )
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "invited_partner_ids"

    members = client.get(f"/api/gpos/{gpo_id}", headers=chef).json()["partner_ids"]
    meeting = client.post(
        f"/api/gpos/{gpo_id}/meetings",
        json={"held_on": str(TODAY + timedelta(days=7)), "starts_at": "14:00"},
        headers=chef,
    ).json()
    invitations = _outbox(engine, meeting["id"])
    # A planned meeting in the future does not close: its state forbids it (409).
    early = client.post(f"/api/meetings/{meeting['id']}/close", json={}, headers=chef)
    assert early.status_code == 409 and early.json()["fields"][0]["field"] == "held_on"
    # Rescheduled: the invited are told, with a later SEQUENCE of the same UID.
    moved = client.patch(
        f"/api/meetings/{meeting['id']}",
        json={"held_on": str(TODAY + timedelta(days=8)), "place": "Mairie annexe"},
        headers=chef,
    )
    assert moved.status_code == 200, moved.text
    changes = [m for m in _outbox(engine, meeting["id"]) if m["kind"] == "meeting_change"]
    assert {m["recipient"] for m in changes} == {m["recipient"] for m in invitations}
    _, first = _event(invitations[0]["attachment"])
    _, second = _event(changes[0]["attachment"])
    assert second["UID"] == first["UID"] and int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(second["LOCATION"]) == "Mairie annexe"
    # One partner uninvited: its recipients get a cancellation.
    if len(members) > 1:
        kept = members[1:]
        client.patch(
            f"/api/meetings/{meeting['id']}", json={"invited_partner_ids": kept}, headers=chef
        )
        cancellations = [
            m for m in _outbox(engine, meeting["id"]) if m["kind"] == "meeting_cancellation"
        ]
        assert cancellations
        calendar, _ = _event(cancellations[0]["attachment"])
        assert str(calendar["METHOD"]) == "CANCEL"
    # Cancelled: told to all, then nothing changes any more.
    cancelled = client.post(f"/api/meetings/{meeting['id']}/cancel", json={}, headers=chef)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "annulee"
    ics = client.get(f"/api/meetings/{meeting['id']}/invitation.ics", headers=chef)
    assert str(_event(ics.content)[0]["METHOD"]) == "CANCEL"
    assert (
        client.post(
            f"/api/meetings/{meeting['id']}/decisions",
            json={"kind": "note", "text": "trop tard"},
            headers=chef,
        ).status_code
        == 409
    )
    no_report = client.get(f"/api/meetings/{meeting['id']}/compte-rendu.pdf", headers=chef)
    assert no_report.status_code == 404


def test_an_action_goes_through_its_cycle_signed_by_who_acts(world: World) -> None:
    client, ids = world.client, world.ids
    chef, partner = world.headers["chef"], world.headers["partenaire"]
    action_id = ids["action_id"]
    mine = client.get("/api/actions", params={"mine": "true"}, headers=partner).json()
    assert action_id in {a["id"] for a in mine["data"]}
    assert {a["lead_partner_id"] for a in mine["data"]} == {ids["partner_id"]}
    action = client.get(f"/api/actions/{action_id}", headers=partner).json()
    assert action["status"] == "prevue" and action["version"] == 1

    def patch(body: dict[str, Any], headers: dict[str, str] = partner) -> Any:
        return client.patch(f"/api/actions/{action_id}", json=body, headers=headers)

    assert patch({}).status_code == 422  # nothing to record
    skip = patch({"status": "realisee"})
    assert skip.status_code == 409 and "En cours" in skip.json()["detail"]
    future = patch({"status": "en_cours", "on": str(TODAY + timedelta(days=2))})
    assert future.status_code == 422 and future.json()["fields"][0]["field"] == "on"
    early_due = patch({"due_on": str(date.fromisoformat(action["start_on"]) - timedelta(days=1))})
    assert early_due.status_code == 422 and early_due.json()["fields"][0]["field"] == "due_on"
    started = patch({"status": "en_cours", "comment": "Première ronde faite", "version": 1})
    assert started.status_code == 200, started.text
    step = started.json()["events"][-1]
    me = client.get("/api/me", headers=partner).json()
    assert step["status"] == "en_cours" and step["comment"] == "Première ronde faite"
    assert step["on"] == str(TODAY) and me["name"] in step["signed_by"]
    assert "Bailleur social" in step["signed_by"]
    stale = patch({"status": "realisee", "version": 1})
    assert stale.status_code == 409
    postponed = patch({"due_on": str(TODAY + timedelta(days=30)), "version": 2}, chef)
    assert postponed.status_code == 200
    assert postponed.json()["events"][-1]["due_on"] == str(TODAY + timedelta(days=30))
    done = patch({"status": "realisee", "comment": "Plus de rassemblement"})
    assert done.status_code == 200 and done.json()["status_label"] == "Réalisée"
    assert [e["status"] for e in done.json()["events"]] == ["prevue", "en_cours", None, "realisee"]
    final = patch({"status": "en_cours"})
    assert final.status_code == 409 and "terminée" in final.json()["detail"]
    # The chef sees it done among its GPO's actions.
    of_gpo = client.get("/api/actions", params={"gpo": ids["gpo_id"]}, headers=chef).json()
    assert next(a for a in of_gpo["data"] if a["id"] == action_id)["status"] == "realisee"


def test_overdue_actions_are_counted_and_listed(world: World) -> None:
    client, ids, chef = world.client, world.ids, world.headers["chef"]
    problem = client.get(f"/api/problems/{ids['problem_id']}", headers=chef).json()
    start = date.fromisoformat(problem["reported_on"])
    before = client.get(f"/api/gpos/{ids['gpo_id']}", headers=chef).json()
    late = client.post(
        f"/api/problems/{ids['problem_id']}/actions",
        json={
            "type": "encombrants",
            "lead_partner_id": ids["partner_id"],
            "start_on": str(start),
            "due_on": str(TODAY - timedelta(days=1)),
        },
        headers=chef,
    )
    assert late.status_code == 201, late.text
    late_id = max(a["id"] for a in late.json()["actions"])
    overdue = client.get(
        "/api/actions", params={"overdue": "true", "partner": ids["partner_id"]}, headers=chef
    ).json()
    assert [a["id"] for a in overdue["data"]] == [late_id]
    assert all(a["overdue"] for a in overdue["data"])
    after = client.get(f"/api/gpos/{ids['gpo_id']}", headers=chef).json()
    assert after["actions_overdue"] == before["actions_overdue"] + 1


def test_concurrent_updates_of_a_gpos_partners_never_fail(world: World) -> None:
    """Twenty PATCHes of one GPO's partners at once: each waits for the other (the GPO is
    locked), none fails on a duplicate key."""
    client, ids, chef = world.client, world.ids, world.headers["chef"]
    members = client.get(f"/api/gpos/{ids['gpo_id']}", headers=chef).json()["partner_ids"]

    def patch(i: int) -> int:
        body = {"partner_ids": members if i % 2 else members[:1]}
        return client.patch(f"/api/gpos/{ids['gpo_id']}", json=body, headers=chef).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(patch, range(20))) == {200}


def test_a_problem_or_study_step_naming_an_older_version_is_a_409(world: World) -> None:
    """Two people move the same problem (or study request) from the version they read:
    the second is told, not silently applied over the first."""
    client, ids, chef = world.client, world.ids, world.headers["chef"]
    problem = client.get(f"/api/problems/{ids['problem_id']}", headers=chef).json()
    url = f"/api/problems/{ids['problem_id']}/transitions"
    first = client.post(
        url, json={"status": "actions_en_cours", "version": problem["version"]}, headers=chef
    )
    assert first.status_code == 200 and first.json()["version"] == problem["version"] + 1
    second = client.post(
        url, json={"status": "clos_sans_suite", "version": problem["version"]}, headers=chef
    )
    assert second.status_code == 409 and second.json()["detail"].startswith("Version : ")
    referent = world.headers["referent"]
    request = client.get(f"/api/audits/{ids['request_id']}", headers=referent).json()
    step = {"status": "refusee", "reason": "Hors champ", "version": request["version"] + 5}
    stale = client.post(f"/api/audits/{ids['request_id']}/transitions", json=step, headers=referent)
    assert stale.status_code == 409, stale.text
