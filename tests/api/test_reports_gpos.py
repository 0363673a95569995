"""The /bilans figures per GPO on a small hand-built case: closed meetings held and the
attendance of the partners invited to them, problems opened and resolved, actions
realised on time, over a period; in JSON and in the GPO table's CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import shapely.geometry
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from api.services import reports
from geo.accounts import Actor, Scope
from tests.clock import TODAY
from tests.plan_helpers import adopt, propose


def day(n: int) -> date:
    """``n`` days ago."""
    return TODAY - timedelta(days=n)


#: The period of the report: from 30 days ago to 5 days ago, both included.
PERIOD = {"from": str(day(30)), "to": str(day(5))}


def problem(client: TestClient, csp_id: int, point: Any, reported: int) -> int:
    body = {
        "category": "rassemblements",
        "title": "Hall",
        "lon": point.x,
        "lat": point.y,
        "reported_on": str(day(reported)),
    }
    response = client.post(f"/api/csp/{csp_id}/problems", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def resolve(conn: Connection, problem_id: int, on: int) -> None:
    conn.execute(
        text("INSERT INTO problem_event (problem_id, status, \"on\") VALUES (:p, 'resolu', :d)"),
        {"p": problem_id, "d": day(on)},
    )


def realised(conn: Connection, problem_id: int, due: int | None, done: int) -> None:
    """An action of the problem, due ``due`` days ago (None: no due date), whose step
    « réalisée » is dated ``done`` days ago."""
    action_id = conn.execute(
        text(
            "INSERT INTO action (problem_id, type, start_on, due_on, status) "
            "VALUES (:p, 'patrouilles', :s, :d, 'realisee') RETURNING id"
        ),
        {"p": problem_id, "s": day(90), "d": None if due is None else day(due)},
    ).scalar_one()
    conn.execute(
        text(
            'INSERT INTO action_event (action_id, "on", status, signed_by) '
            "VALUES (:a, :d, 'realisee', 'Tests')"
        ),
        {"a": action_id, "d": day(done)},
    )


def meeting(
    conn: Connection, gpo_id: int, held: int, status: str, partners: dict[int, bool]
) -> None:
    """A meeting ``held`` days ago, the partners invited to it and whether they came."""
    meeting_id = conn.execute(
        text("INSERT INTO meeting (gpo_id, status, held_on) VALUES (:g, :s, :d) RETURNING id"),
        {"g": gpo_id, "s": status, "d": day(held)},
    ).scalar_one()
    for partner_id, present in partners.items():
        conn.execute(
            text(
                "INSERT INTO meeting_partner (meeting_id, partner_id, invited, present) "
                "VALUES (:m, :p, true, :here)"
            ),
            {"m": meeting_id, "p": partner_id, "here": present},
        )


def build_case(client: TestClient, csp_id: int, engine: Engine) -> dict[str, int]:
    """The small case: two sector GPOs and a thematic one spanning sector 1, their
    problems, actions and meetings; returns the GPOs' ids (``0``, ``1``, ``theme``)."""
    with engine.begin() as conn:  # only the problems made here
        conn.execute(text("DELETE FROM problem"))
    plan = propose(client, csp_id, k=2, seed=0)
    assert adopt(client, plan["id"]).status_code == 200
    inside = {
        f["id"]: shapely.geometry.shape(f["geometry"]).representative_point()
        for f in plan["sectors"]["features"]
    }
    gpo = {g["sector"]: g["id"] for g in client.get(f"/api/csp/{csp_id}/gpos").json()["data"]}
    theme = client.post(
        f"/api/csp/{csp_id}/gpos",
        json={"name": "GPO transports", "theme": "transports", "sectors": [1]},
    ).json()["id"]
    partners = [
        client.post(
            f"/api/csp/{csp_id}/partners", json={"organisation": f"Org {i}", "type": "mairie"}
        ).json()["id"]
        for i in range(3)
    ]
    # Sector 0: reported in the period (resolved after it), before it (resolved in it),
    # after it. Sector 1: one reported in the period, never resolved.
    in_period = problem(client, csp_id, inside[0], reported=20)
    before = problem(client, csp_id, inside[0], reported=40)
    problem(client, csp_id, inside[0], reported=3)
    other = problem(client, csp_id, inside[1], reported=25)
    with engine.begin() as conn:
        resolve(conn, in_period, on=2)
        resolve(conn, before, on=15)
        realised(conn, in_period, due=12, done=14)  # on time
        realised(conn, in_period, due=20, done=18)  # late
        realised(conn, before, due=60, done=50)  # before the period
        realised(conn, other, due=None, done=8)  # no due date: not on time
        a, b, c = partners
        meeting(conn, gpo[0], held=20, status="close", partners={a: True, b: True, c: False})
        meeting(conn, gpo[0], held=6, status="close", partners={a: True})
        meeting(conn, gpo[0], held=10, status="prevue", partners={a: False, b: False})
        meeting(conn, gpo[0], held=45, status="close", partners={a: False})
        meeting(conn, gpo[1], held=15, status="close", partners={})
    return {"0": gpo[0], "1": gpo[1], "theme": theme}


def test_the_figures_of_each_gpo(client: TestClient, csp_id: int, engine: Engine) -> None:
    ids = build_case(client, csp_id, engine)
    gpo, theme = {0: ids["0"], 1: ids["1"]}, ids["theme"]
    report = client.get("/api/reports", params={"csp": csp_id, **PERIOD})
    assert report.status_code == 200, report.text
    rows = {g["gpo_id"]: g for g in report.json()["gpos"]}
    assert list(rows) == [gpo[0], gpo[1], theme]
    first = rows[gpo[0]]
    # Two closed meetings in the period (not the planned one, not the older one); of the
    # 3 + 1 partners invited to them, 2 + 1 came.
    assert (first["meetings_held"], first["partners_invited"], first["partners_present"]) == (
        2,
        4,
        3,
    )
    assert first["attendance_rate"] == 0.75
    assert (first["problems_opened"], first["problems_resolved"]) == (1, 1)
    assert (first["actions_realised"], first["actions_on_time"]) == (2, 1)
    second = rows[gpo[1]]
    assert second["meetings_held"] == 1 and second["attendance_rate"] is None
    assert (second["problems_opened"], second["problems_resolved"]) == (1, 0)
    assert (second["actions_realised"], second["actions_on_time"]) == (1, 0)
    # The thematic GPO spans sector 1 (all categories): sector 1's problems, no meeting.
    thematic = rows[theme]
    assert thematic["kind"] == "thematic" and thematic["meetings_held"] == 0
    assert (thematic["problems_opened"], thematic["actions_realised"]) == (1, 1)
    assert report.json()["meetings_held"] == 3  # the CSP's total: closed ones only

    # A chef's perimeter holds its GPOs only (the service, as a chef's context calls it).
    chef = client.app.state.context.acting(  # type: ignore[attr-defined]
        Actor.cli("tests"),
        "127.0.0.1",
        Scope(role="chef", csp_ids=frozenset({csp_id}), gpo_ids=frozenset({gpo[1]})),
    )
    seen = reports.activity_report(chef, csp_id=csp_id, date_from=day(30), date_to=day(5))
    assert [(g.gpo_id, g.problems_opened) for g in seen.gpos] == [(gpo[1], 1)]

    one_sector = client.get("/api/reports", params={"csp": csp_id, "sector": 0, **PERIOD})
    assert [g["gpo_id"] for g in one_sector.json()["gpos"]] == [gpo[0]]

    csv = client.get(
        "/api/reports", params={"csp": csp_id, "format": "csv", "table": "gpos", **PERIOD}
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "rapport_gpo_" in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0].startswith("gpo;nom;type;secteur;reunions_tenues;partenaires_invites")
    assert lines[1] == f"{gpo[0]};GPO Secteur 1;sector;1;2;4;3;75,0;1;1;2;1"
    assert lines[2] == f"{gpo[1]};GPO Secteur 2;sector;2;1;0;0;;1;0;1;0"
    assert len(lines) == 4
