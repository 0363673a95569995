"""The large-neighbourhood search on the exact mode's best plan (``geo.sectorize.lns``):
from any plan in the band it only improves, keeps the plan of one piece and in the band,
and where a neighbourhood is the whole plan it ends on the brute-force optimum, even when
the sub-model meets solutions in pieces first."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import geo.sectorize.exact as exact
import geo.sectorize.hess as hess
import geo.sectorize.lns as lns
import geo.sectorize.root as root
from geo.metrics import components_per_sector
from geo.plan import SectorPlan, UnitGraph, sector_names
from geo.sectorize.base import Progress, Sectorizer, no_progress
from geo.sectorize.bound import build_instance
from geo.sectorize.hess import contiguous
from tests.geo.test_exact import LOADS as GRID_LOADS
from tests.geo.test_exact import TOLERANCE as GRID_TOLERANCE
from tests.geo.test_exact import feasible_plans
from tests.geo.test_exact_rounds import C_SHAPE, LOADS, c_shape, no_separators
from tests.geo.test_sectorize import square_grid


def test_whole_plan_as_neighbourhood_reaches_the_brute_force_optimum() -> None:
    # 3 x 3 grid, k = 3: the neighbourhood of the three sectors is the whole plan, so
    # the search must end on the optimum, from the worst plan in the band.
    graph = square_grid(3, 3, GRID_LOADS)
    inst = build_instance(graph, 3, tolerance=GRID_TOLERANCE)
    assert inst.atoms.n == graph.n
    plans = list(feasible_plans(graph, 3, GRID_TOLERANCE, every_labelling=False))
    worst, worst_value = max(plans, key=lambda p: p[1])
    best_value = min(value for _, value in plans)
    assert worst_value > best_value + 1
    start = np.empty(inst.atoms.n, dtype=int)
    start[inst.atoms.of] = worst
    for stop in ({"going": lambda: False}, {"deadline": 0.0}):  # cancelled, or past the time
        stopped = lns.Search()
        kept = lns.improve(inst, (start, worst_value), 60.0, search=stopped, **stop)  # type: ignore[arg-type]
        assert kept[1] == worst_value and (kept[0] == start).all() and stopped.models == 0
    search = lns.Search()
    plan, value = lns.improve(inst, (start, worst_value), 60.0, search=search)
    assert value == pytest.approx(best_value, rel=1e-9)
    assert value == pytest.approx(inst.objective(plan), rel=1e-12)
    assert contiguous(inst, plan)
    loads = np.bincount(plan, weights=inst.atoms.weight, minlength=3)
    assert ((loads >= inst.lo - 1e-9) & (loads <= inst.hi + 1e-9)).all()
    assert search.improved >= 1
    # the optimum is proven for every neighbourhood: a second search models none
    again = lns.Search(proven=dict(search.proven))
    assert lns.improve(inst, (plan, value), 60.0, search=again)[1] == value
    assert again.models == 0


def test_separators_of_solutions_in_pieces_make_the_repartition_of_one_piece(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the model's rings, the C's sub-model first puts its two tips (near on the
    # ground, six edges apart) together; the separators must mend it.
    monkeypatch.setattr(hess, "RINGS", 0)
    monkeypatch.setattr(hess, "RINGS_AROUND_CENTRE", 0)
    graph = c_shape()
    k, tolerance = 3, 0.4
    inst = build_instance(graph, k, tolerance=tolerance)
    plans = list(feasible_plans(graph, k, tolerance, every_labelling=False))
    best_value = min(value for _, value in plans)
    cut: list[int] = []
    separators = lns.integral_separators

    def spy(*args: object) -> tuple[list[list[int]], list[list[float]]]:
        rows, coefs = separators(*args)  # type: ignore[arg-type]
        cut.append(len(rows))
        return rows, coefs

    monkeypatch.setattr(lns, "integral_separators", spy)
    members = np.arange(inst.atoms.n)
    found, value = lns.repartition(inst, members, k, np.inf, 60.0)
    assert cut[0] > 0 and cut[-1] == 0  # met in pieces first, then of one piece
    assert found is not None
    plan = np.empty(inst.atoms.n, dtype=int)
    plan[members] = found
    assert contiguous(inst, plan)
    assert value == pytest.approx(best_value, rel=1e-9)
    assert inst.objective(plan) == pytest.approx(best_value, rel=1e-9)
    assert len(C_SHAPE) == len(LOADS) == graph.n


def test_the_exact_mode_polishing_every_round_still_ends_on_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The 3 x 3 grid from its worst plan, without rings nor root separators: rounds stop
    # on solutions in pieces; with a polish due at every stop (and the columns over the
    # polished plan's value fixed to 0), the search still ends on the brute-force
    # optimum, proven.
    monkeypatch.setattr(hess, "RINGS", 0)
    monkeypatch.setattr(hess, "RINGS_AROUND_CENTRE", 0)
    monkeypatch.setattr(root, "fractional_separators", no_separators)
    monkeypatch.setattr(exact, "RESTART_GAP", 1e9)
    monkeypatch.setattr(exact, "POLISH_GAIN", -1.0)  # always due
    polished: list[float] = []
    polish = exact._Solver._polish

    def spy(self: exact._Solver, h: Any) -> bool:
        ran = polish(self, h)
        if ran:
            assert self.best is not None and self.pair_bound is not None
            polished.append(self.best[1])
        return ran

    monkeypatch.setattr(exact._Solver, "_polish", spy)
    graph = square_grid(3, 3, GRID_LOADS)
    k, tolerance = 3, GRID_TOLERANCE
    plans = list(feasible_plans(graph, k, tolerance, every_labelling=False))
    expected = min(value for _, value in plans)
    worst, worst_value = max(plans, key=lambda p: p[1])

    class Worst(Sectorizer):  # the warm start: the worst plan in the band
        def solve(
            self,
            graph: UnitGraph,
            *,
            rng: np.random.Generator,  # noqa: ARG002
            progress: Progress = no_progress,  # noqa: ARG002
        ) -> SectorPlan:
            return SectorPlan(graph=graph, assignment=worst, names=sector_names(k))

    plan = exact.ExactDesign(k, tolerance=tolerance, time_limit=20, warm_start=Worst()).solve(
        graph, rng=np.random.default_rng(0)
    )
    assert polished and polished[0] < worst_value - 1
    assert plan.bound is not None and plan.bound.status == "optimal"
    assert plan.bound.objective_m == pytest.approx(expected, rel=1e-9)
    assert plan.bound.lower_m == pytest.approx(expected, rel=1e-9)
    assert not plan.violations and (components_per_sector(plan) == 1).all()
