"""Grids of a CSP as stored: their cells (H3 cells or street blocks) with their attributes,
the adjacency between them, and the problems counted per cell."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import Integer, String, case, delete, func, insert, select, text
from sqlalchemy.orm import Session, aliased

from api.models import (
    Cell,
    CellCount,
    CellEdge,
    CellMonthCount,
    Commune,
    Csp,
    Grid,
    Problem,
    csp_commune,
)
from api.repositories.base import GEOJSON_DECIMALS, read_geoframe, require
from api.schemas import (
    CellProperties,
    EdgeProperties,
    Feature,
    FeatureCollection,
    Geometry,
    GridPublic,
    GridsPublic,
    Units,
)
from geo.errors import NotFoundError
from geo.grid import Adjacency
from geo.point_counts import unit_of_points


def csp_communes(*, session: Session, csp_id: int) -> gpd.GeoDataFrame:
    """The CSP's communes (``code``, ``population``), by code."""
    return read_geoframe(
        session,
        select(Commune.code, Commune.population, func.ST_AsBinary(Commune.geom))
        .join(csp_commune, csp_commune.c.commune_code == Commune.code)
        .where(csp_commune.c.csp_id == csp_id)
        .order_by(Commune.code),
        ["code", "population"],
    )


_CELL_COLUMNS = (
    "h3",
    "commune",
    "clipped",
    "area_m2",
    "population",
    "households",
    "poor_households",
    "social_housing",
    "workload",
    "source",
    "component",
)


def store_grid(
    *,
    session: Session,
    csp_id: int,
    resolution: int,
    units: str,
    parameters: dict[str, Any],
    cells: gpd.GeoDataFrame,
    graph: Adjacency,
) -> GridPublic:
    """Store a grid's cells (columns :data:`_CELL_COLUMNS`) and adjacency, replacing any
    grid of the CSP with the same units and resolution."""
    session.execute(
        delete(Grid).where(
            Grid.csp_id == csp_id, Grid.units == units, Grid.resolution == resolution
        )
    )
    grid = Grid(
        csp_id=csp_id,
        resolution=resolution,
        units=units,
        parameters=parameters,
        cell_count=len(cells),
        component_count=graph.n_components,
    )
    session.add(grid)
    session.flush()
    wkb = shapely.to_wkb(cells.geometry.to_numpy())
    session.execute(
        insert(Cell),
        [
            {
                "grid_id": grid.id,
                "h3": h3,
                "commune_code": commune,
                "clipped": bool(clipped),
                "area_m2": float(area),
                "population": float(pop),
                "households": float(hh),
                "poor_households": float(poor),
                "social_housing": float(soc),
                "workload": float(load),
                "source": src,
                "component": int(comp),
                "geom": WKBElement(g, srid=4326),
            }
            for (h3, commune, clipped, area, pop, hh, poor, soc, load, src, comp), g in zip(
                cells[list(_CELL_COLUMNS)].itertuples(index=False, name=None), wkb, strict=True
            )
        ],
    )
    _store_cell_counts(session, grid.id, csp_id, cells)
    ids = cells["h3"].to_numpy()
    edges = graph.edges
    if len(edges):
        session.execute(
            insert(CellEdge),
            [
                {
                    "grid_id": grid.id,
                    "a": ids[a],
                    "b": ids[b],
                    "shared_m": float(m),
                    "barrier": barrier,
                    "blocked": bool(blocked),
                }
                for a, b, m, barrier, blocked in edges[
                    ["a", "b", "shared_m", "barrier", "blocked"]
                ].itertuples(index=False, name=None)
            ],
        )
    session.flush()
    return _public(session, grid)


def _public(session: Session, grid: Grid) -> GridPublic:
    blocked = session.scalar(
        select(func.count()).where(CellEdge.grid_id == grid.id, CellEdge.blocked)
    )
    session.refresh(grid)
    return GridPublic(
        id=grid.id,
        csp_id=grid.csp_id,
        resolution=grid.resolution,
        units=cast(Units, grid.units),
        cell_count=grid.cell_count,
        component_count=grid.component_count,
        blocked_edge_count=int(blocked or 0),
        parameters=grid.parameters,
        built_at=grid.built_at,
    )


def list_grids(*, session: Session, csp_id: int) -> GridsPublic:
    require(session, Csp, csp_id)
    grids = session.scalars(
        select(Grid)
        .where(Grid.csp_id == csp_id)
        .order_by(Grid.units == "blocks", Grid.resolution)  # H3 grids first
    )
    data = [_public(session, g) for g in grids]
    return GridsPublic(data=data, count=len(data))


def require_grid(*, session: Session, csp_id: int, resolution: int, units: str = "h3") -> int:
    """Id of the CSP's grid of ``units`` at ``resolution``; a clear 404 when it was not
    built."""
    require(session, Csp, csp_id)
    grid_id = session.scalar(
        select(Grid.id).where(
            Grid.csp_id == csp_id, Grid.units == units, Grid.resolution == resolution
        )
    )
    if grid_id is None:
        if units == "h3":
            raise NotFoundError("grid_missing", resolution=resolution, csp_id=csp_id)
        raise NotFoundError(
            "blocks_grid_missing", units=units, resolution=resolution, csp_id=csp_id
        )
    return grid_id


def problem_counts(*, session: Session, csp_id: int, grid_id: int) -> pd.DataFrame:
    """Recorded problems of the CSP per cell of a grid, by the cell that covers each
    problem's anchor; an anchor on the boundary of several cells counts once, in the
    cell of lowest id (H3 index or block id). Columns ``problems`` and
    ``synthetic_problems`` (how many of them are synthetic), indexed by ``h3``; cells
    without problems are absent.

    Read from ``cell_count``, which the problems' writes keep (migration 0024): a few
    hundred rows, where counting 100 000 problems took 0.3 s (from their coordinates) to
    3 s (a PostGIS join)."""
    del csp_id  # the grid's
    rows = session.execute(
        select(CellCount.h3, CellCount.problems, CellCount.synthetic_problems).where(
            CellCount.grid_id == grid_id, CellCount.problems != 0
        )
    ).all()
    return pd.DataFrame(
        [(h3, int(n), int(s)) for h3, n, s in rows],
        columns=["h3", "problems", "synthetic_problems"],
    ).set_index("h3")


def _store_cell_counts(
    session: Session, grid_id: int, csp_id: int, cells: gpd.GeoDataFrame
) -> None:
    """The first counts of a new grid's cells (``cell_count``) and of their months
    (``cell_month_count``), from every problem of its CSP. The problems' writes wait until
    the grid is committed (a SHARE lock on ``problem``): a problem written meanwhile is
    counted here or by its own trigger, never by neither."""
    session.execute(text("LOCK TABLE problem IN SHARE MODE"))
    anchors = problem_anchors(session=session, csp_id=csp_id)
    unit = unit_of_points(list(cells["h3"]), list(cells.geometry), anchors["x"], anchors["y"])
    counted = unit != None  # noqa: E711 (element-wise)
    frame = pd.DataFrame(
        {
            "h3": unit[counted],
            "month": anchors["month"].to_numpy()[counted],
            "synthetic": anchors["synthetic"].to_numpy()[counted].astype(int),
        }
    )
    monthly = frame.groupby(["h3", "month"])["synthetic"].agg(["size", "sum"])
    totals = monthly.groupby(level="h3").sum()
    if len(totals):
        session.execute(
            insert(CellCount),
            [
                {"grid_id": grid_id, "h3": h3, "problems": int(n), "synthetic_problems": int(f)}
                for h3, n, f in totals[["size", "sum"]].itertuples(name=None)
            ],
        )
        session.execute(
            insert(CellMonthCount),
            [
                {
                    "grid_id": grid_id,
                    "h3": h3,
                    "month": date(int(m) // 100, int(m) % 100, 1),
                    "problems": int(n),
                    "synthetic_problems": int(f),
                }
                for (h3, m), n, f in monthly[["size", "sum"]].itertuples(name=None)
            ],
        )


def problem_anchors(*, session: Session, csp_id: int) -> pd.DataFrame:
    """The anchors of the CSP's recorded problems: columns ``x``, ``y`` (longitude,
    latitude), ``synthetic`` and ``month`` (of ``reported_on``, as ``100 * year + month``).
    Read as one MultiPoint and two strings (row by row, 100 000 anchors took 2 s to convert)."""
    wkb, flags, months = session.execute(
        select(
            func.ST_AsBinary(func.ST_Collect(Problem.anchor)),
            func.string_agg(case((Problem.synthetic, "1"), else_="0"), ""),
            func.string_agg(
                (
                    func.extract("year", Problem.reported_on) * 100
                    + func.extract("month", Problem.reported_on)
                )
                .cast(Integer)
                .cast(String),
                ",",
            ),
        ).where(Problem.csp_id == csp_id)
    ).one()
    if wkb is None:
        return pd.DataFrame(
            {
                "x": pd.Series([], dtype=float),
                "y": pd.Series([], dtype=float),
                "synthetic": pd.Series([], dtype=bool),
                "month": pd.Series([], dtype=int),
            }
        )
    xy = shapely.get_coordinates(shapely.from_wkb(bytes(wkb)))
    synthetic = np.frombuffer(flags.encode("ascii"), dtype=np.uint8) == ord("1")
    month = np.array(months.split(","), dtype=np.int64)
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "synthetic": synthetic, "month": month})


def cell_outlines(*, session: Session, grid_id: int) -> tuple[list[str], list[Any]]:
    """The ids (H3 index or block id) and outlines of a grid's cells."""
    rows = session.execute(
        select(Cell.h3, func.ST_AsBinary(Cell.geom)).where(Cell.grid_id == grid_id)
    ).all()
    return [str(h3) for h3, _ in rows], list(shapely.from_wkb([bytes(w) for _, w in rows]))


def grid_cells(
    *,
    session: Session,
    csp_id: int,
    resolution: int,
    units: str = "h3",
    counts: pd.DataFrame | None = None,
    missing: tuple[int, int] = (0, 0),
) -> FeatureCollection[CellProperties]:
    """The grid's cells with their attributes and ``counts`` (:func:`problem_counts`'s
    columns; read from ``cell_count`` when not given), ``missing`` for a cell absent
    from them."""
    grid_id = require_grid(session=session, csp_id=csp_id, resolution=resolution, units=units)
    if counts is None:
        counts = problem_counts(session=session, csp_id=csp_id, grid_id=grid_id)
    problems = counts["problems"].to_dict()
    synthetic = counts["synthetic_problems"].to_dict()
    rows = session.execute(
        select(Cell, func.ST_AsGeoJSON(Cell.geom, GEOJSON_DECIMALS))
        .where(Cell.grid_id == grid_id)
        .order_by(Cell.h3)
    ).all()
    features = [
        Feature[CellProperties](
            id=c.h3,
            geometry=Geometry.model_validate(json.loads(geojson)),
            properties=CellProperties(
                h3=c.h3,
                commune=c.commune_code,
                clipped=c.clipped,
                area_m2=round(c.area_m2, 1),
                population=round(c.population, 2),
                households=round(c.households, 2),
                poor_households=round(c.poor_households, 2),
                social_housing=round(c.social_housing, 2),
                poverty_rate=round(c.poor_households / c.households, 4)
                if c.households > 0
                else None,
                workload=round(c.workload, 2),
                problems=problems.get(c.h3, missing[0]),
                synthetic_problems=synthetic.get(c.h3, missing[1]),
                source=c.source,
                component=c.component,
            ),
        )
        for c, geojson in rows
    ]
    return FeatureCollection[CellProperties](features=features)


def grid_edges(
    *,
    session: Session,
    csp_id: int,
    resolution: int,
    units: str = "h3",
    blocked: bool | None = None,
) -> FeatureCollection[EdgeProperties]:
    """The pairs of neighbouring cells of the CSP's grid (only the blocked ones, or only
    the open ones, when ``blocked`` says so), each drawn as the boundary the two cells
    share: the line part of the intersection of their outlines, computed by PostGIS."""
    grid_id = require_grid(session=session, csp_id=csp_id, resolution=resolution, units=units)
    one, other = aliased(Cell), aliased(Cell)
    shared = func.ST_CollectionExtract(
        func.ST_Intersection(func.ST_Boundary(one.geom), func.ST_Boundary(other.geom)), 2
    )
    stmt = (
        select(
            CellEdge.a,
            CellEdge.b,
            CellEdge.shared_m,
            CellEdge.barrier,
            CellEdge.blocked,
            func.ST_AsGeoJSON(shared, GEOJSON_DECIMALS),
        )
        .join(one, (one.grid_id == CellEdge.grid_id) & (one.h3 == CellEdge.a))
        .join(other, (other.grid_id == CellEdge.grid_id) & (other.h3 == CellEdge.b))
        .where(CellEdge.grid_id == grid_id)
        .order_by(CellEdge.a, CellEdge.b)
    )
    if blocked is not None:
        stmt = stmt.where(CellEdge.blocked.is_(blocked))
    features = [
        Feature[EdgeProperties](
            id=f"{a}-{b}",
            geometry=Geometry.model_validate(json.loads(geojson)),
            properties=EdgeProperties(
                a=a, b=b, shared_m=round(shared_m, 2), barrier=barrier, blocked=is_blocked
            ),
        )
        for a, b, shared_m, barrier, is_blocked, geojson in session.execute(stmt)
    ]
    return FeatureCollection[EdgeProperties](features=features)


def finest_h3_resolution(*, session: Session, csp_id: int) -> int:
    """The resolution of the CSP's H3 grid with the largest cells (the smallest number)."""
    resolution = session.scalar(
        select(Grid.resolution)
        .where(Grid.csp_id == csp_id, Grid.units == "h3")
        .order_by(Grid.resolution)
    )
    if resolution is None:
        raise NotFoundError("csp_without_grid", csp_id=csp_id)
    return int(resolution)
