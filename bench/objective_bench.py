"""The planner's objective on the instances of issue 25: p-median distance, balance and
runtime of the engine under ``objective = "boundary"`` and ``"distance"``, 5 seeds each.

Instances: the synthetic square of :func:`bench.sector_cases.synthetic_graph` at
resolution 8, 6 km (72 units; k = 4, 8) and 14 km (323 units; k = 8, 12) a side, the
Belfort CSP at resolution 8 (112 units; k = 4, 8) and, for the runtime, at resolution 9
(661 units; k = 4, 8, 12). Each runs with the default whole-commune threshold (10 000
inhabitants) and with communes not kept whole (threshold 0). The gap is to the exact
optimum of issue 25's table (HiGHS, part A; an upper bound where it is not proven).

The runtime is CPU time (``time.process_time``) of one ``solve``, the most of the 5
seeds: the benchmark machine is shared, and wall time there measures the neighbours.

    python -m bench.objective_bench [--quick] [--only NAME[:K]] [--objective distance]

``--only`` keeps the instances whose name contains NAME (and, with ``:K``, that ``k``),
for instance ``--only "res 9:12"``; ``--objective`` one objective; ``--seeds`` prints
each seed's figure and CPU seconds; ``--bound`` also computes each distance plan's
Lagrangian bound as a proposal does (:func:`geo.sectorize.proposal_bound.proposal_bound`, its
default budget) and prints its CPU seconds (median / max) and the proven gap.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

import numpy as np

from bench.sector_cases import belfort_graph, synthetic_graph
from geo.metrics import deviations
from geo.pmedian import pmedian_distance
from geo.sectorize import DesignParameters, make_sectorizer
from geo.sectorize.proposal_bound import proposal_bound
from geo.unit_graph import UnitGraph

SEEDS = range(5)
TOLERANCE = 0.05
#: Exact optima (or best bounds found, marked ≤) of issue 25's table, in metres.
OPTIMA: dict[tuple[str, int], tuple[float, bool]] = {
    ("6 km, res 8", 4): (1077.8, True),
    ("6 km, res 8", 8): (765.1, True),
    ("Belfort, res 8", 4): (966.4, True),
    ("Belfort, res 8", 8): (689.1, True),
    ("14 km, res 8", 8): (1326.0, False),
    ("14 km, res 8", 12): (1106.3, False),
}


#: The same with small communes kept whole (the exact mode on the engine's atoms): proven
#: optima (Belfort res 8, k = 8: ``python -m bench.exact_bench --only b8-8``; a lower bound
#: only would be marked ≥).
WHOLE_OPTIMA: dict[tuple[str, int], tuple[float, bool]] = {
    ("6 km, res 8", 4): (1112.5, True),
    ("Belfort, res 8", 4): (986.8, True),
    ("Belfort, res 8", 8): (754.8, True),
}


def instances(quick: bool) -> list[tuple[str, UnitGraph, tuple[int, ...]]]:
    out = [
        ("6 km, res 8", synthetic_graph(8, side_m=6_000)[0], (4, 8)),
        ("Belfort, res 8", belfort_graph(8), (4, 8)),
        ("14 km, res 8", synthetic_graph(8, side_m=14_000)[0], (8, 12)),
    ]
    if not quick:
        out.append(("Belfort, res 9", belfort_graph(9), (4, 8, 12)))
    return out


def run(
    graph: UnitGraph, k: int, objective: str, whole: float, bound: bool = False
) -> tuple[list[float], ...]:
    """p-median (m), max deviation and CPU seconds of each seed (and, with ``bound``,
    the CPU seconds of the plan's bound and its proven gap)."""
    distance, deviation, cpu, bound_cpu, gaps = [], [], [], [], []
    for seed in SEEDS:
        params = DesignParameters(
            k=k,
            seed=seed,
            objective=objective,
            whole_commune_population=whole,  # type: ignore[arg-type]
        )
        start = time.process_time()
        plan = make_sectorizer(params).solve(graph, rng=params.rng())
        cpu.append(time.process_time() - start)
        distance.append(pmedian_distance(graph.centroids, graph.workload, plan.assignment, k))
        deviation.append(float(np.abs(deviations(plan.workloads)).max()))
        if bound:
            start = time.process_time()
            found = proposal_bound(plan, whole_commune_population=whole)
            bound_cpu.append(time.process_time() - start)
            lower = found.lower_m if found.lower_m is not None else float("nan")
            gaps.append(1 - lower / found.objective_m)
    return distance, deviation, cpu, bound_cpu, gaps


def gap(value: float, key: tuple[str, int], whole: bool = False) -> str:
    table = WHOLE_OPTIMA if whole else OPTIMA
    if key not in table:
        return "—"
    optimum, proven = table[key]
    mark = " (vs ≥)" if whole else " (vs ≤)"
    return f"{100 * (value / optimum - 1):+.1f} %" + ("" if proven else mark)


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    only = _option(args, "--only")
    only_name, _, only_k = (only or "").partition(":")
    objectives = [_option(args, "--objective") or "boundary", "distance"]
    if "--objective" in args:
        objectives = objectives[:1]
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print(
        "| instance | units | k | communes whole | objective | p-median best / worst of 5 (m) "
        "| gap best / worst | max deviation (worst) | in band | CPU s (median / max) |"
    )
    print("|---|--:|--:|---|---|---|---|--:|--:|--:|")
    for name, graph, ks in instances("--quick" in args):
        if only_name not in name:
            continue
        for k in ks:
            if only_k and int(only_k) != k:
                continue
            for whole in (10_000.0, 0.0):
                for objective in objectives:
                    with_bound = "--bound" in args and objective == "distance"
                    d, dev, cpu, bcpu, bgap = run(graph, k, objective, whole, with_bound)
                    if "--seeds" in args:
                        print(" · ".join(f"{x:.1f} ({c:.2f})" for x, c in zip(d, cpu, strict=True)))
                    band = sum(x <= TOLERANCE + 1e-9 for x in dev)
                    print(
                        f"| {name} | {graph.n} | {k} | {'yes' if whole else 'no'} | {objective} "
                        f"| {min(d):,.0f} / {max(d):,.0f} "
                        f"| {gap(min(d), (name, k), bool(whole))} "
                        f"/ {gap(max(d), (name, k), bool(whole))} "
                        f"| {100 * max(dev):.1f} % | {band}/5 "
                        f"| {float(np.median(cpu)):.2f} / {max(cpu):.2f} |",
                        flush=True,
                    )
                    if with_bound:
                        print(
                            f"bound: CPU s {float(np.median(bcpu)):.2f} / {max(bcpu):.2f}, "
                            f"proven gap {100 * min(bgap):.1f} … {100 * max(bgap):.1f} %",
                            flush=True,
                        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
