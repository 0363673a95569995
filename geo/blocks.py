"""Street blocks: the territory cut by its roads, railways and waterways.

An alternative to the H3 cells of :mod:`geo.grid` as the atomic units of sector design,
for CSPs with a road/barrier layer: sector boundaries drawn on blocks follow streets
instead of cutting through houses. The output has the columns of
:func:`geo.grid.tessellate` (``h3`` holds the block id), so :func:`geo.grid.cell_attributes`,
:func:`geo.grid.workload` and :func:`geo.grid.adjacency` work on blocks unchanged.

Approach
--------
A *street block* is a face of the planar graph formed by the street network, the classic
unit of urban morphology (Conzen 1960; Vernez Moudon 1997) and of block-based
districting; it is obtained by *polygonising* the noded line network (Fleischmann et al.
2020, *momepy*; the same ``polygonize`` of GEOS). Here:

1. **Cutting lines.** The lines of the layer that intersect the territory, keeping every
   class except paths and minor ditches (:data:`NON_CUTTING_CLASSES`: footways, cycleways,
   service roads, tracks… would cut car parks and gardens into crumbs), or exactly the
   ``classes`` given. A line on a *bridge* or in a *tunnel* does not cut the ground: a
   motorway on a viaduct or a railway in a tunnel leaves the land below in one piece. So
   a barrier layer cuts the same places as in :func:`geo.grid.adjacency`.
2. **Faces.** The lines and the territory's outline are noded together
   (``unary_union`` with snap-rounding to :data:`GRID_SIZE`, about 1 cm, so that the
   noding is robust and the blocks stay valid once reprojected to metres) and
   polygonised; the faces inside the territory are kept (a face is wholly inside or
   wholly outside, since the outline is part of the noded network). Dead-end streets
   are *dangles* of the network: they bound no face, so they do not cut a block.
   Whatever the faces miss is added back, so the blocks' union IS the territory (as
   rounded to the grid), islands and holes included.
3. **Large blocks are split by H3.** A block larger than ``split_factor`` times the
   average H3 cell of ``resolution`` (fields, forests, a large industrial estate: few
   roads) is cut by the H3 cells: the edges of its cells, clipped to it as by
   :func:`geo.grid.tessellate`, join the network, which is noded and polygonised again
   (one noding for every face: neighbours share identical edges, no gap, no overlap).
   Units therefore stay no larger than about ``split_factor`` cells, rural areas keep
   balanced units, and the resolution keeps its meaning. A territory without any
   cutting line gives just its H3 cells.
4. **Slivers are merged.** A face smaller than ``min_area_m2`` (a roundabout's island,
   a slip road's triangle, a sliver at the outline) is merged into the neighbour with
   which it shares the longest edge, a neighbour of the same block first (a piece of a
   split block goes back to its own block rather than across a street), smallest first,
   until none is left or it has no neighbour (a small island stays a unit).

Adjacency of blocks (:func:`geo.grid.adjacency`) is decided per shared edge, as for
cells: a block's edge along a railway is open when a crossing (bridge, level crossing)
lies within the crossing distance of it, so two blocks facing each other across the
track at a bridge are neighbours, and those between bridges are not.

Block ids are ``"b"`` and six digits, numbered in the order of the H3 cell (at
``resolution``) holding each block's representative point, then of that point's
coordinates: the same input gives the same ids.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection

import geopandas as gpd
import h3
import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, metric_crs
from geo.errors import InvalidInputError
from geo.grid import DEFAULT_RESOLUTION, _as_polygonal, tessellate

#: Faces smaller than this (m²) are merged into a neighbour.
DEFAULT_MIN_AREA_M2 = 2000.0
#: A block larger than this many average H3 cells of the resolution is split by H3.
DEFAULT_SPLIT_FACTOR = 2.0
#: Line classes that do not cut blocks unless asked for (``classes``): paths, private
#: service roads and small ditches, which would cut car parks and gardens into crumbs.
NON_CUTTING_CLASSES = frozenset(
    {
        "footway",
        "path",
        "cycleway",
        "bridleway",
        "steps",
        "corridor",
        "service",
        "track",
        "platform",
        "construction",
        "proposed",
        "abandoned",
        "ditch",
        "drain",
    }
)
#: Coordinates are snap-rounded to this grid (degrees, about 1 cm): the network is noded
#: robustly, and blocks stay valid once reprojected to metres.
GRID_SIZE = 1e-7
_MIN_SHARED_LENGTH = 0.01  # m: touching at a point is not sharing an edge
_ID_WIDTH = 6


def cutting_lines(
    lines: gpd.GeoDataFrame | None, classes: Collection[str] | None = None
) -> gpd.GeoDataFrame:
    """The lines that cut blocks: of ``classes`` (default: every class but
    :data:`NON_CUTTING_CLASSES`), neither on a bridge nor in a tunnel, in WGS84.

    ``lines`` has the columns of a ``barriers`` layer (:mod:`geo.layers`): ``class``,
    and the booleans ``bridge`` and ``tunnel`` (missing: false).
    """
    if lines is None or not len(lines):
        return gpd.GeoDataFrame({"class": []}, geometry=[], crs=WGS84)
    if not isinstance(lines, gpd.GeoDataFrame):
        raise InvalidInputError(
            "parameter_expected", name="lines", expected="un GeoDataFrame", got=type(lines).__name__
        )
    out = lines.to_crs(WGS84) if lines.crs is not None else lines.set_crs(WGS84)
    keep = np.ones(len(out), dtype=bool)
    for flag in ("bridge", "tunnel"):
        if flag in out.columns:
            keep &= ~out[flag].fillna(False).astype(bool).to_numpy()
    if "class" in out.columns:
        cls = out["class"].astype("string").str.lower()
        if classes is None:
            keep &= ~cls.isin(NON_CUTTING_CLASSES).fillna(False).to_numpy(dtype=bool)
        else:
            keep &= cls.isin({c.lower() for c in classes}).fillna(False).to_numpy(dtype=bool)
    elif classes is not None:
        raise InvalidInputError("lines_without_class", classes=sorted(classes))
    out = out.loc[keep]
    geom_types = shapely.get_type_id(out.geometry.to_numpy())
    return out.loc[np.isin(geom_types, (1, 2, 5))].reset_index(drop=True)  # (multi)lines


def street_blocks(
    territory: BaseGeometry,
    lines: gpd.GeoDataFrame | None,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
    split_factor: float = DEFAULT_SPLIT_FACTOR,
    classes: Collection[str] | None = None,
) -> gpd.GeoDataFrame:
    """Cut ``territory`` (WGS84) into street blocks polygonised from ``lines``.

    Parameters
    ----------
    territory
        Polygon or MultiPolygon in EPSG:4326 (islands and holes allowed).
    lines
        Road/barrier lines with ``class``, ``bridge`` and ``tunnel`` (a ``barriers``
        layer of :mod:`geo.layers`), any CRS; ``None`` or empty: no cut.
    resolution
        H3 resolution bounding the blocks' size: a block larger than ``split_factor``
        average cells of this resolution is cut by the H3 cells.
    min_area_m2
        Faces smaller than this are merged into the neighbour sharing the longest edge.
    split_factor
        How many average H3 cells a block may cover before it is split.
    classes
        Line classes that cut (``None``: every class but :data:`NON_CUTTING_CLASSES`).
        Lines on a bridge or in a tunnel never cut.

    Returns
    -------
    GeoDataFrame
        The columns of :func:`geo.grid.tessellate`: ``h3`` (the block id, ``b000000``…),
        ``clipped`` (bool: the block touches the territory's outline), ``geometry``
        (MultiPolygon, EPSG:4326); sorted by id. The blocks' union is the territory and
        they do not overlap.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> square = box(2.280, 48.720, 2.290, 48.727)  # about 730 m by 780 m
    >>> streets = gpd.GeoDataFrame(
    ...     {"class": ["residential", "residential"], "bridge": False, "tunnel": False},
    ...     geometry=[LineString([(2.285, 48.71), (2.285, 48.73)]),
    ...               LineString([(2.27, 48.7235), (2.30, 48.7235)])], crs=4326)
    >>> blocks = street_blocks(square, streets, resolution=8)
    >>> blocks["h3"].tolist()
    ['b000000', 'b000001', 'b000002', 'b000003']
    >>> round(blocks.union_all().symmetric_difference(square).area / square.area, 9)
    0.0
    """
    if not 0 <= resolution <= 15:
        raise InvalidInputError(
            "parameter_expected",
            name="resolution",
            expected="une résolution H3 de 0 à 15",
            got=resolution,
        )
    if min_area_m2 < 0 or split_factor <= 0:
        raise InvalidInputError(
            "parameter_expected",
            name="min_area_m2, split_factor",
            expected="une aire positive ou nulle et un facteur positif",
            got=(min_area_m2, split_factor),
        )
    area = _as_polygonal(territory)
    if area.is_empty:
        raise InvalidInputError("territory_without_area", field="territory")
    area = _as_polygonal(shapely.set_precision(shapely.make_valid(area), GRID_SIZE))
    if area.is_empty:
        raise InvalidInputError("territory_without_area", field="territory")
    shapely.prepare(area)
    crs = metric_crs(gpd.GeoDataFrame(geometry=[area], crs=WGS84))
    cell_area = h3.average_hexagon_area(resolution, unit="m^2")

    network = cutting_lines(lines, classes).geometry.to_numpy()
    network = network[shapely.intersects(area, network)] if len(network) else network
    blocks = _faces(area, network)
    # The blocks much larger than a cell are cut by the H3 cells: their edges join the
    # network, so that every face comes from one noding (shared edges stay identical).
    big = [
        b
        for b, a in zip(blocks, _metric(blocks, crs).area, strict=True)
        if a > split_factor * cell_area
    ]
    if big:
        edges = [shapely.boundary(c) for b in big for c in tessellate(b, resolution).geometry]
        faces = _faces(area, np.concatenate([network, np.array(edges, dtype=object)]))
        tree = shapely.STRtree(np.array(blocks, dtype=object))
        f_idx, b_idx = tree.query(shapely.point_on_surface(faces), predicate="within")
        parent = np.full(len(faces), -1)
        parent[f_idx] = b_idx
    else:
        faces, parent = blocks, np.arange(len(blocks))

    groups = _merge_small(np.array(faces, dtype=object), parent, crs, min_area_m2)
    geoms = [
        _as_polygonal(shapely.union_all([faces[m] for m in g], grid_size=GRID_SIZE)) for g in groups
    ]
    return _numbered(geoms, area, resolution)


def _faces(area: MultiPolygon, lines: np.ndarray) -> list[BaseGeometry]:
    """The polygons of ``lines`` noded with the outline (snap-rounded to
    :data:`GRID_SIZE`), inside ``area``; what noise leaves uncovered is added back."""
    if not len(lines):
        return list(area.geoms)
    network = shapely.union_all(
        np.concatenate([[shapely.boundary(area)], lines]), grid_size=GRID_SIZE
    )
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(network)))
    keep = shapely.covered_by(shapely.point_on_surface(faces), area)
    kept = [f for f in faces[keep] if f.area > 0]
    rest = shapely.difference(
        area, shapely.union_all(kept, grid_size=GRID_SIZE), grid_size=GRID_SIZE
    )
    kept += [p for p in shapely.get_parts(rest) if p.geom_type == "Polygon" and p.area > 0]
    return kept


def _metric(geoms: list[BaseGeometry] | np.ndarray, crs: object) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=WGS84).to_crs(crs)


def _merge_small(
    pieces: np.ndarray, block: np.ndarray, crs: object, min_area_m2: float
) -> list[list[int]]:
    """Groups of pieces after merging every piece smaller than ``min_area_m2`` into the
    neighbour sharing the longest edge (same block first), smallest first."""
    n = len(pieces)
    metric = _metric(pieces, crs).to_numpy()
    area = shapely.area(metric)
    if not n or min_area_m2 <= 0 or area.min() >= min_area_m2:
        return [[i] for i in range(n)]
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    bounds = shapely.boundary(metric)
    shared = shapely.length(shapely.intersection(bounds[left], bounds[right]))
    near: list[dict[int, float]] = [{} for _ in range(n)]
    for a, b, length in zip(left.tolist(), right.tolist(), shared.tolist(), strict=True):
        if length > _MIN_SHARED_LENGTH:
            near[a][b] = near[a].get(b, 0.0) + length
            near[b][a] = near[b].get(a, 0.0) + length
    # Noise slivers may share no exact edge with anything: they join the nearest piece
    # within a metre.
    for i in np.flatnonzero(area < min_area_m2).tolist():
        if not near[i]:
            _, close = tree.query(metric[i : i + 1], predicate="dwithin", distance=1.0)
            close = close[close != i]
            if len(close):
                j = int(close[np.argmin(shapely.distance(metric[i], metric[close]))])
                near[i][j] = near[j][i] = _MIN_SHARED_LENGTH
    members: list[list[int]] = [[i] for i in range(n)]
    alive = np.ones(n, dtype=bool)
    group_block = block.copy()
    heap = [(float(area[i]), i) for i in range(n) if area[i] < min_area_m2]
    heapq.heapify(heap)
    while heap:
        a, g = heapq.heappop(heap)
        if not alive[g] or a != area[g] or not near[g]:
            continue
        # Same block first, then the longest shared edge, then the lowest index.
        h = max(near[g], key=lambda x: (group_block[x] == group_block[g], near[g][x], -x))
        for x, length in near[g].items():
            del near[x][g]
            if x != h:
                near[h][x] = near[h].get(x, 0.0) + length
                near[x][h] = near[x].get(h, 0.0) + length
        near[g] = {}
        members[h].extend(members[g])
        members[g] = []
        alive[g] = False
        area[h] += area[g]
        if area[h] < min_area_m2:
            heapq.heappush(heap, (float(area[h]), h))
    return [sorted(m) for m in members if m]


def _numbered(geoms: list[MultiPolygon], area: MultiPolygon, resolution: int) -> gpd.GeoDataFrame:
    """Blocks sorted by the H3 cell of their representative point, then its coordinates,
    with ids ``b000000``…"""
    points = shapely.point_on_surface(np.array(geoms, dtype=object))
    xy = shapely.get_coordinates(points)
    cells = [h3.latlng_to_cell(y, x, resolution) for x, y in xy]
    order = sorted(range(len(geoms)), key=lambda i: (cells[i], xy[i, 0], xy[i, 1]))
    width = max(_ID_WIDTH, len(str(len(geoms))))
    ids = [f"b{i:0{width}d}" for i in range(len(geoms))]
    ordered = np.array([geoms[i] for i in order], dtype=object)
    clipped = ~shapely.contains_properly(area, ordered) if len(ordered) else np.zeros(0, bool)
    return gpd.GeoDataFrame(
        {"h3": ids, "clipped": clipped.astype(bool)}, geometry=list(ordered), crs=WGS84
    )
