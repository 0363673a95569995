"""Where problems concentrate: H3 counts, Getis-Ord Gi* hot and cold
spots, comparison of two periods, and how well a hotspot map anticipated a later period.

Every distance is in metres in the territory's projected CRS (:func:`geo.crs.metric_crs`:
Lambert-93 in metropolitan France, the UTM zone overseas); positions come in and go out
in WGS84.

Kernel density and bandwidth: :mod:`geo.density`.

Hot and cold spots (:func:`getis_ord`)
    Counts per H3 cell over every cell covering the study area, zero counts included;
    each cell's neighbourhood is the cell and its ring of six (``star`` Gi*, binary
    weights). z-scores are esda's ``G_Local``'s (its arithmetic over a sparse matrix of
    the neighbourhoods, :func:`gi_star_weights`); p-values are two-sided normal
    p-values of z. Because hundreds of cells are tested at once, significance uses the
    Benjamini-Hochberg false-discovery-rate threshold (``esda.fdr``'s rule,
    :func:`fdr_threshold`) at 90, 95 and 99 %
    confidence; ``level`` is +3/+2/+1 for a hot spot at 99/95/90 %, -3/-2/-1 for a cold
    spot, 0 otherwise.

Period comparison (:func:`compare_periods`)
    A cell is *hot* when Gi* finds a hot spot at 90 % or more. Rates are the problems per
    day of the cell and its six neighbours (the neighbourhood Gi* judged), so periods of
    unequal length compare. Classes: *new* (hot now, not before), *intensifying* (hot in
    both, rate multiplied by 1.25 or more), *diminishing* (hot before, and now not hot or
    its rate divided by 1.25 or more, i.e. down by 20 %), *persistent* (hot in both
    otherwise).

Prediction indices (:func:`prediction_indices`)
    For a hotspot map drawn from one period and the problems of a later one:
    ``PAI = hit rate / area share`` (Chainey, Tompson & Uhlig 2008), where the hit rate is
    the share of the later problems inside the hotspot cells and the area share the
    hotspot cells' share of the study area; ``PEI = hits / best possible hits`` (Hunt
    2016), the best being the later problems in the same number of the most-hit cells
    (H3 cells of one resolution have nearly equal areas, within 1 % over a CSP).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import h3
import h3.api.basic_int as _h3_int
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import csr_matrix
from scipy.stats import norm

from geo.crs import WGS84, metric_crs
from geo.density import DensitySurface, kde
from geo.errors import InvalidInputError
from geo.grid import estimate_cell_count

DEFAULT_H3_RES = 9
MAX_STUDY_CELLS = 100_000  # Gi* over more cells than this is refused (choose a coarser res)
#: The most H3 cells a map drawn on request may have, estimated from its area before any
#: work (the app's ``PSQ_MAX_MAP_CELLS``): past it, a refusal naming ``res``.
MAX_MAP_CELLS = 60_000
CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))  # level, false-discovery rate
#: Gi* calls no cell hot or cold when the study area holds fewer problems than this. Its
#: z-scores assume a count spread over many cells: with a handful of problems one cell
#: holding two of them already "stands out" (the demo's « 3 problématiques » gave six hot
#: cells), which is noise, not a hot spot. Thirty is the usual floor under which a
#: point-pattern statistic is not trusted; below it the pages say that there are too few
#: data instead of drawing hot spots.
MIN_HOTSPOT_PROBLEMS = 30
LEVEL_LABELS: Mapping[int, str] = {
    3: "Point chaud (99 %)",
    2: "Point chaud (95 %)",
    1: "Point chaud (90 %)",
    0: "Non significatif",
    -1: "Point froid (90 %)",
    -2: "Point froid (95 %)",
    -3: "Point froid (99 %)",
}
TREND_CHANGE = 1.25  # a rate up (down) by this factor intensifies (diminishes)
TRENDS: Mapping[str, str] = {
    "new": "Nouveau",
    "intensifying": "En hausse",
    "persistent": "Persistant",
    "diminishing": "En baisse",
}


def metric_xy(lon: np.ndarray, lat: np.ndarray, crs: CRS) -> np.ndarray:
    """Positions in WGS84 as an n x 2 array of metres in ``crs`` (each point projected on
    its own: the same numbers in a batch of one or of a hundred thousand)."""
    x, y = _to_metric(crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([np.asarray(x, float), np.asarray(y, float)]).reshape(-1, 2)


@lru_cache(maxsize=32)
def _to_metric(crs: CRS) -> Transformer:
    return Transformer.from_crs(WGS84, crs, always_xy=True)


def metric_crs_of(area: shapely.Geometry) -> CRS:
    """The projected CRS in metres for a study area given in WGS84."""
    return metric_crs(gpd.GeoDataFrame(geometry=[area], crs=WGS84))


def study_cells(area: shapely.Geometry, res: int = DEFAULT_H3_RES) -> list[str]:
    """Every H3 cell of resolution ``res`` that overlaps ``area`` (WGS84), sorted."""
    if not 0 <= res <= 15:
        raise InvalidInputError(
            "parameter_expected", name="res", expected="une résolution H3 de 0 à 15", got=res
        )
    if area.is_empty:
        raise InvalidInputError("study_area_empty")
    if estimate_cell_count(area, res) > MAX_STUDY_CELLS:
        raise InvalidInputError("study_too_many_cells", field="res", res=res, cells=MAX_STUDY_CELLS)
    shape = h3.geo_to_h3shape(area)
    return sorted(h3.h3shape_to_cells_experimental(shape, res, contain="overlap"))


def check_map_cells(area: shapely.Geometry, res: int, budget: int = MAX_MAP_CELLS) -> int:
    """:func:`geo.grid.estimate_cell_count`; a refusal naming ``res`` when it is over ``budget``
    (a map's cost grows with its cells: issue 22)."""
    estimate = estimate_cell_count(area, res)
    if estimate > budget:
        raise InvalidInputError(
            "map_too_many_cells",
            field="res",
            res=res,
            estimate=estimate,
            budget=budget,
        )
    return estimate


def point_cells(lon: np.ndarray, lat: np.ndarray, res: int = DEFAULT_H3_RES) -> np.ndarray:
    """The H3 cell of resolution ``res`` of each point (an array of cell ids)."""
    found = np.empty(len(lon), dtype=object)
    found[:] = [h3.latlng_to_cell(y, x, res) for x, y in zip(lon, lat, strict=True)]
    return found


def point_cell_ids(lon: np.ndarray, lat: np.ndarray, res: int = DEFAULT_H3_RES) -> np.ndarray:
    """:func:`point_cells` as H3 indexes (``uint64``: a cell's id is their hexadecimal
    text), without a string per point.

    >>> ids = point_cell_ids(np.array([6.86]), np.array([47.64]), 9)
    >>> format(int(ids[0]), "x") == point_cells(np.array([6.86]), np.array([47.64]), 9)[0]
    True
    """
    lat_list = np.asarray(lat, dtype=float).tolist()
    lon_list = np.asarray(lon, dtype=float).tolist()
    cell = _h3_int.latlng_to_cell
    return np.fromiter(
        (cell(y, x, res) for y, x in zip(lat_list, lon_list, strict=True)),
        dtype=np.uint64,
        count=len(lat_list),
    )


def cell_positions(ids: np.ndarray, cells: list[str]) -> np.ndarray:
    """The position in ``cells`` (H3 ids) of each cell of ``ids`` (:func:`point_cell_ids`),
    -1 for a cell not among them.

    >>> cells = ["89283082803ffff", "89283082807ffff"]
    >>> cell_positions(np.array([0x89283082807FFFF, 7], dtype=np.uint64), cells).tolist()
    [1, -1]
    """
    known = np.fromiter((int(c, 16) for c in cells), dtype=np.uint64, count=len(cells))
    if not len(known):
        return np.full(len(ids), -1, dtype=np.int32)
    order = np.argsort(known)
    place = np.minimum(np.searchsorted(known, ids, sorter=order), len(known) - 1)
    positions = order[place].astype(np.int32)
    positions[known[positions] != ids] = -1
    return positions


def cell_counts(found: np.ndarray, cells: Iterable[str]) -> pd.Series:
    """Number of points in each of ``cells`` (zeros kept), the points given by their
    cell (:func:`point_cells`); points in no listed cell are ignored."""
    index = pd.Index(list(cells), name="h3")
    counted = pd.Series(found, dtype=object).value_counts()
    return counted.reindex(index, fill_value=0).astype(int).rename("count")


def h3_counts(
    lon: np.ndarray, lat: np.ndarray, cells: Iterable[str], res: int = DEFAULT_H3_RES
) -> pd.Series:
    """Number of points in each of ``cells`` (zeros kept); points in no listed cell are
    ignored."""
    return cell_counts(point_cells(lon, lat, res), cells)


def h3_neighbours(cells: pd.Index) -> dict[str, list[str]]:
    """Each cell's neighbours (its ring of six) among ``cells``."""
    known = set(cells)
    return {c: [n for n in h3.grid_disk(c, 1) if n != c and n in known] for c in cells}


@lru_cache(maxsize=64)
def gi_star_weights(cells: tuple[str, ...]) -> tuple[csr_matrix, tuple[str, ...]]:
    """The binary weights of Gi* over these cells (each cell, itself included, and its
    ring of six among them) and their order (the cells'): the matrix esda's ``G_Local``
    prepares (``transform="B"``, ``star=1``: the adjacency with ones on the diagonal,
    ``tests/geo/test_hotspots.py`` compares them), built from the cells' rings at once
    in a sparse matrix (issue 22: libpysal's ``W`` and esda's preparation took 5 s over
    the 29 000 cells of a CSP at resolution 11), once per set of cells, then kept."""
    n = len(cells)
    ids = np.fromiter((int(cell, 16) for cell in cells), dtype=np.uint64, count=n)
    disks = [_h3_int.grid_disk(i, 1) for i in ids.tolist()]  # each cell and its ring
    sizes = np.fromiter(map(len, disks), dtype=np.int64, count=n)
    rows = np.repeat(np.arange(n, dtype=np.int64), sizes)
    found = np.fromiter(
        itertools.chain.from_iterable(disks), dtype=np.uint64, count=int(sizes.sum())
    )
    order = np.argsort(ids)
    place = np.minimum(np.searchsorted(ids, found, sorter=order), max(n - 1, 0))
    columns = order[place] if n else np.empty(0, np.int64)
    inside = ids[columns] == found if n else np.empty(0, bool)
    weights = csr_matrix(
        (np.ones(int(inside.sum())), (rows[inside], columns[inside])), shape=(n, n)
    )
    weights.sort_indices()
    return weights, cells


def fdr_threshold(p: np.ndarray, rate: float) -> float:
    """The Benjamini-Hochberg threshold of the p-values ``p`` at this false-discovery
    ``rate`` (a p-value at or below it is significant), or Bonferroni's ``rate / n``
    when no p-value passes: the rule of ``esda.fdr``, the same numbers.

    >>> round(fdr_threshold(np.array([0.001, 0.02, 0.03, 0.5]), 0.05), 6)
    0.0375
    >>> fdr_threshold(np.array([0.2, 0.5]), 0.05)
    0.025
    """
    n = len(p)
    descending = np.sort(p)[::-1]
    bounds = np.arange(n, 0, -1) * rate / n
    passing = np.flatnonzero(descending < bounds)
    return float(bounds[passing[0]]) if len(passing) else rate / n


def gi_star_z(weights: csr_matrix, y: np.ndarray) -> np.ndarray:
    """The z-scores of Gi* of ``y`` for ``weights`` (:func:`gi_star_weights`): the
    arithmetic of esda's ``G_Local.calc`` with a self-weight, step for step, so the same
    numbers (``tests/geo/test_hotspots.py`` compares them)."""
    remove_self = False
    n = weights.shape[0] - remove_self
    statistic = (weights @ y) / (y.sum() - y * remove_self)
    empirical_mean = (y.sum() - y * remove_self) / n
    mean_of_squares = ((y**2).sum() - (y**2) * remove_self) / n
    empirical_variance = mean_of_squares - empirical_mean**2
    cardinality = np.asarray(weights.sum(axis=1)).squeeze()
    expected_value = cardinality / n
    expected_variance = cardinality * (n - cardinality)
    expected_variance /= n - 1
    expected_variance *= 1 / n**2
    expected_variance *= empirical_variance / (empirical_mean**2)
    z: np.ndarray = (statistic - expected_value) / np.sqrt(expected_variance)
    return z


def getis_ord(counts: pd.Series) -> pd.DataFrame:
    """Gi* of ``counts`` (indexed by H3 cell, zeros included): a frame indexed like it
    with ``count``, ``z``, ``p`` (two-sided) and ``level`` (-3 … +3, FDR-corrected).
    Below :data:`MIN_HOTSPOT_PROBLEMS` problems in all no cell is significant, and a cell
    holding no problem is never called hot (its neighbours may be)."""
    frame = pd.DataFrame({"count": counts.astype(int)})
    frame["z"] = 0.0
    frame["p"] = 1.0
    frame["level"] = 0
    if not enough_for_hotspots(int(counts.sum())) or len(frame) < 3 or counts.nunique() < 2:
        return frame  # too few problems, or no variation: nothing stands out
    weights, order = gi_star_weights(tuple(counts.index))
    y = counts.reindex(order).to_numpy(dtype=float)
    z = pd.Series(gi_star_z(weights, y), index=order).reindex(frame.index)
    frame["z"] = z.fillna(0.0)
    frame["p"] = 2 * norm.sf(frame["z"].abs())
    z, p = frame["z"].to_numpy(), frame["p"].to_numpy()
    levels = np.zeros(len(frame), dtype=np.int64)
    for level, rate in reversed(CONFIDENCE_LEVELS):  # 90 % first, overwritten by 95, 99
        significant = p <= fdr_threshold(p, rate)
        levels[significant] = level * np.sign(z[significant]).astype(int)
    levels[(levels > 0) & (frame["count"].to_numpy() == 0)] = 0
    frame["level"] = levels
    return frame


def enough_for_hotspots(problems: int) -> bool:
    """Whether ``problems`` problems are enough to look for hot spots
    (:data:`MIN_HOTSPOT_PROBLEMS`)."""
    return problems >= MIN_HOTSPOT_PROBLEMS


def _neighbourhood_sums(counts: pd.Series) -> pd.Series:
    """Each cell's count with its ring of six's (those among the cells of ``counts``):
    the Gi* weights' product (:func:`gi_star_weights`, kept per set of cells).

    >>> cells = [h3.latlng_to_cell(47.64, 6.86, 9)]
    >>> cells += [c for c in h3.grid_disk(cells[0], 1) if c != cells[0]][:2]
    >>> _neighbourhood_sums(pd.Series([1, 2, 4], index=cells)).tolist()
    [7.0, 7.0, 7.0]
    """
    if len(counts) == 0:
        return counts.astype(float)
    weights, order = gi_star_weights(tuple(counts.index))
    sums = weights @ counts.reindex(order).to_numpy(dtype=float)
    return pd.Series(sums, index=order).reindex(counts.index)


def compare_periods(
    before: pd.DataFrame, after: pd.DataFrame, *, days_before: int, days_after: int
) -> pd.Series:
    """The trend of each cell hot in either period (frames from :func:`getis_ord` over the
    same cells): ``new``, ``intensifying``, ``persistent`` or ``diminishing``; cells hot
    in neither are left out."""
    if days_before <= 0 or days_after <= 0:
        raise InvalidInputError("periods_at_least_one_day")
    hot_before = before["level"].reindex(after.index, fill_value=0) > 0
    hot_after = after["level"] > 0
    counts_before = before["count"].reindex(after.index, fill_value=0)
    rate_before = _neighbourhood_sums(counts_before) / days_before
    rate_after = _neighbourhood_sums(after["count"]) / days_after
    # on the arrays: a boolean Series as a key is first tried as a label by pandas, whose
    # refusal writes the whole Series out (most of this function's time)
    was, now = hot_before.to_numpy(), hot_after.to_numpy()
    before_rate, after_rate = rate_before.to_numpy(), rate_after.to_numpy()
    both = was & now
    up = (after_rate >= before_rate * TREND_CHANGE) & (after_rate > 0)
    down = (after_rate * TREND_CHANGE <= before_rate) & (before_rate > 0)
    trend = np.full(len(after.index), None, dtype=object)
    trend[now & ~was] = "new"
    trend[both] = "persistent"
    trend[both & up] = "intensifying"
    trend[was & ~now] = "diminishing"
    trend[both & down] = "diminishing"
    return pd.Series(trend, index=after.index, dtype=object, name="trend").dropna()


@lru_cache(maxsize=64)
def cell_areas(cells: tuple[str, ...]) -> np.ndarray:
    """The area in m² of each H3 cell, computed once per set of cells (a study area's)."""
    return np.asarray([h3.cell_area(c, unit="m^2") for c in cells], dtype=float)


@dataclass(frozen=True)
class PredictionIndices:
    problems: int  # problems of the later period in the study area
    hits: int  # of which inside the hotspot cells
    best_hits: int  # in the same number of the most-hit cells
    hotspot_cells: int
    area_share: float
    hit_rate: float
    pai: float | None  # None when there is no hotspot or no later problem
    pei: float | None


def prediction_indices(hotspots: Iterable[str], later: pd.Series) -> PredictionIndices:
    """PAI and PEI of the hotspot cells ``hotspots`` against ``later`` counts (indexed by
    every H3 cell of the study area, zeros included)."""
    chosen = later.index.intersection(pd.Index(list(hotspots)))
    areas = pd.Series(cell_areas(tuple(later.index)), index=later.index)
    total = int(later.sum())
    hits = int(later[chosen].sum())
    best = int(later.sort_values(ascending=False).iloc[: len(chosen)].sum())
    area_share = float(areas[chosen].sum() / areas.sum()) if len(areas) else 0.0
    hit_rate = hits / total if total else 0.0
    return PredictionIndices(
        problems=total,
        hits=hits,
        best_hits=best,
        hotspot_cells=len(chosen),
        area_share=area_share,
        hit_rate=hit_rate,
        pai=hit_rate / area_share if total and area_share > 0 else None,
        pei=hits / best if best else None,
    )


def cells_frame(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """H3 cells of ``frame``'s index as hexagons in WGS84, with ``frame``'s columns."""
    polygons = [
        shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in frame.index
    ]
    out = gpd.GeoDataFrame(frame.reset_index(), geometry=polygons, crs=WGS84)
    return out.rename(columns={"index": "h3"})


@dataclass(frozen=True)
class AreaHotspots:
    """The analysis of one study area: Gi* per H3 cell and the density surface (None
    when the area holds no problem)."""

    cells: pd.DataFrame
    surface: DensitySurface | None
    res: int


def analyse_area(
    lon: np.ndarray,
    lat: np.ndarray,
    area: shapely.Geometry,
    *,
    res: int = DEFAULT_H3_RES,
    bandwidth: float | None = None,
) -> AreaHotspots:
    """H3 counts, Gi* and the kernel density of the problems at ``lon``/``lat`` in the
    study ``area`` (WGS84)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    crs = metric_crs_of(area)
    return analyse_points(
        point_cells(lon, lat, res),
        metric_xy(lon, lat, crs),
        study_cells(area, res),
        crs=crs,
        res=res,
        bandwidth=bandwidth,
    )


def analyse_points(
    found: np.ndarray,
    xy: np.ndarray,
    cells: list[str],
    *,
    crs: CRS,
    res: int = DEFAULT_H3_RES,
    bandwidth: float | None = None,
) -> AreaHotspots:
    """:func:`analyse_area` of points already binned and projected: their H3 cells
    (:func:`point_cells`), their positions in metres in ``crs`` (:func:`metric_xy`, in
    the same order) and the study area's ``cells`` (:func:`study_cells`)."""
    gi = getis_ord(cell_counts(found, cells))
    surface = kde(xy, crs=crs, bandwidth=bandwidth) if len(xy) else None
    return AreaHotspots(cells=gi, surface=surface, res=res)
