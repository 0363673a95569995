"""The problems as the maps read them: the study areas (a GPO's sectors in the adopted
plan, a CSP, a commune), the anchors of the problems passing a filter, their counts per
month, the problems opened or resolved since a day, and the revision that says when any
of it changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import read_query
from api.models import (
    Commune,
    Csp,
    Gpo,
    Plan,
    Problem,
    ProblemPlace,
    csp_commune,
)
from api.repositories.base import (
    plan_sector_outlines,
    read_geometry,
    require,
    scope_of,
    visible,
)
from geo.errors import InvalidInputError, NotFoundError
from geo.problems import CATEGORIES, OPEN_STATUSES, theme_categories
from geo.study import ProblemFilter, StudyArea

#: The outline of some sectors of a plan: ``(plan, sectors) → (their union, those
#: missing)``, the plan as ``(id, created_at, version)``. An adopted plan's sectors never
#: change (a change is a new plan), so the services keep it (:func:`sector_union`).
PlanStamp = tuple[int, datetime, int]
SectorUnion = Callable[[PlanStamp, tuple[int, ...]], tuple[shapely.Geometry, list[int]]]


def sector_union(
    session: Session, plan_id: int, sectors: tuple[int, ...]
) -> tuple[shapely.Geometry, list[int]]:
    """The union of these sectors of the plan, and those of them the plan lacks."""
    outlines = plan_sector_outlines(session, plan_id, sectors)
    missing = sorted(set(sectors) - {int(s) for s in outlines["sector"]})
    return shapely.union_all(outlines.geometry.to_numpy()), missing


def study_area(
    *,
    session: Session,
    csp_id: int,
    gpo_id: int | None = None,
    union: SectorUnion | None = None,
) -> StudyArea:
    """The CSP, or the sectors of GPO ``gpo_id`` (which must belong to the CSP, be active,
    and have sectors in the adopted plan). ``union``: how the sectors' outline is had
    (read by :func:`sector_union` by default)."""
    scope = scope_of(session)
    if gpo_id is None and scope.gpo_bound:
        # A chef or a partner studies its GPOs, never the whole CSP: its only GPO, or the
        # one it names.
        if len(scope.gpo_ids) != 1:
            raise InvalidInputError(
                "gpo_choose_yours", field="gpo", numbers=", ".join(map(str, sorted(scope.gpo_ids)))
            )
        (gpo_id,) = scope.gpo_ids
    if gpo_id is None:
        csp = require(session, Csp, csp_id)
        outline = read_geometry(session, select(func.ST_AsBinary(Csp.geom)).where(Csp.id == csp_id))
        return StudyArea(csp_id=csp_id, name=f"CSP {csp.name}", outline=outline)
    require(session, Csp, csp_id)
    gpo = require(session, Gpo, gpo_id)
    if gpo.csp_id != csp_id:
        raise NotFoundError("gpo_not_in_csp", field="gpo", gpo_id=gpo_id, csp_id=csp_id)
    if not gpo.active:
        raise InvalidInputError("gpo_inactive", field="gpo", gpo_id=gpo_id)
    sectors = tuple(gpo.sectors) if gpo.sector is None else (gpo.sector,)
    plan = session.execute(
        select(Plan.id, Plan.created_at, Plan.version).where(
            Plan.csp_id == csp_id, Plan.status == "adopted"
        )
    ).first()
    if plan is None or not sectors:
        raise InvalidInputError("gpo_without_sector", field="gpo", gpo_id=gpo_id)
    outline, missing = (
        union(tuple(plan), sectors)  # type: ignore[arg-type]
        if union is not None
        else sector_union(session, plan.id, sectors)
    )
    if missing:
        raise InvalidInputError(
            "gpo_sectors_missing", field="gpo", gpo_id=gpo_id, sectors=[str(m) for m in missing]
        )
    return StudyArea(
        csp_id=csp_id,
        name=gpo.name,
        outline=outline,
        gpo_id=gpo_id,
        sectors=tuple(sorted(int(s) for s in sectors)),
        categories=theme_categories(gpo.kind, gpo.categories or []),
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
        raise InvalidInputError("commune_unknown", field=field, code=commune_code)
    if not session.scalar(
        select(visible(Commune, scope_of(session))).where(Commune.code == commune_code)
    ):
        raise NotFoundError("commune_outside_perimeter", code=commune_code)
    code, name, wkb, csp_id = row
    if csp_id is None:
        raise InvalidInputError("commune_in_no_csp", field=field, code=code, name=name)
    return StudyArea(
        csp_id=int(csp_id), name=name, outline=shapely.from_wkb(bytes(wkb)), commune_code=code
    )


def conditions(where: ProblemFilter, area: StudyArea) -> str:
    """SQL conditions on ``problem p`` and ``problem_place pp`` selecting the area's
    problems that pass the filter (codes and dates are checked values, safe to inline)."""
    parts = [
        f"p.csp_id = {int(area.csp_id)}",
        f"p.reported_on BETWEEN '{where.since.isoformat()}' AND '{where.until.isoformat()}'",
    ]
    if area.sectors is not None:
        parts.append(f"pp.sector IN ({', '.join(str(int(s)) for s in area.sectors)})")
    if area.commune_code is not None:
        code = area.commune_code.replace("'", "''")
        parts.append(
            f"ST_Intersects(p.anchor, (SELECT c.geom FROM commune c WHERE c.code = '{code}'))"
        )
    # The codes are checked against the taxonomy (letters and underscores only).
    for column, codes in (
        ("category", where.categories),
        ("category", area.categories),
        ("status", where.statuses),
    ):
        if codes:
            listed = ", ".join("'" + code + "'" for code in codes)
            parts.append(f"p.{column} IN ({listed})")
    return " AND ".join(parts)


def problem_points(
    *,
    session: Session,
    area: StudyArea,
    where: ProblemFilter,
    ids: list[int] | None = None,
) -> pd.DataFrame:
    """The anchors (``lon``, ``lat``) of the area's problems that pass the filter, with
    ``category``, ``status``, ``reported_on`` and ``synthetic``; only those of ``ids``
    when given."""
    join = "JOIN" if area.sectors is not None else "LEFT JOIN"
    among = ""
    if ids is not None:
        among = f" AND p.id IN ({', '.join(str(int(i)) for i in ids) or 'NULL'})"
    frame = read_query(
        session,
        "SELECT p.id, ST_X(p.anchor) AS lon, ST_Y(p.anchor) AS lat, p.category, p.status, "
        "p.reported_on, p.synthetic FROM problem p "
        f"{join} problem_place pp ON pp.problem_id = p.id WHERE {conditions(where, area)}"
        f"{among}",
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
    if area.categories is not None:
        stmt = stmt.where(Problem.category.in_(area.categories))
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


def monthly_counts(*, session: Session, area: StudyArea, where: ProblemFilter) -> pd.DataFrame:
    """Problems of the area passing the filter per month (``YYYY-MM``) and category:
    columns ``month``, ``category``, ``n``."""
    join = "JOIN" if area.sectors is not None else "LEFT JOIN"
    return read_query(
        session,
        "SELECT to_char(p.reported_on, 'YYYY-MM') AS month, p.category, count(*) AS n "
        f"FROM problem p {join} problem_place pp ON pp.problem_id = p.id "
        f"WHERE {conditions(where, area)} GROUP BY 1, 2",
    )
