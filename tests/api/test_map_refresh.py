"""The maps a page draws served late after a write (issue 22, ``PSQ_MAP_STALE_SECONDS``,
:meth:`api.map_cache.MapCache.get_or_refresh`): right after new problems, the previous
answer, marked with its own revision; once the one background worker has computed, the
same bytes as a context that never serves late; past the bound, exact at once."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api import clock
from api.map_cache import MapCache
from api.services import cartography
from api.services.context import Context
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
