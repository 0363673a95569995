"""Variable fixing of the exact mode (geo/sectorize/fixing.py) never removes a plan that
could be optimal: checked on every balanced plan of one piece of a 3 x 3 grid, enumerated,
and by solving with and without fixing."""

from __future__ import annotations

import numpy as np
import pytest

from geo.pmedian import median_centres
from geo.sectorize import RegionGrowth
from geo.sectorize.bound import build_instance, lagrangian_bound
from geo.sectorize.exact import ExactDesign
from geo.sectorize.fixing import (
    assignment_bounds,
    connected_to_home,
    path_weights,
    reach_mask,
    restricted,
)
from geo.sectorize.hess import hess_model
from geo.sectorize.separation import fractional_separators
from tests.geo.test_exact import LOADS, TOLERANCE, brute_force, feasible_plans
from tests.geo.test_sectorize import square_grid


@pytest.fixture(scope="module")
def grid():  # type: ignore[no-untyped-def]
    return square_grid(3, 3, LOADS)


def test_the_reach_of_a_sector_is_its_lightest_path(grid) -> None:  # type: ignore[no-untyped-def]
    # Loads row by row: 3 1 2 / 1 4 1 / 2 1 3. From corner 0 to corner 8 the lightest path
    # goes round the heavy centre: 0, 1, 2, 5, 8 or 0, 3, 6, 7, 8, both 3+1+2+1+3 = 10.
    inst = build_instance(grid, 3, tolerance=TOLERANCE)
    paths = path_weights(inst)
    assert paths[0, 8] == pytest.approx(10.0)
    assert paths[0, 4] == pytest.approx(3 + 1 + 4)
    assert paths[4, 4] == pytest.approx(4.0)
    # Band 6 ± 25 % = [4.5, 7.5]: from unit 0, atoms 1 (3+1) and 2 (3+1+2) are within
    # reach; the centre (3+1+4 = 8) and corner 8 (10) are not.
    reach = reach_mask(inst)
    assert reach[1, 0] and reach[2, 0]
    assert not reach[4, 0] and not reach[8, 0] and not reach[0, 8]


@pytest.mark.parametrize(("k", "tolerance"), [(2, 0.4), (3, TOLERANCE)])
def test_no_balanced_plan_loses_its_assignments(grid, k: int, tolerance: float) -> None:  # type: ignore[no-untyped-def]
    inst = build_instance(grid, k, tolerance=tolerance)
    reach = reach_mask(inst)
    lag = lagrangian_bound(restricted(inst, reach), budget_s=0.5)
    bounds = assignment_bounds(restricted(inst, reach), lag)
    plans = list(feasible_plans(grid, k, tolerance, every_labelling=False))
    assert plans
    best = min(value for _, value in plans)
    assert lag.lower <= best + 1e-9
    # Keep what the exact mode keeps with the optimum as its best plan known.
    keep = reach & (bounds <= best * (1 + 1e-7) + 1e-9)
    centres = np.flatnonzero(keep[inst.home, np.arange(grid.n)])
    kept = connected_to_home(inst, keep[:, centres], centres)
    assert kept.sum() < grid.n * grid.n  # something was fixed
    column = {int(c): j for j, c in enumerate(centres)}
    for plan, value in plans:
        medians, _ = median_centres(grid.centroids, grid.workload, plan, k)
        served = medians[plan]
        # every assignment of every plan is within reach, and bounded by its value
        assert reach[np.arange(grid.n), served].all()
        assert (bounds[np.arange(grid.n), served] <= value * (1 + 1e-9) + 1e-9).all()
        if value <= best + 1e-9:  # the optimum's assignments survive all the fixing
            assert all(kept[a, column[int(c)]] for a, c in enumerate(served))


def test_the_optimum_is_the_same_with_and_without_fixing(grid) -> None:  # type: ignore[no-untyped-def]
    for k, tolerance in ((2, 0.4), (3, TOLERANCE)):
        expected, _ = brute_force(grid, k, tolerance)
        values = []
        for fixing in (True, False):
            plan = ExactDesign(
                k,
                tolerance=tolerance,
                time_limit=5,
                warm_start=RegionGrowth(k, tolerance=tolerance),
                fixing=fixing,
            ).solve(grid, rng=np.random.default_rng(0))
            assert plan.bound is not None and plan.bound.status == "optimal"
            values.append(plan.bound.objective_m)
        assert values[0] == pytest.approx(expected, rel=1e-9)
        assert values[1] == pytest.approx(expected, rel=1e-9)


def test_the_relaxation_s_violated_separators_are_found() -> None:
    # A line of five units 0 - 1 - 2 - 3 - 4 served from unit 0, where the relaxation
    # serves 3 and 4 fully but 2 only at 0.1: the least separator of 3 (and of 4) from
    # unit 0 is {2}, worth 0.1 < 1, so x[3, 0] ≤ x[2, 0] and x[4, 0] ≤ x[2, 0] are cut.
    # Unit 2's own separator {1} is worth 1 ≥ 0.1, and unit 1 touches the centre: no cut.
    line = square_grid(5, 1, np.ones(5))
    inst = build_instance(line, 2, tolerance=0.5)
    _, var, home = hess_model(inst, np.array([0]))
    x = np.array([[1.0], [1.0], [0.1], [1.0], [1.0]])
    rows, coefs = fractional_separators(inst, var, home, x)
    assert sorted(rows) == [[var[3, 0], var[2, 0]], [var[4, 0], var[2, 0]]]
    assert coefs == [[1.0, -1.0], [1.0, -1.0]]
    x[2, 0] = 1.0  # nothing violated any more
    assert fractional_separators(inst, var, home, x) == ([], [])
