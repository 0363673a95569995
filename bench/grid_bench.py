"""Benchmark: H3 cells + interpolation + adjacency graph, beside raw h3.h3shape_to_cells.

Run: .venv/bin/python bench/grid_bench.py
Territories: the demo CSP (Belfort) at res 9 and 10, and a synthetic ~1 000 km² territory
(a square in Lambert-93 around Belfort, split into 100 "communes") at res 9. The baseline is
h3.h3shape_to_cells on the same polygon, measured in the same run. Median of 5 runs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import h3
import shapely
from shapely.geometry import box

from geo.grid import PopulationGrid, adjacency, cell_attributes, tessellate, workload
from geo.layers import prepare_layer
from geo.territory import read_communes

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "boundaries"
RUNS = 5


def median_seconds(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pipeline(territory, communes, grid, res):  # type: ignore[no-untyped-def]
    cells = tessellate(territory, res)
    cells = cell_attributes(cells, communes, grid)
    cells["workload"] = workload(cells)
    adjacency(cells)
    return cells


def main() -> None:
    all_communes = read_communes(DEMO / "communes_90.geojson").communes
    codes = [line.split(",")[0] for line in (DEMO / "csp_belfort.csv").read_text().split()[1:]]
    belfort = all_communes[all_communes["code"].isin(codes)].reset_index(drop=True)
    csp = belfort.union_all()
    layer = prepare_layer(
        gpd.read_file(DEMO / "filosofi2019_carreaux200m_belfort.geojson"),
        "population_grid",
        territory=csp,
    )
    grid = PopulationGrid(layer.features, layer.extent)

    # ~1 000 km²: a 31.6 km square centred on Belfort, cut into 10 x 10 communes.
    cx, cy = 990_000, 6_735_000
    side = 31_623
    squares = [
        box(
            cx - side / 2 + i * side / 10,
            cy - side / 2 + j * side / 10,
            cx - side / 2 + (i + 1) * side / 10,
            cy - side / 2 + (j + 1) * side / 10,
        )
        for i in range(10)
        for j in range(10)
    ]
    synth = gpd.GeoDataFrame(
        {"code": [f"{k:05d}" for k in range(100)], "population": [1000] * 100},
        geometry=squares,
        crs=2154,
    ).to_crs(4326)
    synth_territory = synth.union_all()

    cases = [
        ("Belfort CSP, res 9", csp, belfort, grid, 9),
        ("Belfort CSP, res 10", csp, belfort, grid, 10),
        ("synthetic 1 000 km², res 9", synth_territory, synth, None, 9),
    ]
    print(f"{'case':32} {'cells':>7} {'pipeline (s)':>13} {'h3 raw (s)':>11} {'ratio':>7}")
    for name, territory, communes, pop_grid, res in cases:
        n = len(pipeline(territory, communes, pop_grid, res))
        t_pipe = median_seconds(lambda: pipeline(territory, communes, pop_grid, res))  # noqa: B023
        shape = h3.geo_to_h3shape(territory)
        t_raw = median_seconds(lambda: h3.h3shape_to_cells(shape, res))  # noqa: B023
        print(f"{name:32} {n:>7} {t_pipe:>13.3f} {t_raw:>11.4f} {t_pipe / t_raw:>7.0f}x")
    print(f"(median of {RUNS} runs; shapely {shapely.__version__}, h3 {h3.__version__})")


if __name__ == "__main__":
    main()
