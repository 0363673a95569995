"""The demo's GPOs are alive (issue 17): chiefs, partners, a history of meetings with
minutes and decisions, actions in every status with their signed steps, a thematic
« Transports » GPO and demo accounts bound to them; all fictitious, flagged synthetic,
named from the database's communes, and the same for the same seed."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.models import Action, Gpo, Problem
from api.repositories.base import gpo_problems
from api.services import accounts
from api.services.context import Context
from api.services.demo import load_demo
from api.services.demo_accounts import DEMO_ACCOUNTS
from api.services.gpos import get_gpo, list_gpos
from api.services.meetings import get_meeting, list_meetings
from geo.accounts import Actor
from tests.clock import TODAY
from tests.conftest import DEMO_DIR, _truncate

ROOT = Path(__file__).resolve().parents[2]
OPEN = ("signale", "analyse", "actions_en_cours", "evalue")


def _rows(session: Session, sql: str, **params: Any) -> list[Any]:
    return list(session.execute(text(sql), params).all())


def _fictitious(name: str | None) -> bool:
    return name is not None and (name.endswith(" (fictif)") or name.endswith(" (fictive)"))


def _every_gpo_has_a_chief_partners_and_meetings(demo_adopted: sessionmaker[Session]) -> None:
    today = TODAY
    with demo_adopted() as session:
        gpos = _rows(
            session,
            "SELECT id, kind, cadence_days, chief_name, chief_grade, chief_contact, "
            "deputy_name, deputy_grade FROM gpo WHERE active ORDER BY id",
        )
        assert len(gpos) == 7  # the six sectors of the demo's plan and « Transports »
        late = []
        for gpo_id, _, cadence, chief, grade, contact, deputy, deputy_grade in gpos:
            assert _fictitious(chief) and _fictitious(deputy), (chief, deputy)
            assert grade in ("Capitaine", "Commandant", "Lieutenant") and deputy_grade
            assert contact.endswith(".example")
            assert cadence in (15, 30)
            partners = _rows(
                session, "SELECT partner_id FROM gpo_partner WHERE gpo_id = :g", g=gpo_id
            )
            assert len(partners) >= 3
            closed = _rows(
                session,
                "SELECT max(held_on) FROM meeting WHERE gpo_id = :g AND status = 'close'",
                g=gpo_id,
            )[0][0]
            assert closed is not None and closed < today
            if (today - closed).days > cadence:
                late.append(gpo_id)
            planned = _rows(
                session,
                "SELECT held_on, starts_at, place FROM meeting "
                "WHERE gpo_id = :g AND status = 'prevue'",
                g=gpo_id,
            )
            assert len(planned) == 1
            held_on, starts_at, place = planned[0]
            assert held_on > today and str(starts_at) in ("14:00:00", "09:30:00")
            assert place.startswith("Salle du conseil, mairie ")
        assert len(late) == 1
    # The pages' « en retard »: exactly that GPO.
    listed = list_gpos(Context(demo_adopted), _csp(demo_adopted)).data
    assert [g.id for g in listed if g.overdue] == late
    assert all(g.chief_name and g.deputy_name for g in listed)


def _csp(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(_rows(session, "SELECT id FROM csp")[0][0])


def _meetings_have_minutes_attendance_and_decisions(
    demo_adopted: sessionmaker[Session],
) -> None:
    with demo_adopted() as session:
        closed = _rows(
            session,
            "SELECT id, notes, attendees, synthetic FROM meeting WHERE status = 'close'",
        )
        assert len(closed) > 6 * 12  # two years at 15 or 30 days
        for _, notes, attendees, synthetic in closed:
            assert synthetic and notes.startswith("Président de séance : ")
            assert "fictif" in notes and attendees and all(_fictitious(a) for a in attendees)
        seats = _rows(
            session,
            "SELECT mp.present, mp.represented_by, mp.invited FROM meeting_partner mp "
            "JOIN meeting m ON m.id = mp.meeting_id WHERE m.status = 'close'",
        )
        present = [s for s in seats if s[0]]
        assert 0.7 < len(present) / len(seats) < 0.9
        assert all(s[2] for s in seats)
        assert all(_fictitious(who) for _, who, _ in present)
        # Invited partners are the GPO's members.
        strangers = _rows(
            session,
            "SELECT 1 FROM meeting_partner mp JOIN meeting m ON m.id = mp.meeting_id "
            "LEFT JOIN gpo_partner gp ON gp.gpo_id = m.gpo_id AND gp.partner_id = mp.partner_id "
            "WHERE gp.partner_id IS NULL",
        )
        assert strangers == []
        kinds = {k for (k,) in _rows(session, "SELECT DISTINCT kind FROM meeting_decision")}
        assert kinds == {"note", "step", "action", "evaluation"}


def _decisions_reference_problems_of_their_gpo(demo_adopted: sessionmaker[Session]) -> None:
    with demo_adopted() as session:
        outside = _rows(
            session,
            "SELECT d.id FROM meeting_decision d JOIN meeting m ON m.id = d.meeting_id "
            "JOIN gpo g ON g.id = m.gpo_id JOIN problem p ON p.id = d.problem_id "
            "JOIN problem_place pp ON pp.problem_id = p.id "
            "WHERE NOT CASE WHEN g.kind = 'sector' THEN pp.sector = g.sector "
            "ELSE g.sectors @> to_jsonb(pp.sector) AND g.categories @> to_jsonb(p.category) END",
        )
        assert outside == []
        # Decided after the problem was reported; actions are the problem's own.
        early = _rows(
            session,
            "SELECT d.id FROM meeting_decision d JOIN meeting m ON m.id = d.meeting_id "
            "JOIN problem p ON p.id = d.problem_id WHERE p.reported_on > m.held_on",
        )
        assert early == []
        foreign = _rows(
            session,
            "SELECT d.id FROM meeting_decision d JOIN action a ON a.id = d.action_id "
            "WHERE a.problem_id <> d.problem_id OR d.kind <> 'action'",
        )
        assert foreign == []
        # A step decision names a status change of its problem's history, before the meeting.
        unknown_steps = _rows(
            session,
            "SELECT d.id FROM meeting_decision d JOIN meeting m ON m.id = d.meeting_id "
            "WHERE d.kind = 'step' AND NOT EXISTS (SELECT 1 FROM problem_event e "
            "WHERE e.problem_id = d.problem_id AND e.on <= m.held_on AND e.status <> 'signale')",
        )
        assert unknown_steps == []


def _actions_in_every_status_with_signed_steps(demo_adopted: sessionmaker[Session]) -> None:
    today = TODAY
    with demo_adopted() as session:
        statuses = dict(_rows(session, "SELECT status, count(*) FROM action GROUP BY status"))
        assert set(statuses) == {"prevue", "en_cours", "realisee", "abandonnee"}
        overdue = _rows(
            session,
            "SELECT id FROM action WHERE due_on < :t AND status IN ('prevue', 'en_cours')",
            t=today,
        )
        assert overdue
        done = _rows(
            session,
            "SELECT a.due_on < e.on FROM action a JOIN action_event e ON e.action_id = a.id "
            "WHERE a.status = 'realisee' AND e.status = 'realisee'",
        )
        assert {late for (late,) in done} == {True, False}  # late and on time
        # Every action's last step is its status; no action without steps.
        last = _rows(
            session,
            "SELECT a.id, a.status, (SELECT e.status FROM action_event e WHERE e.action_id = a.id "
            "ORDER BY e.on DESC, e.id DESC LIMIT 1) FROM action a",
        )
        assert [r for r in last if r[1] != r[2]] == []
        steps = _rows(session, "SELECT signed_by, synthetic, account_id, e.on FROM action_event e")
        assert all(_fictitious(s) and syn and account is None for s, syn, account, _ in steps)
        assert max(on for *_, on in steps) <= today
        # An action of a closed problem is done or abandoned.
        disagree = _rows(
            session,
            "SELECT a.id FROM action a JOIN problem p ON p.id = a.problem_id "
            "WHERE p.status IN ('resolu', 'clos_sans_suite', 'evalue') "
            "AND a.status NOT IN ('realisee', 'abandonnee')",
        )
        assert disagree == []
        # The lead partner is a member of the GPO where the action was decided.
        not_member = _rows(
            session,
            "SELECT a.id FROM action a JOIN meeting_decision d ON d.action_id = a.id "
            "JOIN meeting m ON m.id = d.meeting_id LEFT JOIN gpo_partner gp "
            "ON gp.gpo_id = m.gpo_id AND gp.partner_id = a.lead_partner_id "
            "WHERE a.lead_partner_id IS NOT NULL AND gp.partner_id IS NULL",
        )
        assert not_member == []


def _people_and_organisations_are_fictitious_and_from_the_database(
    demo_adopted: sessionmaker[Session],
) -> None:
    with demo_adopted() as session:
        partners = _rows(
            session, "SELECT organisation, type, contact_name, contact, synthetic FROM partner"
        )
        assert partners and all(p[4] for p in partners)
        assert all(_fictitious(p[2]) and p[3].endswith(".example") for p in partners)
        communes = [
            name
            for (name,) in _rows(
                session, "SELECT name FROM commune JOIN csp_commune ON commune_code = code"
            )
        ]
        mairies = sorted(p[0] for p in partners if p[1] == "mairie")
        assert len(mairies) == len(communes) == 10
        assert all(
            any(m.endswith(f" {c}") or m.endswith(f"'{c}") for m in mairies) for c in communes
        )
        # Reporting partners are the organisations.
        reporters = _rows(
            session,
            "SELECT count(*), count(DISTINCT p.partner_id) FROM problem p "
            "JOIN partner pa ON pa.id = p.partner_id WHERE pa.synthetic",
        )[0]
        assert reporters[0] > 0 and reporters[1] > 5
    # Nothing of the demo's territory is written in the generator.
    with (DEMO_DIR / "csp_belfort.csv").open(encoding="utf-8") as f:
        names = [row["nom"] for row in csv.DictReader(f)]
    for path in ("geo/synth_partners.py", "geo/synth_gpos.py", "api/repositories/demo_gpos.py"):
        source = (ROOT / path).read_text(encoding="utf-8")
        assert not [n for n in names if n in source], path


def _the_transport_gpo(demo_adopted: sessionmaker[Session]) -> None:
    with demo_adopted() as session:
        (gpo,) = _rows(
            session,
            "SELECT id, name, theme, sectors, categories, cadence_days FROM gpo "
            "WHERE kind = 'thematic'",
        )
        assert gpo[2] == "transports" and gpo[4] == ["transports"] and gpo[5] == 30
        assert len(gpo[3]) == 3  # 3 of the 6 sectors
        members = {
            t
            for (t,) in _rows(
                session,
                "SELECT p.type FROM gpo_partner gp JOIN partner p ON p.id = gp.partner_id "
                "WHERE gp.gpo_id = :g",
                g=gpo[0],
            )
        }
        assert "transporteur" in members and "mairie" in members
        categories = {
            c
            for (c,) in _rows(
                session,
                "SELECT DISTINCT p.category FROM meeting_decision d JOIN meeting m "
                "ON m.id = d.meeting_id JOIN problem p ON p.id = d.problem_id WHERE m.gpo_id = :g",
                g=gpo[0],
            )
        }
        assert categories == {"transports"}


def _the_demo_chef_and_partner(demo_adopted: sessionmaker[Session]) -> None:
    ctx = Context(demo_adopted)
    chef = accounts.get_account(ctx, DEMO_ACCOUNTS["chef"])
    partner = accounts.get_account(ctx, DEMO_ACCOUNTS["partenaire"])
    (gpo_id,) = chef.gpo_ids
    today = TODAY
    with demo_adopted() as session:
        chief, open_count = _rows(
            session,
            "SELECT g.chief_name, (SELECT count(*) FROM problem_place pp JOIN problem p "
            "ON p.id = pp.problem_id WHERE pp.gpo_id = g.id AND p.status = ANY(:open)) "
            "FROM gpo g WHERE g.id = :g",
            g=gpo_id,
            open=list(OPEN),
        )[0]
        assert open_count > 0 and chef.name == chief
        contact = _rows(
            session, "SELECT contact_name FROM partner WHERE id = :p", p=partner.partner_id
        )
        assert partner.name == contact[0][0] and _fictitious(partner.name)
        led = _rows(
            session,
            "SELECT a.status, a.due_on FROM action a JOIN problem p ON p.id = a.problem_id "
            "JOIN problem_place pp ON pp.problem_id = p.id WHERE pp.gpo_id = :g "
            "AND a.lead_partner_id = :p AND p.status = ANY(:open) "
            "AND a.status IN ('prevue', 'en_cours')",
            g=gpo_id,
            p=partner.partner_id,
            open=list(OPEN),
        )
    assert any(due < today for _, due in led)
    assert any(today <= due <= today + timedelta(days=14) for _, due in led)


def _seen_by_the_demo_chef_and_partner(
    client: TestClient, demo_adopted: sessionmaker[Session]
) -> None:
    """What the issue saw empty: the chef's meetings, planned and held, and the partner's
    « Mes actions », through the API, signed in as the demo accounts."""
    ctx = Context(demo_adopted).acting(Actor.cli("tests"))
    headers = {}
    for role in ("chef", "partenaire"):
        account = accounts.get_account(ctx, DEMO_ACCOUNTS[role])
        token = accounts.create_token(ctx, account.id, "tests").token
        headers[role] = {"Authorization": f"Bearer {token}"}
    chef = accounts.get_account(ctx, DEMO_ACCOUNTS["chef"])
    (gpo_id,) = chef.gpo_ids
    gpo = client.get(f"/api/gpos/{gpo_id}", headers=headers["chef"])
    assert gpo.status_code == 200, gpo.text
    assert not gpo.json()["overdue"] and gpo.json()["chief_name"] == chef.name
    meetings = client.get(f"/api/gpos/{gpo_id}/meetings", headers=headers["chef"])
    assert meetings.status_code == 200, meetings.text
    listed = meetings.json()["data"]
    planned = [m for m in listed if m["status"] == "prevue"]
    closed = [m for m in listed if m["status"] == "close"]
    assert len(planned) == 1 and len(closed) > 10
    assert all(m["synthetic"] for m in listed)
    held = max(closed, key=lambda m: m["held_on"])
    assert held["notes"] and held["partners"] and any(p["present"] for p in held["partners"])
    agenda = client.get(f"/api/meetings/{planned[0]['id']}/agenda", headers=headers["chef"])
    assert agenda.status_code == 200, agenda.text
    assert agenda.json()["since"] == held["held_on"]
    mine = client.get("/api/actions", params={"mine": "true"}, headers=headers["partenaire"])
    assert mine.status_code == 200, mine.text
    actions = mine.json()["data"]
    today = TODAY
    assert any(a["overdue"] for a in actions)
    soon = [
        a
        for a in actions
        if a["due_on"] and 0 <= (date.fromisoformat(a["due_on"]) - today).days <= 14
    ]
    assert any(a["status"] in ("prevue", "en_cours") for a in soon)
    assert all(a["events"] and a["events"][-1]["status"] == a["status"] for a in actions)
    assert all(e["synthetic"] and _fictitious(e["signed_by"]) for a in actions for e in a["events"])


def _lists_cost_a_few_queries_whatever_their_length(
    demo_adopted: sessionmaker[Session], engine: Engine
) -> None:
    """The GPOs and a GPO's meetings are read in a fixed number of queries, not some per
    row; and a GPO in the list is the GPO read alone."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    ctx = Context(demo_adopted)
    csp_id = _csp(demo_adopted)
    event.listen(engine, "before_cursor_execute", count)
    try:
        listed = list_gpos(ctx, csp_id).data
        gpo_queries = len(statements)
        statements.clear()
        busiest = max(listed, key=lambda g: g.cadence_days == 15)
        meetings = list_meetings(ctx, busiest.id).data
        meeting_queries = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(listed) >= 7 and len(meetings) > 24
    # The scope, the CSP, the GPOs, then last and next meetings, members and the counts.
    assert gpo_queries <= 10, gpo_queries
    # The scope, the GPO, its meetings, then partners, decisions, closers and reports.
    assert meeting_queries <= 10, meeting_queries
    assert listed == [get_gpo(ctx, g.id) for g in listed]
    # The counts, added up per sector and category, against the GPO's condition in SQL.
    with demo_adopted() as session:
        for g in listed:
            gpo = session.get_one(Gpo, g.id)
            mine = select(Problem.id).where(gpo_problems(gpo))
            opened = session.scalar(
                select(func.count()).where(Problem.id.in_(mine), Problem.status.in_(OPEN))
            )
            due_on = session.scalars(
                select(Action.due_on).where(
                    Action.problem_id.in_(mine),
                    Action.status.in_(("prevue", "en_cours")),
                    Action.due_on.is_not(None),
                )
            ).all()
            horizon = TODAY + timedelta(days=gpo.cadence_days)
            assert (g.open_problems, g.actions_overdue, g.actions_due) == (
                opened,
                sum(d < TODAY for d in due_on),
                sum(TODAY <= d <= horizon for d in due_on),
            ), g.name
    assert sum(g.open_problems for g in listed) > 0 and sum(g.actions_due for g in listed) > 0
    assert meetings[-1] == get_meeting(ctx, meetings[-1].id)


def test_the_demo_gpos_are_alive(
    client: TestClient, demo_adopted: sessionmaker[Session], engine: Engine
) -> None:
    """One load of the demo (it takes seconds), every check on it."""
    _seen_by_the_demo_chef_and_partner(client, demo_adopted)
    _every_gpo_has_a_chief_partners_and_meetings(demo_adopted)
    _meetings_have_minutes_attendance_and_decisions(demo_adopted)
    _decisions_reference_problems_of_their_gpo(demo_adopted)
    _actions_in_every_status_with_signed_steps(demo_adopted)
    _people_and_organisations_are_fictitious_and_from_the_database(demo_adopted)
    _the_transport_gpo(demo_adopted)
    _the_demo_chef_and_partner(demo_adopted)
    _lists_cost_a_few_queries_whatever_their_length(demo_adopted, engine)


TABLES = {
    "partner": "id",
    "gpo": "id",
    "gpo_partner": "gpo_id, partner_id",
    "meeting": "id",
    "meeting_partner": "meeting_id, partner_id",
    "meeting_decision": "id",
    "action": "id",
    "action_event": "id",
    "problem": "id",
}


def _snapshot(factory: sessionmaker[Session]) -> dict[str, list[Any]]:
    with factory() as session:
        out = {}
        for table, order in TABLES.items():
            result = session.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
            keep = [i for i, k in enumerate(result.keys()) if k not in ("created_at",)]
            out[table] = [tuple(row[i] for i in keep) for row in result.all()]
        return out


def test_same_seed_same_demo(factory: sessionmaker[Session], engine: Engine) -> None:
    load_demo(Context(factory), demo_dir=DEMO_DIR, extras=False)
    first = _snapshot(factory)
    _truncate(engine)
    load_demo(Context(factory), demo_dir=DEMO_DIR, extras=False)
    assert _snapshot(factory) == first
    assert len(first["meeting"]) > 100 and len(first["action_event"]) > 1000
