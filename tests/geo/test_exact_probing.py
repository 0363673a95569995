"""Probing at the exact mode's root (geo/sectorize/probing.py): every plan better than the
best known (every balanced plan of one piece of a 3 x 3 grid, enumerated) keeps its
centres open and its assignments, and the best known stays in the model."""

from __future__ import annotations

import highspy
import numpy as np
import pytest

from geo.pmedian import median_centres
from geo.sectorize.bound import build_instance
from geo.sectorize.covers import cover_cuts
from geo.sectorize.hess import hess_model
from geo.sectorize.probing import probe_centres, probe_pairs
from geo.sectorize.separation import fractional_separators
from tests.geo.test_exact import LOADS, feasible_plans
from tests.geo.test_sectorize import square_grid


@pytest.mark.parametrize(("k", "tolerance", "rank"), [(2, 0.4, 3), (3, 0.25, 2)])
def test_no_plan_better_than_the_best_known_loses_a_centre_or_an_assignment(
    k: int, tolerance: float, rank: int
) -> None:
    grid = square_grid(3, 3, LOADS)
    inst = build_instance(grid, k, tolerance=tolerance)
    centres = np.arange(grid.n)
    h, var, home = hess_model(inst, centres)
    n_x = h.getNumCol()
    h.changeColsIntegrality(n_x, np.arange(n_x, dtype=np.int32), np.zeros(n_x, dtype=np.uint8))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    def columns(plan: np.ndarray) -> np.ndarray:
        """The model's solution of a plan served from its median units."""
        medians, _ = median_centres(grid.centroids, grid.workload, plan, k)
        x = np.zeros(n_x)
        x[var[np.arange(grid.n), medians[plan]]] = 1.0
        return x

    plans = sorted(feasible_plans(grid, k, tolerance, every_labelling=False), key=lambda p: p[1])
    # The best known: the plan of the given rank (a few plans are better).
    known, upper = plans[rank]
    incumbent = columns(known) > 0.5
    fixable = ~incumbent
    cost = inst.cost[:, centres][var >= 0]  # the model's objective, column by column
    assert cost @ columns(known) == pytest.approx(upper, rel=1e-9)

    def cuts(model: highspy.Highs) -> int:
        dense = np.zeros(var.shape)
        dense[var >= 0] = np.asarray(model.getSolution().col_value)
        rows, coefs = fractional_separators(inst, var, home, dense)
        more = cover_cuts(inst, var, home, dense, fixable | incumbent)
        rows, coefs = rows + more[0], coefs + more[1]
        for row, coef in zip(rows, coefs, strict=True):
            model.addRow(-np.inf, 0.0, len(row), np.array(row, dtype=np.int32), np.array(coef))
        return len(rows)

    y = var[home, np.arange(len(centres))]
    columns_of = [var[:, j][var[:, j] >= 0] for j in range(len(centres))]
    closed, opened = probe_centres(h, y, columns_of, upper, fixable, np.inf, cuts)
    assert closed > 0  # the probing removes something
    lp = h.getLp()
    low, high = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    assert int((high[y] == 0).sum()) == closed and int((low[y] == 1).sum()) == opened
    before = int((high == 0).sum())
    h.run()
    pairs = probe_pairs(h, upper, fixable, np.inf, cuts, near=1.0)  # every pair at 0
    assert pairs > 0
    lp = h.getLp()
    low, high = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    assert int((high == 0).sum()) == before + pairs
    assert not fixable[incumbent].any()
    better = [plan for plan, value in plans if value < upper * (1 - 1e-9)]
    assert better
    for plan in [known, *better]:
        x = columns(plan)
        assert (x >= low - 1e-9).all() and (x <= high + 1e-9).all()
