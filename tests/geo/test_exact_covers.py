"""Cover cuts on the balance rows of the exact mode (geo/sectorize/covers.py): found on a
hand-made point, and never violated by a balanced plan of one piece (every plan of a 3 x 3
grid enumerated, with every choice of centres), so they never remove the optimum."""

from __future__ import annotations

import numpy as np
import pytest

from geo.sectorize.bound import build_instance
from geo.sectorize.covers import cover_cuts
from geo.sectorize.hess import hess_model
from tests.geo.test_exact import LOADS, TOLERANCE, feasible_plans
from tests.geo.test_sectorize import square_grid


def test_upper_and_lower_covers_of_a_line() -> None:
    # A line 0 - 1 - 2 - 3 of loads 2, 1, 1, 2 in two sectors of exactly 3 (band [3, 3]),
    # served from unit 0 (load 2): the other units may add 1 at most, and must add 1.
    line = square_grid(4, 1, np.array([2.0, 1.0, 1.0, 2.0]))
    inst = build_instance(line, 2, tolerance=0.0)
    assert (inst.lo, inst.hi) == (3.0, 3.0)
    _, var, home = hess_model(inst, np.array([0]))
    live = np.ones(int(var.max()) + 1, dtype=bool)
    # Units 1 and 2 at 0.8 each add 1.6 > 1: the cover {1, 2}, extended by unit 3 (as heavy
    # as its heaviest), gives x1 + x2 + x3 ≤ (2 - 1)·y, violated by 1.6 - 1 = 0.6. The
    # units 1, 2, 3 together hold 4 of it; the lower cover {1, 2, 3} (without all of them
    # 0 remains: under 1) asks x1 + x2 + x3 ≥ y = 1, met by 1.6.
    x = np.array([[1.0], [0.8], [0.8], [0.0]])
    rows, coefs = cover_cuts(inst, var, home, x, live)
    assert rows == [[var[1, 0], var[2, 0], var[3, 0], var[0, 0]]]
    assert coefs == [[1.0, 1.0, 1.0, -1.0]]
    # With 0.3 and 0.2 no upper cover is violated (unit 3 alone is a cover, at 0) and the
    # lower cover is: 0.5 < 1, the row y - x3 - x2 - x1 ≤ 0 (unit 3 first: least x per load).
    x = np.array([[1.0], [0.3], [0.2], [0.0]])
    rows, coefs = cover_cuts(inst, var, home, x, live)
    assert rows == [[var[0, 0], var[3, 0], var[2, 0], var[1, 0]]]
    assert coefs == [[1.0, -1.0, -1.0, -1.0]]
    # A pair fixed to 0 (unit 3) no longer counts in the lower cover: {1, 2} suffices.
    live[var[3, 0]] = False
    rows, _ = cover_cuts(inst, var, home, x, live)
    assert rows == [[var[0, 0], var[2, 0], var[1, 0]]]


@pytest.mark.parametrize(("k", "tolerance"), [(2, 0.4), (3, TOLERANCE)])
def test_no_balanced_plan_violates_a_cover(k: int, tolerance: float) -> None:
    grid = square_grid(3, 3, LOADS)
    inst = build_instance(grid, k, tolerance=tolerance)
    centres = np.arange(grid.n)
    _, var, home = hess_model(inst, centres)
    live = np.ones(int(var.max()) + 1, dtype=bool)
    rng = np.random.default_rng(0)
    cuts: dict[tuple[int, ...], list[float]] = {}
    for _ in range(300):  # fractional points, as sparse and as dense as a relaxation's
        x = rng.random(var.shape) * (rng.random(var.shape) < rng.random())
        x[home, centres] = rng.random(grid.n)
        for row, coef in zip(*cover_cuts(inst, var, home, x, live), strict=True):
            cuts[tuple(row)] = coef
    assert len(cuts) > 50
    matrix = np.zeros((len(cuts), int(var.max()) + 1))
    for i, (row, coef) in enumerate(cuts.items()):
        matrix[i, list(row)] = coef
    plans = list(feasible_plans(grid, k, tolerance, every_labelling=False))
    assert plans
    checked = 0
    for plan, _ in plans:
        members = [np.flatnonzero(plan == s) for s in range(k)]
        # every choice of a centre in each sector is a solution of the model
        for choice in np.array(np.meshgrid(*members)).T.reshape(-1, k):
            value = np.zeros(matrix.shape[1])
            value[var[np.arange(grid.n), choice[plan]]] = 1.0
            assert (matrix @ value <= 1e-9).all()
            checked += 1
    assert checked > len(plans)
