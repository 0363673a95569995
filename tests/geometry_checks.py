"""Independent checks of a sector plan on its polygons, with shapely only.

Nothing here reads the engine's unit graph: a plan is judged as a planner sees it on the
map. ``sector_pieces`` counts the pieces of each dissolved sector; ``check_sectors``
checks coverage, overlap, contiguity (on the ground, or through a declared link) and
balance, and returns the problems found as sentences (an empty list: all good).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import metric_crs

#: Pieces smaller than this (m²) are floating-point noise of a union, not specks: the
#: specks this check exists for measure hundreds of m².
NOISE_M2 = 1.0


def _metric(geoms: Sequence[BaseGeometry], crs: object = None) -> np.ndarray:
    series = gpd.GeoSeries(list(geoms), crs=4326)
    return series.to_crs(crs or metric_crs(gpd.GeoDataFrame(geometry=series))).to_numpy()


def _pieces(geom: BaseGeometry) -> list[BaseGeometry]:
    parts = shapely.get_parts(shapely.union_all(_metric([geom])))
    return [p for p in parts if p.area >= NOISE_M2]


def sector_pieces(polygons_by_sector: Mapping[Hashable, BaseGeometry]) -> dict[Hashable, int]:
    """Sector → number of separate pieces of its dissolved polygons (WGS84) on the ground."""
    return {s: len(_pieces(g)) for s, g in polygons_by_sector.items()}


def check_sectors(
    territory: BaseGeometry,
    polygons_by_sector: Mapping[Hashable, BaseGeometry],
    *,
    workloads: Mapping[Hashable, float] | None = None,
    tolerance: float | None = None,
    links: Sequence[tuple[tuple[float, float], tuple[float, float]]] = (),
) -> list[str]:
    """Problems of a plan's sector polygons (WGS84): coverage of ``territory``, overlaps,
    sectors in several pieces not joined by one of ``links`` (pairs of (lon, lat) ends,
    a piece being reached when an end lies within 1 km of it), balance beyond
    ``tolerance`` of the mean of ``workloads``."""
    problems: list[str] = []
    names = list(polygons_by_sector)
    # Coverage and overlap in the plane the units were cut in (WGS84 degrees), relative to
    # the territory's area: a reprojection bends long edges and would invent slivers.
    plane = list(polygons_by_sector.values())
    union = shapely.union_all(plane)
    scale = territory.area
    gap = shapely.area(shapely.difference(territory, union)) / scale
    extra = shapely.area(shapely.difference(union, territory)) / scale
    if gap > 1e-6 or extra > 1e-6:
        problems.append(f"coverage: {gap:.2e} of the area uncovered, {extra:.2e} outside")
    overlap = (sum(shapely.area(plane)) - union.area) / scale
    if overlap > 1e-6:
        problems.append(f"overlap: {overlap:.2e} of the area")
    crs = metric_crs(gpd.GeoDataFrame(geometry=gpd.GeoSeries([territory], crs=4326)))
    sectors = _metric(plane, crs)
    ends = _metric([shapely.Point(p) for link in links for p in link], crs)
    for name, geom in zip(names, sectors, strict=True):
        parts = [p for p in shapely.get_parts(geom) if p.area >= NOISE_M2]
        if len(parts) > 1 and not _joined(parts, ends):
            problems.append(f"sector {name}: {len(parts)} pieces not joined by a link")
    if workloads is not None and tolerance is not None:
        mean = float(np.mean(list(workloads.values())))
        for name, load in workloads.items():
            if abs(load - mean) > tolerance * mean * (1 + 1e-9):
                problems.append(f"sector {name}: workload {load:.0f}, mean {mean:.0f}")
    return problems


def _joined(parts: list[BaseGeometry], ends: np.ndarray) -> bool:
    """Are the pieces one group through links (an end within 1 km of a piece)?"""
    group = list(range(len(parts)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for start, stop in zip(ends[0::2], ends[1::2], strict=True):
        near_a = [i for i, p in enumerate(parts) if p.distance(start) <= 1000]
        near_b = [i for i, p in enumerate(parts) if p.distance(stop) <= 1000]
        for i in near_a:
            for j in near_b:
                group[root(i)] = root(j)
    return len({root(i) for i in range(len(parts))}) == 1
