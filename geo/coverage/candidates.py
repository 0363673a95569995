"""Candidate sites of the maximal covering problem.

A street camera is mounted at a crossroads, where it sees several streets: the candidates
are the street intersections of a road layer (:func:`street_intersections`: nodes where
three or more road ends meet, or where two roads cross at grade), else, without a road
layer, the centres of the H3 cells of the area (:func:`cell_centres`, resolution 10: about
66 m between neighbouring centres). :func:`candidate_sites` picks one or the other.
"""

from __future__ import annotations

import math

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, metric_crs
from geo.errors import InvalidValueError

_AT_GRADE_FALSE = {"", "no", "false", "0", "none", "nan"}


def _flag(values: pd.Series | None, n: int) -> np.ndarray:
    """A bridge/tunnel column as booleans: True, or any OSM value but ``no`` ("yes",
    "viaduct", "culvert"…); missing column or values are False."""
    if values is None:
        return np.zeros(n, dtype=bool)
    out = np.zeros(n, dtype=bool)
    for i, value in enumerate(values.to_numpy(dtype=object)):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, bool | np.bool_):
            out[i] = bool(value)
        else:
            out[i] = str(value).strip().lower() not in _AT_GRADE_FALSE
    return out


def _clusters(xy: np.ndarray, distance: float) -> np.ndarray:
    """Label of each point's cluster: points closer than ``distance`` (transitively)."""
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(distance, output_type="ndarray")
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def street_intersections(
    roads: gpd.GeoDataFrame,
    area: BaseGeometry,
    *,
    min_degree: int = 3,
    snap_m: float = 1.0,
    merge_m: float = 5.0,
) -> gpd.GeoDataFrame:
    """Street intersections of a road line layer inside ``area``.

    A node's *degree* is the number of road ends meeting there, a road passing through
    counting twice: a crossroads has degree 4, a T junction 3, a bend 2, a dead end 1.
    Nodes are the roads' end points and the points where two roads at grade cross
    without being split; roads on a bridge or in a tunnel (truthy ``bridge``/``tunnel``
    columns, as in OSM: "yes", "viaduct"…; missing columns count as False) cross nothing
    but still join the network at their ends. Ends closer than ``snap_m`` metres meet;
    identical lines (OSM's two directions of a street) count once. Nodes of degree
    ``min_degree`` or more inside ``area`` (boundary included) are kept, and nodes closer
    than ``merge_m`` metres to one another merged into the one of highest degree.

    Parameters
    ----------
    roads
        LineString/MultiLineString layer in any CRS with a declared CRS.
    area
        Polygon in the roads' CRS.
    min_degree
        Smallest degree kept (3: junctions and crossings).

    Returns
    -------
    GeoDataFrame
        Columns ``kind`` (``"intersection"``), ``degree`` (int) and Point ``geometry`` in
        the roads' CRS, in the roads' order of appearance.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> roads = gpd.GeoDataFrame(
    ...     {"bridge": [False, False, True]},
    ...     geometry=[
    ...         LineString([(2.300, 48.700), (2.310, 48.700)]),
    ...         LineString([(2.305, 48.695), (2.305, 48.705)]),
    ...         LineString([(2.302, 48.695), (2.302, 48.705)]),
    ...     ],
    ...     crs=4326,
    ... )
    >>> nodes = street_intersections(roads, box(2.29, 48.69, 2.32, 48.71))
    >>> [(round(p.x, 3), round(p.y, 3)) for p in nodes.geometry], nodes["degree"].tolist()
    ([(2.305, 48.7)], [4])
    """
    columns = ["kind", "degree", "geometry"]
    if roads.crs is None:
        raise InvalidValueError("layer_without_crs", source="roads")
    if min_degree < 1:
        raise InvalidValueError(
            "parameter_expected", name="min_degree", expected="au moins 1", got=min_degree
        )
    empty = gpd.GeoDataFrame({"kind": [], "degree": []}, geometry=[], crs=roads.crs)[columns]
    if roads.empty or area.is_empty:
        return empty
    shapely.prepare(area)
    lines = roads[roads.geometry.notna()].copy()
    lines["_above"] = _flag(lines.get("bridge"), len(lines)) | _flag(
        lines.get("tunnel"), len(lines)
    )
    lines = lines.explode(index_parts=False)
    lines = lines[lines.geom_type == "LineString"]
    lines = lines[lines.intersects(area)]
    if lines.empty:
        return empty
    crs = metric_crs(lines)
    geoms = shapely.normalize(lines.to_crs(crs).geometry.to_numpy())
    above = lines["_above"].to_numpy(dtype=bool)
    # Two directions of one street: one line.
    keys = pd.Series(shapely.to_wkb(geoms))
    keep = ~keys.duplicated().to_numpy()
    geoms, above = geoms[keep], above[keep]
    starts = shapely.get_point(geoms, 0)
    ends = shapely.get_point(geoms, -1)
    # Candidate nodes: every end, and where two lines at grade cross.
    candidates = [shapely.get_coordinates(starts), shapely.get_coordinates(ends)]
    at_grade = np.flatnonzero(~above)
    tree = shapely.STRtree(geoms[at_grade])
    left, right = tree.query(geoms[at_grade], predicate="intersects")
    pair = left < right
    if pair.any():
        crossings = shapely.intersection(geoms[at_grade[left[pair]]], geoms[at_grade[right[pair]]])
        points = shapely.get_parts(crossings)
        points = points[shapely.get_type_id(points) == 0]
        candidates.append(shapely.get_coordinates(points))
    xy = np.concatenate(candidates)
    # One candidate per place (within snap_m).
    labels = _clusters(xy, snap_m)
    _, first = np.unique(labels, return_index=True)
    xy = xy[np.sort(first)]
    nodes = shapely.points(xy)
    # Degree: each line near a node adds its ends there, or 2 if it passes through.
    node_of, line_of = shapely.STRtree(geoms).query(nodes, predicate="dwithin", distance=snap_m)
    at_start = shapely.distance(nodes[node_of], starts[line_of]) <= snap_m
    at_end = shapely.distance(nodes[node_of], ends[line_of]) <= snap_m
    ends_here = at_start.astype(int) + at_end.astype(int)
    through = np.where(above[line_of], 0, 2)
    degree = np.bincount(
        node_of, weights=np.where(ends_here > 0, ends_here, through), minlength=len(xy)
    ).astype(int)
    keep = degree >= min_degree
    xy, degree = xy[keep], degree[keep]
    if len(xy) == 0:
        return empty
    # Merge nodes closer than merge_m, keeping the one of highest degree (then the first).
    labels = _clusters(xy, merge_m)
    order = np.lexsort((np.arange(len(xy)), -degree, labels))
    first_of_cluster = order[np.r_[True, labels[order][1:] != labels[order][:-1]]]
    chosen = np.sort(first_of_cluster)
    points = gpd.GeoSeries(shapely.points(xy[chosen]), crs=crs).to_crs(roads.crs)
    inside = shapely.covers(area, points.to_numpy())
    return gpd.GeoDataFrame(
        {"kind": "intersection", "degree": degree[chosen][inside]},
        geometry=points.to_numpy()[inside],
        crs=roads.crs,
    ).reset_index(drop=True)[columns]


def _polygonal(area: BaseGeometry) -> BaseGeometry:
    """The polygons of ``area`` (a geometry collection may hold lines or points)."""
    if area.geom_type in ("Polygon", "MultiPolygon"):
        return area
    parts = [g for g in shapely.get_parts(area) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        raise InvalidValueError(
            "parameter_expected", name="area", expected="un polygone", got=area.geom_type
        )
    return shapely.union_all(parts)


def cell_centres(area: BaseGeometry, resolution: int = 10) -> gpd.GeoDataFrame:
    """Centres of the H3 cells of ``resolution`` whose centre lies inside ``area``.

    Parameters
    ----------
    area
        Polygon in WGS84.
    resolution
        H3 resolution, 0 to 15 (10: cells of about 0.015 km², centres about 66 m apart).

    Returns
    -------
    GeoDataFrame
        Columns ``h3`` (str), ``kind`` (``"h3"``), Point ``geometry`` (EPSG:4326), sorted
        by ``h3``; empty when the area is smaller than a cell and holds no centre.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> centres = cell_centres(box(6.85, 47.63, 6.86, 47.64))
    >>> len(centres) > 40, set(centres["kind"])
    (True, {'h3'})
    """
    if not isinstance(resolution, int | np.integer) or not 0 <= resolution <= 15:
        raise InvalidValueError(
            "parameter_expected",
            name="resolution",
            expected="une résolution H3 de 0 à 15",
            got=resolution,
        )
    columns = ["h3", "kind", "geometry"]
    if area.is_empty:
        return gpd.GeoDataFrame({"h3": [], "kind": []}, geometry=[], crs=WGS84)[columns]
    cells = sorted(h3.h3shape_to_cells(h3.geo_to_h3shape(_polygonal(area)), int(resolution)))
    latlng = np.array([h3.cell_to_latlng(c) for c in cells]).reshape(-1, 2)
    return gpd.GeoDataFrame(
        {"h3": pd.Series(cells, dtype=object), "kind": "h3"},
        geometry=gpd.points_from_xy(latlng[:, 1], latlng[:, 0]),
        crs=WGS84,
    )[columns]


def candidate_sites(
    area: BaseGeometry,
    roads: gpd.GeoDataFrame | None = None,
    *,
    resolution: int = 10,
) -> gpd.GeoDataFrame:
    """Candidate camera sites in ``area`` (WGS84): its street intersections when a road
    layer is given and has some inside, else the centres of its H3 cells.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, column ``kind`` (``"intersection"`` or ``"h3"``) and, respectively,
        ``degree`` or ``h3``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> sites = candidate_sites(box(6.85, 47.63, 6.86, 47.64))
    >>> sites.crs.to_epsg(), set(sites["kind"])
    (4326, {'h3'})
    """
    if roads is not None and not roads.empty:
        if roads.crs is None:
            raise InvalidValueError("layer_without_crs", source="roads")
        local = gpd.GeoSeries([area], crs=WGS84).to_crs(roads.crs).iloc[0]
        found = street_intersections(roads, local)
        if not found.empty:
            return found.to_crs(WGS84)
    return cell_centres(area, resolution)
