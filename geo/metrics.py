"""Metrics of a sector plan; every figure a planner sees, with its formula.

Notation: sector ``s`` has workload ``L_s`` (sum of its units' workloads), area ``A_s``
and perimeter ``P_s`` (measured in the metric CRS of :func:`geo.crs.metric_crs`); ``k``
sectors; ``L̄ = Σ L_s / k``.

* **Workload deviation** of a sector: ``d_s = (L_s - L̄) / L̄``; the plan's balance is
  ``max_s |d_s|``.
* **Polsby-Popper** (Polsby & Popper 1991): ``PP_s = 4π A_s / P_s²``, 1 for a disc, near
  0 for a thin or ragged shape; the plan reports each and their mean.
* **Convex-hull ratio**: ``A_s / area(convex hull of s)``, 1 for a convex sector.
* **Contiguity**: the number of connected pieces of each sector in the unit graph (open
  edges and island links); a valid plan has 1 everywhere.
* **Barrier edges inside sectors**: adjacency edges crossed by a barrier (motorway,
  railway, river… even where a bridge makes it passable) whose two units are in the same
  sector, by barrier class; each is a place where the sector straddles the barrier.
* **Communes split**: communes whose units lie in more than one sector, with the number
  of sectors each is split into.
* **Cut edges**: adjacency edges between units of different sectors, and their total
  length in metres (the length of internal sector boundaries).
* **Mean distance to the centre**: for each sector, the workload-weighted mean distance
  from its units' centroids to its seed unit's centroid when it has a seed (a police
  station), else to the sector's workload-weighted centroid; and the plan's mean of those
  (shown as « distance moyenne au point d'ancrage »).
* **P-median distance** (*distance moyenne au centre, p-médian*): the workload-weighted
  mean distance from every unit's centroid to its sector's median unit, over the whole
  plan, as :func:`geo.pmedian.pmedian_distance` defines it (the objective
  ``"distance"`` of :mod:`geo.sectorize.objective`). :func:`sector_pmedian_cost` gives
  one sector's term, as the editor keeps them; the editor leaves it ``None`` while a
  large sector it changed waits for the save (:meth:`geo.editing.PlanEditor.pmedian_distance`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.crs import metric_crs
from geo.pmedian import median_centres
from geo.unit_graph import UnitGraph
from geo.violations import Violation


@dataclass(frozen=True)
class SectorMetrics:
    sector: int
    name: str
    workload: float
    deviation: float
    area_km2: float
    polsby_popper: float
    hull_ratio: float
    components: int
    unit_count: int
    mean_distance_m: float


@dataclass(frozen=True)
class PlanMetrics:
    k: int
    total_workload: float
    mean_workload: float
    max_deviation: float
    mean_polsby_popper: float
    mean_hull_ratio: float
    contiguous: bool
    barrier_edges_inside: int
    barrier_edges_by_class: dict[str, int]
    communes_split: int
    split_communes: dict[str, int]
    cut_edges: int
    cut_length_m: float
    mean_distance_m: float
    pmedian_distance_m: float | None  # None: not computed yet (the editor, see below)
    sectors: tuple[SectorMetrics, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (floats rounded for display, sectors as a list)."""
        out = asdict(self)
        out["sectors"] = [asdict(s) for s in self.sectors]
        return _rounded(out)


class Partition(Protocol):
    """A sector plan as the metrics read it; :class:`geo.plan.SectorPlan` is one.

    ``assignment`` gives the sector ``0 … k-1`` of every unit of ``graph``;
    ``workloads`` the workload per sector; ``sectors`` one dissolved polygon per sector
    (EPSG:4326); ``seed_units`` each sector's seed unit position (-1: none); ``metrics``
    the plan's :func:`score`, cached. (A plan scores itself with this module, so the type
    is stated here by its shape rather than imported from :mod:`geo.plan`.)
    """

    @property
    def graph(self) -> UnitGraph: ...
    @property
    def assignment(self) -> np.ndarray: ...
    @property
    def names(self) -> tuple[str, ...]: ...
    @property
    def k(self) -> int: ...
    @property
    def workloads(self) -> np.ndarray: ...
    @property
    def sectors(self) -> gpd.GeoDataFrame: ...
    @property
    def seed_units(self) -> np.ndarray: ...
    @property
    def metrics(self) -> PlanMetrics: ...


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def deviations(workloads: np.ndarray) -> np.ndarray:
    """``(L_s - L̄) / L̄`` per sector (0 when the total workload is 0).

    Examples
    --------
    >>> deviations(np.array([90.0, 110.0])).tolist()
    [-0.1, 0.1]
    """
    mean = workloads.mean() if len(workloads) else 0.0
    if mean <= 0:
        return np.zeros_like(workloads, dtype=float)
    return (workloads - mean) / mean


def polsby_popper(area: np.ndarray, perimeter: np.ndarray) -> np.ndarray:
    """``4π A / P²``.

    Examples
    --------
    >>> round(float(polsby_popper(np.array([1.0]), np.array([4.0]))[0]), 4)  # a square
    0.7854
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, 0.0)


def components_per_sector(plan: Partition) -> np.ndarray:
    """Connected pieces of each sector in the graph of open edges and island links."""
    e = plan.graph.open_edges
    a, b = e["a"].to_numpy(int), e["b"].to_numpy(int)
    inside = plan.assignment[a] == plan.assignment[b]
    n = plan.graph.n
    graph = coo_matrix((np.ones(int(inside.sum())), (a[inside], b[inside])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    pieces = pd.DataFrame({"s": plan.assignment, "c": labels}).drop_duplicates()
    return np.bincount(pieces["s"].to_numpy(), minlength=plan.k)


def split_communes(plan: Partition) -> dict[str, int]:
    """Communes whose units lie in more than one sector → number of sectors."""
    pairs = pd.DataFrame(
        {"commune": plan.graph.units["commune"], "sector": plan.assignment}
    ).dropna()
    counts = pairs.drop_duplicates().groupby("commune")["sector"].nunique()
    return {str(c): int(n) for c, n in counts[counts > 1].sort_index().items()}


def sector_centre(
    xy: np.ndarray, weight: np.ndarray, area: np.ndarray, members: np.ndarray, seed: int
) -> np.ndarray:
    """A sector's centre: its seed unit's centroid when the seed is one of its
    ``members``, else its workload-weighted centroid (area-weighted without workload)."""
    if seed >= 0 and members[seed]:
        return xy[seed]
    w = weight[members] if weight[members].sum() > 0 else area[members]
    return np.average(xy[members], axis=0, weights=w)


def mean_distance(
    xy: np.ndarray, weight: np.ndarray, members: np.ndarray, centre: np.ndarray
) -> float:
    """Workload-weighted mean distance from the ``members``' centroids to ``centre``."""
    dist = np.linalg.norm(xy[members] - centre, axis=1)
    w = weight[members]
    return float(np.average(dist, weights=w) if w.sum() > 0 else dist.mean())


def pmedian_weights(weight: np.ndarray) -> np.ndarray:
    """The weights of :mod:`geo.pmedian`: the workloads, or ones when they are all 0."""
    w = np.asarray(weight, dtype=float)
    return w if w.sum() > 0 else np.ones_like(w)


def sector_pmedian_cost(xy: np.ndarray, weights: np.ndarray, members: np.ndarray) -> float:
    """``Σ_{i ∈ s} w_i · d(i, c_s)`` of one sector (``weights`` from
    :func:`pmedian_weights`, ``members`` its unit positions): the term
    :func:`geo.pmedian.median_centres` gives it."""
    if len(members) == 0 or weights[members].sum() == 0:
        return 0.0
    _, cost = median_centres(xy[members], weights[members], np.zeros(len(members), int), 1)
    return float(cost[0])


def violations(plan: Partition, tolerance: float, whole: Collection[str] = ()) -> list[Violation]:
    """The constraints ``plan`` misses: balance beyond ``tolerance``, sectors in several
    pieces, and communes of ``whole`` (never to be split) that are split."""
    return constraint_violations(
        names=plan.names,
        workloads=plan.workloads,
        pieces=components_per_sector(plan),
        split=split_communes(plan),
        tolerance=tolerance,
        whole=whole,
    )


def french_number(value: float, decimals: int = 0) -> str:
    """``12 345,6``: French digit grouping (narrow no-break space) and decimal comma.

    >>> french_number(18743.2)
    '18\u202f743'
    """
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def french_percent(value: float, sign: bool = False, decimals: int = 1) -> str:
    """``+4,9 %`` (with ``sign``) or ``4,9 %``, as French typography writes them.

    >>> french_percent(-0.094, sign=True)
    '-9,4\u202f%'
    """
    text = f"{value * 100:{'+' if sign else ''}.{decimals}f}".replace(".", ",")
    return f"{text}\u202f%"


def percent_beyond(value: float, limit: float) -> tuple[str, str]:
    """A deviation past a tolerance and the tolerance, written so that the deviation reads
    past it: as many decimals as it takes (up to four), the tolerance as it was set.

    >>> percent_beyond(-0.05004, 0.05)
    ('-5,004\u202f%', '5\u202f%')
    >>> percent_beyond(0.071, 0.05)
    ('+7,1\u202f%', '5\u202f%')
    >>> percent_beyond(-0.0000004, 0.0)
    ('-0,0000\u202f%', '0\u202f%')
    """
    shown_limit = f"{limit * 100:.4f}".rstrip("0").rstrip(".").replace(".", ",") + "\u202f%"
    for decimals in range(1, 5):
        if round(abs(value) * 100, decimals) > round(limit * 100, decimals):
            break
    return french_percent(value, sign=True, decimals=decimals), shown_limit


def constraint_violations(
    *,
    names: Sequence[str],
    workloads: np.ndarray,
    pieces: np.ndarray,
    split: Mapping[str, int],
    tolerance: float,
    whole: Collection[str] = (),
) -> list[Violation]:
    """:func:`violations` from figures already computed (workloads, pieces per sector,
    split communes), as an editor keeps them."""
    out = []
    for s, d in enumerate(deviations(workloads)):
        if abs(d) > tolerance + 1e-9:
            shown, limit = percent_beyond(d, tolerance)
            out.append(
                Violation(
                    "balance",
                    f"{names[s]} : charge {french_number(workloads[s])}, à {shown} de la "
                    f"moyenne, hors de la tolérance de ±{limit}",
                    sector=s,
                    value=float(d),
                    limit=tolerance,
                )
            )
    for s, n_pieces in enumerate(pieces):
        if n_pieces > 1:
            out.append(
                Violation(
                    "contiguity",
                    f"{names[s]} est en {n_pieces} morceaux",
                    sector=s,
                    value=float(n_pieces),
                    limit=1.0,
                )
            )
    for commune, n in split.items():
        if commune in whole:
            out.append(
                Violation(
                    "whole_commune",
                    f"la commune {commune}, sous le seuil de population, est coupée en {n} "
                    "secteurs (ses unités ne se touchent pas)",
                    value=float(n),
                    limit=1.0,
                )
            )
    return out


def score(plan: Partition) -> PlanMetrics:
    """All metrics of ``plan`` (see the module docstring for the formulas)."""
    graph = plan.graph
    metric = plan.sectors.to_crs(metric_crs(plan.sectors))
    geoms = metric.geometry.to_numpy()
    xy, weight = graph.centroids, graph.workload
    unit_area = graph.metric.geometry.area.to_numpy()
    mean_dist = np.zeros(plan.k)
    for s in range(plan.k):
        members = plan.assignment == s
        centre = sector_centre(xy, weight, unit_area, members, int(plan.seed_units[s]))
        mean_dist[s] = mean_distance(xy, weight, members, centre)
    _, pmedian_cost = median_centres(xy, pmedian_weights(weight), plan.assignment, plan.k)

    edges = graph.edges
    a, b = edges["a"].to_numpy(int), edges["b"].to_numpy(int)
    same = plan.assignment[a] == plan.assignment[b]
    crossed = edges["barrier"].notna().to_numpy() & same
    by_class = edges.loc[crossed, "barrier"].value_counts().sort_index()
    open_cut = ~same & ~edges["blocked"].to_numpy()
    return assemble_metrics(
        names=plan.names,
        workloads=plan.workloads,
        area=shapely.area(geoms),
        perimeter=shapely.length(geoms),
        hull_area=shapely.area(shapely.convex_hull(geoms)),
        pieces=components_per_sector(plan),
        unit_count=np.bincount(plan.assignment, minlength=plan.k),
        mean_distance_m=mean_dist,
        pmedian_distance_m=float(pmedian_cost.sum() / pmedian_weights(weight).sum()),
        barrier_edges_by_class={str(c): int(n) for c, n in by_class.items()},
        split=split_communes(plan),
        cut_edges=int(open_cut.sum()),
        cut_length_m=float(edges.loc[open_cut, "shared_m"].sum()),
    )


def assemble_metrics(
    *,
    names: Sequence[str],
    workloads: np.ndarray,
    area: np.ndarray,
    perimeter: np.ndarray,
    hull_area: np.ndarray,
    pieces: np.ndarray,
    unit_count: np.ndarray,
    mean_distance_m: np.ndarray,
    pmedian_distance_m: float | None,
    barrier_edges_by_class: Mapping[str, int],
    split: Mapping[str, int],
    cut_edges: int,
    cut_length_m: float,
) -> PlanMetrics:
    """:class:`PlanMetrics` from per-sector figures (arrays of length ``k``) and plan-wide
    counts, whether measured on dissolved polygons (:func:`score`) or kept up to date
    edit by edit (:class:`geo.editing.PlanEditor`)."""
    k = len(names)
    pp = polsby_popper(area, perimeter)
    hull_ratio = np.where(hull_area > 0, area / np.where(hull_area > 0, hull_area, 1), 0.0)
    dev = deviations(workloads)
    per_sector = tuple(
        SectorMetrics(
            sector=s,
            name=names[s],
            workload=float(workloads[s]),
            deviation=float(dev[s]),
            area_km2=float(area[s] / 1e6),
            polsby_popper=float(pp[s]),
            hull_ratio=float(hull_ratio[s]),
            components=int(pieces[s]),
            unit_count=int(unit_count[s]),
            mean_distance_m=float(mean_distance_m[s]),
        )
        for s in range(k)
    )
    return PlanMetrics(
        k=k,
        total_workload=float(workloads.sum()),
        mean_workload=float(workloads.mean()) if k else 0.0,
        max_deviation=float(np.abs(dev).max()) if k else 0.0,
        mean_polsby_popper=float(pp.mean()) if k else 0.0,
        mean_hull_ratio=float(hull_ratio.mean()) if k else 0.0,
        contiguous=bool((np.asarray(pieces) == 1).all()),
        barrier_edges_inside=int(sum(barrier_edges_by_class.values())),
        barrier_edges_by_class=dict(sorted(barrier_edges_by_class.items())),
        communes_split=len(split),
        split_communes=dict(sorted(split.items())),
        cut_edges=cut_edges,
        cut_length_m=cut_length_m,
        mean_distance_m=float(mean_distance_m.mean()) if k else 0.0,
        pmedian_distance_m=pmedian_distance_m,
        sectors=per_sector,
    )


def sector_layer(plan: Partition) -> gpd.GeoDataFrame:
    """The plan's sector polygons with every per-sector metric as a column (EPSG:4326):
    what an export or a stored plan holds, one feature per sector."""
    table = pd.DataFrame([asdict(s) for s in plan.metrics.sectors]).drop(
        columns=["name", "workload"]
    )
    return plan.sectors.merge(table, on="sector", how="left")
