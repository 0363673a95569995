"""The maps a page draws served late after a write (issue 22, ``PSQ_MAP_STALE_SECONDS``,
:meth:`api.map_cache.MapCache.get_or_refresh`): right after new problems, the previous
answer, marked with its own revision; once the one background worker has computed, the
same bytes as a context that never serves late; past the bound, exact at once. And kept
up to date by appending (:mod:`api.services.area_maps`): after new, moved, deleted,
re-dated, re-placed problems, a status or a category changed, under three filters and
two areas, the same bytes as a computation from scratch."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api import clock
from api.map_cache import MapCache
from api.repositories import problem_maps
from api.schemas import CommuneCellsPublic
from api.services import area_maps, cartography
from api.services.area_maps import AreaPoints
from api.services.context import Context
from geo.density import MAX_HEAT_CELLS
from geo.problems import OPEN_STATUSES
from geo.study import ProblemFilter, recent_periods


def _maps(ctx: Context, csp_id: int, commune: str) -> dict[str, Any]:
    """Every late-served map: the hot spots and heat of the last 12 months, the default
    comparison and the commune's cells."""
    year = ProblemFilter.checked(None, None, today=clock.today())
    before, after = recent_periods(clock.today())
    maps = cartography.area_maps(ctx, csp_id, where=year)
    return {
        "hotspots": json.loads(maps.hotspots_json),
        "heat": json.loads(maps.heat_json),
        "comparison": json.loads(
            cartography.comparison_json(ctx, csp_id, gpo_id=None, before=before, after=after)
        ),
        "commune": json.loads(cartography.commune_hotspots_json(ctx, commune)),
    }


def _revisions(maps: dict[str, Any]) -> set[int]:
    return {
        maps["hotspots"]["meta"]["revision"],
        maps["heat"]["meta"]["revision"],
        maps["comparison"]["after"]["revision"],
        maps["commune"]["meta"]["revision"],
    }


def test_late_maps_then_exact_after_random_new_problems(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    app_ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    late = Context(app_ctx.factory, maps=MapCache(size=64, stale_s=60))
    rng = random.Random(2212)
    with engine.connect() as conn:
        commune = conn.scalar(
            text(
                "SELECT c.code FROM commune c JOIN problem p ON ST_Intersects(c.geom, p.anchor) "
                "WHERE p.csp_id = :csp GROUP BY c.code ORDER BY count(*) DESC LIMIT 1"
            ),
            {"csp": csp_id},
        )
        anchors = conn.execute(
            text(
                "SELECT ST_X(p.anchor), ST_Y(p.anchor) FROM problem p JOIN commune c "
                "ON ST_Intersects(c.geom, p.anchor) WHERE c.code = :code ORDER BY p.id"
            ),
            {"code": commune},
        ).all()
    assert commune is not None and len(anchors) > 20

    shown = _maps(late, csp_id, commune)
    assert len(_revisions(shown)) == 1
    for step in range(3):
        # new problems on (a few metres from) the commune's own: every map changes
        for n in range(rng.randint(1, 3)):
            x, y = rng.choice(anchors)
            answer = client.post(
                f"/api/csp/{csp_id}/problems",
                json={
                    "category": "nuisances",
                    "title": f"Essai {step}.{n}",
                    "lon": x + rng.uniform(-3e-5, 3e-5),
                    "lat": y + rng.uniform(-3e-5, 3e-5),
                },
            )
            assert answer.status_code == 201, answer.text
        # at once: the previous answers, with their revision
        assert _maps(late, csp_id, commune) == shown
        late.maps.wait_refreshed()
        # the worker's answers: those of a context that is never late
        exact = _maps(Context(app_ctx.factory), csp_id, commune)
        shown = _maps(late, csp_id, commune)
        assert shown == exact
        assert len(_revisions(shown)) == 1
        assert shown["hotspots"]["meta"]["problems"] > 0

    # an answer last known current longer ago than the bound is never served late
    late.maps.stale_s = 0.3
    _maps(late, csp_id, commune)
    x, y = anchors[0]
    answer = client.post(
        f"/api/csp/{csp_id}/problems",
        json={"category": "nuisances", "title": "Essai tardif", "lon": x, "lat": y},
    )
    assert answer.status_code == 201, answer.text
    time.sleep(0.4)
    exact = _maps(Context(app_ctx.factory), csp_id, commune)
    assert _maps(late, csp_id, commune) == exact
    assert max(_revisions(exact)) > max(_revisions(shown))


#: What each write of :func:`test_maps_kept_by_appending_equal_a_computation_from_scratch`
#: does, in SQL (``:id`` a problem of the GPO's area in the year, ``:other`` another).
WRITES: dict[str, list[str]] = {
    "new problem": [
        "WITH made AS (INSERT INTO problem (csp_id, category, title, status, reported_on, "
        "status_on, anchor, geom, synthetic) SELECT csp_id, category, 'Essai', 'signale', "
        ":today, :today, ST_Translate(anchor, 0.0004, 0.0002), "
        "ST_Translate(geom, 0.0004, 0.0002), false FROM problem WHERE id = :id "
        "RETURNING id) INSERT INTO problem_place (problem_id, csp_id, sector, gpo_id) "
        "SELECT made.id, pp.csp_id, pp.sector, pp.gpo_id FROM made, problem_place pp "
        "WHERE pp.problem_id = :id"
    ],
    "move": [
        "UPDATE problem SET anchor = ST_Translate(anchor, 0.003, -0.002), "
        "geom = ST_Translate(geom, 0.003, -0.002) WHERE id = :id"
    ],
    "delete": ["DELETE FROM problem WHERE id = :id"],
    "status": ["UPDATE problem SET status = 'resolu', status_on = :today WHERE id = :id"],
    "category": [
        "UPDATE problem SET category = (SELECT category FROM problem WHERE id = :other) "
        "WHERE id = :id",
        "UPDATE problem SET category = :category WHERE id = :other",
    ],
    "date": ["UPDATE problem SET reported_on = reported_on - 400 WHERE id = :id"],
    "sector": [
        "UPDATE problem_place SET sector = (SELECT sector FROM problem_place "
        "WHERE gpo_id IS DISTINCT FROM :gpo LIMIT 1), gpo_id = NULL WHERE problem_id = :id"
    ],
    "move and delete at once": [
        "UPDATE problem SET anchor = ST_Translate(anchor, -0.002, 0.001), "
        "geom = ST_Translate(geom, -0.002, 0.001) WHERE id = :id",
        "DELETE FROM problem WHERE id = :other",
    ],
    "re-dated within the period": [
        "UPDATE problem SET reported_on = reported_on - 31 WHERE id = :recent"
    ],
    "title only": ["UPDATE problem SET title = 'Autre titre' WHERE id = :id"],
}


def test_maps_kept_by_appending_equal_a_computation_from_scratch(
    demo_adopted: sessionmaker[Session], engine: Engine
) -> None:
    # One context keeps its maps across writes of every kind (only the problems written
    # since its snapshot read again: issue 22); after each, its answers are the bytes a
    # context that never held anything computes.
    factory = demo_adopted
    today = clock.today()
    year = ProblemFilter.checked(None, None, today=today)
    with engine.connect() as conn:
        csp_id = conn.scalar(text("SELECT min(id) FROM csp"))
        gpo_id, category = conn.execute(
            text(
                "SELECT pp.gpo_id, p.category FROM problem p JOIN problem_place pp "
                "ON pp.problem_id = p.id JOIN gpo g ON g.id = pp.gpo_id WHERE g.active "
                "AND p.reported_on >= :since GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
            ),
            {"since": year.since},
        ).one()
        total = conn.scalar(text("SELECT count(*) FROM problem WHERE csp_id = :c"), {"c": csp_id})
        commune = conn.scalar(
            text(
                "SELECT c.code FROM commune c JOIN problem p ON ST_Intersects(c.geom, p.anchor) "
                "JOIN problem_place pp ON pp.problem_id = p.id WHERE pp.gpo_id = :gpo "
                "GROUP BY c.code ORDER BY count(*) DESC LIMIT 1"
            ),
            {"gpo": gpo_id},
        )
    # the year in the CSP and the GPO, the GPO's main category, the CSP's open problems
    filters = {
        (None, year),
        (gpo_id, year),
        (gpo_id, ProblemFilter(year.since, year.until, categories=(category,))),
        (None, ProblemFilter(year.since, year.until, statuses=tuple(sorted(OPEN_STATUSES)))),
    }
    before, after = recent_periods(today)

    def answers(ctx: Context) -> list[bytes]:
        out = []
        for gpo, where in sorted(filters, key=repr):
            maps = cartography.area_maps(ctx, csp_id, gpo_id=gpo, where=where)
            out += [maps.hotspots_json, maps.heat_json]
            out.append(cartography.trend_json(ctx, csp_id, gpo_id=gpo, where=where))
        out.append(
            cartography.comparison_json(ctx, csp_id, gpo_id=None, before=before, after=after)
        )
        out.append(cartography.commune_hotspots_json(ctx, commune))
        return out

    def trends_in_sql() -> list[Any]:
        # the trend as SQL counts it (the code before issue 22's appending)
        out = []
        with kept.read() as session:
            for gpo, where in sorted(filters, key=repr):
                counts = problem_maps.monthly_counts(session=session, area=areas[gpo], where=where)
                tally: dict[str, dict[str, int]] = {}
                for month, category, n in counts.itertuples(index=False):
                    tally.setdefault(category, {})[month] = int(n)
                out.append(tally)
        return out

    def trends_served() -> list[Any]:
        out = []
        for gpo, where in sorted(filters, key=repr):
            trend = json.loads(cartography.trend_json(kept, csp_id, gpo_id=gpo, where=where))
            out.append(
                {
                    s["category"]: {
                        m: n for m, n in zip(trend["months"], s["counts"], strict=True) if n
                    }
                    for s in trend["series"]
                }
            )
        return out

    kept = Context(factory)
    with kept.read() as session:
        areas = {
            g: problem_maps.study_area(session=session, csp_id=csp_id, gpo_id=g)
            for g in (None, gpo_id)
        }
    keys = [("map points", areas[g].key, w, 9) for g, w in filters]

    def held() -> dict[Any, AreaPoints]:
        return {k: kept.maps.held(k)[1] for k in keys}  # type: ignore[index]

    shown = answers(kept)
    assert shown == answers(Context(factory))
    # the commune's cells, written straight from the cells: what its schema writes
    written = CommuneCellsPublic.model_validate_json(shown[-1]).model_dump_json().encode()
    assert written == shown[-1]
    assert trends_served() == trends_in_sql()
    first = held()
    rng = random.Random(2222)
    for name, statements in WRITES.items():
        with engine.connect() as conn:
            mine = conn.scalars(
                text(
                    "SELECT p.id FROM problem p JOIN problem_place pp ON pp.problem_id = p.id "
                    "WHERE pp.gpo_id = :gpo AND p.reported_on >= :since "
                    "AND p.status <> 'resolu' AND p.category = :category ORDER BY p.id"
                ),
                {"gpo": gpo_id, "since": year.since, "category": category},
            ).all()
            recent = conn.scalars(
                text(
                    "SELECT p.id FROM problem p JOIN problem_place pp ON pp.problem_id = p.id "
                    "WHERE pp.gpo_id = :gpo AND p.reported_on >= :since "
                    "AND p.category = :category ORDER BY p.id"
                ),
                {"gpo": gpo_id, "since": year.since + timedelta(days=40), "category": category},
            ).all()
            others = conn.scalars(
                text(
                    "SELECT id FROM problem WHERE csp_id = :csp AND reported_on >= :since "
                    "AND category <> :category ORDER BY id"
                ),
                {"csp": csp_id, "since": year.since, "category": category},
            ).all()
        chosen = {
            "id": rng.choice(mine),
            "other": rng.choice(others),
            "recent": rng.choice(recent),
            "today": today,
            "gpo": gpo_id,
            "category": category,
        }
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), chosen)
        maps_before = {
            k: kept.maps.held(("maps", k[1], k[2], 9, None, MAX_HEAT_CELLS)) for k in keys
        }
        now = answers(kept)
        assert now == answers(Context(factory)), name
        assert trends_served() == trends_in_sql(), name
        # appended to: the points held are those held before, brought up to date
        assert all(state.outline is first[k].outline for k, state in held().items()), name
        if name == "title only":  # nothing the maps draw changed: the same maps again
            for k in keys:
                again = kept.maps.held(("maps", k[1], k[2], 9, None, MAX_HEAT_CELLS))
                assert again is not None and maps_before[k] is not None
                assert again[1].cells is maps_before[k][1].cells
                assert again[0] > maps_before[k][0]
        else:
            assert now != shown, name
        shown = now

    # the same area under another outline (a new plan's sectors, same numbers): read whole
    area = areas[gpo_id]
    key = ("map points", area.key, year, 9)
    with kept.read() as session:
        moved = area_maps.updated_points(
            session, held()[key], replace(area, outline=area.outline.buffer(0.002)), key[2], 9
        )
    assert moved.cells is not first[key].cells and len(moved.cells) > len(first[key].cells)

    # read by a transaction that wrote (rolled back after): its points are not to be held
    with factory() as session:
        session.execute(text("DELETE FROM problem WHERE id = :id"), {"id": mine[0]})
        seen = area_maps.updated_points(session, held()[key], area, key[2], 9)
        assert not seen.holdable and len(seen.ids) == len(held()[key].ids) - 1
        session.rollback()

    # a statement writing more problems of the CSP than the triggers list (1 001 copies
    # of one problem, an import): every map read whole
    assert total < 1000
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO problem (csp_id, category, title, status, reported_on, "
                "status_on, anchor, geom) SELECT csp_id, category, 'Copie', status, :today, "
                "status_on, anchor, geom FROM problem, generate_series(1, 1001) "
                "WHERE id = :id"
            ),
            {"id": rng.choice(others), "today": today},
        )
    assert answers(kept) == answers(Context(factory))
    assert all(state.outline is not first[k].outline for k, state in held().items())
