"""The p-median benchmark of issue 25: the engine (5 seeds), the exact mode (HiGHS) and the
Lagrangian bound, side by side, on the issue's instances.

Every figure is :func:`geo.pmedian.pmedian_distance` (workload-weighted mean distance from
each unit's centroid to its sector's median unit, metres), ±5 % balance, contiguity over
the unit graph, small communes kept whole (as every proposal): the exact mode's atoms are
the engine's. The synthetic territories are fictitious (:mod:`bench.sector_cases`).

    .venv/bin/python -m bench.exact_bench [--time-limit 120] [--only b8-8,s14-12]

prints a Markdown table (paste it into ``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.sector_cases import belfort_graph, synthetic_graph
from geo.errors import InfeasibleDesignError
from geo.plan import UnitGraph
from geo.pmedian import pmedian_distance
from geo.sectorize import DesignParameters, make_sectorizer
from geo.sectorize.bound import build_instance, lagrangian_bound

TOLERANCE = 0.05
SEEDS = range(5)

GRAPHS: dict[str, tuple[str, Callable[[], UnitGraph]]] = {
    "s6": ("synthetic 6 km, res 8", lambda: synthetic_graph(8, side_m=6_000)[0]),
    "b8": ("Belfort CSP, res 8", lambda: belfort_graph(8)),
    "s14": ("synthetic 14 km, res 8", lambda: synthetic_graph(8, side_m=14_000)[0]),
    "b9": ("Belfort CSP, res 9", lambda: belfort_graph(9)),
}
CASES = [("s6", 4), ("s6", 8), ("b8", 4), ("b8", 8), ("b8", 12), ("s14", 8), ("s14", 12)]
CASES += [("b9", 4), ("b9", 8), ("b9", 12)]


@dataclass
class Row:
    name: str
    units: int
    atoms: int
    k: int
    heuristic: str
    exact: str
    bound: str


def _m(value: float) -> str:
    return f"{value:,.1f}".replace(",", " ")


def heuristic(graph: UnitGraph, k: int) -> tuple[float | None, str]:
    """The engine over 5 seeds: best in-band objective, how many seeds in band, time."""
    values, in_band, times, worst = [], 0, [], 0.0
    for seed in SEEDS:
        params = DesignParameters(k=k, tolerance=TOLERANCE, seed=seed)
        started = time.monotonic()
        try:
            plan = make_sectorizer(params).solve(graph, rng=params.rng())
        except InfeasibleDesignError:
            times.append(time.monotonic() - started)
            continue
        times.append(time.monotonic() - started)
        deviation = plan.metrics.max_deviation
        worst = max(worst, deviation)
        if deviation <= TOLERANCE + 1e-9 and plan.metrics.contiguous:
            in_band += 1
            values.append(pmedian_distance(graph.centroids, graph.workload, plan.assignment, k))
    best = min(values) if values else None
    text = f"{_m(best)} m" if best is not None else "none in band"
    text += f" ({in_band}/5 in band"
    text += f", worst {worst:.1%}" if in_band < 5 and worst else ""
    return best, text + f"; {max(times):.2f} s max)"


def run(name: str, k: int, time_limit: float) -> Row:
    title, make = GRAPHS[name]
    graph = make()
    best, heuristic_text = heuristic(graph, k)
    try:
        inst = build_instance(graph, k, tolerance=TOLERANCE)
        atoms = inst.atoms.n
        lag = lagrangian_bound(inst, upper=best, budget_s=2.0)
        bound = f"{_m(lag.lower)} m ({lag.seconds:.1f} s)"
    except InfeasibleDesignError as exc:
        return Row(title, graph.n, 0, k, heuristic_text, f"infeasible: {exc}", "—")
    params = DesignParameters(k=k, tolerance=TOLERANCE, method="exact", time_limit=time_limit)
    started, cpu = time.monotonic(), time.process_time()
    try:
        plan = make_sectorizer(params).solve(graph, rng=params.rng())
        seconds = time.monotonic() - started
        cpu = time.process_time() - cpu  # every thread: compare runs under another load
        assert plan.bound is not None
        b = plan.bound
        if b.status == "optimal":
            exact = f"{_m(b.objective_m or 0)} m, proven optimal, {seconds:.1f} s"
        else:
            exact = (
                f"≤ {_m(b.objective_m or 0)} m, gap {(b.gap or 0):.1%} "
                f"(lower {_m(b.lower_m or 0)} m) at {seconds:.0f} s"
            )
        exact += f" ({cpu:.1f} s CPU, load {os.getloadavg()[0]:.1f})"
        if best is not None and b.objective_m:
            heuristic_text += f", {(best - b.objective_m) / b.objective_m:+.1%} vs exact"
    except InfeasibleDesignError as exc:
        exact = f"{exc} ({time.monotonic() - started:.0f} s)"
    return Row(title, graph.n, atoms, k, heuristic_text, exact, bound)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--only", default="", help="cases as name-k, comma-separated")
    args = parser.parse_args()
    cases = CASES
    if args.only:
        wanted = {tuple(c.split("-")) for c in args.only.split(",")}
        cases = [(n, k) for n, k in CASES if (n, str(k)) in wanted]
    print(
        "| instance | units | atoms | k | engine, best of 5 seeds in band | "
        f"exact (HiGHS, limit {args.time_limit:.0f} s) | Lagrangian bound (2 s) |"
    )
    print("|---|--:|--:|--:|---|---|---|")
    np.seterr(all="ignore")
    for name, k in cases:
        row = run(name, k, args.time_limit)
        print(
            f"| {row.name} | {row.units} | {row.atoms} | {row.k} | {row.heuristic} | "
            f"{row.exact} | {row.bound} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
