"""Adopting a sector plan on real PostGIS: the preview of what changes for each GPO, the
confirmation it needs, a GPO's history following its territory, and concurrent adoptions
(one wins, the others get a 409)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.audit_helpers import one
from tests.clock import TODAY
from tests.plan_helpers import propose
from tests.roles import bearer_for

#: Areas are measured in Lambert-93 by the app and on the ellipsoid here: they agree to
#: well under 0.3 % in Belfort.
AREA = 3e-3


def import_plan(client: TestClient, csp_id: int, name: str, sectors: list[Any]) -> Any:
    """Import a plan whose sectors are these polygons, in this order (sector 0 first)."""
    layer = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": {"nom": n}}
            for n, g in sectors
        ],
    }
    response = client.post(
        f"/api/csp/{csp_id}/plans/import",
        data={"name": name},
        files={"file": (f"{name}.geojson", json.dumps(layer), "application/geo+json")},
    )
    assert response.status_code == 201, response.text
    return response.json()


def km2(engine: Engine, plan_id: int) -> dict[int, float]:
    """The plan's sector areas on the ellipsoid, in km² (an independent measure)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT sector, ST_Area(geom::geography) FROM plan_sector WHERE plan_id = :p"),
            {"p": plan_id},
        ).all()
    return {int(s): float(a) / 1e6 for s, a in rows}


def problem_at(client: TestClient, csp_id: int, point: shapely.Point, title: str) -> int:
    body = {"category": "rassemblements", "title": title, "lon": point.x, "lat": point.y}
    response = client.post(f"/api/csp/{csp_id}/problems", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def confirm(
    client: TestClient, plan_id: int, headers: dict[str, str] | None = None, **body: Any
) -> Any:
    return client.post(
        f"/api/plans/{plan_id}/adopt", json={"confirm": True, **body}, headers=headers
    )


def by_sector(preview: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {s["sector"]: s for s in preview["sectors"]}


def test_gpos_follow_their_territory_across_plans(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    with engine.begin() as conn:  # the demo's synthetic problems: only ours here
        conn.execute(text("DELETE FROM problem"))
    a = propose(client, csp_id, k=3, seed=0)
    outline = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in a["sectors"]["features"]}
    area_a = km2(engine, a["id"])
    # Two open problems in sector 0, one open and one resolved in sector 1, none in 2.
    inside = {s: g.representative_point() for s, g in outline.items()}
    for title in ("Hall A", "Hall B"):
        problem_at(client, csp_id, inside[0], title)
    problem_at(client, csp_id, inside[1], "Hall C")
    resolved = problem_at(client, csp_id, inside[1], "Hall D")
    with engine.begin() as conn:
        conn.execute(text("UPDATE problem SET status = 'resolu' WHERE id = :i"), {"i": resolved})

    # -- first adoption: no plan adopted, every sector gets a new GPO -------------------
    preview = client.get(f"/api/plans/{a['id']}/adoption").json()
    assert preview["adopted_plan_id"] is None and preview["retired"] == []
    assert preview["violations"] == a["violations"] == []
    assert preview["override_required"] is False
    assert preview["problems_moving"] == 3  # the open ones, placed for the first time
    sectors = by_sector(preview)
    assert sorted(sectors) == [0, 1, 2]
    for s, row in sectors.items():
        assert row["new_gpo"] is True and row["gpo_id"] is None
        assert row["kept_km2"] == 0 and row["lost_km2"] == 0
        assert row["gained_km2"] == pytest.approx(area_a[s], rel=AREA)
        assert row["area_km2"] == row["gained_km2"]
        assert row["problems_out"] == 0
    assert [sectors[s]["problems_in"] for s in (0, 1, 2)] == [2, 1, 0]
    assert confirm(client, a["id"], expected_adopted_plan_id=None).status_code == 200
    gpo = {g["sector"]: g["id"] for g in client.get(f"/api/csp/{csp_id}/gpos").json()["data"]}
    assert sorted(gpo) == [0, 1, 2]
    held_on = TODAY - timedelta(days=3)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO meeting (gpo_id, status, held_on) VALUES (:g, 'close', :d)"),
            {"g": gpo[1], "d": held_on},
        )

    # -- the same territories under other indices: every GPO keeps its own --------------
    b = import_plan(
        client, csp_id, "Renumérotés", [("B0", outline[2]), ("B1", outline[0]), ("B2", outline[1])]
    )
    preview = client.get(f"/api/plans/{b['id']}/adoption").json()
    assert preview["adopted_plan_id"] == a["id"]
    assert preview["problems_moving"] == 0 and preview["retired"] == []
    sectors = by_sector(preview)
    for new, old in ((0, 2), (1, 0), (2, 1)):
        row = sectors[new]
        assert (row["gpo_id"], row["previous_sector"], row["new_gpo"]) == (gpo[old], old, False)
        assert row["kept_km2"] == pytest.approx(area_a[old], rel=AREA)
        assert row["gained_km2"] == pytest.approx(0, abs=1e-3)
        assert row["lost_km2"] == pytest.approx(0, abs=1e-3)
        assert row["problems_in"] == row["problems_out"] == 0
    assert confirm(client, b["id"], expected_adopted_plan_id=a["id"]).status_code == 200
    after = {g["id"]: g for g in client.get(f"/api/csp/{csp_id}/gpos").json()["data"]}
    assert set(after) == set(gpo.values())  # no GPO made, none dropped
    assert (after[gpo[1]]["sector"], after[gpo[1]]["name"]) == (2, "GPO B2")
    assert after[gpo[1]]["last_meeting_on"] == str(held_on)  # its meeting went with it
    assert after[gpo[0]]["open_problems"] == 2 and after[gpo[1]]["open_problems"] == 1

    # -- two sectors merged: the GPO with the larger share continues, the other retires -
    theme = client.post(
        f"/api/csp/{csp_id}/gpos",
        json={"name": "GPO transports", "theme": "transports", "sectors": [2]},  # B2 = gpo[1]
    ).json()
    c = import_plan(client, csp_id, "Fusion", [("C0", outline[0] | outline[1]), ("C1", outline[2])])
    assert c["violations"], "one sector twice the size of the other is out of balance"
    preview = client.get(f"/api/plans/{c['id']}/adoption").json()
    big, small = (0, 1) if area_a[0] >= area_a[1] else (1, 0)
    open_in = {0: 2, 1: 1}
    merged, kept = by_sector(preview)[0], by_sector(preview)[1]
    assert (merged["gpo_id"], merged["new_gpo"]) == (gpo[big], False)
    assert merged["kept_km2"] == pytest.approx(area_a[big], rel=AREA)
    assert merged["gained_km2"] == pytest.approx(area_a[small], rel=AREA)
    assert merged["lost_km2"] == pytest.approx(0, abs=1e-3)
    assert (merged["problems_in"], merged["problems_out"]) == (open_in[small], 0)
    assert kept["gpo_id"] == gpo[2] and kept["problems_in"] == kept["problems_out"] == 0
    assert kept["kept_km2"] == pytest.approx(area_a[2], rel=AREA)
    (retired,) = preview["retired"]
    assert retired["gpo_id"] == gpo[small]
    assert retired["lost_km2"] == pytest.approx(area_a[small], rel=AREA)
    assert retired["problems_out"] == open_in[small]
    assert preview["problems_moving"] == open_in[small]
    assert preview["override_required"] is True
    assert {v["constraint"] for v in preview["violations"]} == {
        v["constraint"] for v in c["violations"]
    }
    (thematic,) = preview["thematic"]
    # It spanned gpo[1]'s sector: it spans C0 if gpo[1] continues it, else nothing.
    assert thematic["sectors_before"] == [2]
    assert thematic["sectors_after"] == ([0] if big == 1 else [])

    # -- what the adoption refuses, nothing written --------------------------------------
    missing = client.post(f"/api/plans/{c['id']}/adopt")
    assert missing.status_code == 422
    assert missing.json()["fields"][0]["loc"] == ["body", "confirm"]
    assert "confirmez l'adoption" in missing.json()["fields"][0]["msg"]
    refused = client.post(
        f"/api/plans/{c['id']}/adopt", json={"confirm": False, "expected_adopted_plan_id": 1}
    )
    assert refused.status_code == 422 and refused.json()["fields"][0]["loc"] == ["body", "confirm"]
    unsaid = client.post(f"/api/plans/{c['id']}/adopt", json={"confirm": True})
    assert unsaid.status_code == 422
    assert unsaid.json()["fields"][0]["loc"] == ["body", "expected_adopted_plan_id"]
    for reason in (None, "", "  ok  "):
        no_reason = confirm(
            client, c["id"], expected_adopted_plan_id=b["id"], override_reason=reason
        )
        assert no_reason.status_code == 422, no_reason.text
        assert no_reason.json()["detail"].startswith("Motif de la dérogation : ce plan enfreint")
        assert "motif de la dérogation" in no_reason.json()["detail"]
    stale = confirm(client, c["id"], expected_adopted_plan_id=a["id"], override_reason="Motif")
    assert stale.status_code == 409
    assert stale.json()["type"] == "PlanChangedError"
    assert "un autre plan a été adopté entre-temps" in stale.json()["detail"]
    assert client.get(f"/api/plans/{b['id']}").json()["status"] == "adopted"

    reason = "Fusion décidée en comité de sécurité du 3 mars"
    adopted = confirm(client, c["id"], expected_adopted_plan_id=b["id"], override_reason=reason)
    assert adopted.status_code == 200 and adopted.json()["status"] == "adopted"
    entry = one(client, entity="plan", action="adopt", entity_id=c["id"])
    assert entry["detail"]["override_reason"] == reason
    assert entry["detail"]["previous_plan_id"] == b["id"]
    assert entry["detail"]["gpos_retired"] == [gpo[small]]
    assert entry["detail"]["problems_moving"] == open_in[small]
    active = {g["id"]: g for g in client.get(f"/api/csp/{csp_id}/gpos").json()["data"]}
    assert {g["sector"] for g in active.values() if g["kind"] == "sector"} == {0, 1}
    assert active[gpo[big]]["sector"] == 0 and active[gpo[big]]["open_problems"] == 3
    assert active[gpo[2]]["sector"] == 1
    assert active[theme["id"]]["sectors"] == ([0] if big == 1 else [])
    gone = client.get(f"/api/gpos/{gpo[small]}").json()
    assert gone["active"] is False and gone["sector"] is None  # kept, with its history
    with engine.connect() as conn:
        assert conn.execute(text("SELECT gpo_id FROM meeting")).scalars().all() == [gpo[1]]


def test_concurrent_adoptions_one_wins_the_others_get_a_409(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    a = propose(client, csp_id, k=3, seed=0)
    outline = [shapely.geometry.shape(f["geometry"]) for f in a["sectors"]["features"]]
    assert confirm(client, a["id"], expected_adopted_plan_id=None).status_code == 200
    d = import_plan(client, csp_id, "D", [("D0", outline[1]), ("D1", outline[0] | outline[2])])
    e = import_plan(client, csp_id, "E", [("E0", outline[2]), ("E1", outline[0] | outline[1])])
    body = {"expected_adopted_plan_id": a["id"], "override_reason": "Essai de concurrence"}
    answers: dict[str, Any] = {}
    # Three planners, each adopting with their own account.
    ctx = client.app.state.context  # type: ignore[attr-defined]
    planners = [bearer_for(ctx, "planificateur", csp_ids=[csp_id]) for _ in range(3)]
    with engine.connect() as other:
        # Another adoption holds the CSP: the three requests wait for it.
        other.begin()
        other.execute(text("SELECT id FROM csp WHERE id = :c FOR UPDATE"), {"c": csp_id})
        threads = [
            threading.Thread(
                target=lambda name=name, plan=plan, headers=headers: answers.__setitem__(
                    name, confirm(client, plan["id"], headers, **body)
                )
            )
            for (name, plan), headers in zip(
                (("d", d), ("d again", d), ("e", e)), planners, strict=True
            )
        ]
        for thread in threads:
            thread.start()
        # The three wait for its row, together.
        deadline = time.monotonic() + 30
        with engine.connect() as watcher:
            while (
                watcher.execute(
                    text("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")
                ).scalar_one()
                < 3
            ):
                assert time.monotonic() < deadline, answers
                time.sleep(0.05)
        other.rollback()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r.status_code for r in answers.values())
    assert statuses == [200, 409, 409], {k: r.text for k, r in answers.items()}
    losers = [r.json() for r in answers.values() if r.status_code == 409]
    assert all(r["type"] == "PlanChangedError" for r in losers)
    assert all("rechargez" in r["detail"] for r in losers)
    (winner,) = [k for k, r in answers.items() if r.status_code == 200]
    won = d if winner.startswith("d") else e
    with engine.connect() as conn:
        adopted = conn.execute(text("SELECT id FROM plan WHERE status = 'adopted'")).scalars()
        assert adopted.all() == [won["id"]]
        # Two sectors: two active sector GPOs, one of the three retired once.
        assert (
            conn.execute(
                text("SELECT count(*) FROM gpo WHERE kind = 'sector' AND active")
            ).scalar_one()
            == 2
        )
        assert conn.execute(text("SELECT count(*) FROM gpo")).scalar_one() == 3
