"""Where to put p cameras (or audit p sites) so that they cover the most problems: the
maximal covering location problem, its candidate sites and its demand weights.

Every distance is in metres in a projected CRS (:func:`geo.crs.metric_crs`: Lambert-93 in
metropolitan France, the UTM zone overseas); the solver takes metric coordinates
(:func:`geo.hotspots.metric_xy` projects WGS84 positions), the site generators take and
return geometries.

Demand (:func:`problem_weights`)
    Each located problem is a demand point weighing ``w = c · 0.5^(age / half-life)``:
    its category's weight ``c`` (:data:`CATEGORY_WEIGHTS`) decayed by its age in days,
    so that a problem reported 180 days ago (the default half-life) counts half as much as
    one reported today.

Candidate sites (:func:`candidate_sites`)
    A street camera is mounted at a crossroads, where it sees several streets: the
    candidates are the street intersections of a road layer (:func:`street_intersections`:
    nodes where three or more road ends meet, or where two roads cross at grade), else,
    without a road layer, the centres of the H3 cells of the area (:func:`cell_centres`,
    resolution 10: about 66 m between neighbouring centres).

Model (:class:`MaximalCovering`)
    The maximal covering location problem of Church & ReVelle (1974): with ``N_i`` the
    candidate sites within ``radius`` of demand point ``i``,

    .. math:: \\max \\sum_i w_i y_i \\quad \\text{s.t.}\\quad y_i \\le \\sum_{j \\in N_i} x_j,
              \\quad \\sum_j x_j \\le p, \\quad x_j \\in \\{0, 1\\}, \\quad 0 \\le y_i \\le 1.

    ``y`` may be continuous: for binary ``x`` the objective pushes every ``y_i`` to
    ``min(1, Σ x_j) ∈ {0, 1}``. ``Σ x_j ≤ p`` rather than ``= p``: an extra site never
    lowers the covered weight, so the optima agree, and fewer than ``p`` useful sites
    remain feasible. Sites that already exist (cameras in place, sites already audited)
    are *fixed*: the demand they cover is counted apart (``fixed_weight``) and removed
    before optimising.

Reductions (:func:`reduce_instance`), which keep every optimum's value
    1. drop demand of weight zero (including demand covered by a fixed site) and demand
       no candidate covers: no choice of sites changes its contribution;
    2. merge demand points covered by the same set of sites into one point weighing their
       sum (rows of the sparse coverage matrix hashed, then compared exactly): they are
       covered together or not at all, so the objective is unchanged;
    3. drop candidates that cover no remaining demand, and keep one of several candidates
       covering exactly the same demand (a second copy never adds anything).

    On clustered problems and a dense grid of candidates this typically shrinks the
    model several times over (the benchmark reports the sizes).

Exact solution
    The reduced model is built in one batch (a row-wise CSR matrix handed to
    ``Highs.passModel``) and solved by HiGHS's branch and cut (Huangfu & Hall 2018),
    warm-started with the greedy solution, so that a time limit still returns a feasible
    solution at least as good as the greedy one. The MIP's dual bound is the reported
    upper bound.

Greedy solution
    Covered weight is a monotone submodular function of the set of sites, so the greedy
    algorithm (take the site of largest marginal gain, ``p`` times) covers at least
    ``(1 - 1/e) ≈ 63.2 %`` of the optimum (Nemhauser, Wolsey & Fisher 1978). It is run
    lazily (CELF, Minoux 1978; Leskovec et al. 2007): marginal gains only decrease, so a
    site's stale gain is an upper bound and only the top of a heap is re-evaluated. For
    any set ``S``, ``OPT ≤ f(S) + Σ(the p largest marginal gains with respect to S)``
    (submodularity; Minoux 1978, Leskovec et al. 2007). The greedy reports the smaller of
    the smallest such bound over its successive sets and a Lagrangian bound: relaxing the
    covering rows with multipliers ``λ >= 0`` gives
    ``OPT ≤ Σ_i max(0, w_i - λ_i) + Σ(the p largest Σ_{i ∈ N_j} λ_i)`` (Galvão & ReVelle
    1996), minimised over ``λ`` by a few hundred subgradient steps (Held, Wolfe & Crowder
    1974), each a sparse product. The submodular bound is often 20 % above the greedy's
    value; the Lagrangian one brings the proven gap to a few per cent (the benchmark
    reports both), for a tenth of a second.

References
----------
Church, R. & ReVelle, C. (1974). The maximal covering location problem. *Papers of the
Regional Science Association* 32, 101-118.

Nemhauser, G. L., Wolsey, L. A. & Fisher, M. L. (1978). An analysis of approximations for
maximizing submodular set functions—I. *Mathematical Programming* 14, 265-294.

Minoux, M. (1978). Accelerated greedy algorithms for maximizing submodular set functions.
*Optimization Techniques*, Lecture Notes in Control and Information Sciences 7, 234-243.

Leskovec, J., Krause, A., Guestrin, C., Faloutsos, C., VanBriesen, J. & Glance, N. (2007).
Cost-effective outbreak detection in networks. *KDD '07*, 420-429.

Held, M., Wolfe, P. & Crowder, H. P. (1974). Validation of subgradient optimization.
*Mathematical Programming* 6, 62-88.

Galvão, R. D. & ReVelle, C. (1996). A Lagrangean heuristic for the maximal covering
location problem. *European Journal of Operational Research* 88(1), 114-123.

Huangfu, Q. & Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
*Mathematical Programming Computation* 10, 119-142.

Piza, E. L., Welsh, B. C., Farrington, D. P. & Thomas, A. L. (2019). CCTV surveillance for
crime prevention: a 40-year systematic review with meta-analysis. *Criminology & Public
Policy* 18(1), 135-159.

Examples
--------
Three problems, two candidate sites 100 m apart, one camera of 60 m range:

>>> import numpy as np
>>> demand = np.array([[0.0, 0.0], [10.0, 0.0], [100.0, 0.0]])
>>> sites = np.array([[0.0, 0.0], [100.0, 0.0]])
>>> solution = MaximalCovering(1, radius=60).solve(demand, np.array([1.0, 1.0, 5.0]), sites)
>>> solution.chosen.tolist(), solution.covered_weight, solution.optimal
([1], 5.0, True)
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

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
from geo.errors import InvalidValueError, UnavailableError

DEFAULT_RADIUS_M: float = 100.0
"""A street camera's useful range in metres (identification of a person at night is
rarely possible much further)."""

CATEGORY_WEIGHTS: Mapping[str, float] = {
    # Happen in the public space a street camera sees, and are what vidéoprotection is
    # installed for: deal points, gatherings, urban rodeos, drinking on the street.
    "stupefiants": 1.0,
    "rassemblements": 1.0,
    "rodeos": 1.0,
    "alcoolisation": 0.8,
    "nuisances": 0.8,
    # Visible from the street, but a camera only documents them (vidéoverbalisation).
    "stationnement": 0.7,
    # Partly in public space (stops, stations), partly inside vehicles.
    "transports": 0.6,
    # Visible, but a camera does little about a camp.
    "campements": 0.5,
    "autre": 0.5,
    # Mostly inside buildings: a street camera sees at best the way in or out.
    "cambriolages": 0.3,
    "scolaire": 0.2,
}
"""Default weight of a problem per category code (:data:`geo.problems.CATEGORIES`).

The weights say how much of the problem happens in the public space that a street camera
sees, from 1 (in the street) down to 0.2 (inside a school). They are a planning default,
not measured effect sizes (Piza et al. 2019 found CCTV's clearest effects on drug and
vehicle crime and in car parks); a caller may pass its own mapping.
"""

HALF_LIFE_DAYS = 180.0
EXACT_MAX_PAIRS = 250_000
"""Above this many (demand, site) pairs after reduction, ``method="auto"`` runs the greedy:
beyond it, HiGHS's root LP alone takes about 10 s on 2 cores (bench/coverage_bench.py),
so the default time limit would end with the greedy start and no better bound."""

_EPS = 1e-9


# --- demand ---------------------------------------------------------------------------


def problem_weights(
    categories: Sequence[str],
    reported_on: Sequence[date],
    *,
    today: date,
    category_weights: Mapping[str, float] = CATEGORY_WEIGHTS,
    half_life_days: float = HALF_LIFE_DAYS,
) -> np.ndarray:
    """Weight of each problem: its category's weight halved every ``half_life_days``.

    ``w = category_weights[category] · 0.5 ** (age_days / half_life_days)`` with
    ``age_days = today - reported_on`` (a datetime counts by its date).

    Raises :class:`~geo.errors.InvalidValueError` (a ``ValueError``) naming an unknown
    category code, a date after ``today``, a missing date, a negative category weight, a
    non-positive half-life or sequences of different lengths.

    Examples
    --------
    >>> from datetime import date
    >>> problem_weights(
    ...     ["stupefiants", "cambriolages", "stupefiants"],
    ...     [date(2024, 6, 30), date(2024, 6, 30), date(2024, 1, 2)],
    ...     today=date(2024, 6, 30),
    ... ).round(3).tolist()
    [1.0, 0.3, 0.5]
    """
    if not half_life_days > 0 or not math.isfinite(half_life_days):
        raise InvalidValueError(
            f"half_life_days must be a positive number of days, got {half_life_days!r}"
        )
    categories = list(categories)
    reported = list(reported_on)
    if len(categories) != len(reported):
        raise InvalidValueError(
            f"{len(categories)} categories but {len(reported)} report dates: "
            "give one of each per problem"
        )
    for code, weight in category_weights.items():
        if not (weight >= 0 and math.isfinite(weight)):
            raise InvalidValueError(
                f"category weight of {code!r} must be a finite number >= 0, got {weight!r}"
            )
    unknown = sorted({c for c in categories if c not in category_weights}, key=str)
    if unknown:
        raise InvalidValueError(
            f"unknown problem category code(s): {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(category_weights)})"
        )
    if not reported:
        return np.zeros(0)
    days = pd.to_datetime(pd.Series(reported, dtype=object), errors="coerce")
    if days.isna().any():
        position = int(np.flatnonzero(days.isna().to_numpy())[0])
        raise InvalidValueError(
            f"reported_on[{position}] is not a date, got {reported[position]!r}"
        )
    day_numbers = days.to_numpy().astype("datetime64[D]")
    age = (np.datetime64(today, "D") - day_numbers).astype(np.int64)
    if (age < 0).any():
        position = int(np.flatnonzero(age < 0)[0])
        raise InvalidValueError(
            f"reported_on[{position}] = {day_numbers[position]} is after today ({today})"
        )
    base = np.array([category_weights[c] for c in categories], dtype=float)
    return base * 0.5 ** (age / half_life_days)


# --- candidate sites ------------------------------------------------------------------

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
        raise InvalidValueError("roads: the layer declares no CRS")
    if min_degree < 1:
        raise InvalidValueError(f"min_degree must be >= 1, got {min_degree!r}")
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
        raise InvalidValueError(f"area must be a polygon, got {area.geom_type}")
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
        raise InvalidValueError(f"resolution: H3 resolutions are 0 to 15, got {resolution!r}")
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
            raise InvalidValueError("roads: the layer declares no CRS")
        local = gpd.GeoSeries([area], crs=WGS84).to_crs(roads.crs).iloc[0]
        found = street_intersections(roads, local)
        if not found.empty:
            return found.to_crs(WGS84)
    return cell_centres(area, resolution)


# --- the coverage matrix --------------------------------------------------------------


def _points(name: str, xy: object) -> np.ndarray:
    """``xy`` as a finite float (n, 2) array, or an error naming ``name``."""
    array = np.asarray(xy, dtype=float)
    if array.size == 0:
        return np.zeros((0, 2))
    if array.ndim != 2 or array.shape[1] != 2:
        raise InvalidValueError(
            f"{name} must be an (n, 2) array of metric coordinates, got shape {array.shape}"
        )
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            f"{name}[{row}] = {array[row].tolist()} is not a finite coordinate pair "
            f"({int(bad.sum())} such row(s))"
        )
    return array


def _radius(radius: float) -> float:
    if isinstance(radius, bool) or not (
        isinstance(radius, int | float | np.number) and radius > 0 and math.isfinite(radius)
    ):
        raise InvalidValueError(f"radius must be a positive number of metres, got {radius!r}")
    return float(radius)


def coverage_matrix(demand_xy: np.ndarray, site_xy: np.ndarray, radius: float) -> sparse.csr_matrix:
    """Which sites cover which demand points: a boolean sparse ``n x m`` matrix, True where
    the distance is at most ``radius`` (metric coordinates).

    Pairs are found with two KD-trees; memory is proportional to the number of covering
    pairs, never to ``n x m``.

    Examples
    --------
    >>> import numpy as np
    >>> m = coverage_matrix(np.array([[0, 0], [50, 0]]), np.array([[0, 0], [120, 0]]), 70)
    >>> m.toarray().tolist()
    [[True, False], [True, True]]
    """
    demand = _points("demand_xy", demand_xy)
    sites = _points("site_xy", site_xy)
    radius = _radius(radius)
    n, m = len(demand), len(sites)
    if n == 0 or m == 0:
        return sparse.csr_matrix((n, m), dtype=bool)
    pairs = cKDTree(demand).sparse_distance_matrix(cKDTree(sites), radius, output_type="ndarray")
    matrix = sparse.csr_matrix(
        (np.ones(len(pairs), dtype=bool), (pairs["i"], pairs["j"])), shape=(n, m)
    )
    matrix.sort_indices()
    return matrix


def _weights(weights: object, n: int) -> np.ndarray:
    array = np.asarray(weights, dtype=float).reshape(-1)
    if len(array) != n:
        raise InvalidValueError(
            f"weights has {len(array)} value(s) for {n} demand point(s): give one per point"
        )
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            f"weights[{i}] must be a finite number >= 0, got {float(array[i])!r}"
        )
    return array


def site_scores(
    demand_xy: np.ndarray, weights: np.ndarray, site_xy: np.ndarray, radius: float
) -> np.ndarray:
    """Weight that each site would cover on its own.

    Examples
    --------
    >>> import numpy as np
    >>> site_scores(np.array([[0, 0], [50, 0]]), np.array([1.0, 2.0]),
    ...             np.array([[0, 0], [120, 0]]), 70).tolist()
    [3.0, 2.0]
    """
    demand = _points("demand_xy", demand_xy)
    w = _weights(weights, len(demand))
    matrix = coverage_matrix(demand, site_xy, radius)
    return np.asarray(matrix.T.astype(float) @ w).reshape(-1)


# --- reductions -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReducedInstance:
    """The model after the reductions: ``matrix`` (rows: merged demand, columns: kept
    sites, CSR, bool), ``weights`` per row and ``sites`` (original index of each column)."""

    matrix: sparse.csr_matrix
    weights: np.ndarray
    sites: np.ndarray


def _group_rows(matrix: sparse.csr_matrix) -> np.ndarray:
    """Label of each row such that rows with the same label have the same columns.

    Each row is hashed (a sum of random 64-bit keys of its columns, plus its length),
    then every row is compared with its group's first row; on a hash collision (odds
    about 2^-64 per pair) the exact, slower grouping by bytes is used instead.
    """
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    indptr, indices = matrix.indptr, matrix.indices
    keys = np.random.default_rng(0).integers(0, 2**63, size=matrix.shape[1], dtype=np.uint64)
    lengths = np.diff(indptr)
    row_of = np.repeat(np.arange(n), lengths)
    hashed = np.zeros(n, dtype=np.uint64)
    np.add.at(hashed, row_of, keys[indices])
    _, first, labels = np.unique(
        np.stack([hashed, lengths.astype(np.uint64)], axis=1),
        axis=0,
        return_index=True,
        return_inverse=True,
    )
    labels = labels.reshape(-1)
    representative = first[labels]
    offset = np.arange(len(indices)) - indptr[row_of]
    same = indices == indices[indptr[representative[row_of]] + offset]
    if same.all():
        return labels
    exact: dict[bytes, int] = {}
    return np.array(
        [
            exact.setdefault(indices[indptr[r] : indptr[r + 1]].tobytes(), len(exact))
            for r in range(n)
        ]
    )


def _dominated(matrix: sparse.csr_matrix, limit: int) -> np.ndarray:
    """Mask of the columns whose rows are a strict subset of another column's rows (all
    columns distinct), from the overlap counts ``AᵀA``; none when ``AᵀA`` would have more
    than ``limit`` entries to compute."""
    m = matrix.shape[1]
    work = int((np.diff(matrix.indptr).astype(np.int64) ** 2).sum())
    if work > limit or m < 2:
        return np.zeros(m, dtype=bool)
    counts = matrix.astype(np.int32)
    overlap = (counts.T @ counts).tocoo()
    size = np.asarray(counts.sum(axis=0)).reshape(-1)
    j, k = overlap.row, overlap.col
    inside = (j != k) & (overlap.data == size[j]) & (size[k] > size[j])
    dominated = np.zeros(m, dtype=bool)
    dominated[j[inside]] = True
    return dominated


def reduce_instance(
    matrix: sparse.csr_matrix,
    weights: np.ndarray,
    *,
    dominance: bool = True,
    dominance_limit: int = 50_000_000,
) -> ReducedInstance:
    """Apply the reductions of the module docstring to a coverage ``matrix`` (n x m, bool)
    with demand ``weights``; the reduced model has the same optimal covered weight for
    every ``p``.

    ``dominance`` also drops the candidates whose demand is a strict subset of another
    candidate's (when ``AᵀA`` has at most ``dominance_limit`` terms to add up), then
    merges the demand rows this makes identical.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> a = sparse.csr_matrix(np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 1]], bool))
    >>> r = reduce_instance(a, np.array([1.0, 2.0, 9.0, 0.0]))
    >>> r.matrix.toarray().tolist(), r.weights.tolist(), r.sites.tolist()
    ([[True]], [3.0], [0])
    """
    matrix = sparse.csr_matrix(matrix, dtype=bool)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    useful = (weights > 0) & (matrix.getnnz(axis=1) > 0)
    rows, row_weights = matrix[useful], np.asarray(weights, dtype=float)[useful]
    sites = np.arange(matrix.shape[1])
    for round_ in range(2):
        # Rows covered by the same sites: one row of their summed weight.
        labels = _group_rows(rows)
        groups = int(labels.max()) + 1 if len(labels) else 0
        row_weights = np.bincount(labels, weights=row_weights, minlength=groups)
        _, first = np.unique(labels, return_index=True)
        rows = rows[first]
        if round_ == 1:
            break
        # Columns: drop empty ones, keep the first of identical ones, drop dominated ones.
        columns = rows.T.tocsr()
        columns.sort_indices()
        kept = np.flatnonzero(columns.getnnz(axis=1) > 0)
        column_labels = _group_rows(columns[kept])
        _, first_column = np.unique(column_labels, return_index=True)
        kept = kept[np.sort(first_column)]
        rows = rows[:, kept].tocsr()
        rows.sort_indices()
        if dominance:
            kept_here = ~_dominated(rows, dominance_limit)
            kept, rows = kept[kept_here], rows[:, kept_here].tocsr()
            rows.sort_indices()
        sites = sites[kept]
    return ReducedInstance(matrix=rows, weights=row_weights, sites=sites)


# --- solvers --------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageSolution:
    """Sites chosen by :class:`MaximalCovering`, and how good the choice is proven to be.

    Attributes
    ----------
    chosen
        Indices into ``site_xy`` in greedy order of marginal gain (an exact solution is
        re-ordered the same way), at most ``p`` of them: a site that would add nothing
        (everything it covers is covered already) is not proposed.
    gains
        Covered weight each chosen site adds to the fixed sites and the chosen sites
        before it; ``fixed_weight + gains.sum() == covered_weight`` (to rounding).
    fixed_weight
        Weight already covered by the fixed sites.
    covered_weight, total_weight
        Weight covered by the fixed and chosen sites; weight of every demand point.
    covered
        Boolean mask over the demand points.
    method
        ``"exact"`` (HiGHS) or ``"greedy"``.
    optimal
        Proven optimal: the gap is within the tolerance asked (``mip_gap``).
    upper_bound
        Proven upper bound on the best covered weight (fixed sites included): the MIP's
        dual bound, or the greedy's a-posteriori submodular bound.
    seconds
        Wall time of :meth:`MaximalCovering.solve`.
    reduced_demand, reduced_sites, reduced_pairs
        Size of the model after the reductions (rows, columns, nonzeros).
    """

    chosen: np.ndarray
    gains: np.ndarray
    fixed_weight: float
    covered_weight: float
    total_weight: float
    covered: np.ndarray
    method: str
    optimal: bool
    upper_bound: float
    seconds: float
    reduced_demand: int = 0
    reduced_sites: int = 0
    reduced_pairs: int = 0

    @property
    def covered_share(self) -> float:
        """Share of the total weight covered (0 when there is no weight)."""
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0

    @property
    def gap(self) -> float:
        """Proven relative gap ``(upper_bound - covered_weight) / upper_bound``."""
        return max(0.0, self.upper_bound - self.covered_weight) / max(self.upper_bound, 1e-12)


@dataclass(frozen=True)
class _Greedy:
    order: np.ndarray  # columns, in order of selection
    gains: np.ndarray
    bound: float  # upper bound on the best covered weight of p columns


def _lazy_greedy(
    columns: sparse.csc_matrix, weights: np.ndarray, p: int, *, bound_steps: int = 64
) -> _Greedy:
    """CELF lazy greedy on a CSC coverage matrix: up to ``p`` columns of positive gain.

    The bound ``f(S) + Σ top-p marginal gains w.r.t. S`` is evaluated at (up to
    ``bound_steps`` of) the successive greedy sets and its minimum returned.
    """
    indptr, indices = columns.indptr, columns.indices
    as_float = columns.astype(float)
    covered = np.zeros(columns.shape[0], dtype=bool)
    order: list[int] = []
    gains: list[float] = []
    initial = np.asarray(as_float.T @ weights).reshape(-1)
    heap = [(-g, j, 0) for j, g in enumerate(initial.tolist()) if g > 0]
    heapq.heapify(heap)
    steps = min(p, len(heap))
    check = set(np.unique(np.linspace(0, steps, min(bound_steps, steps + 1)).astype(int)).tolist())
    total = float(weights.sum())
    bound = math.inf

    def bound_at(value: float) -> float:
        if p == 0:
            return value
        marginal = np.asarray(as_float.T @ np.where(covered, 0.0, weights)).reshape(-1)
        if p < len(marginal):
            marginal = np.partition(marginal, len(marginal) - p)[len(marginal) - p :]
        return value + float(marginal.sum())

    value = 0.0
    if 0 in check:
        bound = bound_at(0.0)
    while heap and len(order) < p:
        negative, j, stamp = heapq.heappop(heap)
        if stamp == len(order):
            rows = indices[indptr[j] : indptr[j + 1]]
            order.append(j)
            gains.append(-negative)
            value += -negative
            covered[rows] = True
            if len(order) in check:
                bound = min(bound, bound_at(value))
            continue
        rows = indices[indptr[j] : indptr[j + 1]]
        gain = float(weights[rows][~covered[rows]].sum())
        if gain > 0:
            heapq.heappush(heap, (-gain, j, len(order)))
    if not heap:  # every useful column taken or useless: everything coverable is covered
        bound = min(bound, value)
    return _Greedy(
        order=np.array(order, dtype=np.int64),
        gains=np.array(gains, dtype=float),
        bound=max(min(bound, total), value),
    )


def _lagrangian_bound(
    matrix: sparse.csr_matrix,
    weights: np.ndarray,
    p: int,
    lower: float,
    *,
    iterations: int = 200,
    tolerance: float = 1e-4,
) -> float:
    """Upper bound on the best covered weight of ``p`` columns: the Lagrangian relaxation
    of the covering rows (Galvão & ReVelle 1996), minimised by subgradient steps.

    For multipliers ``λ >= 0``,
    ``L(λ) = Σ_i max(0, w_i - λ_i) + (sum of the p largest Σ_{i ∈ N_j} λ_i)`` bounds the
    optimum; steps follow Polyak's rule towards the known value ``lower`` (Held, Wolfe &
    Crowder 1974), with the step factor halved when ten steps bring no improvement. Stops
    when the gap to ``lower`` is within ``tolerance`` or after ``iterations`` steps.
    """
    k, m = matrix.shape
    if p == 0 or k == 0:
        return lower if k else 0.0
    if p >= m:
        return float(weights.sum())
    rows = matrix.astype(float)
    columns = rows.T.tocsr()
    multipliers = weights / np.diff(rows.indptr)
    best, factor, stale = math.inf, 2.0, 0
    for _ in range(iterations):
        reduced_cost = np.asarray(columns @ multipliers).reshape(-1)
        top = np.argpartition(reduced_cost, m - p)[m - p :]
        value = float(np.maximum(0.0, weights - multipliers).sum() + reduced_cost[top].sum())
        if value < best - 1e-12 * value:
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 10:
                factor, stale = factor / 2, 0
        if best - lower <= tolerance * best or factor < 1e-3:
            break
        x = np.zeros(m)
        x[top] = 1.0
        direction = np.asarray(rows @ x).reshape(-1) - (multipliers < weights)
        norm = float(direction @ direction)
        if norm == 0:
            break
        step = factor * max(value - lower, 0.0) / norm
        multipliers = np.clip(multipliers - step * direction, 0.0, weights)
    return min(best, float(weights.sum()))


def _solve_mip(
    instance: ReducedInstance,
    p: int,
    start: np.ndarray,
    *,
    time_limit: float,
    mip_gap: float,
    options: Mapping[str, bool | float | str] | None = None,
) -> tuple[np.ndarray, float]:
    """HiGHS on the reduced model, warm-started at the columns ``start``: the chosen
    columns and the dual (upper) bound."""
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        raise UnavailableError(
            "the exact maximal-covering solver needs HiGHS: pip install 'highspy>=1.7' "
            "(or use method='greedy')"
        ) from exc
    a = instance.matrix
    k, m = a.shape
    # Rows 0..k-1: y_i - Σ_{j ∈ N_i} x_j <= 0; row k: Σ x_j <= p. Columns: x (m), y (k).
    constraints = sparse.vstack(
        [
            sparse.hstack([-a.astype(float), sparse.identity(k, format="csr")]),
            sparse.hstack([np.ones((1, m)), sparse.csr_matrix((1, k))]),
        ],
        format="csr",
    )
    lp = highspy.HighsLp()
    lp.num_col_ = m + k
    lp.num_row_ = k + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(m), instance.weights])
    lp.col_lower_ = np.zeros(m + k)
    lp.col_upper_ = np.ones(m + k)
    lp.row_lower_ = np.full(k + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(k), [float(p)]])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * k
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = m + k
    lp.a_matrix_.num_row_ = k + 1
    lp.a_matrix_.start_ = constraints.indptr.astype(np.int32)
    lp.a_matrix_.index_ = constraints.indices.astype(np.int32)
    lp.a_matrix_.value_ = constraints.data.astype(float)
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", float(time_limit))
    solver.setOptionValue("mip_rel_gap", float(mip_gap))
    solver.setOptionValue("random_seed", 0)
    # The root LP of this model is highly degenerate: the dual simplex stalls on it (over
    # 10 s at 10^5 nonzeros) where the interior-point method takes a second. HiGHS's
    # presolve finds little that reduce_instance has not already done and costs about
    # as much as the solve (both measured by bench/coverage_bench.py).
    solver.setOptionValue("mip_lp_solver", "ipm")
    solver.setOptionValue("presolve", "off")
    for name, value in (options or {}).items():
        solver.setOptionValue(name, value)
    solver.passModel(lp)
    x = np.zeros(m)
    x[start] = 1.0
    y = np.minimum(1.0, a.astype(float) @ x)
    warm = highspy.HighsSolution()
    warm.col_value = np.concatenate([x, y]).tolist()
    warm.value_valid = True
    solver.setSolution(warm)
    solver.run()
    solution = solver.getSolution()
    if not solution.value_valid:  # pragma: no cover - the start is feasible
        return start, math.inf
    chosen = np.flatnonzero(np.asarray(solution.col_value[:m]) > 0.5)
    bound = float(solver.getInfo().mip_dual_bound)
    return chosen, bound if math.isfinite(bound) else math.inf


class MaximalCovering:
    """Choose ``p`` sites that cover the most demand weight within ``radius`` metres.

    Parameters
    ----------
    p
        Number of sites to choose (beside the fixed ones); more than the candidates means
        all of them.
    radius
        Coverage radius in metres (:data:`DEFAULT_RADIUS_M`).
    method
        ``"exact"`` (HiGHS branch and cut, see the module docstring), ``"greedy"`` (lazy
        greedy, at least 1 - 1/e of the optimum) or ``"auto"``: exact when the reduced
        model has at most ``exact_max_pairs`` (demand, site) pairs.
    time_limit
        Seconds given to HiGHS; when it runs out, the best solution found (never worse
        than the greedy one it starts from) is returned with its proven gap.
    mip_gap
        Relative gap at which HiGHS stops and the solution counts as optimal.
    exact_max_pairs
        Size limit of ``method="auto"`` (:data:`EXACT_MAX_PAIRS`).

    Examples
    --------
    One existing camera at the origin already covers the first two problems; the one
    camera to add goes to the third:

    >>> import numpy as np
    >>> demand = np.array([[0.0, 0.0], [80.0, 0.0], [300.0, 0.0]])
    >>> sites = np.array([[0.0, 0.0], [80.0, 0.0], [300.0, 0.0]])
    >>> solution = MaximalCovering(1, radius=100, method="exact").solve(
    ...     demand, np.ones(3), sites, fixed_xy=np.array([[0.0, 0.0]])
    ... )
    >>> solution.chosen.tolist(), solution.fixed_weight, solution.covered_weight
    ([2], 2.0, 3.0)
    """

    def __init__(
        self,
        p: int,
        *,
        radius: float = DEFAULT_RADIUS_M,
        method: Literal["auto", "exact", "greedy"] = "auto",
        time_limit: float = 10.0,
        mip_gap: float = 1e-4,
        exact_max_pairs: int = EXACT_MAX_PAIRS,
    ) -> None:
        if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 0:
            raise InvalidValueError(f"p must be a whole number >= 0, got {p!r}")
        if method not in ("auto", "exact", "greedy"):
            raise InvalidValueError(f"method must be 'auto', 'exact' or 'greedy', got {method!r}")
        if isinstance(time_limit, bool) or not (
            isinstance(time_limit, int | float) and time_limit > 0 and math.isfinite(time_limit)
        ):
            raise InvalidValueError(
                f"time_limit must be a positive number of seconds, got {time_limit!r}"
            )
        if not (isinstance(mip_gap, int | float) and 0 <= mip_gap < 1):
            raise InvalidValueError(f"mip_gap must be in [0, 1), got {mip_gap!r}")
        if isinstance(exact_max_pairs, bool) or not isinstance(exact_max_pairs, int):
            raise InvalidValueError(
                f"exact_max_pairs must be a whole number, got {exact_max_pairs!r}"
            )
        self.p = int(p)
        self.radius = _radius(radius)
        self.method = method
        self.time_limit = float(time_limit)
        self.mip_gap = float(mip_gap)
        self.exact_max_pairs = exact_max_pairs

    def solve(
        self,
        demand_xy: np.ndarray,
        weights: np.ndarray,
        site_xy: np.ndarray,
        *,
        fixed_xy: np.ndarray | None = None,
    ) -> CoverageSolution:
        """The best ``p`` sites among ``site_xy`` for the demand points ``demand_xy``
        (metric coordinates, n x 2) of ``weights`` (n values >= 0), given the existing
        sites ``fixed_xy``."""
        start = time.perf_counter()
        demand = _points("demand_xy", demand_xy)
        w = _weights(weights, len(demand))
        sites = _points("site_xy", site_xy)
        fixed = _points("fixed_xy", fixed_xy if fixed_xy is not None else np.zeros((0, 2)))
        by_fixed = coverage_matrix(demand, fixed, self.radius).getnnz(axis=1) > 0
        fixed_weight = float(w[by_fixed].sum())
        matrix = coverage_matrix(demand, sites, self.radius)
        instance = reduce_instance(matrix, np.where(by_fixed, 0.0, w))
        columns = instance.matrix.tocsc()
        greedy = _lazy_greedy(columns, instance.weights, self.p)
        greedy_value = float(greedy.gains.sum())
        bound = greedy.bound
        if (bound - greedy_value) > self.mip_gap * bound:
            bound = min(
                bound,
                _lagrangian_bound(
                    instance.matrix, instance.weights, self.p, greedy_value, tolerance=self.mip_gap
                ),
            )
        nonzeros = instance.matrix.nnz
        exact = self.method == "exact" or (
            self.method == "auto" and nonzeros <= self.exact_max_pairs
        )
        picked = greedy.order
        if exact and (bound - greedy_value) > self.mip_gap * bound:
            found, mip_bound = _solve_mip(
                instance, self.p, greedy.order, time_limit=self.time_limit, mip_gap=self.mip_gap
            )
            value = float(instance.weights[instance.matrix[:, found].getnnz(axis=1) > 0].sum())
            if value >= greedy_value:
                picked = found
            bound = min(bound, mip_bound)
        # The chosen sites in greedy order; their gains on the original demand points.
        ordered = _lazy_greedy(columns[:, picked], instance.weights, len(picked))
        chosen = instance.sites[picked[ordered.order]]
        covered = by_fixed.copy()
        gains = np.zeros(len(chosen))
        by_site = matrix.tocsc()
        for position, site in enumerate(chosen):
            rows = by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]
            gains[position] = float(w[rows][~covered[rows]].sum())
            covered[rows] = True
        covered_weight = float(w[covered].sum())
        total = float(w.sum())
        # Never above everything coverable, never below what is covered (rounding).
        upper = fixed_weight + min(bound, float(instance.weights.sum()))
        upper = max(upper, covered_weight)
        gap = max(0.0, upper - covered_weight) / max(upper, 1e-12)
        return CoverageSolution(
            chosen=chosen.astype(np.int64),
            gains=gains,
            fixed_weight=fixed_weight,
            covered_weight=covered_weight,
            total_weight=total,
            covered=covered,
            method="exact" if exact else "greedy",
            optimal=gap <= self.mip_gap + _EPS,
            upper_bound=upper,
            seconds=time.perf_counter() - start,
            reduced_demand=instance.matrix.shape[0],
            reduced_sites=instance.matrix.shape[1],
            reduced_pairs=nonzeros,
        )
