"""H3 tessellation of a territory, cell attributes and the barrier-aware adjacency graph.

The atomic units of sector design are H3 cells *clipped to the territory*: a cell wholly
inside keeps its hexagon, a border cell keeps only its part inside, so that the union of
the cells IS the territory (no gap, no overlap) and islands or multipolygons are covered
too (every cell that overlaps the territory is taken, not only those whose centre lies in
it). Cells are built in WGS84 from the H3 vertices, which neighbouring cells share, so the
hexagons tile the plane exactly; areas and lengths are measured in the metric CRS of
:func:`geo.crs.metric_crs`.

Attributes come by *areal interpolation* (Goodchild & Lam 1980): an extensive variable
``v`` of a source polygon ``s`` contributes ``v(s) · area(s ∩ c) / area(s)`` to cell ``c``,
so the sum over the cells equals the sum over the sources' parts inside the territory.
Ratios (poverty rate…) are computed after aggregation, never interpolated.

Where the population grid does not cover part of the territory (outside its extent), the
commune's remaining population — its population légale minus what the grid puts inside
the commune, never below zero — is spread over that uncovered part by area; the cell's
``source`` column says which of ``grid``, ``commune`` or ``grid+commune`` fed it.

Workload
--------
The workload of a cell is a weighted sum of its variables (:func:`workload`), with
weights chosen by the planner. The variables are those of :data:`WORKLOAD_VARIABLES`:

``population``, ``households``, ``poor_households``, ``social_housing``
    Interpolated from the population grid as above, stored with the grid.
``problems``
    The number of recorded problems of the CSP whose *anchor* (the point itself, or the
    point of a street or place nearest its centroid, see :func:`geo.geometry.anchors`)
    lies in the cell; a problem on the boundary of several cells counts once. It is not
    stored with the grid: problems keep being recorded, so the API counts them from
    PostGIS each time cells are read for a proposal, a plan's editor or the map.
    Synthetic (demo) problems count like real ones and are labelled as such wherever the
    count is shown.

Default weights (:data:`DEFAULT_WORKLOAD_WEIGHTS`): 1 per inhabitant, 2 per poor
household, 0.5 per social dwelling, 0 per problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, metric_crs
from geo.errors import InvalidInputError, InvalidValueError

DEFAULT_RESOLUTION = 9
#: The H3 resolutions the engine supports.
MIN_RESOLUTION, MAX_RESOLUTION = 0, 15
#: The most cells a grid may have, as estimated before building it (:func:`check_cell_budget`):
#: far more than sector design needs (a CSP at resolution 9 has a few thousand), far
#: fewer than what freezes the server (a CSP at resolution 15 has hundreds of millions).
MAX_GRID_CELLS = 200_000
EXTENSIVE_VARIABLES = ("population", "households", "poor_households", "social_housing")
#: Recorded problems whose anchor lies in the cell: counted when cells are read, not stored.
PROBLEMS = "problems"
#: Every variable a workload weight may name.
WORKLOAD_VARIABLES = (*EXTENSIVE_VARIABLES, PROBLEMS)
#: The largest workload weight: far above any planner's (the defaults are 0.5 to 2), far
#: below what makes a cell's workload infinite (a weight of 1e308 stored a grid on which
#: every proposal failed).
MAX_WORKLOAD_WEIGHT = 1000.0

#: Default workload weights: one unit per inhabitant, plus extra weight for poor
#: households and social housing, where GPO problems concentrate. Recorded problems weigh
#: nothing unless the planner says so. Planners override them.
DEFAULT_WORKLOAD_WEIGHTS: Mapping[str, float] = {
    "population": 1.0,
    "poor_households": 2.0,
    "social_housing": 0.5,
}


def _as_polygonal(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polys = [p for g in parts for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    return MultiPolygon(polys)


def cell_polygon(cell: str) -> Polygon:
    """The H3 cell as a WGS84 polygon (lon, lat)."""
    return Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])


def estimate_cell_count(territory: BaseGeometry, resolution: int) -> int:
    """About how many H3 cells of ``resolution`` cover ``territory`` (WGS84): its area
    over the area of the cell at its centroid (an H3 cell's area depends on where it is
    on the globe, by up to a factor of two), rounded up, computed without building any
    cell: what a grid (:func:`check_cell_budget`) or a map of problems
    (:func:`geo.hotspots.check_map_cells`) would cost.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> estimate_cell_count(box(6.84, 47.63, 6.86, 47.65), 9)  # 33 cells have their centre in it
    34
    """
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise InvalidInputError(
            "h3_resolution_range",
            field="resolution",
            low=MIN_RESOLUTION,
            high=MAX_RESOLUTION,
            value=resolution,
        )
    if territory.is_empty:
        return 0
    area = gpd.GeoSeries([territory], crs=WGS84)
    area_m2 = float(area.to_crs(metric_crs(gpd.GeoDataFrame(geometry=area))).area.iloc[0])
    centre = territory.centroid
    cell_m2 = h3.cell_area(h3.latlng_to_cell(centre.y, centre.x, resolution), "m^2")
    return max(1, math.ceil(area_m2 / cell_m2))


def check_cell_budget(
    territory: BaseGeometry, resolution: int, budget: int = MAX_GRID_CELLS
) -> int:
    """The estimated cell count of ``territory`` at ``resolution``; an
    :class:`InvalidInputError` naming ``resolution`` when it exceeds ``budget``."""
    estimate = estimate_cell_count(territory, resolution)
    if estimate > budget:
        raise InvalidInputError(
            "grid_too_many_cells",
            field="resolution",
            resolution=resolution,
            estimate=estimate,
            budget=budget,
        )
    return estimate


def tessellate(territory: BaseGeometry, resolution: int = DEFAULT_RESOLUTION) -> gpd.GeoDataFrame:
    """Cover ``territory`` (WGS84) with H3 cells clipped to it.

    Parameters
    ----------
    territory
        Polygon or MultiPolygon in EPSG:4326.
    resolution
        H3 resolution, 0 to 15 (9: about 0.1 km² per cell; 10: about 0.015 km²), such
        that the territory has at most :data:`MAX_GRID_CELLS` cells.

    Returns
    -------
    GeoDataFrame
        Columns ``h3`` (str), ``clipped`` (bool: a border cell cut by the territory's
        outline), ``geometry`` (MultiPolygon, EPSG:4326), sorted by ``h3``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> square = box(6.84, 47.63, 6.86, 47.65)
    >>> cells = tessellate(square, 9)
    >>> round(cells.union_all().symmetric_difference(square).area / square.area, 9)
    0.0
    """
    area = _as_polygonal(territory)
    if area.is_empty:
        raise InvalidInputError("territory_without_area", field="territory")
    check_cell_budget(area, resolution)
    found = set(
        h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(area), resolution, contain="overlap")
    )
    shapely.prepare(area)
    hexagons_of = {c: cell_polygon(c) for c in found}
    # H3 decides overlap on the sphere; our cells are planar polygons between the same
    # vertices. Along the outline the two can disagree, so the ring around every border
    # cell is tested too.
    border_ids = [c for c, g in hexagons_of.items() if not area.contains_properly(g)]
    for c in {n for b in border_ids for n in h3.grid_disk(b, 1)} - found:
        hexagons_of[c] = cell_polygon(c)
    ids = sorted(hexagons_of)
    hexagons = np.array([hexagons_of[c] for c in ids], dtype=object)
    inside = shapely.contains_properly(area, hexagons)
    geoms = hexagons.copy()
    border = ~inside
    geoms[border] = shapely.intersection(hexagons[border], area)
    cells = gpd.GeoDataFrame(
        {"h3": ids, "clipped": border}, geometry=[_as_polygonal(g) for g in geoms], crs=WGS84
    )
    keep = shapely.area(cells.geometry.to_numpy()) > 0  # drops empty slivers
    return single_part_units(cells.loc[keep].reset_index(drop=True), resolution)


def single_part_units(cells: gpd.GeoDataFrame, resolution: int) -> gpd.GeoDataFrame:
    """Make every clipped cell one piece, so that no sector carries a detached speck.

    A border cell clipped to the territory can fall in several pieces. Its largest piece
    keeps the cell's id; every other piece joins the neighbouring unit with which it
    shares the longest boundary (of positive length: touching at a point is not sharing);
    a piece that shares a boundary with no other unit (an islet) becomes a unit of its
    own, named by the first finer H3 cell holding its interior point that no other unit
    uses. The result has the columns of ``cells``, one single-part MultiPolygon per row,
    sorted by id.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> two_pieces = MultiPolygon([box(0, 0.5, 1, 1), box(2, 0.5, 3, 1)])
    >>> cells = gpd.GeoDataFrame({"h3": ["a", "b"], "clipped": [True, True]},
    ...     geometry=[two_pieces, box(0, 0, 3, 0.5)], crs=WGS84)
    >>> out = single_part_units(cells, 9)
    >>> [len(g.geoms) for g in out.geometry], [round(g.area, 6) for g in out.geometry]
    ([1, 1], [0.5, 2.0])
    """
    geoms = cells.geometry.to_numpy()
    parts, owner = shapely.get_parts(geoms, return_index=True)
    if len(parts) == len(geoms):
        return cells
    metric = gpd.GeoSeries(parts, crs=cells.crs).to_crs(metric_crs(cells)).to_numpy()
    area = shapely.area(metric)
    order = np.lexsort((-area, owner))
    main = np.zeros(len(parts), dtype=bool)
    main[order[np.r_[True, owner[order][1:] != owner[order][:-1]]]] = True
    main_idx = np.flatnonzero(main)
    minor_idx = np.flatnonzero(~main)
    tree = shapely.STRtree(metric[main_idx])
    m_i, t_i = tree.query(metric[minor_idx], predicate="dwithin", distance=0.01)
    # Within a centimetre: the two outlines may hold the same edge with different vertices.
    shared = shapely.length(
        shapely.intersection(
            shapely.boundary(metric[minor_idx[m_i]]),
            shapely.buffer(shapely.boundary(metric[main_idx[t_i]]), 0.01),
        )
    )
    touching = (shared > _FRAGMENT_SHARED_LENGTH) & (owner[minor_idx[m_i]] != owner[main_idx[t_i]])
    best = (
        pd.DataFrame({"m": m_i[touching], "t": t_i[touching], "len": shared[touching]})
        .sort_values(["m", "len"])
        .drop_duplicates("m", keep="last")
    )
    joins: dict[int, list[int]] = {}
    for m, t in zip(best["m"].to_numpy(), best["t"].to_numpy(), strict=True):
        joins.setdefault(int(owner[main_idx[t]]), []).append(int(minor_idx[m]))
    out_geoms = list(parts[main_idx])
    for row, cell in enumerate(owner[main_idx]):
        if int(cell) in joins:
            merged = shapely.union_all([out_geoms[row], *parts[joins[int(cell)]]])
            out_geoms[row] = merged
    ids = cells["h3"].to_numpy()
    rows = [int(c) for c in owner[main_idx]]
    taken = set(ids.tolist())
    alone = np.setdiff1d(minor_idx, minor_idx[best["m"].to_numpy(int)])
    new_ids: list[str] = []
    for piece in alone:
        inside = shapely.point_on_surface(parts[piece])
        uid = next(
            (
                c
                for r in range(resolution + 1, MAX_RESOLUTION + 1)
                if (c := h3.latlng_to_cell(inside.y, inside.x, r)) not in taken
            ),
            f"{ids[owner[piece]]}"[:13] + f"{len(new_ids):03d}",
        )
        taken.add(uid)
        new_ids.append(uid)
        rows.append(int(owner[piece]))
        out_geoms.append(parts[piece])
    out = cells.iloc[rows].copy()
    out["h3"] = [*ids[owner[main_idx]].tolist(), *new_ids]
    grown = np.r_[np.isin(owner[main_idx], list(joins)), np.ones(len(alone), dtype=bool)]
    out["clipped"] = out["clipped"].to_numpy() | grown
    out = out.set_geometry([_as_polygonal(g) for g in out_geoms], crs=cells.crs)
    return out.sort_values("h3").reset_index(drop=True)


def _overlaps(
    cells: gpd.GeoDataFrame, sources: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (cell, source) that overlap and the area of each overlap (same CRS)."""
    cell_idx, source_idx = sources.sindex.query(cells.geometry, predicate="intersects")
    pieces = shapely.intersection(
        cells.geometry.to_numpy()[cell_idx], sources.geometry.to_numpy()[source_idx]
    )
    areas = shapely.area(pieces)
    keep = areas > 0
    return cell_idx[keep], source_idx[keep], areas[keep]


def assign_communes(cells: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> pd.Series:
    """Code of the commune that holds most of each cell's area (``communes`` has ``code``)."""
    crs = metric_crs(cells)
    c_idx, s_idx, areas = _overlaps(cells.to_crs(crs), communes.to_crs(crs))
    pairs = pd.DataFrame({"cell": c_idx, "code": communes["code"].to_numpy()[s_idx], "a": areas})
    best = pairs.sort_values("a").drop_duplicates("cell", keep="last").set_index("cell")["code"]
    return best.reindex(range(len(cells))).set_axis(cells.index)


def interpolate(
    cells: gpd.GeoDataFrame, sources: gpd.GeoDataFrame, columns: Sequence[str]
) -> pd.DataFrame:
    """Area-weighted sums of extensive ``columns`` of ``sources`` over ``cells``.

    Each source value is split in proportion to the share of the source's area that lies
    in each cell; a source half outside the cells gives them half of its value.
    """
    crs = metric_crs(cells)
    src = sources.to_crs(crs)
    c_idx, s_idx, areas = _overlaps(cells.to_crs(crs), src)
    share = areas / src.geometry.area.to_numpy()[s_idx]
    out = pd.DataFrame(0.0, index=range(len(cells)), columns=list(columns))
    for col in columns:
        values = src[col].to_numpy(dtype=float)[s_idx] * share
        out[col] = np.bincount(c_idx, weights=values, minlength=len(cells))
    return out.set_axis(cells.index)


@dataclass(frozen=True)
class PopulationGrid:
    """A statistical grid (e.g. INSEE Filosofi 200 m) and the extent it covers.

    ``squares`` holds the extensive columns of :data:`EXTENSIVE_VARIABLES` that it has.
    ``extent`` is where the grid is authoritative: outside it, population comes from the
    communes. For a grid that lists only inhabited squares, it is the extract's frame,
    not the union of the squares.
    """

    squares: gpd.GeoDataFrame
    extent: BaseGeometry


def cell_attributes(
    cells: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    grid: PopulationGrid | None = None,
) -> gpd.GeoDataFrame:
    """Add ``commune``, ``area_m2``, the extensive variables and ``source`` to the cells.

    ``communes`` needs ``code`` and ``population`` (may be missing: then 0). Variables the
    grid lacks are 0 where the grid is the source; only population falls back to
    communes outside the grid's extent.
    """
    crs = metric_crs(cells)
    out = cells.copy()
    out["commune"] = assign_communes(cells, communes)
    out["area_m2"] = cells.to_crs(crs).geometry.area
    for col in EXTENSIVE_VARIABLES:
        out[col] = 0.0
    from_grid = np.zeros(len(cells), dtype=bool)

    com = communes.to_crs(crs).reset_index(drop=True)
    com_pop = pd.to_numeric(com["population"], errors="coerce").fillna(0).to_numpy(float)
    remaining = com_pop.copy()
    uncovered = com.geometry.to_numpy()
    if grid is not None and len(grid.squares):
        present = [c for c in EXTENSIVE_VARIABLES if c in grid.squares.columns]
        values = interpolate(cells, grid.squares, present)
        out[present] = values.to_numpy()
        from_grid = values.sum(axis=1).to_numpy() > 0
        # Population the grid already puts inside each commune.
        in_commune = interpolate(com, grid.squares, ["population"])["population"].to_numpy()
        remaining = np.maximum(com_pop - in_commune, 0.0)
        extent = gpd.GeoSeries([grid.extent], crs=grid.squares.crs).to_crs(crs).iloc[0]
        uncovered = shapely.difference(uncovered, extent)

    spread = gpd.GeoDataFrame({"population": remaining}, geometry=uncovered, crs=crs)
    spread = spread.loc[shapely.area(spread.geometry.to_numpy()) > 0]
    from_commune = np.zeros(len(cells), dtype=bool)
    if len(spread):
        fallback = interpolate(cells, spread, ["population"])["population"].to_numpy()
        out["population"] = out["population"].to_numpy() + fallback
        from_commune = fallback > 0
    out["source"] = np.select(
        [from_grid & from_commune, from_grid, from_commune],
        ["grid+commune", "grid", "commune"],
        default="none",
    )
    return out


def workload(
    cells: pd.DataFrame, weights: Mapping[str, float] = DEFAULT_WORKLOAD_WEIGHTS
) -> pd.Series:
    """Workload of each cell: ``Σ weights[v] · cells[v]`` over the weighted variables.

    Examples
    --------
    >>> import pandas as pd
    >>> w = workload(pd.DataFrame({"population": [100.0], "poor_households": [10.0]}),
    ...              {"population": 1.0, "poor_households": 2.0})
    >>> float(w.iloc[0])
    120.0
    """
    unknown = sorted(set(weights) - set(cells.columns))
    if unknown:
        raise InvalidInputError(
            "unknown_workload_variables",
            field="weights",
            unknown=unknown,
            available=[str(c) for c in cells.columns],
        )
    for name, weight in weights.items():
        if not 0 <= float(weight) <= MAX_WORKLOAD_WEIGHT:  # NaN too
            raise InvalidValueError(
                "workload_weight_out_of_range",
                field="weights",
                name=name,
                weight=weight,
                most=MAX_WORKLOAD_WEIGHT,
            )
    total = pd.Series(0.0, index=cells.index)
    for name, weight in weights.items():
        total += float(weight) * pd.to_numeric(cells[name], errors="coerce").fillna(0.0)
    return total


# -- adjacency ----------------------------------------------------------------------------

#: Barrier classes that cut adjacency (see :mod:`geo.layers` for the class vocabulary).
DEFAULT_BARRIER_CLASSES = frozenset({"motorway", "trunk", "railway", "river", "canal"})
#: Distance (m) from a shared edge within which a crossing makes the barrier passable.
DEFAULT_CROSSING_DISTANCE = 100.0
_MIN_SHARED_LENGTH = 0.01  # m: touching at a point is not sharing an edge
_FRAGMENT_SHARED_LENGTH = 0.5  # m: a fragment joins a unit it shares at least this with


@dataclass(frozen=True)
class Adjacency:
    """The unit graph.

    ``edges`` has one row per pair of units that share an edge: ``a``, ``b`` (positions
    in the units table, ``a < b``), ``shared_m`` (length of the shared edge), ``barrier``
    (class of a barrier crossing the edge, or ``None``) and ``blocked`` (a barrier with no
    crossing nearby: not a neighbour). ``component`` gives each unit's connected
    component in the graph of unblocked edges, largest component first.
    """

    edges: pd.DataFrame
    component: np.ndarray

    @property
    def n_components(self) -> int:
        return int(self.component.max()) + 1 if len(self.component) else 0

    def neighbours(self) -> pd.DataFrame:
        return self.edges.loc[~self.edges["blocked"]]


def _candidate_pairs(units: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a < b) of units whose outlines touch or intersect."""
    left, right = units.sindex.query(units.geometry, predicate="intersects")
    keep = left < right
    return left[keep], right[keep]


def adjacency(
    units: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None = None,
    *,
    barrier_classes: frozenset[str] = DEFAULT_BARRIER_CLASSES,
    crossing_distance: float = DEFAULT_CROSSING_DISTANCE,
) -> Adjacency:
    """Barrier-aware adjacency of units (cells or blocks).

    Two units are neighbours when they share an edge, unless a barrier line of one of
    ``barrier_classes`` crosses that edge and no crossing lies within
    ``crossing_distance`` metres of it. ``barriers`` has columns ``class`` and the
    booleans ``bridge`` and ``tunnel``. A barrier segment on a bridge or in a tunnel does
    not cut the surface; a crossing is a point where any other line of the layer (a road,
    or a railway over a river) crosses a barrier line.
    """
    crs = metric_crs(units)
    metric = units.to_crs(crs).reset_index(drop=True)
    a, b = _candidate_pairs(metric)
    boundaries = shapely.boundary(metric.geometry.to_numpy())
    shared = shapely.intersection(boundaries[a], boundaries[b])
    length = shapely.length(shared)
    keep = length > _MIN_SHARED_LENGTH
    a, b, shared, length = a[keep], b[keep], shared[keep], length[keep]
    barrier = np.full(len(a), None, dtype=object)
    blocked = np.zeros(len(a), dtype=bool)

    if barriers is not None and len(barriers) and len(a):
        lines = barriers.to_crs(crs).reset_index(drop=True)
        passable = lines["bridge"].fillna(False).astype(bool) | lines["tunnel"].fillna(
            False
        ).astype(bool)
        is_barrier = lines["class"].isin(barrier_classes) & ~passable
        cutting = lines.loc[is_barrier]
        if len(cutting):
            points, point_class = _crossing_points(cutting, lines.loc[~is_barrier])
            edge_idx, line_idx = cutting.sindex.query(shared, predicate="intersects")
            crossed = pd.DataFrame(
                {"edge": edge_idx, "class": cutting["class"].to_numpy()[line_idx]}
            ).drop_duplicates()
            for cls, group in crossed.groupby("class", sort=True):
                edges_c = group["edge"].to_numpy()
                bridged = np.zeros(len(edges_c), dtype=bool)
                same = points[point_class == cls]
                if len(same):
                    hit, _ = shapely.STRtree(same).query(
                        shared[edges_c], predicate="dwithin", distance=crossing_distance
                    )
                    bridged[np.unique(hit)] = True
                blocked_c = edges_c[~bridged]
                blocked[blocked_c] = True
                barrier[blocked_c] = cls
                open_c = edges_c[bridged]
                barrier[open_c] = np.where(barrier[open_c] == None, cls, barrier[open_c])  # noqa: E711

    edges = pd.DataFrame(
        {"a": a, "b": b, "shared_m": length, "barrier": barrier, "blocked": blocked}
    )
    return Adjacency(edges=edges, component=components(len(units), edges))


def _crossing_points(
    cutting: gpd.GeoDataFrame, others: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Points where another line crosses a barrier line (a bridge, a tunnel, a road over
    or under a motorway, a level crossing), with the class of the barrier crossed."""
    empty = (np.array([], dtype=object), np.array([], dtype=object))
    if not len(others):
        return empty
    o_idx, c_idx = cutting.sindex.query(others.geometry, predicate="intersects")
    if not len(o_idx):
        return empty
    hits = shapely.intersection(
        others.geometry.to_numpy()[o_idx], cutting.geometry.to_numpy()[c_idx]
    )
    parts, owner = shapely.get_parts(hits, return_index=True)
    points = shapely.point_on_surface(parts) if len(parts) else parts
    classes = cutting["class"].to_numpy()[c_idx][owner]
    keep = ~shapely.is_empty(points)
    return points[keep], classes[keep]


def components(n: int, edges: pd.DataFrame) -> np.ndarray:
    """Connected components over unblocked edges, numbered by decreasing size."""
    if n == 0:
        return np.zeros(0, dtype=int)
    open_edges = edges.loc[~edges["blocked"]]
    graph = coo_matrix(
        (np.ones(len(open_edges)), (open_edges["a"].to_numpy(), open_edges["b"].to_numpy())),
        shape=(n, n),
    )
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(-np.bincount(labels), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels]
