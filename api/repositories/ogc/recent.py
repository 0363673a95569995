"""The commune aggregate's last 12 months per cell (``problem-counts``): the whole months
summed from ``cell_month_count`` (kept by the problems' writes, migration 0025), and the
window's partial first month (its *edge*) from the problems themselves, each placed in
its cell once and kept with the snapshot it was read in (:class:`Edge`), then brought up
to date by placing again only the problems written since
(:func:`api.repositories.touches.touched_since`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import shapely
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session, aliased

from api.models import Cell, CellMonthCount, Grid, Problem
from api.repositories.base import scope_of, visible
from geo.point_counts import unit_of_points

#: A cell of a grid: (grid id, H3 index).
CellKey = tuple[int, str]


def cells(session: Session) -> Any:
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


def window(since: date) -> tuple[date, tuple[int, date, date] | None]:
    """From which month on the whole months are summed, and the edge: (sign, first day,
    day after the last) of the days counted from the problems, added (1) or taken from
    that month's whole count (-1); None when ``since`` is a 1st. Whichever is shorter: at
    most 15 days of problems."""
    first = since.replace(day=1)
    following = date(since.year + since.month // 12, since.month % 12 + 1, 1)
    if since == first:
        return first, None
    if (following - since).days <= (since - first).days:
        return following, (1, since, following)
    return first, (-1, first, since)


@dataclass(frozen=True)
class Units:
    """The cells of one grid that may hold a point of the perimeter's (those meeting its
    envelope): their H3 indexes and prepared outlines, and which are in the perimeter."""

    grid_id: int
    csp_id: int
    h3: list[str]
    outlines: np.ndarray
    inside: frozenset[str]

    def place(self, x: np.ndarray, y: np.ndarray) -> list[str | None]:
        """The perimeter's cell each point counts in (the lowest id covering it, as the
        triggers place it), None outside."""
        if len(x) == 0:
            return []
        found = unit_of_points(self.h3, list(self.outlines), x, y)
        return [h if h is not None and h in self.inside else None for h in found]


@dataclass(frozen=True)
class Edge:
    """The problems of the edge's days placed in the perimeter's cells, read in
    ``snapshot`` (problem id → its cell: only those counted)."""

    snapshot: str
    days: tuple[int, date, date]
    units: tuple[Units, ...]
    placed: dict[int, CellKey]

    def counts(self) -> Counter[CellKey]:
        sign = self.days[0]
        out: Counter[CellKey] = Counter()
        for key in self.placed.values():
            out[key] += sign
        return out


def grids_of(session: Session) -> list[tuple[int, int]]:
    """The perimeter's grids as (grid id, CSP id)."""
    c = cells(session)
    rows = session.execute(select(c.c.grid_id, c.c.csp_id).distinct().order_by(c.c.grid_id))
    return [(int(g), int(s)) for g, s in rows]


def _units(session: Session, grid_id: int, csp_id: int) -> Units:
    c = cells(session)
    inside = frozenset(
        str(h) for h in session.scalars(select(c.c.h3).where(c.c.grid_id == grid_id))
    )
    box = select(func.ST_Envelope(func.ST_Collect(c.c.geom))).where(c.c.grid_id == grid_id)
    rows = session.execute(
        select(Cell.h3, func.ST_AsBinary(Cell.geom)).where(
            Cell.grid_id == grid_id, Cell.geom.op("&&")(box.scalar_subquery())
        )
    ).all()
    outlines = np.asarray(shapely.from_wkb([bytes(w) for _, w in rows]), dtype=object)
    shapely.prepare(outlines)
    return Units(grid_id, csp_id, [str(h) for h, _ in rows], outlines, inside)


def _place(
    session: Session, units: Units, start: date, stop: date, ids: Collection[int] | None
) -> Iterable[tuple[int, CellKey]]:
    """The problems of ``units``' CSP reported in [start, stop) (of ``ids`` only, when
    given) that lie in the perimeter's cells, with their cell."""
    where = [
        Problem.csp_id == units.csp_id,
        Problem.reported_on >= start,
        Problem.reported_on < stop,
    ]
    if ids is not None:
        where.append(Problem.id.in_(list(ids)))
    # one row: the ids and a MultiPoint of the anchors, aggregated in the same order
    row = session.execute(
        select(func.array_agg(Problem.id), func.ST_AsBinary(func.ST_Collect(Problem.anchor))).where(
            *where
        )
    ).one()
    if row[0] is None:
        return []
    xy = shapely.get_coordinates(shapely.from_wkb(bytes(row[1])))
    found = units.place(xy[:, 0], xy[:, 1])
    return [
        (int(i), (units.grid_id, h)) for i, h in zip(row[0], found, strict=True) if h is not None
    ]


def read_edge(
    session: Session, snapshot: str, days: tuple[int, date, date], grids: list[tuple[int, int]]
) -> Edge:
    """The edge read whole."""
    units = tuple(_units(session, g, s) for g, s in grids)
    placed: dict[int, CellKey] = {}
    for u in units:
        placed.update(_place(session, u, days[1], days[2], None))
    return Edge(snapshot, days, units, placed)


def updated_edge(session: Session, held: Edge, touched: Collection[int], snapshot: str) -> Edge:
    """``held`` with the problems ``touched`` since its snapshot placed again."""
    placed = {i: key for i, key in held.placed.items() if i not in touched}
    if touched:
        for u in held.units:
            placed.update(_place(session, u, held.days[1], held.days[2], touched))
    return Edge(snapshot, held.days, held.units, placed)


def month_counts(session: Session, whole_from: date) -> Counter[CellKey]:
    """The problems of each cell of the perimeter from the month ``whole_from`` on."""
    c = cells(session)
    counts: Counter[CellKey] = Counter()
    for g, h3, n in session.execute(
        select(CellMonthCount.grid_id, CellMonthCount.h3, CellMonthCount.problems)
        .join(c, and_(c.c.grid_id == CellMonthCount.grid_id, c.c.h3 == CellMonthCount.h3))
        .where(CellMonthCount.month >= whole_from)
    ):
        counts[(int(g), str(h3))] += int(n)
    return counts


def recent_counts(
    session: Session, since: date, edge: Edge | None = None
) -> list[tuple[int, str, int]]:
    """The problems reported since ``since`` in each cell of the perimeter that has some,
    as (grid id, cell, count), each in the cell of lowest id covering its anchor (as
    ``cell_count``): the whole months from ``cell_month_count``, a first month begun
    before ``since`` made exact by ``edge`` (read here when not given: its days from
    ``since`` on added, or, when fewer of its days lie before ``since``, those days taken
    from the whole month)."""
    whole_from, days = window(since)
    counts = month_counts(session, whole_from)
    if days is not None:
        if edge is None:
            edge = read_edge(session, "", days, grids_of(session))
        counts.update(edge.counts())
    return [(g, h3, n) for (g, h3), n in counts.items() if n > 0]
