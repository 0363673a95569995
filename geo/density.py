"""How densely problems lie: the quartic kernel density of points on a square grid, its
bandwidth, and the grid's size worked out before any work (issue 22). Every distance is
in metres in the territory's projected CRS (:func:`geo.crs.metric_crs`); the bands come
out in WGS84.

Kernel density (:func:`kde`)
    Quartic (biweight) kernel, the usual choice in crime mapping:
    ``K(d) = 3 / (π h²) · (1 - d²/h²)²`` for ``d < h``, 0 beyond. The surface is computed
    on a square grid: the problems are counted per grid cell, then the counts are
    convolved with the kernel sampled on the same grid and scaled so that its samples sum
    to one. Hence the surface's mass (Σ density x cell area) equals the number of
    problems exactly, and a point's position is rounded to its cell's centre (cell side
    ``h / 5`` by default, between 10 and 250 m: a point moves by at most half a cell along
    each axis, 0.14 h). Density is in problems per km².

Bandwidth (:func:`silverman_bandwidth`)
    The spatial variant of Silverman's rule of thumb, robust to outliers:
    ``h = 0.9 · min(SD, √(1 / ln 2) · Dm) · n^(-1/5)``, where ``SD`` is the standard
    distance of the points (√(var x + var y)) and ``Dm`` the median distance to their
    mean centre. It is floored at 50 m (a GPO report's position is rarely finer, and a
    single place would otherwise give h = 0). A caller may pass its own ``h``.

Grid size (:func:`kde_parameters`, :func:`kde_grid_shape`)
    The grid covers the points' extent plus one bandwidth on every side. Its size is
    counted before the density is computed: a bandwidth asked whose grid would pass a
    budget (:data:`MAX_HEAT_CELLS`, the app's ``PSQ_MAX_HEAT_CELLS``) is refused, and
    the default bandwidth's cells are made larger until the grid fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy.signal import fftconvolve

from geo.crs import WGS84
from geo.errors import InvalidInputError

MIN_BANDWIDTH_M = 50.0
CELL_PER_BANDWIDTH = 5  # kernel grid cells per bandwidth (cell side h / 5)
MIN_KDE_CELL_M, MAX_KDE_CELL_M = 10.0, 250.0
#: The most cells of the kernel density's grid (the app's ``PSQ_MAX_HEAT_CELLS``): a
#: bandwidth asked that needs more is refused; the default one gets coarser cells.
MAX_HEAT_CELLS = 1_000_000


def silverman_bandwidth(xy: np.ndarray) -> float:
    """The robust spatial Silverman bandwidth in metres of points ``xy`` (n x 2, metres),
    floored at :data:`MIN_BANDWIDTH_M`.

    >>> round(silverman_bandwidth(np.array([[0, 0], [1000, 0], [0, 1000], [1000, 1000]])))
    482
    """
    xy = np.asarray(xy, dtype=float)
    if len(xy) == 0:
        raise InvalidInputError("no_problems_for_density")
    centre = xy.mean(axis=0)
    standard_distance = math.sqrt(float(xy.var(axis=0).sum()))
    median_distance = float(np.median(np.hypot(*(xy - centre).T)))
    spread = min(standard_distance, math.sqrt(1 / math.log(2)) * median_distance)
    return max(MIN_BANDWIDTH_M, 0.9 * spread * len(xy) ** -0.2)


@dataclass(frozen=True)
class DensitySurface:
    """A kernel density surface on a square grid in ``crs``: ``density[row, col]`` is in
    problems per km² over the cell whose lower-left corner is
    ``(x0 + col · cell_size, y0 + row · cell_size)``."""

    density: np.ndarray
    x0: float
    y0: float
    cell_size: float
    bandwidth: float
    crs: CRS

    @property
    def mass(self) -> float:
        """Σ density x cell area: the number (or total weight) of problems."""
        return float(self.density.sum() * (self.cell_size / 1000) ** 2)

    def bands(self, *, classes: int = 6, min_share: float = 0.05) -> gpd.GeoDataFrame:
        """The surface in ``classes`` bands of equal width between ``min_share`` of the
        peak and the peak (the usual heat-map ramp), as rectangles in WGS84: the runs of
        grid cells of one band along each grid row (far fewer than cells, and valid and
        non-overlapping by construction), with ``band`` (0 for the faintest), ``share``
        (the band's lower bound, as a fraction of the peak) and ``density`` (the same, in
        problems per km²)."""
        peak = float(self.density.max()) if self.density.size else 0.0
        if peak <= 0:
            return gpd.GeoDataFrame(
                {"band": [], "share": [], "density": []}, geometry=[], crs=WGS84
            )
        edges = np.linspace(min_share, 1.0, classes + 1)
        band = np.digitize(self.density / peak, edges[1:-1])  # 0 … classes - 1
        band[self.density < peak * min_share] = -1
        rows, width = band.shape[0], band.shape[1] + 1
        flat = np.hstack([band, np.full((rows, 1), -2)]).ravel()  # a row never runs on
        starts = np.flatnonzero(np.diff(flat, prepend=-3) != 0)
        lengths = np.diff(starts, append=flat.size)
        kept = flat[starts] >= 0
        starts, lengths = starts[kept], lengths[kept]
        x = self.x0 + (starts % width) * self.cell_size
        y = self.y0 + (starts // width) * self.cell_size
        runs = shapely.box(x, y, x + lengths * self.cell_size, y + self.cell_size)
        band_of_run = flat[starts]
        share = edges[band_of_run]
        frame = gpd.GeoDataFrame(
            {"band": band_of_run, "share": share, "density": share * peak},
            geometry=runs,
            crs=self.crs,
        )
        return frame.to_crs(WGS84)


def kde_parameters(
    xy: np.ndarray,
    *,
    bandwidth: float | None = None,
    cell_size: float | None = None,
    max_cells: int | None = None,
) -> tuple[float, float]:
    """The bandwidth and the grid's cell side (metres) :func:`kde` uses for points ``xy``
    (checked: a refusal names the bad one). With ``max_cells``, the grid's size is worked
    out before any work (:func:`kde_grid_shape`): a ``bandwidth`` asked whose grid would
    be larger is refused (naming ``bandwidth``, with the smallest that fits, about), and
    the default one's cells are made larger until it fits (issue 22: a 10 m grid over a
    CSP was millions of cells and tens of megabytes of bands)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        raise InvalidInputError("no_problems_for_density")
    h = silverman_bandwidth(xy) if bandwidth is None else float(bandwidth)
    if not math.isfinite(h) or h <= 0:
        raise InvalidInputError(
            "parameter_expected",
            name="bandwidth",
            expected="un nombre de mètres positif",
            got=bandwidth,
        )
    if cell_size is not None and not cell_size > 0:
        raise InvalidInputError(
            "parameter_expected",
            name="cell_size",
            expected="un nombre de mètres positif",
            got=cell_size,
        )
    size = cell_size or min(max(h / CELL_PER_BANDWIDTH, MIN_KDE_CELL_M), MAX_KDE_CELL_M)
    if max_cells is None:
        return h, size
    cells = math.prod(kde_grid_shape(xy, h, size))
    if cells <= max_cells:
        return h, size
    if bandwidth is not None:
        spread = math.sqrt(cells / max_cells)
        raise InvalidInputError(
            "heat_too_many_cells",
            field="bandwidth",
            bandwidth=h,
            estimate=cells,
            budget=max_cells,
            minimum=math.ceil(h * spread / 10) * 10,
        )
    while cells > max_cells:  # coarser cells until the grid fits
        size *= max(1.01, math.sqrt(cells / max_cells))
        cells = math.prod(kde_grid_shape(xy, h, size))
    return h, size


def kde_grid_shape(xy: np.ndarray, bandwidth: float, cell_size: float) -> tuple[int, int]:
    """The rows and columns of :func:`kde`'s grid for these points, bandwidth and cell
    side (the points' extent plus the kernel's reach on every side), without the grid.

    >>> kde_grid_shape(np.array([[0.0, 0.0], [1000.0, 500.0]]), 100.0, 20.0)
    (36, 61)
    """
    reach = math.ceil(bandwidth / cell_size)
    low = np.floor(xy.min(axis=0) / cell_size) * cell_size - reach * cell_size
    top = np.floor((xy.max(axis=0) - low) / cell_size).astype(int) + reach + 1
    return int(top[1]), int(top[0])


def kde(
    xy: np.ndarray,
    *,
    crs: CRS,
    bandwidth: float | None = None,
    cell_size: float | None = None,
    weights: np.ndarray | None = None,
) -> DensitySurface:
    """The quartic kernel density surface of points ``xy`` (n x 2, metres in ``crs``).

    ``bandwidth`` defaults to :func:`silverman_bandwidth`, ``cell_size`` to a fifth of it
    (between 10 and 250 m). The grid covers the points' extent plus one bandwidth, so no
    mass is lost at its edges."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    h, size = kde_parameters(xy, bandwidth=bandwidth, cell_size=cell_size)
    reach = math.ceil(h / size)
    x0 = math.floor(xy[:, 0].min() / size) * size - reach * size
    y0 = math.floor(xy[:, 1].min() / size) * size - reach * size
    cols = np.floor((xy[:, 0] - x0) / size).astype(int)
    rows = np.floor((xy[:, 1] - y0) / size).astype(int)
    shape = (rows.max() + reach + 1, cols.max() + reach + 1)
    counts = np.zeros(shape)
    np.add.at(counts, (rows, cols), 1.0 if weights is None else np.asarray(weights, float))
    offsets = np.arange(-reach, reach + 1) * size
    d2 = (offsets[:, None] ** 2 + offsets[None, :] ** 2) / h**2
    kernel = np.where(d2 < 1, (1 - d2) ** 2, 0.0)
    kernel /= kernel.sum()
    smoothed = fftconvolve(counts, kernel, mode="same")
    smoothed[smoothed < smoothed.max() * 1e-12] = 0.0  # the FFT's rounding noise
    return DensitySurface(
        density=smoothed / (size / 1000) ** 2,
        x0=x0,
        y0=y0,
        cell_size=size,
        bandwidth=h,
        crs=crs,
    )
