"""The commune aggregate of the OGC API (``problem-counts``): the problems per unit of
each CSP's finest H3 grid, in all and over the last 12 months, read from the counts the
problems' writes keep (``cell_count``, ``cell_month_count``: migrations 0024, 0025)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from api.models import Cell, CellCount, CellMonthCount, Grid, Problem
from api.repositories.base import scope_of, visible
from api.repositories.ogc.filters import Source

#: Under this many, aggregated problems are not said (a count of 1 or 2 points at people).
MASKED_BELOW = 3


def _cells(session: Session) -> Any:
    """The cells of each CSP's finest H3 grid in the perimeter (a ``commune`` account:
    its communes' cells), with their CSP (``csp_id``)."""
    scope = scope_of(session)
    other = aliased(Grid)
    finest = (
        select(other.id)
        .where(other.csp_id == Grid.csp_id, other.units == "h3")
        .order_by(other.resolution.desc())
        .limit(1)
        .scalar_subquery()
    )
    grids = select(Grid.id.label("grid_id"), Grid.csp_id.label("csp_id")).where(Grid.id == finest)
    if scope.commune_bound:
        perimeter: ColumnElement[bool] = Cell.commune_code.in_(scope.commune_codes)
    else:
        grids = grids.where(visible(Grid, scope))
        perimeter = true()
    g = grids.subquery("g")
    return (
        select(Cell.grid_id, Cell.h3, Cell.commune_code, Cell.geom, g.c.csp_id)
        .join(g, g.c.grid_id == Cell.grid_id)
        .where(perimeter)
        .subquery("cells")
    )


def _month_after(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def recent_counts(session: Session, since: date) -> list[tuple[int, str, int]]:
    """The problems reported since ``since`` in each cell of the perimeter that has some,
    as (grid id, cell, count); a problem counts in the one cell of lowest id that covers
    its anchor, as the totals do (``cell_count``).

    The whole months from ``since``'s on are summed from ``cell_month_count`` (kept by the
    problems' writes, migration 0025). When ``since`` is not the first day of its month,
    that month is exact too: its problems from ``since`` on are counted from the problems
    themselves (or, when fewer days of it lie before ``since``, the whole month is taken
    from the table less the problems of those days): at most 15 days of problems read."""
    cells = _cells(session)
    first = since.replace(day=1)
    following = _month_after(since)
    if since == first:
        whole_from, days = first, None
    elif (following - since).days <= (since - first).days:
        whole_from, days = following, (1, since, following)
    else:
        whole_from, days = first, (-1, first, since)
    kept = (
        select(
            CellMonthCount.grid_id.label("grid_id"),
            CellMonthCount.h3.label("h3"),
            CellMonthCount.problems.label("n"),
        )
        .join(
            cells,
            and_(cells.c.grid_id == CellMonthCount.grid_id, cells.c.h3 == CellMonthCount.h3),
        )
        .where(CellMonthCount.month >= whole_from)
    )
    parts: list[Any] = [kept]
    if days is not None:
        sign, start, stop = days
        grids = select(cells.c.grid_id, cells.c.csp_id).distinct().subquery("grids")
        unit = aliased(Cell)
        hit = (
            select(unit.grid_id, unit.h3)
            .where(unit.grid_id == grids.c.grid_id, func.ST_Covers(unit.geom, Problem.anchor))
            .order_by(unit.h3.collate("C"))
            .limit(1)
            .lateral("hit")
        )
        counted = (
            select(hit.c.grid_id, hit.c.h3, (func.count() * sign).label("n"))
            .select_from(Problem)
            .join(grids, grids.c.csp_id == Problem.csp_id)
            .join(hit, true())
            .where(Problem.reported_on >= start, Problem.reported_on < stop)
            .group_by(hit.c.grid_id, hit.c.h3)
            .subquery("counted")
        )
        parts.append(
            select(counted.c.grid_id, counted.c.h3, counted.c.n).join(
                cells, and_(cells.c.grid_id == counted.c.grid_id, cells.c.h3 == counted.c.h3)
            )
        )
    both = union_all(*parts).subquery("both") if len(parts) > 1 else kept.subquery("both")
    n = func.sum(both.c.n)
    stmt = select(both.c.grid_id, both.c.h3, n).group_by(both.c.grid_id, both.c.h3).having(n > 0)
    return [(int(g), str(h3), int(k)) for g, h3, k in session.execute(stmt)]


def _rows(name: str, columns: Sequence[tuple[str, Any]], rows: Sequence[Sequence[Any]]) -> Any:
    """These rows as a table in FROM (``unnest`` of one array per column: a parameter per
    column however many rows)."""
    arrays = [
        cast(literal([r[i] for r in rows], ARRAY(kind)), ARRAY(kind))
        for i, (_, kind) in enumerate(columns)
    ]
    derived = func.unnest(*arrays).table_valued(*(column(c, kind) for c, kind in columns))
    return derived.render_derived(name=name)


def problem_counts(
    session: Session, since: date, recent: Sequence[tuple[int, str, int]] | None = None
) -> Source:
    """Problems counted per unit of each CSP's finest H3 grid (all: read from
    ``cell_count``, kept by the problems' writes; since ``since``: ``recent``, from
    :func:`recent_counts` when not given), counts under :data:`MASKED_BELOW` masked: the
    aggregate a commune (or a planner) may read, never a record. A ``commune`` account
    reads its communes' units only."""
    cells = _cells(session)
    if recent is None:
        recent = recent_counts(session, since)
    r = _rows("r", [("grid_id", Integer), ("h3", String), ("n", Integer)], recent)
    total = func.coalesce(CellCount.problems, 0)
    latest = func.coalesce(r.c.n, 0)
    stmt = (
        select(
            func.concat(cells.c.grid_id, "-", cells.c.h3).label("id"),
            cells.c.csp_id.label("csp_id"),
            cells.c.h3.label("h3"),
            cells.c.commune_code.label("commune"),
            case((total >= MASKED_BELOW, total), else_=None).label("problems"),
            case((latest >= MASKED_BELOW, latest), else_=None).label("problems_12_months"),
            cells.c.geom.label("geom"),
        )
        .select_from(cells)
        .outerjoin(
            CellCount, and_(CellCount.grid_id == cells.c.grid_id, CellCount.h3 == cells.c.h3)
        )
        .outerjoin(r, and_(r.c.grid_id == cells.c.grid_id, r.c.h3 == cells.c.h3))
    )
    types = {
        "csp_id": "integer",
        "h3": "string",
        "commune": "string",
        "problems": "integer",
        "problems_12_months": "integer",
    }
    return Source(stmt.subquery("problem_counts"), types, "MultiPolygon")
