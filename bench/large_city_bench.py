"""Benchmark: the engine on a large city, about 50 000 units, k = 40, ±5 %.

Run: .venv/bin/python -m bench.large_city_bench [--side-m 26700] [--k 40]
     .venv/bin/python -m bench.large_city_bench --essonne --resolution 9

The synthetic territory of :func:`bench.sector_cases.synthetic_graph` (fictitious) at H3
resolution 10, its side chosen for about 50 000 units, every commune splittable; or, with
``--essonne``, the 194 real communes of the Essonne (``tests/fixtures/communes_91.geojson``)
as one territory, their population spread over the cells by area, communes under
10 000 inhabitants kept whole (the default). Prints the unit count, the time to build the
graph, the time of the design alone (:func:`geo.sectorize.make_sectorizer`), the worst
deviation, the sectors in several pieces in the engine's graph and on the ground (the
dissolved sector polygons, counted with shapely after the design), the mean Polsby-Popper,
and the process's peak resident memory (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import shapely

from bench.sector_cases import synthetic_graph
from geo.grid import cell_attributes, tessellate, workload
from geo.metrics import components_per_sector
from geo.sectorize import DesignParameters, RegionGrowth, make_sectorizer
from geo.sectorize.growth import DEFAULT_WHOLE_COMMUNE_POPULATION
from geo.territory import read_communes
from geo.unit_graph import UnitGraph

ESSONNE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "communes_91.geojson"


def essonne_graph(resolution: int) -> UnitGraph:
    """The Essonne's 194 communes as one territory, H3 cells at ``resolution``."""
    communes = read_communes(str(ESSONNE)).communes.reset_index(drop=True)
    cells = cell_attributes(tessellate(communes.union_all(), resolution), communes)
    cells["workload"] = workload(cells)
    return UnitGraph.from_cells(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side-m", type=float, default=26_700.0)
    parser.add_argument("--k", type=int, default=40)
    parser.add_argument("--resolution", type=int, default=10)
    parser.add_argument("--objective", default="boundary", choices=["boundary", "distance", "mix"])
    parser.add_argument("--essonne", action="store_true", help="the real Essonne, not synthetic")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.essonne:
        graph = essonne_graph(args.resolution)
        whole = DEFAULT_WHOLE_COMMUNE_POPULATION
    else:
        graph, _ = synthetic_graph(resolution=args.resolution, side_m=args.side_m)
        whole = 0  # a large city: every commune may be split (the synthetic communes are districts)
    built = time.perf_counter()
    params = DesignParameters(
        k=args.k,
        tolerance=0.05,
        resolution=args.resolution,
        whole_commune_population=whole,
        objective=args.objective,
        seed=args.seed,
    )
    cpu = time.process_time()
    plan = make_sectorizer(params).solve(graph, rng=params.rng())
    solved = time.perf_counter()
    cpu = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loads = plan.workloads
    worst = float(np.abs(loads / loads.mean() - 1).max())
    pieces = int((components_per_sector(plan) > 1).sum())
    ground = shapely.get_num_geometries(plan.sectors.to_crs(2154).geometry.to_numpy())
    compact = plan.metrics.mean_polsby_popper
    engine = RegionGrowth(args.k, whole_commune_population=whole)
    atoms = engine.feasible_atoms(graph)[3].n
    path = "multilevel" if atoms > engine.large_atoms else "direct"
    print(
        f"{'Essonne' if args.essonne else 'synthetic'}, units {graph.n} (atoms {atoms}, "
        f"{path} path), k {args.k}: graph "
        f"{built - started:.1f} s, design {solved - built:.1f} s (CPU {cpu:.1f} s, objective "
        f"{args.objective}), p-median {plan.metrics.pmedian_distance_m:.0f} m, worst deviation "
        f"{worst:.2%}, sectors in pieces {pieces} (graph), {int((ground > 1).sum())} (ground, "
        f"most pieces {int(ground.max())}), mean Polsby-Popper {compact:.3f}, "
        f"peak memory {peak_mb:.0f} MB (after the design)"
    )


if __name__ == "__main__":
    main()
