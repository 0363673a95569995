"""The *cartographie des problématiques* of a study area — a GPO's sectors in the adopted
plan, a whole CSP, or one commune (aggregates only, for the commune's own page): hotspot
cells, heat bands, period comparison, monthly trend, open problems with their actions.
The figures come from :mod:`geo.hotspots`; this module selects the problems and shapes
the answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from api.db import read_query
from api.map_cache import MapCache
from api.models import (
    Action,
    Commune,
    Csp,
    Gpo,
    Partner,
    PlanSector,
    Problem,
    ProblemPlace,
    ProblemRevision,
    csp_commune,
)
from api.repositories.csp import require_csp
from api.repositories.problems import action_public, adopted_plan_id
from api.schemas import (
    HotspotMeta,
    MonthlyTrendPublic,
    OpenProblemPublic,
    OpenProblemsPublic,
    PredictionPublic,
    TrendSeries,
)
from geo.errors import InvalidInputError, NotFoundError
from geo.hotspots import (
    DEFAULT_H3_RES,
    LEVEL_LABELS,
    TRENDS,
    analyse_area,
    cells_frame,
    compare_periods,
    period_days,
    prediction_indices,
)
from geo.problems import CATEGORIES, OPEN_STATUSES, STATUSES, check_code

COORDINATE_DECIMALS = 6  # about 0.1 m
MAX_PERIOD_DAYS = 3660


@dataclass(frozen=True)
class StudyArea:
    """Where a map is drawn: the sectors of a GPO in the adopted plan, a whole CSP
    (``sectors`` None), or one commune of a CSP (``commune_code``: its problems only)."""

    csp_id: int
    name: str
    outline: shapely.Geometry
    gpo_id: int | None = None
    sectors: tuple[int, ...] | None = None
    commune_code: str | None = None

    @property
    def key(self) -> tuple[int, int | None, tuple[int, ...] | None, str | None]:
        return (self.csp_id, self.gpo_id, self.sectors, self.commune_code)


def study_area(*, session: Session, csp_id: int, gpo_id: int | None = None) -> StudyArea:
    """The CSP, or the sectors of GPO ``gpo_id`` (which must belong to the CSP, be active,
    and have sectors in the adopted plan)."""
    if gpo_id is None:
        row = session.execute(
            select(Csp.name, func.ST_AsBinary(Csp.geom)).where(Csp.id == csp_id)
        ).first()
        if row is None:
            raise NotFoundError(f"no CSP with id {csp_id}")
        return StudyArea(csp_id=csp_id, name=f"CSP {row[0]}", outline=shapely.from_wkb(row[1]))
    require_csp(session=session, csp_id=csp_id)
    gpo = session.get(Gpo, gpo_id)
    if gpo is None or gpo.csp_id != csp_id:
        raise NotFoundError(f"no GPO with id {gpo_id} in CSP {csp_id}")
    if not gpo.active:
        raise InvalidInputError(f"gpo: GPO {gpo_id} is inactive (its sector left the plan)")
    sectors = tuple(gpo.sectors) if gpo.sector is None else (gpo.sector,)
    plan_id = adopted_plan_id(session, csp_id)
    if plan_id is None or not sectors:
        raise InvalidInputError(f"gpo: GPO {gpo_id} has no sector in an adopted plan")
    rows = session.execute(
        select(PlanSector.sector, func.ST_AsBinary(PlanSector.geom)).where(
            PlanSector.plan_id == plan_id, PlanSector.sector.in_(sectors)
        )
    ).all()
    missing = sorted(set(sectors) - {int(s) for s, _ in rows})
    if missing:
        raise InvalidInputError(
            f"gpo: GPO {gpo_id} spans sectors that the adopted plan does not have: "
            f"{', '.join(str(m) for m in missing)}; update its sectors"
        )
    return StudyArea(
        csp_id=csp_id,
        name=gpo.name,
        outline=shapely.union_all([shapely.from_wkb(w) for _, w in rows]),
        gpo_id=gpo_id,
        sectors=tuple(sorted(int(s) for s in sectors)),
    )


def commune_area(*, session: Session, commune_code: str, field: str = "commune_code") -> StudyArea:
    """A commune of a CSP as a study area (422 naming ``field`` when unknown or in no
    CSP). A commune in several CSPs is studied in the first one."""
    row = session.execute(
        select(
            Commune.code,
            Commune.name,
            func.ST_AsBinary(Commune.geom),
            select(func.min(csp_commune.c.csp_id))
            .where(csp_commune.c.commune_code == Commune.code)
            .scalar_subquery(),
        ).where(Commune.code == commune_code)
    ).first()
    if row is None:
        raise InvalidInputError(f"{field}: unknown commune {commune_code!r}")
    code, name, wkb, csp_id = row
    if csp_id is None:
        raise InvalidInputError(f"{field}: commune {code} ({name}) is in no CSP")
    return StudyArea(
        csp_id=int(csp_id), name=name, outline=shapely.from_wkb(wkb), commune_code=code
    )


@dataclass(frozen=True)
class ProblemFilter:
    """Problems reported from ``since`` to ``until`` (both included), of the given
    categories and statuses (empty: all)."""

    since: date
    until: date
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    @classmethod
    def checked(
        cls,
        since: date | None,
        until: date | None,
        categories: list[str] | None = None,
        statuses: list[str] | None = None,
        *,
        default_days: int = 365,
        names: tuple[str, str] = ("from", "to"),
    ) -> ProblemFilter:
        """A filter with its codes and period checked (422 naming the bad value and its
        parameter, ``names``); the period defaults to the ``default_days`` up to today."""
        until = until or date.today()
        if since is None:
            since = _days_before(until, default_days - 1, names[1])
        if since > until:
            raise InvalidInputError(f"{names[0]}: {since} is after {names[1]}: {until}")
        if period_days(since, until) > MAX_PERIOD_DAYS:
            raise InvalidInputError(
                f"{names[0]}: the period may last at most {MAX_PERIOD_DAYS} days"
            )
        return cls(
            since=since,
            until=until,
            categories=tuple(
                sorted(check_code("category", c, CATEGORIES) for c in categories or [])
            ),
            statuses=tuple(sorted(check_code("status", s, STATUSES) for s in statuses or [])),
        )

    def where(self, area: StudyArea) -> str:
        """SQL conditions on ``problem p`` and ``problem_place pp`` (codes and dates are
        checked values, safe to inline)."""
        parts = [
            f"p.csp_id = {int(area.csp_id)}",
            f"p.reported_on BETWEEN '{self.since.isoformat()}' AND '{self.until.isoformat()}'",
        ]
        if area.sectors is not None:
            parts.append(f"pp.sector IN ({', '.join(str(int(s)) for s in area.sectors)})")
        if area.commune_code is not None:
            code = area.commune_code.replace("'", "''")
            parts.append(
                f"ST_Intersects(p.anchor, (SELECT c.geom FROM commune c WHERE c.code = '{code}'))"
            )
        # The codes are checked against the taxonomy (letters and underscores only).
        for column, codes in (("category", self.categories), ("status", self.statuses)):
            if codes:
                listed = ", ".join("'" + code + "'" for code in codes)
                parts.append(f"p.{column} IN ({listed})")
        return " AND ".join(parts)


def _days_before(day: date, days: int, name: str) -> date:
    try:
        return day - timedelta(days=days)
    except OverflowError:
        raise InvalidInputError(f"{name}: {day} is too early") from None


def comparison_filters(
    *,
    since: date | None,
    until: date | None,
    before_since: date | None,
    before_until: date | None,
    categories: list[str] | None,
    statuses: list[str] | None,
) -> tuple[ProblemFilter, ProblemFilter]:
    """The two periods of a comparison: the second defaults to the 90 days up to today,
    the first to the period of the same length just before it; they may not overlap."""
    after = ProblemFilter.checked(since, until, categories, statuses, default_days=90)
    before_until = before_until or _days_before(after.since, 1, "from")
    if before_since is None:
        before_since = _days_before(before_until, (after.until - after.since).days, "before_to")
    before = ProblemFilter.checked(
        before_since, before_until, categories, statuses, names=("before_from", "before_to")
    )
    if before.until >= after.since:
        raise InvalidInputError(
            f"before_to: {before.until} is not before from: {after.since} (the periods overlap)"
        )
    return before, after


def problem_revision(*, session: Session) -> int:
    """The revision of the problems (migration 0009): rises with every committed write to
    problems, their placements, steps, actions, evaluations, GPOs or partners."""
    return int(session.scalar(select(ProblemRevision.n).where(ProblemRevision.id == 1)) or 0)


def problem_points(*, session: Session, area: StudyArea, where: ProblemFilter) -> pd.DataFrame:
    """The anchors (``lon``, ``lat``) of the area's problems that pass the filter, with
    ``category``, ``status``, ``reported_on`` and ``synthetic``."""
    join = "JOIN" if area.sectors is not None else "LEFT JOIN"
    frame = read_query(
        session,
        "SELECT p.id, ST_X(p.anchor) AS lon, ST_Y(p.anchor) AS lat, p.category, p.status, "
        "p.reported_on, p.synthetic FROM problem p "
        f"{join} problem_place pp ON pp.problem_id = p.id WHERE {where.where(area)}",
    )
    if frame.empty:
        return pd.DataFrame(
            {
                "id": pd.Series(dtype=int),
                "lon": pd.Series(dtype=float),
                "lat": pd.Series(dtype=float),
                "category": pd.Series(dtype=object),
                "status": pd.Series(dtype=object),
                "reported_on": pd.Series(dtype=object),
                "synthetic": pd.Series(dtype=bool),
            }
        )
    frame["synthetic"] = frame["synthetic"].astype(str).str.lower().isin(("t", "true"))
    return frame


def open_problem_points(*, session: Session, area: StudyArea) -> pd.DataFrame:
    """The anchors and categories of the area's open problems, whatever their date."""
    every = ProblemFilter(date.min, date.max, statuses=tuple(sorted(OPEN_STATUSES)))
    return problem_points(session=session, area=area, where=every)


@dataclass(frozen=True)
class PackProblem:
    title: str
    category: str
    category_label: str
    on: date
    synthetic: bool


def problems_since(
    *, session: Session, area: StudyArea, since: date, resolved: bool
) -> list[PackProblem]:
    """The area's problems reported on or after ``since`` (or resolved on or after it),
    newest first."""
    stmt = (
        select(Problem)
        .join(ProblemPlace, ProblemPlace.problem_id == Problem.id)
        .where(Problem.csp_id == area.csp_id)
    )
    if area.sectors is not None:
        stmt = stmt.where(ProblemPlace.sector.in_(area.sectors))
    if resolved:
        stmt = stmt.where(Problem.status == "resolu", Problem.status_on >= since)
        stmt = stmt.order_by(Problem.status_on.desc())
    else:
        stmt = stmt.where(Problem.reported_on >= since).order_by(Problem.reported_on.desc())
    return [
        PackProblem(
            title=p.title,
            category=p.category,
            category_label=CATEGORIES.get(p.category, p.category),
            on=p.status_on if resolved else p.reported_on,
            synthetic=p.synthetic,
        )
        for p in session.scalars(stmt)
    ]


def _round(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.set_precision(geom, 10**-COORDINATE_DECIMALS)


def _features(frame: gpd.GeoDataFrame, columns: list[str], id_column: str | None) -> list[Any]:
    geometries = shapely.to_geojson(_round(frame.geometry.values))
    records = frame[columns].to_dict("records")
    return [
        {
            "type": "Feature",
            "id": record[id_column] if id_column else i,
            "geometry": json.loads(geometry),
            "properties": record,
        }
        for i, (geometry, record) in enumerate(zip(geometries, records, strict=True))
    ]


@dataclass(frozen=True)
class AreaMaps:
    """A study area's hotspot analysis over one period: its Gi* cells (every cell of the
    area, see :func:`geo.hotspots.getis_ord`) and its answers serialised once (they are
    cached and served as they are; the density grid itself is not kept)."""

    cells: pd.DataFrame
    meta: HotspotMeta
    hotspots_json: bytes
    heat_json: bytes


def area_maps(
    *,
    session: Session,
    area: StudyArea,
    where: ProblemFilter,
    res: int,
    bandwidth: float | None,
    revision: int,
) -> AreaMaps:
    """Gi* cells and heat bands of the area's problems passing the filter."""
    points = problem_points(session=session, area=area, where=where)
    analysis = analyse_area(
        points["lon"].to_numpy(),
        points["lat"].to_numpy(),
        area.outline,
        res=res,
        bandwidth=bandwidth,
    )
    cells = analysis.cells
    shown = cells[(cells["count"] > 0) | (cells["level"] != 0)].copy()
    shown["label"] = shown["level"].map(LEVEL_LABELS)
    shown["z"] = shown["z"].round(3)
    shown["p"] = shown["p"].round(5)
    hexagons = cells_frame(shown)
    surface = analysis.surface
    meta = HotspotMeta(
        area=area.name,
        csp_id=area.csp_id,
        gpo_id=area.gpo_id,
        commune_code=area.commune_code,
        date_from=where.since,
        date_to=where.until,
        problems=len(points),
        synthetic_problems=int(points["synthetic"].sum()),
        res=res,
        bandwidth_m=round(surface.bandwidth, 1) if surface else None,
        kde_cell_m=round(surface.cell_size, 1) if surface else None,
        hot_cells=int((cells["level"] > 0).sum()),
        cold_cells=int((cells["level"] < 0).sum()),
        revision=revision,
    )
    meta_json = meta.model_dump(mode="json")
    hotspots = {
        "type": "FeatureCollection",
        "features": _features(hexagons, ["h3", "count", "z", "p", "level", "label"], "h3"),
        "meta": meta_json,
    }
    bands = surface.bands() if surface else gpd.GeoDataFrame(geometry=[], crs=4326)
    if len(bands):
        bands["share"] = bands["share"].round(3)
        bands["density"] = bands["density"].round(1)
        bands["band"] = bands["band"].astype(int)
    heat = {
        "type": "FeatureCollection",
        "features": _features(bands, ["band", "share", "density"], None) if len(bands) else [],
        "meta": meta_json,
    }
    return AreaMaps(
        cells=cells,
        meta=meta,
        hotspots_json=json.dumps(hotspots, separators=(",", ":")).encode(),
        heat_json=json.dumps(heat, separators=(",", ":")).encode(),
    )


#: A commune's pages show no count below this (one or two problems could single a record
#: out); such cells say only that they hold a few.
MIN_COMMUNE_COUNT = 3


def commune_cells(maps: AreaMaps) -> dict[str, Any]:
    """A commune's map for its own pages: its cells with problems or a significant Gi*,
    counts under :data:`MIN_COMMUNE_COUNT` masked, and no z-score or p-value."""
    cells = maps.cells
    shown = cells[(cells["count"] > 0) | (cells["level"] != 0)]
    few = (shown["count"] > 0) & (shown["count"] < MIN_COMMUNE_COUNT)
    frame = pd.DataFrame(
        {
            "count": shown["count"].astype(object).where(~few, None),
            "few": few,
            "level": shown["level"],
            "label": shown["level"].map(LEVEL_LABELS),
        },
        index=shown.index,
    )
    return {
        "type": "FeatureCollection",
        "features": _features(cells_frame(frame), ["h3", "count", "few", "level", "label"], "h3"),
        "meta": maps.meta.model_dump(mode="json"),
    }


def cached_area_maps(
    *,
    session: Session,
    cache: MapCache[Any],
    area: StudyArea,
    where: ProblemFilter,
    res: int = DEFAULT_H3_RES,
    bandwidth: float | None = None,
) -> AreaMaps:
    """:func:`area_maps`, computed once per revision of the problems (see
    :mod:`api.map_cache`)."""
    revision = problem_revision(session=session)
    maps: AreaMaps = cache.get_or_compute(
        ("maps", area.key, where, res, bandwidth),
        revision,
        lambda: area_maps(
            session=session, area=area, where=where, res=res, bandwidth=bandwidth, revision=revision
        ),
    )
    return maps


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
    features = _features(
        cells_frame(frame), ["h3", "trend", "label", "count_before", "count_after"], "h3"
    )
    hot_before = a.index[a["level"] > 0]
    indices = prediction_indices(hot_before, b["count"])
    return features, PredictionPublic(**indices.__dict__)


def monthly_trend(*, session: Session, area: StudyArea, where: ProblemFilter) -> MonthlyTrendPublic:
    """Problems reported each month of the period, by category (every month listed)."""
    join = "JOIN" if area.sectors is not None else "LEFT JOIN"
    counts = read_query(
        session,
        "SELECT to_char(p.reported_on, 'YYYY-MM') AS month, p.category, count(*) AS n "
        f"FROM problem p {join} problem_place pp ON pp.problem_id = p.id "
        f"WHERE {where.where(area)} GROUP BY 1, 2",
    )
    months = pd.period_range(where.since, where.until, freq="M").strftime("%Y-%m").tolist()
    table = (
        counts.pivot_table(index="category", columns="month", values="n", aggfunc="sum")
        .reindex(columns=months)
        .fillna(0)
        .astype(int)
        if len(counts)
        else pd.DataFrame(columns=months)
    )
    series = [
        TrendSeries(category=code, label=label, counts=table.loc[code].tolist())
        for code, label in CATEGORIES.items()
        if code in table.index
    ]
    return MonthlyTrendPublic(months=months, series=series)


def open_problems(*, session: Session, area: StudyArea, limit: int = 500) -> OpenProblemsPublic:
    """The area's open problems (any date), highest priority and oldest first, with their
    actions."""
    stmt = (
        select(Problem, ProblemPlace.sector)
        .outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id)
        .where(Problem.csp_id == area.csp_id, Problem.status.in_(OPEN_STATUSES))
    )
    if area.sectors is not None:
        stmt = stmt.where(ProblemPlace.sector.in_(area.sectors))
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    urgency = case({"haute": 0, "normale": 1}, value=Problem.priority, else_=2)
    rows = session.execute(
        stmt.order_by(urgency, Problem.reported_on, Problem.id).limit(limit)
    ).all()
    ids = [p.id for p, _ in rows]
    actions: dict[int, list[Action]] = {}
    for action in session.scalars(
        select(Action).where(Action.problem_id.in_(ids)).order_by(Action.start_on, Action.id)
    ):
        actions.setdefault(action.problem_id, []).append(action)
    partner_names = dict(
        session.execute(
            select(Partner.id, Partner.organisation).where(Partner.csp_id == area.csp_id)
        ).all()
    )
    return OpenProblemsPublic(
        data=[
            OpenProblemPublic(
                id=p.id,
                title=p.title,
                category=p.category,
                category_label=CATEGORIES.get(p.category, p.category),
                status=p.status,
                status_label=STATUSES.get(p.status, p.status),
                priority=p.priority,
                reported_on=p.reported_on,
                status_on=p.status_on,
                address=p.address,
                sector=sector,
                synthetic=p.synthetic,
                actions=[action_public(a, partner_names) for a in actions.get(p.id, [])],
            )
            for p, sector in rows
        ],
        count=count,
    )
