"""The Dantzig-Wolfe bound (geo/sectorize/dantzig_wolfe.py) against enumeration on a 3 x 3
grid: it is the linear relaxation of the set-partitioning master over every balanced
sector (enumerated), so above the compact model's relaxation and below the optimum."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import highspy
import numpy as np
import pytest

from geo.plan import UnitGraph
from geo.sectorize import RegionGrowth, hess
from geo.sectorize.bound import Instance, build_instance
from geo.sectorize.dantzig_wolfe import Knapsacks, column_bound
from geo.sectorize.proposal_bound import proposal_bound
from tests.geo.test_exact import LOADS, brute_force, feasible_plans
from tests.geo.test_sectorize import square_grid


def every_sector_lp(inst: Instance) -> float:
    """The set-partitioning master's linear relaxation over every (centre, set of atoms
    holding it) whose workload is in the band: the Dantzig-Wolfe bound, by enumeration."""
    n_a = inst.atoms.n
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    rhs = np.r_[np.ones(n_a), float(inst.k)]
    none = np.array([], dtype=np.int32)
    h.addRows(n_a + 1, rhs, rhs, 0, np.zeros(n_a + 1, dtype=np.int32), none, np.array([]))
    for size in range(1, n_a + 1):
        for atoms in itertools.combinations(range(n_a), size):
            weight = float(inst.atoms.weight[list(atoms)].sum())
            if not inst.lo - 1e-9 <= weight <= inst.hi + 1e-9:
                continue
            for c in np.flatnonzero(np.isin(inst.home, atoms)):
                rows = np.array([*atoms, n_a], dtype=np.int32)
                cost = float(inst.cost[list(atoms), c].sum())
                h.addCol(cost, 0.0, highspy.kHighsInf, len(rows), rows, np.ones(len(rows)))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def compact_lp(inst: Instance, monkeypatch: pytest.MonkeyPatch) -> float:
    """The linear relaxation of the exact mode's Hess model without its contiguity rows
    (no rings): its balance rows relax each centre's knapsack into a continuous one."""
    monkeypatch.setattr(hess, "RINGS", 0)
    monkeypatch.setattr(hess, "RINGS_AROUND_CENTRE", 0)
    h, _, _ = hess.hess_model(inst, np.arange(inst.graph.n))
    n = h.getNumCol()
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.uint8))
    h.run()
    return float(h.getInfo().objective_function_value)


@pytest.mark.parametrize(
    ("loads", "k", "tolerance"),
    [
        (LOADS, 2, 0.4),
        (LOADS, 3, 0.25),
        # band [5, 7]: sectors of exactly 5 and 7, both off the knapsack's grid
        (LOADS, 3, 1 / 6),
        # workloads off any grid
        (np.random.default_rng(3).uniform(0.5, 4.0, 9), 3, 0.1),
        (np.random.default_rng(5).uniform(0.5, 4.0, 9), 2, 0.05),
    ],
)
def test_the_column_bound_is_the_set_partitioning_bound(
    loads: np.ndarray, k: int, tolerance: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = square_grid(3, 3, loads)
    inst = build_instance(grid, k, tolerance=tolerance)
    optimum, _ = brute_force(grid, k, tolerance)
    everything = every_sector_lp(inst)
    compact = compact_lp(inst, monkeypatch)
    found = column_bound(inst, budget_s=30.0, clock=time.process_time)
    assert found.lower <= everything + 1e-7  # a valid bound: never above the master's LP
    assert found.lower == pytest.approx(everything, rel=1e-4)  # ... and it reaches it
    assert compact - 1e-7 <= found.lower <= optimum + 1e-9
    if (k, tolerance) == (3, 0.25):  # the knapsacks bind: strictly above the compact LP
        assert found.lower > compact + 0.01 * abs(compact)


def test_a_proposal_gets_the_column_bound() -> None:
    grid: UnitGraph = square_grid(3, 3, LOADS)
    inst = build_instance(grid, 3, tolerance=0.25)
    heuristic = RegionGrowth(3, tolerance=0.25).solve(grid, rng=np.random.default_rng(1))
    bound = proposal_bound(heuristic, tolerance=0.25, whole_commune_population=10_000)
    assert bound.lower_m is not None
    assert bound.lower_m == pytest.approx(every_sector_lp(inst), rel=1e-4)
    assert bound.lower_m <= brute_force(grid, 3, 0.25)[0] + 1e-9


def test_the_knapsack_on_its_grid_never_misses_a_balanced_sector() -> None:
    """Each centre's knapsack value is at most the best balanced set's (brute force), on
    workloads off the grid and a band whose two ends are the workloads of some sets:
    rounding to the grid may not lose them."""
    rng = np.random.default_rng(7)
    grid = square_grid(3, 3, rng.uniform(0.5, 4.0, 9))
    inst = build_instance(grid, 3, tolerance=0.5, whole_commune_population=0)
    w = inst.atoms.weight
    sets = [np.array(s) for n in range(1, 10) for s in itertools.combinations(range(9), n)]
    for trial in range(20):
        ends = sorted(float(w[sets[i]].sum()) for i in rng.choice(len(sets), 2, replace=False))
        band = replace(inst, lo=ends[0], hi=ends[1])
        r = rng.normal(-1.0, 1.0, (9, 9))
        knapsacks = Knapsacks(band)
        values = knapsacks.values(r, np.arange(9))
        for c in range(9):
            home = int(inst.home[c])
            fits = [
                float(r[c, s].sum())
                for s in sets
                if home in s and ends[0] <= float(w[s].sum()) <= ends[1]
            ]
            best = min(fits, default=np.inf)
            assert values[c] <= best + 1e-9, (trial, c)
            if np.isfinite(values[c]):
                chosen = knapsacks.best_set(r[c], c)
                assert chosen[0] == home and float(r[c, chosen].sum()) == pytest.approx(values[c])


def test_a_proposal_splitting_a_small_commune_is_compared_with_every_plan() -> None:
    """Units 0 and 1 form a small commune (one atom, kept whole by the bound's instance);
    a proposal that splits it (as the engine does to reach the balance) gets the bound of
    every plan, communes split or not: at most the optimum of all plans."""
    grid = square_grid(3, 3, LOADS, communes=["A", "A"] + ["B"] * 7)
    grid.units["population"] = [50.0, 50.0] + [200_000.0] * 7
    assert build_instance(grid, 3, tolerance=0.25).atoms.n == 8  # the commune is an atom
    plans = list(feasible_plans(grid, 3, 0.25, every_labelling=False))
    split = min((p for p in plans if p[0][0] != p[0][1]), key=lambda p: p[1])
    heuristic = RegionGrowth(3, tolerance=0.25).solve(grid, rng=np.random.default_rng(1))
    proposal = replace(heuristic, assignment=split[0])
    bound = proposal_bound(proposal, tolerance=0.25)
    assert bound.lower_m is not None and bound.objective_m == pytest.approx(split[1])
    assert bound.lower_m <= min(value for _, value in plans) + 1e-9
    assert bound.lower_m == pytest.approx(
        every_sector_lp(build_instance(grid, 3, tolerance=0.25, whole_commune_population=0)),
        rel=1e-4,
    )
