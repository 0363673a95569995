"""Profile of a recompute of the hot spots and heat of a study area (issue 22): where a
new revision of the maps spends its time, step by step, from scratch and appended.

Run: .venv/bin/python -m bench.maps_profile [--count 100000] [--keep DIR]

``--keep DIR``: a cluster kept in ``DIR`` (filled once, reused by later runs). The
database is :mod:`bench.load_bench`'s: the demo territory and ``--count`` synthetic,
fictitious problems. For the GPO 1 and the whole CSP over the last 12 months, each step of
a computation from scratch is timed (the SQL read of the points, the H3 binning, Gi*, the
kernel density and its bands, the JSON), then a new problem is written and the maps of the
new revision are computed as the pages get them (from the previous revision's held state).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from api import clock
from api.map_cache import MapCache
from api.repositories import problem_maps
from api.services import area_maps, cartography
from api.services.context import Context
from bench.common import throwaway_database
from bench.load_bench import CSP, prepare
from bench.ogc_bench import kept_database
from geo import density, hotspots
from geo.study import ProblemFilter


def _timed(times: dict[str, list[float]], name: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    value = fn()
    times.setdefault(name, []).append((time.perf_counter() - start) * 1000)
    return value


def from_scratch(ctx: Context, gpo_id: int | None, where: ProblemFilter) -> dict[str, list[float]]:
    """Each step of a computation of the maps from scratch, timed (ms), 5 times."""
    times: dict[str, list[float]] = {}
    for _ in range(5):
        _steps(ctx, gpo_id, where, times)
    return times


def _steps(
    ctx: Context, gpo_id: int | None, where: ProblemFilter, times: dict[str, list[float]]
) -> None:
    with ctx.read() as session:
        area = problem_maps.study_area(session=session, csp_id=CSP, gpo_id=gpo_id)
        frame = _timed(
            times,
            "SQL read of the points",
            lambda: problem_maps.problem_points(session=session, area=area, where=where),
        )
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    cells = _timed(times, "study cells", lambda: hotspots.study_cells(area.outline))
    found = _timed(times, "H3 binning (Python)", lambda: hotspots.point_cells(lon, lat))
    counts = _timed(times, "H3 counts", lambda: hotspots.cell_counts(found, cells))
    _timed(times, "Gi*", lambda: hotspots.getis_ord(counts))
    crs = hotspots.metric_crs_of(area.outline)
    xy = _timed(times, "projection to metres", lambda: hotspots.metric_xy(lon, lat, crs))
    surface = _timed(times, "kernel density", lambda: density.kde(xy, crs=crs))
    _timed(times, "heat bands", surface.bands)
    with ctx.read() as session:
        points = _timed(
            times,
            "points read whole (state)",
            lambda: area_maps.read_points(session, area, where, 9),
        )
    maps = _timed(
        times,
        "hot spots from the points",
        lambda: area_maps.maps_of(
            points, area=area, where=where, res=9, bandwidth=None, revision=0
        ),
    )
    _timed(times, "heat from the points", lambda: maps.heat_json)


def after_a_write(
    ctx: Context, gpo_id: int | None, where: ProblemFilter
) -> tuple[list[float], list[float]]:
    """The maps of each new revision after one new problem, as the pages get them (ms:
    the hot spots and the heat), by appending to the maps held, and from scratch (a
    context that holds nothing)."""
    spent: list[float] = []
    scratch: list[float] = []
    cache: MapCache[Any] = MapCache()
    ctx = Context(ctx.factory, maps=cache)
    cartography.area_maps(ctx, CSP, gpo_id=gpo_id, where=where)
    for n in range(5):
        with ctx.write() as session:  # a copy of a problem of the area, and its place
            session.execute(
                text(
                    "WITH source AS (SELECT p.*, pp.sector, pp.gpo_id FROM problem p "
                    "JOIN problem_place pp ON pp.problem_id = p.id WHERE p.csp_id = :csp "
                    "AND (CAST(:gpo AS int) IS NULL OR pp.gpo_id = :gpo) "
                    "AND p.reported_on > :since ORDER BY p.id DESC LIMIT 1), "
                    "made AS (INSERT INTO problem (csp_id, category, title, status, "
                    "reported_on, status_on, anchor, geom, synthetic) SELECT csp_id, "
                    "category, :t, status, reported_on, status_on, anchor, geom, synthetic "
                    "FROM source RETURNING id, csp_id) "
                    "INSERT INTO problem_place (problem_id, csp_id, sector, gpo_id) "
                    "SELECT made.id, made.csp_id, source.sector, source.gpo_id FROM made, source"
                ),
                {"t": f"Essai {n}", "csp": CSP, "gpo": gpo_id, "since": where.since},
            )
        start = time.perf_counter()
        kept = cartography.area_maps(ctx, CSP, gpo_id=gpo_id, where=where)
        kept.heat_json  # noqa: B018 (the heat, computed when first asked)
        spent.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        fresh = cartography.area_maps(Context(ctx.factory), CSP, gpo_id=gpo_id, where=where)
        fresh.heat_json  # noqa: B018
        scratch.append((time.perf_counter() - start) * 1000)
        assert (kept.hotspots_json, kept.heat_json) == (fresh.hotspots_json, fresh.heat_json)
    return spent, scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            _, factory = stack.enter_context(kept_database(args.keep))
        else:
            _, factory, _ = stack.enter_context(throwaway_database())
        with factory() as session:
            loaded = session.scalar(text("SELECT count(*) FROM problem WHERE synthetic"))
        if not loaded:
            prepare(factory, args.count)
        ctx = Context(factory)
        today = clock.today()
        where = ProblemFilter.checked(None, None, today=today)
        for gpo_id in (1, None):
            name = f"GPO {gpo_id}" if gpo_id else f"CSP {CSP}"
            with ctx.read() as session:
                area = problem_maps.study_area(session=session, csp_id=CSP, gpo_id=gpo_id)
                n = len(problem_maps.problem_points(session=session, area=area, where=where))
            print(f"\n{name}, last 12 months ({n:,} problems): median of 5, ms")
            for step, values in from_scratch(ctx, gpo_id, where).items():
                print(f"  {step:<28} {statistics.median(values):8.1f}")
            spent, scratch = after_a_write(ctx, gpo_id, where)
            for what, values in (
                ("new problem: appended", spent),
                ("new problem: from scratch", scratch),
            ):
                print(
                    f"  {what:<28} {statistics.median(values):8.1f}"
                    f"  ({', '.join(f'{v:.0f}' for v in values)})"
                )


if __name__ == "__main__":
    main()
