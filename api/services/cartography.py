"""The *cartographie des problématiques* of a study area — a GPO's sectors in the adopted
plan, a whole CSP, or one commune (aggregates only, for the commune's own page): hot-spot
cells, heat bands, period comparison, monthly trend, open problems with their actions,
and what a GPO's meeting pack gathers. The figures come from :mod:`geo.hotspots`; the
answers are computed once per revision of the problems and kept in the context's map
cache, the hot spots and heat by appending (:mod:`api.services.area_maps`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api import clock
from api.map_cache import MapCache, cached_json, served_json
from api.repositories import base, gpos, plans, problem_maps, problems, touches
from api.repositories.base import adopted_plan_id
from api.repositories.problem_maps import PackProblem
from api.schemas import (
    GpoPublic,
    HotspotComparisonPublic,
    MonthlyTrendPublic,
    OpenProblemPublic,
    PredictionPublic,
    TrendSeries,
)
from api.services import kept_lists
from api.services.area_maps import (
    AreaMaps,
    AreaPoints,
    area_points,
    cached_area_maps,
    cell_features,
    check_map_cells,
    collection,
    features_of,
)
from api.services.audit_log import record_access
from api.services.context import Context
from geo.errors import InvalidInputError
from geo.hotspots import (
    DEFAULT_H3_RES,
    LEVEL_LABELS,
    TRENDS,
    compare_periods,
    prediction_indices,
)
from geo.problems import CATEGORIES
from geo.study import ProblemFilter, StudyArea, period_days, recent_periods

#: How many open problems a meeting pack lists.
PACK_OPEN_PROBLEMS = 25

T = TypeVar("T")


#: A commune's pages show no count below this (one or two problems could single a record
#: out); such cells say only that they hold a few.
MIN_COMMUNE_COUNT = 3


def commune_cells(maps: AreaMaps) -> bytes:
    """A commune's map for its own pages (:class:`CommuneCellsPublic` as JSON, written
    straight from the cells' arrays like the hot spots): its cells with problems or a
    significant Gi*, counts under :data:`MIN_COMMUNE_COUNT` masked, and no z-score or
    p-value."""
    cells = maps.cells
    count = cells["count"].to_numpy()
    level = cells["level"].to_numpy()
    shown = np.flatnonzero((count > 0) | (level != 0))
    counts, levels = count[shown].tolist(), level[shown].tolist()
    few = [0 < n < MIN_COMMUNE_COUNT for n in counts]
    features = features_of(
        cells.index[shown].tolist(),
        {
            "count": [None if f else n for n, f in zip(counts, few, strict=True)],
            "few": few,
            "level": levels,
            "label": [LEVEL_LABELS[v] for v in levels],
        },
    )
    return collection(features, maps.meta, bbox=True)


def cell_trends(before: AreaMaps, after: AreaMaps) -> pd.Series:
    """The hot-spot trend of each cell hot in either period (indexed by H3 cell)."""
    return compare_periods(
        before.cells,
        after.cells,
        days_before=period_days(before.meta.date_from, before.meta.date_to),
        days_after=period_days(after.meta.date_from, after.meta.date_to),
    )


def comparison(before: AreaMaps, after: AreaMaps) -> tuple[list[Any], PredictionPublic]:
    """Cells whose hot-spot status changed or lasted between two periods (GeoJSON
    features), and how well the first period's hot spots anticipated the second's
    problems."""
    a, b = before.cells, after.cells
    trend = cell_trends(before, after)
    frame = pd.DataFrame(
        {
            "trend": trend,
            "label": trend.map(TRENDS),
            "count_before": a["count"].reindex(trend.index, fill_value=0).astype(int),
            "count_after": b["count"].reindex(trend.index).astype(int),
        }
    )
    features = [
        json.loads(f)
        for f in cell_features(frame, ["trend", "label", "count_before", "count_after"])
    ]
    hot_before = a.index[a["level"] > 0]
    indices = prediction_indices(hot_before, b["count"])
    return features, PredictionPublic(**indices.__dict__)


def monthly_trend(points: AreaPoints, *, where: ProblemFilter) -> MonthlyTrendPublic:
    """Problems reported each month of the period, by category (every month listed; a
    category when the area has at least one of its problems), counted from the area's
    points (:func:`api.services.area_maps.area_points`) in one pass over their arrays."""
    months = pd.period_range(where.since, where.until, freq="M")
    names = months.strftime("%Y-%m").tolist()
    keys = np.asarray([p.year * 100 + p.month for p in months], dtype=np.int64)
    series = []
    known = points.category >= 0
    if known.any():
        place = np.minimum(np.searchsorted(keys, points.month), len(keys) - 1)
        counted = known & (keys[place] == points.month)
        cells = points.category[counted].astype(np.int64) * len(keys) + place[counted]
        counts = np.bincount(cells, minlength=len(CATEGORIES) * len(keys))
        present = np.bincount(points.category[known], minlength=len(CATEGORIES)) > 0
        for i, (code, label) in enumerate(CATEGORIES.items()):
            if present[i]:
                tally = counts[i * len(keys) : (i + 1) * len(keys)].tolist()
                series.append(TrendSeries(category=code, label=label, counts=tally))
    return MonthlyTrendPublic(months=names, series=series)


# -- what the API serves ----------------------------------------------------------------
def _study_area(ctx: Context, session: Session, csp_id: int, gpo_id: int | None) -> StudyArea:
    """:func:`api.repositories.problem_maps.study_area`, the outline of a GPO's sectors
    kept in the map cache (an adopted plan's sectors never change): the perimeter and the
    GPO are checked at every call."""

    def union(
        plan: problem_maps.PlanStamp, sectors: tuple[int, ...]
    ) -> tuple[shapely.Geometry, list[int]]:
        kept: tuple[shapely.Geometry, list[int]] = ctx.maps.get_or_compute(
            ("sector union", plan, sectors),
            0,
            lambda: problem_maps.sector_union(session, plan[0], sectors),
        )
        return kept

    return problem_maps.study_area(session=session, csp_id=csp_id, gpo_id=gpo_id, union=union)


def area_maps(
    ctx: Context,
    csp_id: int,
    *,
    gpo_id: int | None = None,
    where: ProblemFilter,
    res: int = DEFAULT_H3_RES,
    bandwidth: float | None = None,
) -> AreaMaps:
    """Gi* cells and heat bands of the CSP's (or GPO's) problems passing the filter, as
    the pages draw them: possibly the previous revision's for at most ``ctx.maps.stale_s``
    seconds after a write (:meth:`MapCache.get_or_refresh`; ``meta.revision`` says which).
    Refused before any work past ``ctx.map_cell_budget`` H3 cells (naming ``res``), and a
    ``bandwidth`` whose density grid passes ``ctx.heat_cell_budget`` cells (naming it)."""
    with ctx.read() as session:
        area = _study_area(ctx, session, csp_id, gpo_id)
        check_map_cells(area, res, ctx.map_cell_budget)
        return cached_area_maps(
            session,
            ctx.maps,
            area=area,
            where=where,
            res=res,
            bandwidth=bandwidth,
            refresh_in=lambda compute: _with_heat(_in_session(ctx, compute)),
            heat_cells=ctx.heat_cell_budget,
        )


def _with_heat(maps: AreaMaps) -> AreaMaps:
    """``maps`` with its hot spots and heat encoded (by the background worker, not by the
    request that will ask for them)."""
    maps.hotspots_json  # noqa: B018 (cached properties: computed here, kept)
    maps.heat_json  # noqa: B018
    return maps


def _in_session(ctx: Context, compute: Callable[[Session], T]) -> T:
    """``compute`` in a session of its own (a background refresh: the request's is closed)."""
    with ctx.read() as session:
        return compute(session)


def _served_json(
    ctx: Context,
    session: Session,
    area: StudyArea,
    key: Hashable,
    compute: Callable[[Session], BaseModel],
    topics: tuple[str, ...] = base.MAPS,
) -> bytes:
    """:func:`_cached_json` for a map a page draws: possibly the previous revision's for
    at most ``ctx.maps.stale_s`` seconds (:func:`api.map_cache.served_json`)."""
    return served_json(
        ctx.maps,
        (key, area.key),
        base.problem_revision(session=session, csp_id=area.csp_id, topics=topics),
        lambda: compute(session),
        lambda: _in_session(ctx, compute),
    )


def _cached_json(
    session: Session,
    cache: MapCache[Any],
    area: StudyArea,
    key: Hashable,
    compute: Callable[[], BaseModel],
    topics: tuple[str, ...] = base.MAPS,
) -> bytes:
    """``compute()``'s JSON, computed once per revision of the area's CSP for ``topics``."""
    return cached_json(
        cache,
        (key, area.key),
        base.problem_revision(session=session, csp_id=area.csp_id, topics=topics),
        compute,
    )


def comparison_json(
    ctx: Context,
    csp_id: int,
    *,
    gpo_id: int | None,
    before: ProblemFilter,
    after: ProblemFilter,
    res: int = DEFAULT_H3_RES,
) -> bytes:
    """Hot spots that are new, intensifying, persistent or diminishing from the first
    period to the second, and the PAI / PEI of the first period's hot spots against the
    second period's problems (:class:`HotspotComparisonPublic` as JSON); refused before
    any work past ``ctx.map_cell_budget`` H3 cells (naming ``res``)."""
    with ctx.read() as session:
        area = _study_area(ctx, session, csp_id, gpo_id)
        check_map_cells(area, res, ctx.map_cell_budget)

        def compute(s: Session) -> HotspotComparisonPublic:
            maps_before = cached_area_maps(s, ctx.maps, area=area, where=before, res=res)
            maps_after = cached_area_maps(s, ctx.maps, area=area, where=after, res=res)
            features, prediction = comparison(maps_before, maps_after)
            return HotspotComparisonPublic.model_validate(
                {
                    "features": features,
                    "before": maps_before.meta,
                    "after": maps_after.meta,
                    "prediction": prediction,
                }
            )

        return _served_json(ctx, session, area, ("comparison", before, after, res), compute)


def trend_json(ctx: Context, csp_id: int, *, gpo_id: int | None, where: ProblemFilter) -> bytes:
    """:func:`monthly_trend` of the CSP or GPO as JSON."""
    with ctx.read() as session:
        area = _study_area(ctx, session, csp_id, gpo_id)
        return _cached_json(
            session,
            ctx.maps,
            area,
            ("trend", where),
            lambda: monthly_trend(
                area_points(session, ctx.maps, area=area, where=where), where=where
            ),
        )


def open_problems_json(ctx: Context, csp_id: int, *, gpo_id: int | None, limit: int) -> bytes:
    """The open problems of the CSP or GPO, highest priority and oldest first, with their
    actions (:class:`OpenProblemsPublic` as JSON): served as bytes once per revision of the
    lists, and kept (:func:`api.services.kept_lists.open_list`): after a write, only the
    problems it wrote or whose actions it wrote are read again."""
    with ctx.read() as session:
        touches.one_snapshot(session)
        area = _study_area(ctx, session, csp_id, gpo_id)
        body: bytes = ctx.maps.get_or_compute(
            (("open", limit, clock.today()), area.key),  # "overdue" changes at midnight
            base.problem_revision(session=session, csp_id=area.csp_id, topics=base.LISTS),
            lambda: kept_lists.open_list(ctx, session, area, limit),
        )
        return body


def commune_period() -> ProblemFilter:
    """What a commune sees: every problem of the last 12 months (no narrower filter that
    could single a record out)."""
    return ProblemFilter.checked(None, None, today=clock.today())


def commune_hotspots_json(ctx: Context, code: str) -> bytes:
    """The commune's problems of the last 12 months per H3 cell with their Gi* hot spots,
    computed over the commune alone: counts only, small ones masked
    (:class:`CommuneCellsPublic` as JSON, kept with its maps)."""
    with ctx.read() as session:
        area = problem_maps.commune_area(session=session, commune_code=code, field="code")
        where = commune_period()

        def compute(s: Session) -> bytes:
            return commune_cells(cached_area_maps(s, ctx.maps, area=area, where=where))

        body: bytes = ctx.maps.get_or_refresh(
            (("commune cells", where), area.key),
            base.problem_revision(session=session, csp_id=area.csp_id, topics=base.MAPS),
            lambda: compute(session),
            lambda: _in_session(ctx, compute),
        )
        return body


# -- server-rendered maps ---------------------------------------------------------------
@dataclass(frozen=True)
class AreaPicture:
    """An area's maps for a filter and its problems' anchors (the newest first)."""

    area: StudyArea
    maps: AreaMaps
    points: pd.DataFrame


def area_picture(
    ctx: Context, csp_id: int, *, gpo_id: int | None, where: ProblemFilter, limit: int
) -> AreaPicture:
    """What a shareable map of the area draws: its maps and its ``limit`` newest problems
    (none for a caller who sees problems only as aggregates)."""
    with ctx.read() as session:
        area = _study_area(ctx, session, csp_id, gpo_id)
        maps = cached_area_maps(session, ctx.maps, area=area, where=where)
        points = problem_maps.problem_points(session=session, area=area, where=where)
    shown = limit if ctx.scope.reads_problem_records else 0
    points = points.sort_values("reported_on", ascending=False).head(shown)
    return AreaPicture(area=area, maps=maps, points=points)


@dataclass(frozen=True)
class MeetingPackData:
    """What the next meeting of a GPO needs (see :func:`meeting_pack`)."""

    gpo: GpoPublic
    area: StudyArea
    today: date
    last_meeting: date | None
    since: date
    recent: AreaMaps
    trend: list[Any]
    trend_counts: dict[str, int]
    prediction: PredictionPublic
    opened: list[PackProblem]
    resolved: list[PackProblem]
    open_list: list[OpenProblemPublic]
    open_count: int
    sectors: gpd.GeoDataFrame
    open_points: pd.DataFrame
    synthetic: bool


def _recent_changes(
    session: Session, ctx: Context, area: StudyArea, today: date
) -> tuple[AreaMaps, list[Any], PredictionPublic, dict[str, int]]:
    """The hot spots of the last 90 days (the default second period of a comparison)
    against the 90 before: the recent maps, the cells that changed, how well the first
    period anticipated the second, and the number of cells per trend."""
    earlier_filter, recent_filter = recent_periods(today)
    recent = cached_area_maps(session, ctx.maps, area=area, where=recent_filter)
    earlier = cached_area_maps(session, ctx.maps, area=area, where=earlier_filter)
    trend, prediction = comparison(earlier, recent)
    counts = dict.fromkeys(TRENDS, 0)
    for f in trend:
        counts[f["properties"]["trend"]] += 1
    return recent, trend, prediction, counts


def hotspot_changes(
    session: Session, ctx: Context, csp_id: int, gpo_id: int, today: date
) -> dict[str, int]:
    """How many cells of the GPO's territory became, stayed or stopped being hot spots
    over the last 90 days (by trend); none for a GPO without territory in the plan."""
    try:
        area = _study_area(ctx, session, csp_id, gpo_id)
    except InvalidInputError:
        return {}
    return _recent_changes(session, ctx, area, today)[3]


def meeting_pack(
    ctx: Context, gpo_id: int, today: date | None = None, *, printed: str | None = None
) -> MeetingPackData:
    """What the next meeting of the GPO needs: its sectors and the plan's, the recent hot
    spots and how they changed, what was opened and resolved since the last meeting, the
    open problems and their actions. ``printed`` (``pdf``, ``png``) when it is downloaded
    as a file, which the audit trail records as an export."""
    today = today or clock.today()
    with ctx.read() as session:
        gpo = gpos.get_gpo(session=session, gpo_id=gpo_id)
        area = _study_area(ctx, session, gpo.csp_id, gpo_id)
        last = gpo.last_meeting_on
        since = last or today - timedelta(days=gpo.cadence_days)
        recent, trend, prediction, counts = _recent_changes(session, ctx, area, today)
        listing = problems.open_problems(session=session, area=area, limit=PACK_OPEN_PROBLEMS)
        opened = problem_maps.problems_since(
            session=session, area=area, since=since, resolved=False
        )
        resolved = problem_maps.problems_since(
            session=session, area=area, since=since, resolved=True
        )
        plan_id = adopted_plan_id(session, area.csp_id)
        assert plan_id is not None  # a GPO's study area exists only in an adopted plan
        _, sectors = plans.plan_sector_layer(session=session, plan_id=plan_id)
        open_points = problem_maps.open_problem_points(session=session, area=area)
    if printed is not None:
        record_access(ctx, "export", "gpo", gpo_id, detail={"format": printed, "sheet": "meeting"})
    return MeetingPackData(
        gpo=gpo,
        area=area,
        today=today,
        last_meeting=last,
        since=since,
        recent=recent,
        trend=trend,
        trend_counts=counts,
        prediction=prediction,
        opened=opened,
        resolved=resolved,
        open_list=listing.data,
        open_count=listing.count,
        sectors=sectors,
        open_points=open_points,
        synthetic=recent.meta.synthetic_problems > 0
        or any(p.synthetic for p in [*opened, *resolved])
        or any(p.synthetic for p in listing.data),
    )
