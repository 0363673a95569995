"""The cartographie des problématiques through the API, on the demo as shipped (adopted
plan, GPOs, two years of synthetic problems), checked against PostGIS."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from geo.problems import OPEN_STATUSES
from tests.clock import TODAY
from tests.plan_helpers import adopt, propose

YEAR_AGO = TODAY - timedelta(days=364)


@pytest.fixture
def csp_id(client: TestClient, demo_adopted: sessionmaker[Session]) -> int:
    del demo_adopted
    return int(client.get("/api/csp").json()["data"][0]["id"])


@pytest.fixture
def gpo(client: TestClient, csp_id: int) -> dict[str, Any]:
    """The sector GPO with the most open problems."""
    gpos = client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
    return max(gpos, key=lambda g: g["open_problems"])


def sql_count(engine: Engine, where: str, **params: Any) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM problem p "
                    f"LEFT JOIN problem_place pp ON pp.problem_id = p.id WHERE {where}"
                ),
                params,
            ).scalar_one()
        )


def test_the_demo_adopts_a_plan_with_gpos_and_meetings(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    gpos = client.get(f"/api/csp/{csp_id}/gpos").json()
    # six sector GPOs, and the demo's thematic « Transports » GPO
    assert gpos["count"] == 7
    assert sorted(g["kind"] for g in gpos["data"]) == ["sector"] * 6 + ["thematic"]
    for g in gpos["data"]:
        meetings = client.get(f"/api/gpos/{g['id']}/meetings").json()
        # two years every 15 or 30 days (± 3), one in ten skipped: 20 at the least
        assert meetings["count"] >= 15
        assert all(m["synthetic"] for m in meetings["data"])
    assert sql_count(engine, "pp.problem_id IS NULL") == 0  # every problem is placed


def test_hotspots_of_a_gpo_match_postgis(
    client: TestClient, csp_id: int, gpo: dict[str, Any], engine: Engine
) -> None:
    params = {"gpo": gpo["id"], "from": str(YEAR_AGO), "to": str(TODAY)}
    response = client.get(f"/api/csp/{csp_id}/hotspots", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    meta = body["meta"]
    expected = sql_count(
        engine,
        "pp.sector = :s AND p.reported_on BETWEEN :a AND :b",
        s=gpo["sector"],
        a=YEAR_AGO,
        b=TODAY,
    )
    assert meta["problems"] == expected > 20
    assert meta["synthetic_problems"] == expected  # the demo's problems are all synthetic
    cells = body["features"]
    assert sum(c["properties"]["count"] for c in cells) == expected
    assert meta["hot_cells"] > 0 and meta["bandwidth_m"] >= 50
    for cell in cells:
        p = cell["properties"]
        assert (p["level"] > 0) <= (p["z"] > 0) and (p["level"] < 0) <= (p["z"] < 0)
    # The busiest cell's count, recounted in PostGIS from its hexagon.
    top = max(cells, key=lambda c: c["properties"]["count"])
    recount = sql_count(
        engine,
        "pp.sector = :s AND p.reported_on BETWEEN :a AND :b AND "
        "ST_Covers(ST_SetSRID(ST_GeomFromGeoJSON(:hex), 4326), p.anchor)",
        s=gpo["sector"],
        a=YEAR_AGO,
        b=TODAY,
        hex=json.dumps(top["geometry"]),
    )
    assert recount == top["properties"]["count"]

    heat = client.get(f"/api/csp/{csp_id}/heat", params=params).json()
    assert heat["meta"] == meta
    bands = [shapely.geometry.shape(f["geometry"]) for f in heat["features"]]
    assert bands and all(b.is_valid for b in bands)
    shares = {f["properties"]["share"] for f in heat["features"]}
    assert min(shares) == 0.05 and len(shares) == 6
    # The densest band lies where problems concentrate: on a hot cell.
    peak = [
        b for b, f in zip(bands, heat["features"], strict=True) if f["properties"]["share"] > 0.8
    ]
    hot = shapely.union_all(
        [shapely.geometry.shape(c["geometry"]) for c in cells if c["properties"]["level"] > 0]
    )
    assert any(b.intersects(hot) for b in peak)


def test_filters_and_the_whole_csp(client: TestClient, csp_id: int, engine: Engine) -> None:
    params: dict[str, Any] = {"category": ["stupefiants", "rassemblements"], "status": ["signale"]}
    body = client.get(f"/api/csp/{csp_id}/hotspots", params=params).json()
    expected = sql_count(
        engine,
        "p.category IN ('stupefiants', 'rassemblements') AND p.status = 'signale' "
        "AND p.reported_on BETWEEN :a AND :b",
        a=YEAR_AGO,
        b=TODAY,
    )
    assert body["meta"]["problems"] == expected
    assert body["meta"]["area"] == "CSP Belfort" and body["meta"]["gpo_id"] is None


def test_maps_are_cached_until_problems_change(
    client: TestClient, csp_id: int, gpo: dict[str, Any]
) -> None:
    url = f"/api/csp/{csp_id}/hotspots"
    cache = client.app.state.context.maps  # type: ignore[attr-defined]
    first = client.get(url, params={"gpo": gpo["id"]})
    entries = len(cache)
    again = client.get(url, params={"gpo": gpo["id"]})
    assert again.content == first.content and len(cache) == entries  # served from cache
    # A new problem in the sector: the next map counts it.
    sector = client.get(f"/api/gpos/{gpo['id']}").json()
    plan = client.get(f"/api/plans/{sector['plan_id']}").json()
    outline = shapely.geometry.shape(plan["sectors"]["features"][gpo["sector"]]["geometry"])
    point = outline.representative_point()
    created = client.post(
        f"/api/csp/{csp_id}/problems",
        json={"category": "nuisances", "title": "Tapage", "lon": point.x, "lat": point.y},
    )
    assert created.status_code == 201, created.text
    after = client.get(url, params={"gpo": gpo["id"]}).json()
    assert after["meta"]["revision"] > first.json()["meta"]["revision"]
    assert after["meta"]["problems"] == first.json()["meta"]["problems"] + 1


def test_comparison_and_prediction_indices(
    client: TestClient, csp_id: int, gpo: dict[str, Any]
) -> None:
    before = {"from": str(TODAY - timedelta(days=359)), "to": str(TODAY - timedelta(days=180))}
    after = {"from": str(TODAY - timedelta(days=179)), "to": str(TODAY)}
    response = client.get(
        f"/api/csp/{csp_id}/hotspots/comparison",
        params={
            "gpo": gpo["id"],
            "before_from": before["from"],
            "before_to": before["to"],
            **after,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    maps_before = client.get(
        f"/api/csp/{csp_id}/hotspots", params={"gpo": gpo["id"], **before}
    ).json()
    maps_after = client.get(
        f"/api/csp/{csp_id}/hotspots", params={"gpo": gpo["id"], **after}
    ).json()
    hot_before = {c["id"] for c in maps_before["features"] if c["properties"]["level"] > 0}
    hot_after = {c["id"] for c in maps_after["features"] if c["properties"]["level"] > 0}
    trends = {f["id"]: f["properties"]["trend"] for f in body["features"]}
    assert set(trends) == hot_before | hot_after
    assert {c for c, t in trends.items() if t == "new"} == hot_after - hot_before
    # PAI recomputed from the two maps: hits of the later problems in the earlier hot cells.
    after_counts = {c["id"]: c["properties"]["count"] for c in maps_after["features"]}
    hits = sum(after_counts.get(c, 0) for c in hot_before)
    prediction = body["prediction"]
    assert prediction["hits"] == hits
    assert prediction["problems"] == maps_after["meta"]["problems"]
    assert prediction["hit_rate"] == pytest.approx(hits / prediction["problems"])
    assert prediction["pai"] == pytest.approx(prediction["hit_rate"] / prediction["area_share"])
    best = sum(sorted(after_counts.values(), reverse=True)[: len(hot_before)])
    assert prediction["best_hits"] == best and prediction["pei"] == pytest.approx(hits / best)


def test_trend_and_open_problems(
    client: TestClient, csp_id: int, gpo: dict[str, Any], engine: Engine
) -> None:
    trend = client.get(
        f"/api/csp/{csp_id}/trend",
        params={"gpo": gpo["id"], "from": str(YEAR_AGO), "to": str(TODAY)},
    ).json()
    assert len(trend["months"]) in (12, 13) and trend["months"][-1] == TODAY.strftime("%Y-%m")
    total = sum(sum(s["counts"]) for s in trend["series"])
    assert total == sql_count(
        engine,
        "pp.sector = :s AND p.reported_on BETWEEN :a AND :b",
        s=gpo["sector"],
        a=YEAR_AGO,
        b=TODAY,
    )
    summer = [s for s in trend["series"] if s["category"] == "scolaire"]
    if summer:  # no school harassment in August (the synthetic model's seasonality)
        august = [i for i, m in enumerate(trend["months"]) if m.endswith("-08")]
        assert all(summer[0]["counts"][i] == 0 for i in august)

    open_ = client.get(f"/api/csp/{csp_id}/open-problems", params={"gpo": gpo["id"]}).json()
    statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    assert (
        open_["count"]
        == gpo["open_problems"]
        == sql_count(engine, f"pp.sector = :s AND p.status IN ({statuses})", s=gpo["sector"])
    )
    assert all(p["status"] in OPEN_STATUSES for p in open_["data"])
    order = [
        ({"haute": 0, "normale": 1}.get(p["priority"], 2), p["reported_on"]) for p in open_["data"]
    ]
    assert order == sorted(order)
    with_actions = [p for p in open_["data"] if p["actions"]]
    assert with_actions and all(a["type_label"] for p in with_actions for a in p["actions"])


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"category": "vol_de_pommes"}, 422, "vol_de_pommes"),
        ({"status": "perdu"}, 422, "perdu"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, 422, "le début (01/05/2026)"),
        ({"from": "2010-01-01", "to": "2026-01-01"}, 422, "au plus 3\u202f660 jours"),
        ({"gpo": 999_999}, 404, "999999"),
        ({"res": 14}, 422, "res"),
        ({"bandwidth": -5}, 422, "bandwidth"),
        ({"bandwidth": 10}, 422, "bandwidth"),  # under the 50 m floor
        ({"to": "0001-01-01"}, 422, "0001-01-01"),
    ],
)
def test_bad_requests_name_the_value(
    client: TestClient, csp_id: int, params: dict[str, Any], status: int, needle: str
) -> None:
    response = client.get(f"/api/csp/{csp_id}/hotspots", params=params)
    assert response.status_code == status, response.text
    assert needle in response.text


def test_a_gpo_left_out_of_the_plan_has_no_map(client: TestClient, csp_id: int) -> None:
    gpos = client.get(f"/api/csp/{csp_id}/gpos").json()["data"]
    smaller = propose(client, csp_id, k=3, seed=0)
    preview = client.get(f"/api/plans/{smaller['id']}/adoption").json()
    assert adopt(client, smaller["id"]).status_code == 200
    # Six sectors become three: the sector GPOs whose territory no new sector continues
    # retire (the demo's thematic GPO is not one of them).
    assert len(preview["retired"]) == len([g for g in gpos if g["kind"] == "sector"]) - 3
    gone = next(g for g in gpos if g["id"] == preview["retired"][0]["gpo_id"])
    response = client.get(f"/api/csp/{csp_id}/hotspots", params={"gpo": gone["id"]})
    assert response.status_code == 422 and f"le GPO n° {gone['id']} est inactif" in response.text
    assert client.get("/api/csp/999/hotspots").status_code == 404


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        (
            {"before_from": "2026-03-01", "before_to": "2026-02-01"},
            "le début (01/03/2026) suit la fin (01/02/2026)",
        ),
        ({"before_to": "2026-10-01", "from": "2026-09-01", "to": "2026-10-15"}, "se chevauchent"),
        ({"from": "0001-01-01", "to": "0001-01-05"}, "le 0001-01-01 est trop ancien"),
    ],
)
def test_comparison_periods_are_checked(
    client: TestClient, csp_id: int, params: dict[str, Any], needle: str
) -> None:
    response = client.get(f"/api/csp/{csp_id}/hotspots/comparison", params=params)
    assert response.status_code == 422, response.text
    assert needle in response.json()["detail"]


def test_a_thematic_gpo_beyond_the_plan_is_refused_by_name(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    created = client.post(
        f"/api/csp/{csp_id}/gpos",
        json={"name": "GPO <b>transports</b>", "theme": "transports", "sectors": [1, 4, 5]},
    )
    assert created.status_code == 201, created.text
    thematic = created.json()
    body = client.get(f"/api/csp/{csp_id}/hotspots", params={"gpo": thematic["id"]}).json()
    assert body["meta"]["area"] == "GPO <b>transports</b>" and body["meta"]["problems"] > 0
    # The shareable map escapes the name (no markup from a GPO's name reaches the page).
    page = client.get("/cartographie/carte.html", params={"csp": csp_id, "gpo": thematic["id"]})
    assert page.status_code == 200 and "GPO &lt;b&gt;transports&lt;/b&gt;" in page.text
    smaller = propose(client, csp_id, k=3, seed=0)
    preview = client.get(f"/api/plans/{smaller['id']}/adoption").json()
    assert adopt(client, smaller["id"]).status_code == 200
    # The adoption moves it to the new sectors continued by the GPOs it spanned…
    (moved,) = [t for t in preview["thematic"] if t["gpo_id"] == thematic["id"]]
    assert client.get(f"/api/gpos/{thematic['id']}").json()["sectors"] == moved["sectors_after"]
    # … so only stale sectors, written behind the app's back, are beyond the plan.
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE gpo SET sectors = '[1, 4, 5]' WHERE id = :g"), {"g": thematic["id"]}
        )
    response = client.get(f"/api/csp/{csp_id}/hotspots", params={"gpo": thematic["id"]})
    assert response.status_code == 422
    assert "que le plan adopté n'a pas : 4, 5" in response.json()["detail"]


def test_too_few_problems_give_no_hot_spot(
    client: TestClient, csp_id: int, gpo: dict[str, Any], engine: Engine
) -> None:
    """Three problems of a GPO's sector: below geo.hotspots.MIN_HOTSPOT_PROBLEMS (30), the
    map says there are too few data and calls no cell hot or cold."""
    with engine.connect() as conn:
        days = sorted(
            conn.execute(
                text(
                    "SELECT p.reported_on FROM problem p JOIN problem_place pp "
                    "ON pp.problem_id = p.id WHERE pp.sector = :s"
                ),
                {"s": gpo["sector"]},
            ).scalars()
        )
    # A period holding exactly three problems: from one day to the one two problems later,
    # with no other problem reported on either end day.
    window = next(
        (a, b) for a, b in zip(days, days[2:], strict=False) if sum(a <= d <= b for d in days) == 3
    )
    params = {"gpo": gpo["id"], "from": str(window[0]), "to": str(window[1])}
    body = client.get(f"/api/csp/{csp_id}/hotspots", params=params).json()
    meta = body["meta"]
    assert meta["problems"] == 3
    assert meta["hotspots_computed"] is False and meta["min_hotspot_problems"] == 30
    assert meta["hot_cells"] == 0 and meta["cold_cells"] == 0
    assert {f["properties"]["level"] for f in body["features"]} == {0}
    assert sum(f["properties"]["count"] for f in body["features"]) == 3


def test_sector_labels_lie_inside_their_own_sector(client: TestClient, csp_id: int) -> None:
    """Each sector of the demo's adopted plan carries its label point (pole of
    inaccessibility), inside its own polygon and no other."""
    plans = client.get(f"/api/csp/{csp_id}/plans").json()["data"]
    adopted = next(p for p in plans if p["status"] == "adopted")
    sectors = client.get(f"/api/plans/{adopted['id']}").json()["sectors"]["features"]
    shapes = {f["properties"]["sector"]: shapely.geometry.shape(f["geometry"]) for f in sectors}
    assert len(shapes) >= 6
    for f in sectors:
        point = shapely.Point(f["properties"]["label_point"])
        inside = [s for s, shape in shapes.items() if shape.contains(point)]
        assert inside == [f["properties"]["sector"]], f["properties"]["name"]
        # not on the edge: at least a hundredth of the sector's size from it
        shape = shapes[f["properties"]["sector"]]
        x0, y0, x1, y1 = shape.bounds
        assert shape.boundary.distance(point) > 0.01 * min(x1 - x0, y1 - y0)
