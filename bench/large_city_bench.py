"""Benchmark: the engine on a large city, about 50 000 units, k = 40, ±5 %.

Run: .venv/bin/python -m bench.large_city_bench [--side-m 26700] [--k 40]

The synthetic territory of :func:`bench.sector_cases.synthetic_graph` (fictitious) at H3
resolution 10, its side chosen for about 50 000 units, every commune splittable. Prints
the unit count, the time to build the graph, the time of the design alone
(:func:`geo.sectorize.make_sectorizer`), the worst deviation, the sectors in several
pieces, and the process's peak resident memory (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from bench.sector_cases import synthetic_graph
from geo.metrics import components_per_sector
from geo.sectorize import DesignParameters, make_sectorizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side-m", type=float, default=26_700.0)
    parser.add_argument("--k", type=int, default=40)
    parser.add_argument("--resolution", type=int, default=10)
    parser.add_argument("--objective", default="boundary", choices=["boundary", "distance", "mix"])
    args = parser.parse_args()
    started = time.perf_counter()
    graph, _ = synthetic_graph(resolution=args.resolution, side_m=args.side_m)
    built = time.perf_counter()
    # A large city: every commune may be split (the synthetic communes are districts).
    params = DesignParameters(
        k=args.k,
        tolerance=0.05,
        resolution=args.resolution,
        whole_commune_population=0,
        objective=args.objective,
    )
    cpu = time.process_time()
    plan = make_sectorizer(params).solve(graph, rng=params.rng())
    solved = time.perf_counter()
    cpu = time.process_time() - cpu
    loads = plan.workloads
    worst = float(np.abs(loads / loads.mean() - 1).max())
    pieces = int((components_per_sector(plan) > 1).sum())
    compact = plan.metrics.mean_polsby_popper
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"units {graph.n}, k {args.k}: graph {built - started:.1f} s, design "
        f"{solved - built:.1f} s (CPU {cpu:.1f} s, objective {args.objective}), p-median "
        f"{plan.metrics.pmedian_distance_m:.0f} m, worst deviation {worst:.2%}, "
        f"sectors in pieces {pieces}, "
        f"mean Polsby-Popper {compact:.3f}, "
        f"peak memory {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
