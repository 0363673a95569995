"""Territories of the sector-design benchmark (:mod:`bench.sector_bench`): the Belfort
CSP's H3 cells (as in ``tests/geo/conftest.py``), and a synthetic territory of about
5 000 res-9 units (:func:`synthetic_graph`: 30 Voronoi communes, gaussian towns over a
rural floor, a river and a motorway with a few crossings, and one small island 600 m
offshore).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, box

from geo.crs import LAMBERT93, WGS84
from geo.grid import PopulationGrid, assign_communes, cell_attributes, tessellate, workload
from geo.layers import prepare_layer
from geo.plan import UnitGraph
from geo.territory import read_communes

DEMO = Path(__file__).resolve().parents[1] / "data" / "boundaries"
ISLAND = "99099"  # commune code of the synthetic island


def belfort_graph(resolution: int) -> UnitGraph:
    """The Belfort CSP's H3 cells with default workloads (as in ``tests/geo/conftest.py``)."""
    codes = [line.split(",")[0] for line in (DEMO / "csp_belfort.csv").read_text().split()[1:]]
    communes = read_communes(DEMO / "communes_90.geojson").communes
    members = communes[communes["code"].isin(codes)].reset_index(drop=True)
    csp = members.union_all()
    raw = gpd.read_file(DEMO / "filosofi2019_carreaux200m_belfort.geojson")
    layer = prepare_layer(raw, "population_grid", territory=csp, source="filosofi")
    assert layer.extent is not None
    grid = PopulationGrid(layer.features, layer.extent)
    cells = cell_attributes(tessellate(csp, resolution), members, grid)
    cells["workload"] = workload(cells)
    return UnitGraph.from_cells(cells)


@dataclass(frozen=True)
class Town:
    """A gaussian population cluster: centre as fractions of the square's side."""

    fx: float
    fy: float
    peak: float  # inhabitants per km² at the centre
    sigma_m: float


TOWNS = (
    Town(0.45, 0.55, 4_000, 1_800),  # the city
    Town(0.20, 0.22, 2_500, 1_000),
    Town(0.80, 0.30, 2_500, 1_000),
    Town(0.15, 0.80, 800, 500),
    Town(0.70, 0.85, 800, 500),
    Town(0.50, 0.12, 800, 500),
    Town(0.90, 0.62, 800, 500),
)
RURAL_DENSITY = 25.0  # inhabitants per km²


@dataclass(frozen=True)
class Synthetic:
    """A synthetic territory in EPSG:4326: communes (``code``, ``population``), the
    territory (mainland square + island), barrier lines (``class``, ``bridge``, ``tunnel``)
    and the island alone."""

    communes: gpd.GeoDataFrame
    territory: shapely.Geometry
    barriers: gpd.GeoDataFrame
    island: shapely.Geometry


def synthetic_territory(
    seed: int = 7,
    side_m: float = 22_500.0,
    n_communes: int = 30,
    origin: tuple[float, float] = (380_000.0, 6_560_000.0),
) -> Synthetic:
    """A square of ``side_m`` (Lambert-93, near the Atlantic coast) cut into
    ``n_communes`` Voronoi communes (one around each town, the rest random), with a
    1.2 x 0.8 km island 600 m off its eastern shore, a meandering river crossed by 7
    bridges and a motorway crossed by 5 roads."""
    rng = np.random.default_rng(seed)
    x0, y0 = origin
    square = box(x0, y0, x0 + side_m, y0 + side_m)
    island = box(
        x0 + side_m + 600, y0 + 0.45 * side_m, x0 + side_m + 1_800, y0 + 0.45 * side_m + 800
    )
    towns = np.array([(x0 + t.fx * side_m, y0 + t.fy * side_m) for t in TOWNS])
    others = rng.uniform((x0, y0), (x0 + side_m, y0 + side_m), size=(n_communes - len(TOWNS), 2))
    seeds = shapely.multipoints(np.vstack([towns, others]))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=square.buffer(side_m)))
    polygons = [c.intersection(square) for c in cells]
    polygons = [p for p in polygons if p.area > 0]
    codes = [f"99{i + 1:03d}" for i in range(len(polygons))]
    communes = gpd.GeoDataFrame(
        {"code": [*codes, ISLAND]},
        geometry=[MultiPolygon([p]) for p in polygons] + [MultiPolygon([island])],
        crs=LAMBERT93,
    )

    # Barriers: a river meandering west-east, a motorway south-north; the crossings are
    # short road segments across them (bridges are where roads cross the river).
    xs = np.linspace(x0 - 200, x0 + side_m + 200, 400)
    river = LineString(
        np.column_stack(
            [xs, y0 + 0.40 * side_m + 1_500 * np.sin(2 * np.pi * (xs - x0) / (side_m / 1.5))]
        )
    )
    motorway = LineString([(x0 + 0.10 * side_m, y0 - 200), (x0 + 0.75 * side_m, y0 + side_m + 200)])
    roads = []
    for i in range(1, 8):  # bridges over the river
        x = x0 + i * side_m / 8
        y = y0 + 0.40 * side_m + 1_500 * np.sin(2 * np.pi * (x - x0) / (side_m / 1.5))
        roads.append(LineString([(x, y - 300), (x, y + 300)]))
    for f in (0.1, 0.3, 0.5, 0.7, 0.9):  # roads over or under the motorway
        p = motorway.interpolate(f, normalized=True)
        roads.append(LineString([(p.x - 300, p.y), (p.x + 300, p.y)]))
    lines = [river, motorway, *roads]
    barriers = gpd.GeoDataFrame(
        {
            "class": ["river", "motorway"] + ["primary"] * len(roads),
            "bridge": False,
            "tunnel": False,
        },
        geometry=lines,
        crs=LAMBERT93,
    )
    territory = shapely.union(square, island)
    wgs = gpd.GeoSeries([territory, island], crs=LAMBERT93).to_crs(WGS84)
    return Synthetic(
        communes=communes.to_crs(WGS84),
        territory=wgs.iloc[0],
        barriers=barriers.to_crs(WGS84),
        island=wgs.iloc[1],
    )


def _density(
    x: np.ndarray, y: np.ndarray, origin: tuple[float, float], side_m: float
) -> np.ndarray:
    """Inhabitants per km² at metric points: the rural floor plus the gaussian towns."""
    d = np.full(len(x), RURAL_DENSITY)
    for t in TOWNS:
        cx, cy = origin[0] + t.fx * side_m, origin[1] + t.fy * side_m
        d += t.peak * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * t.sigma_m**2))
    return d


def synthetic_graph(
    resolution: int = 9,
    seed: int = 7,
    side_m: float = 22_500.0,
    origin: tuple[float, float] = (380_000.0, 6_560_000.0),
) -> tuple[UnitGraph, Synthetic]:
    """The synthetic territory's H3 cells, with ``commune``, ``population`` (density at
    the cell's centroid x its area, times lognormal noise) and ``workload`` (= population),
    and the barrier-aware graph (the island is a second component, linked)."""
    synth = synthetic_territory(seed=seed, side_m=side_m, origin=origin)
    cells = tessellate(synth.territory, resolution)
    cells["commune"] = assign_communes(cells, synth.communes)
    metric = cells.geometry.to_crs(LAMBERT93)
    xy = shapely.get_coordinates(metric.centroid.to_numpy())
    area_km2 = metric.area.to_numpy() / 1e6
    noise = np.random.default_rng(seed + 1).lognormal(0.0, 0.3, len(cells))
    cells["population"] = _density(xy[:, 0], xy[:, 1], origin, side_m) * area_km2 * noise
    cells["workload"] = workload(cells, {"population": 1.0})
    return UnitGraph.from_cells(cells, synth.barriers), synth
