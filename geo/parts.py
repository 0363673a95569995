"""The parts of a territory, the links between them, and how sectors are shared out.

A territory can come in several *parts*: communes separated by another police zone, an
enclave, islands, a shore cut by a barrier with no crossing. A part is a connected
component of the units over the ground adjacency (after barriers) and the *declared
links* (ferries, private bridges, tunnels of a ``links`` layer, :func:`declared_links`).

:func:`proximity_links` joins the parts by their nearest units, as a minimum spanning
tree of the parts (Kruskal): every part is linked to its nearest other part — measured to
every part, not only the largest — since a minimum spanning tree holds the shortest edge
leaving each vertex. :func:`design_parts` then groups them for sector design: a part whose
workload can hold a sector keeps its own sectors; a smaller one (an island, an enclave)
joins the part its declared link reaches, else its nearest part.

:func:`apportion` shares the sectors among the parts by workload with the largest
remainder method (Hamilton, 1792; Balinski & Young, *Fair Representation*, 2nd ed. 2001,
ch. 2), every part getting at least one sector; :func:`balance_gap` says how far a part's
mean falls from the territory's mean, which no design inside the part can make up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.crs import metric_crs
from geo.errors import InvalidInputError

#: A declared link's end reaches the units within this distance (m) of it.
LINK_SNAP_M = 1000.0
#: A part holds sectors of its own when its workload is at least this share of the mean.
HOLD_SHARE = 0.5
LINK_COLUMNS = ("a", "b", "distance_m", "name")


def empty_links() -> pd.DataFrame:
    return pd.DataFrame({"a": [], "b": [], "distance_m": [], "name": []}).astype(
        {"a": int, "b": int, "distance_m": float, "name": object}
    )


def declared_links(
    units: gpd.GeoDataFrame, lines: gpd.GeoDataFrame | None, snap_m: float = LINK_SNAP_M
) -> pd.DataFrame:
    """Links ``a``, ``b`` (unit positions), ``distance_m`` (the line's length) and ``name``
    of each line of a ``links`` layer whose two ends lie within ``snap_m`` of two
    different units (the nearest at each end); other lines are ignored.

    >>> from shapely.geometry import LineString, box
    >>> units = gpd.GeoDataFrame({"unit": ["a", "b"]}, crs=4326,
    ...     geometry=[box(6.80, 47.6, 6.81, 47.61), box(6.85, 47.6, 6.86, 47.61)])
    >>> lines = gpd.GeoDataFrame({"name": ["Bac"]}, crs=4326,
    ...     geometry=[LineString([(6.809, 47.605), (6.851, 47.605)])])
    >>> declared_links(units, lines)[["a", "b", "name"]].values.tolist()
    [[0, 1, 'Bac']]
    """
    if lines is None or not len(lines) or not len(units):
        return empty_links()
    crs = metric_crs(units)
    metric = units.geometry.to_crs(crs).to_numpy()
    tree = shapely.STRtree(metric)
    rows = []
    names = lines["name"] if "name" in lines.columns else pd.Series(None, index=lines.index)
    for geom, name in zip(lines.to_crs(crs).geometry.to_numpy(), names, strict=True):
        for line in shapely.get_parts(geom):
            coords = shapely.get_coordinates(line)
            if len(coords) < 2:
                continue
            ends = shapely.points(coords[[0, -1]])
            idx, dist = tree.query_nearest(ends, return_distance=True, all_matches=False)
            if len(idx[1]) < 2 or dist.max() > snap_m or idx[1][0] == idx[1][1]:
                continue
            a, b = sorted(int(x) for x in idx[1])
            label = None if name is None or pd.isna(name) else str(name)
            rows.append((a, b, float(line.length), label or "liaison déclarée"))
    if not rows:
        return empty_links()
    return pd.DataFrame(rows, columns=list(LINK_COLUMNS)).drop_duplicates(["a", "b"])


def ground_parts(n: int, edges: pd.DataFrame, declared: pd.DataFrame) -> np.ndarray:
    """Each unit's part: components over the unblocked edges and the declared links."""
    if n == 0:
        return np.zeros(0, dtype=int)
    open_ = edges.loc[~edges["blocked"].astype(bool)]
    a = np.r_[open_["a"].to_numpy(int), declared["a"].to_numpy(int)]
    b = np.r_[open_["b"].to_numpy(int), declared["b"].to_numpy(int)]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(-np.bincount(labels), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels]


def proximity_links(units: gpd.GeoDataFrame, part: np.ndarray) -> pd.DataFrame:
    """The nearest-unit links of a minimum spanning tree of the parts (see the module
    docstring): ``a`` in the part with fewer units, ``b`` in the other, ``distance_m``,
    ``name`` None."""
    count = int(part.max()) + 1 if len(part) else 0
    if count < 2:
        return empty_links()
    metric = units.geometry.to_crs(metric_crs(units)).to_numpy()
    members = [np.flatnonzero(part == p) for p in range(count)]
    trees = [shapely.STRtree(metric[m]) for m in members]
    candidates = []
    for p in range(count):
        for q in range(p + 1, count):
            small, big = (p, q) if len(members[p]) <= len(members[q]) else (q, p)
            (src, dst), dist = trees[big].query_nearest(
                metric[members[small]], return_distance=True, all_matches=False
            )
            best = int(np.argmin(dist))
            a, b = int(members[small][src[best]]), int(members[big][dst[best]])
            candidates.append((float(dist[best]), p, q, a, b))
    candidates.sort()
    root = list(range(count))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    rows = []
    for dist, p, q, a, b in candidates:
        rp, rq = find(p), find(q)
        if rp != rq:
            root[rp] = rq
            rows.append((a, b, dist, None))
    return pd.DataFrame(rows, columns=list(LINK_COLUMNS))


@dataclass(frozen=True)
class Parts:
    """Sector-design groups: ``group[i]`` for unit ``i`` (0 … m-1, heaviest first), their
    ``load``, and the ``links`` a group is joined by (declared and proximity links whose
    ends lie in one group)."""

    group: np.ndarray
    load: np.ndarray
    links: pd.DataFrame

    @property
    def count(self) -> int:
        return len(self.load)


def design_parts(workload: np.ndarray, part: np.ndarray, links: pd.DataFrame, hold: float) -> Parts:
    """Group the parts for design: a part lighter than ``hold`` joins the part its
    declared link reaches, else its nearest part (proximity links in increasing
    distance); two parts that each hold ``hold`` stay apart."""
    count = int(part.max()) + 1 if len(part) else 0
    load = np.bincount(part, weights=workload, minlength=count)
    root = list(range(count))
    heavy = [bool(x >= hold) for x in load]

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    ordered = links.assign(declared=links["name"].notna()).sort_values(
        ["declared", "distance_m"], ascending=[False, True], kind="stable"
    )
    used = []
    for row in ordered.itertuples():
        rp, rq = find(int(part[int(row.a)])), find(int(part[int(row.b)]))
        if rp == rq:
            used.append(row.Index)
            continue
        if heavy[rp] and heavy[rq] and not row.declared:
            continue
        root[rp] = rq
        heavy[rq] = heavy[rq] or heavy[rp]
        used.append(row.Index)
    roots = np.array([find(int(p)) for p in range(count)], dtype=int)
    unit_root = roots[part] if len(part) else part
    loads = pd.Series(workload).groupby(unit_root).sum().sort_values(ascending=False, kind="stable")
    rank = {int(r): i for i, r in enumerate(loads.index)}
    group = np.array([rank[int(r)] for r in unit_root], dtype=int)
    return Parts(
        group=group, load=loads.to_numpy(float), links=links.loc[used].reset_index(drop=True)
    )


def apportion(loads: Sequence[float], k: int) -> list[int]:
    """Sectors per part by the largest remainder method (Hamilton), at least one each.

    >>> apportion([60.0, 30.0, 10.0], 10)
    [6, 3, 1]
    >>> apportion([55.0, 45.0], 3)
    [2, 1]
    """
    n = len(loads)
    if k < n:
        raise InvalidInputError("parts_more_than_k", field="k", k=k, parts=n)
    total = float(sum(loads)) or 1.0
    quota = [k * w / total for w in loads]
    seats = [max(1, math.floor(q)) for q in quota]
    while sum(seats) > k:  # the minimum of one seat took too many: drop the worst-served
        i = min((i for i in range(n) if seats[i] > 1), key=lambda i: (quota[i] - seats[i] + 1, -i))
        seats[i] -= 1
    order = sorted(range(n), key=lambda i: (-(quota[i] - seats[i]), i))
    for i in order[: k - sum(seats)]:
        seats[i] += 1
    return seats


def balance_gap(loads: Sequence[float], seats: Sequence[int]) -> np.ndarray:
    """Each part's relative gap between its mean sector workload and the territory's."""
    mean = float(sum(loads)) / max(sum(seats), 1)
    return np.array([w / s / mean - 1 for w, s in zip(loads, seats, strict=True)])


def best_apportionment(loads: Sequence[float], k: int) -> list[int]:
    """The apportionment of ``k`` sectors (one at least per part) with the smallest
    largest gap of :func:`balance_gap`, from Hamilton's by single moves."""
    seats = apportion(loads, k)
    worst = float(np.abs(balance_gap(loads, seats)).max())
    improved = True
    while improved:
        improved = False
        for i in range(len(seats)):
            for j in range(len(seats)):
                if i == j or seats[i] <= 1:
                    continue
                trial = list(seats)
                trial[i] -= 1
                trial[j] += 1
                gap = float(np.abs(balance_gap(loads, trial)).max())
                if gap < worst - 1e-12:
                    seats, worst, improved = trial, gap, True
    return seats
