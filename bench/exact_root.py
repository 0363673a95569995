"""Where the exact mode's root relaxation is weak: its centres, its split atoms, its
binding rows (issue 25, part G in ``bench/RESULTS.md``).

Builds the exact model of a benchmark case as :class:`geo.sectorize.exact.ExactDesign`
does (warm start, fixing, root sweeps of separators and covers, no probing), solves its
linear relaxation and prints the centres it opens in part, the atoms it splits between
centres and the rows whose duals are not zero, by family.

    .venv/bin/python -m bench.exact_root [--case s14-12]
"""

from __future__ import annotations

import argparse
import time

import highspy
import numpy as np

from bench.exact_bench import GRAPHS, TOLERANCE
from geo.sectorize import DesignParameters, make_sectorizer, root
from geo.sectorize import exact as exact_mode
from geo.sectorize.bound import build_instance
from geo.sectorize.exact_parts import ExactParts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="s14-12", help="name-k, as bench.exact_bench")
    args = parser.parse_args()
    name, k_text = args.case.split("-")
    k = int(k_text)
    np.seterr(all="ignore")
    graph = GRAPHS[name][1]()
    params = DesignParameters(k=k, tolerance=TOLERANCE, method="exact", time_limit=300)
    parts = make_sectorizer(params)
    assert isinstance(parts, ExactParts)  # a territory in one part: its exact model
    design = parts.exact
    inst = build_instance(graph, k, tolerance=TOLERANCE)
    start = design._warm_start(graph, inst, params.rng())
    solver = exact_mode._Solver(inst, 300.0, time.monotonic(), lambda _f, _s: None)
    solver.best = start
    solver.round_lower = solver.lower
    centres = solver._candidates(start)
    h = solver._build(centres)
    probes = root.ROOT_PROBES
    root.ROOT_PROBES = 0
    root.root_cuts(solver, h)
    root.ROOT_PROBES = probes
    n_x = h.getNumCol()
    h.changeColsIntegrality(n_x, np.arange(n_x, dtype=np.int32), np.zeros(n_x, dtype=np.uint8))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    solution = h.getSolution()
    print(f"warm start {start[1] if start else float('nan'):.1f} m, {len(centres)} centres")
    print(f"root LP {h.getInfo().objective_function_value:.1f} m, {n_x} columns")
    var, home, m = solver.var, solver.home, len(centres)
    x = np.zeros(var.shape)
    x[solver.pair_atom, solver.pair_centre] = np.asarray(solution.col_value)
    y = x[home, np.arange(m)]
    w = inst.atoms.weight
    opened = np.flatnonzero(y > 1e-3)
    print(f"centres with y > 0: {len(opened)}, at 1: {int((y > 1 - 1e-6).sum())}")
    for j in opened:
        load = float(x[:, j] @ w) / y[j]
        print(f"  unit {centres[j]}: y = {y[j]:.3f}, load / y = {load / inst.hi:.3f} hi")
    split = int(((x > 1e-3).sum(axis=1) > 1).sum())
    print(
        f"atoms split between centres: {split} of {inst.atoms.n}; lo / hi = {inst.lo / inst.hi:.3f}"
    )
    dual = np.abs(np.asarray(solution.row_dual))
    n_a = inst.atoms.n
    n_xy = int((solver.pair_atom != home[solver.pair_centre]).sum())
    edges = np.cumsum([0, n_a, 1, n_xy, m, m])
    names = ["assignment", "k centres", "x <= y", "balance (top)", "balance (bottom)"]
    for label, a, b in zip(names, edges[:-1], edges[1:], strict=True):
        print(f"  {label}: {int((dual[a:b] > 1e-7).sum())} of {b - a} rows with a dual")
    rest = dual[edges[-1] :]
    print(f"  rings, separators, covers: {int((rest > 1e-7).sum())} of {len(rest)} with a dual")


if __name__ == "__main__":
    main()
