"""Conventions de participation citoyenne (issue 18) through the API on the demo territory:
recorded over a quartier drawn in Belfort or a whole commune, their tacit renewals,
the refusals naming the field (overlap, end before start, quartier outside the commune)
with nothing written, each commune seeing its own only, denunciation, the figures per
CSP and département, the map layer, the renewal reminders in the outbox, and each
commune's dashboard counting its problems with 1 or 2 masked."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import mapping, shape
from shapely.ops import polylabel
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from api.models import Convention, Notification
from api.services import reminders
from tests.clock import TODAY
from tests.roles import as_role

BELFORT, ANDELNANS, BAVILLIERS = "90010", "90001", "90008"
SIGNED = "2019-03-01"


def _signatories(on: str | None = SIGNED) -> list[dict[str, Any]]:
    return [
        {"role": "prefet", "name": "Préfet du Territoire de Belfort (fictif)", "signed_on": on},
        {"role": "maire", "name": "Maire (fictif)", "signed_on": on},
        {"role": "chef_csp", "name": "Chef de CSP (fictif)", "signed_on": on},
    ]


def _box(center: shapely.Point, dx: float = 0.0) -> dict[str, Any]:
    return dict(
        mapping(
            shapely.box(
                center.x - 0.003 + dx, center.y - 0.002, center.x + 0.003 + dx, center.y + 0.002
            )
        )
    )


def _centers(client: TestClient, csp_id: int) -> dict[str, shapely.Point]:
    communes = client.get("/api/communes", params={"csp": csp_id}).json()["features"]
    return {f["id"]: polylabel(_largest(shape(f["geometry"])), 0.0005) for f in communes}


def _largest(geom: shapely.Geometry) -> shapely.Polygon:
    return max(getattr(geom, "geoms", [geom]), key=lambda p: p.area)


def test_conventions_round_trip_scope_and_refusals(
    client: TestClient, csp_id: int, demo: sessionmaker[Session]
) -> None:
    today = TODAY
    start = date(today.year - 4, 1, 10)  # renewed on 10/01 of last year, then in 2 years
    centers = _centers(client, csp_id)
    quartier = {
        "commune_code": BELFORT,
        "quartier": "Quartier des Vosges (fictif)",
        "quartier_geom": _box(centers[BELFORT]),
        "signatories": _signatories(),
        "start_on": start.isoformat(),
        "referents": [
            {"name": "Référent fictif", "phone": "06 00 00 00 01", "street": "Rue fictive"}
        ],
    }
    created = client.post("/api/conventions", json=quartier)
    assert created.status_code == 201, created.text
    a = created.json()
    assert a["status"] == "reconduite"
    assert a["renewals"] == 1
    assert a["current_term"] == [f"{today.year - 1}-01-10", f"{today.year + 2}-01-09"]
    assert a["next_renewal_on"] == f"{today.year + 2}-01-10"
    assert a["departement"] == "90"
    assert a["referents"][0]["phone"] == "0600000001"

    refusals = {
        # overlapping the first quartier by two thirds
        "quartier_geom": {**quartier, "quartier_geom": _box(centers[BELFORT], dx=0.002)},
        # the whole commune holds that quartier too
        "whole_commune": {**quartier, "quartier_geom": None, "whole_commune": True},
        # drawn in Andelnans
        "quartier_geom outside": {**quartier, "quartier_geom": _box(centers[ANDELNANS])},
        "end_on": {**quartier, "end_on": (start - timedelta(days=1)).isoformat()},
    }
    for field, body in refusals.items():
        refused = client.post("/api/conventions", json=body)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.json()["fields"][0]["field"] == field.split()[0], refused.text
    assert (
        "déjà couvert par la convention n° 1"
        in client.post("/api/conventions", json=refusals["quartier_geom"]).json()["detail"]
    )
    with demo() as session:
        assert session.scalar(select(func.count()).select_from(Convention)) == 1

    # a commune account sees its own commune only
    andelnans = as_role(client, "commune", commune_codes=[ANDELNANS])
    assert client.get(f"/api/conventions/{a['id']}", headers=andelnans).status_code == 404
    assert client.get("/api/conventions", headers=andelnans).json()["count"] == 0
    forbidden = client.post("/api/conventions", json=quartier, headers=andelnans)
    assert forbidden.status_code == 403
    own = client.post(
        "/api/conventions",
        headers=andelnans,
        json={
            "commune_code": ANDELNANS,
            "quartier": "Toute la commune",
            "whole_commune": True,
            "signatories": _signatories(None),
        },
    )
    assert own.status_code == 201, own.text
    assert own.json()["status"] == "en_projet"
    assert own.json()["next_renewal_on"] is None
    mine = client.get("/api/conventions", headers=andelnans).json()
    assert [c["commune_code"] for c in mine["data"]] == [ANDELNANS]

    # the état-major of the CSP sees both, with their référents
    planner = as_role(client, "planificateur", csp_ids=[csp_id])
    both = client.get("/api/conventions", headers=planner).json()["data"]
    assert [c["commune_code"] for c in both] == [ANDELNANS, BELFORT]
    assert both[1]["referents"][0]["name"] == "Référent fictif"

    # updated with the version read: the référents replaced; a stale version is a 409
    patched = client.patch(
        f"/api/conventions/{a['id']}",
        json={
            "version": a["version"],
            "quartier": "Quartier des Vosges (fictif, étendu)",
            "referents": [{"name": "Autre référent fictif"}, {"name": "Troisième (fictif)"}],
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == a["version"] + 1
    assert [r["name"] for r in patched.json()["referents"]] == [
        "Autre référent fictif",
        "Troisième (fictif)",
    ]
    assert (
        client.patch(
            f"/api/conventions/{a['id']}", json={"version": a["version"], "note": "x"}
        ).status_code
        == 409
    )
    backwards = client.patch(
        f"/api/conventions/{a['id']}", json={"end_on": (start - timedelta(days=1)).isoformat()}
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"].startswith("Date de fin : la fin")
    a = patched.json()

    # denounced today: runs to the end of the current term, then ends
    stale = client.post(f"/api/conventions/{a['id']}/denounce", json={"version": 99})
    assert stale.status_code == 409
    denounced = client.post(
        f"/api/conventions/{a['id']}/denounce",
        json={"version": a["version"], "denounced_on": today.isoformat(), "reason": "Essai"},
    ).json()
    assert denounced["status"] == "denoncee"
    assert denounced["next_renewal_on"] is None
    assert denounced["ends_on"] == f"{today.year + 2}-01-09"
    again = client.post(f"/api/conventions/{a['id']}/denounce", json={})
    assert again.status_code == 409
    assert again.json()["detail"].startswith(
        "Date de dénonciation : la convention a déjà été dénoncée"
    )

    # figures: 10 communes in the CSP, Belfort covered (dénoncée still runs), Andelnans
    # in project
    figures = client.get("/api/conventions/figures", headers=planner).json()
    (csp,) = figures["csps"]
    assert (csp["communes"], csp["communes_covered"], csp["conventions_in_force"]) == (10, 1, 1)
    assert csp["by_status"] == {"denoncee": 1, "en_projet": 1}
    assert csp["referents"] == 2
    (dep,) = figures["departements"]
    assert (dep["code"], dep["communes_covered"]) == ("90", 1)
    layer = client.get("/api/conventions/map", headers=planner).json()
    assert [f["properties"]["quartier"] for f in layer["features"]] == [
        "Quartier des Vosges (fictif, étendu)"
    ]
    assert client.get("/api/conventions/map", headers=andelnans).json()["features"] == []

    # the renewal reminders (the same demo database, to keep the suite short)
    _renewal_reminders_once_per_date(client, demo)
    # the dashboards' problem counts, and the conventions they list with their renewals
    _dashboard_counts_masked(client, csp_id, demo)


def _dashboard_counts_masked(client: TestClient, csp_id: int, demo: sessionmaker[Session]) -> None:
    """Each commune's dashboard counts the problems anchored in it over the 90 days to
    today and the 90 before, as an SQL count says, 1 or 2 masked (never a record)."""
    now = (TODAY - timedelta(days=89), TODAY)
    before = (TODAY - timedelta(days=179), TODAY - timedelta(days=90))
    codes = [
        f["id"] for f in client.get("/api/communes", params={"csp": csp_id}).json()["features"]
    ]
    query = text(
        "SELECT c.code, count(p.id) FROM commune c LEFT JOIN problem p ON p.csp_id = :csp"
        " AND p.reported_on BETWEEN :since AND :until AND ST_Intersects(p.anchor, c.geom)"
        " WHERE c.code = ANY(:codes) GROUP BY c.code"
    )
    with demo() as session:
        counted = [
            dict(
                session.execute(
                    query, {"csp": csp_id, "since": a, "until": b, "codes": codes}
                ).all()
            )
            for a, b in (now, before)
        ]
    expected = {k: tuple(None if c[k] in (1, 2) else c[k] for c in counted) for k in codes}
    shown = {}
    for code in codes:
        d = client.get(f"/api/communes/{code}/dashboard").json()
        # the GPOs covering the commune with their meetings, as the GPO itself says them
        for gpo in d["gpos"]:
            full = client.get(f"/api/gpos/{gpo['id']}").json()
            assert gpo == {key: full[key] for key in gpo}
        problems = d["problems"]
        assert (problems["date_from"], problems["date_to"]) == (
            now[0].isoformat(),
            now[1].isoformat(),
        )
        shown[code] = (problems["count"], problems["previous_count"])
        assert set(problems) == {
            "date_from",
            "date_to",
            "count",
            "previous_count",
            "hot_cells",
            "trends",
            "synthetic",
        }
    assert shown == expected
    # some commune of the demo has 1 or 2 problems in one of the periods: masked
    assert any(None in pair for pair in shown.values()), counted


def _renewal_reminders_once_per_date(client: TestClient, demo: sessionmaker[Session]) -> None:
    """A commune's accounts are reminded 60 days before a tacit renewal, once per date."""
    today = TODAY
    renewal = today + timedelta(days=30)
    if (renewal.month, renewal.day) == (2, 29):
        renewal -= timedelta(days=1)
    start = renewal.replace(year=renewal.year - 3)
    mayor = as_role(client, "commune", commune_codes=[BAVILLIERS], email="maire@bavilliers.test")
    created = client.post(
        "/api/conventions",
        headers=mayor,
        json={
            "commune_code": BAVILLIERS,
            "quartier": "Toute la commune",
            "whole_commune": True,
            "signatories": _signatories(start.isoformat()),
            "start_on": start.isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["next_renewal_on"] == renewal.isoformat()
    ctx = client.app.state.context  # type: ignore[attr-defined]
    assert reminders.enqueue_reminders(ctx, today=today) == 1
    assert reminders.enqueue_reminders(ctx, today=today) == 0
    # too early: 61 days before, nothing
    assert reminders.enqueue_reminders(ctx, today=renewal - timedelta(days=61)) == 0
    with demo() as session:
        (n,) = session.scalars(select(Notification)).all()
        assert n.recipient == "maire@bavilliers.test"
        assert n.kind == "convention-renewal"
        assert n.commune_code == BAVILLIERS
        assert n.dedupe_key == (
            f"convention-renewal:{created.json()['id']}:{renewal.isoformat()}:maire@bavilliers.test"
        )
        assert f"reconduite tacitement pour trois ans le {renewal:%d/%m/%Y}" in n.body
