"""The exact mode and the bound on every proposal: optimum, proof of infeasibility, locks,
time limit, and the Lagrangian bound, checked against brute-force enumeration."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import numpy as np
import pytest

from geo.errors import InfeasibleDesignError, InvalidInputError, PsqError
from geo.grid import cell_attributes, tessellate, workload
from geo.metrics import components_per_sector, french_percent
from geo.plan import SectorPlan, UnitGraph
from geo.pmedian import pmedian_distance
from geo.sectorize import DesignParameters, RegionGrowth, make_sectorizer
from geo.sectorize.bound import (
    MAX_EXACT_UNITS,
    build_instance,
    check_exact_size,
    lagrangian_bound,
)
from geo.sectorize.exact import ExactDesign
from geo.sectorize.hess import repair
from geo.sectorize.proposal_bound import proposal_bound
from tests.geo.test_sectorize import square_grid

#: A 3 x 3 grid, ids ``x-y`` row-major; loads chosen so that the optimum is unique.
LOADS = np.array([3.0, 1, 2, 1, 4, 1, 2, 1, 3])
TOLERANCE = 0.25


@pytest.fixture(scope="module")
def grid() -> UnitGraph:
    return square_grid(3, 3, LOADS)


def feasible_plans(
    graph: UnitGraph,
    k: int,
    tolerance: float,
    fixed: dict[int, int] | None = None,
    *,
    every_labelling: bool = True,
) -> Iterator[tuple[np.ndarray, float]]:
    """Every assignment of the units to ``k`` sectors balanced within ``tolerance``, each
    sector of one piece, ``fixed`` positions held, with its p-median value; one labelling
    of each partition only unless ``every_labelling``."""
    mean = graph.workload.sum() / k
    adjacent: dict[int, set[int]] = {i: set() for i in range(graph.n)}
    for a, b in graph.open_edges[["a", "b"]].itertuples(index=False):
        adjacent[int(a)].add(int(b))
        adjacent[int(b)].add(int(a))
    for labels in itertools.product(range(k), repeat=graph.n):
        if not every_labelling and labels[0] != 0:
            continue
        plan = np.array(labels)
        if any(plan[u] != s for u, s in (fixed or {}).items()):
            continue
        loads = np.bincount(plan, weights=graph.workload, minlength=k)
        if (np.abs(loads - mean) > tolerance * mean + 1e-9).any():
            continue
        if not all(_connected(np.flatnonzero(plan == s), adjacent) for s in range(k)):
            continue
        yield plan, pmedian_distance(graph.centroids, graph.workload, plan, k)


def brute_force(
    graph: UnitGraph, k: int, tolerance: float, fixed: dict[int, int] | None = None
) -> tuple[float, np.ndarray]:
    """The best of :func:`feasible_plans` (the first found among equals)."""
    best, best_plan = np.inf, np.empty(0)
    for plan, value in feasible_plans(graph, k, tolerance, fixed):
        if value < best - 1e-9:
            best, best_plan = value, plan
    return best, best_plan


def _connected(members: np.ndarray, adjacent: dict[int, set[int]]) -> bool:
    if not len(members):
        return False
    inside, seen, stack = set(members.tolist()), {int(members[0])}, [int(members[0])]
    while stack:
        for b in adjacent[stack.pop()] & inside:
            if b not in seen:
                seen.add(b)
                stack.append(b)
    return len(seen) == len(inside)


def test_exact_finds_the_brute_force_optimum_with_its_proof(grid: UnitGraph) -> None:
    expected, _ = brute_force(grid, 3, TOLERANCE)
    plan = ExactDesign(3, tolerance=TOLERANCE, time_limit=20).solve(
        grid, rng=np.random.default_rng(0)
    )
    assert plan.bound is not None and plan.bound.status == "optimal"
    assert plan.bound.sentence().startswith("optimum prouvé")
    assert plan.bound.objective_m == pytest.approx(expected, rel=1e-9)
    assert pmedian_distance(grid.centroids, grid.workload, plan.assignment, 3) == pytest.approx(
        expected, rel=1e-9
    )
    assert (components_per_sector(plan) == 1).all()
    assert plan.metrics.max_deviation <= TOLERANCE + 1e-9
    assert not plan.violations

    # The bound of a heuristic proposal is below the optimum, and its sentence says
    # X = (objective - bound) / objective.
    heuristic = RegionGrowth(3, tolerance=TOLERANCE).solve(grid, rng=np.random.default_rng(1))
    bound = proposal_bound(heuristic, tolerance=TOLERANCE, whole_commune_population=10_000)
    assert bound.status == "bound" and bound.lower_m is not None
    assert bound.lower_m <= expected + 1e-9
    objective = pmedian_distance(grid.centroids, grid.workload, heuristic.assignment, 3)
    assert bound.objective_m == pytest.approx(objective)
    gap = (objective - bound.lower_m) / objective
    assert bound.gap == pytest.approx(gap)
    assert f"à au plus {french_percent(gap)} du meilleur plan possible" in bound.sentence()


def test_stopped_before_its_first_bound_it_keeps_its_plan_without_a_bound(
    grid: UnitGraph,
) -> None:
    """A cancel at the first report of the search (the warm start's plan held, no bound
    yet): the plan is kept, its bound says none was reached (no infinite bound stored)."""

    def cancel_at_the_search(_fraction: float, stage: str) -> None:
        if stage.startswith("exact:"):
            raise PsqError("job_cancelled")

    params = DesignParameters(k=3, method="exact", tolerance=TOLERANCE, time_limit=20)
    plan = make_sectorizer(params).solve(grid, rng=params.rng(), progress=cancel_at_the_search)
    assert plan.bound is not None and plan.bound.status == "none"
    assert plan.bound.lower_m is None and plan.bound.gap is None
    assert plan.bound.sentence() == "borne non calculée (recherche arrêtée avant la première borne)"
    assert plan.bound.objective_m == pytest.approx(
        pmedian_distance(grid.centroids, grid.workload, plan.assignment, 3)
    )


def test_locks_and_seeds_are_honoured(grid: UnitGraph) -> None:
    # Seed 0-0 (position 0) heads sector 0; units 2-2 and 2-0 (positions 8, 2) are
    # locked to sector 1 (the unconstrained optimum puts them apart).
    expected, _ = brute_force(grid, 3, TOLERANCE, fixed={0: 0, 8: 1, 2: 1})
    assert expected > brute_force(grid, 3, TOLERANCE)[0] + 1
    plan = ExactDesign(
        3, tolerance=TOLERANCE, seeds=["0-0"], locked={"2-2": 1, "2-0": 1}, time_limit=20
    ).solve(grid, rng=np.random.default_rng(0))
    assert plan.assignment[0] == 0 and plan.assignment[8] == plan.assignment[2] == 1
    assert plan.seed_units[0] == 0
    assert plan.bound is not None and plan.bound.status == "optimal"
    assert plan.bound.objective_m == pytest.approx(expected, rel=1e-9)


def test_contiguity_alone_makes_it_impossible_and_the_solver_proves_it() -> None:
    # A line of three units 1, 2, 1 in two sectors of exactly 2: only {middle} and
    # {both ends} balance, and the ends do not touch.
    line = square_grid(3, 1, np.array([1.0, 2.0, 1.0]))
    assert brute_force(line, 2, 0.0)[0] == np.inf
    with pytest.raises(InfeasibleDesignError) as error:
        ExactDesign(2, tolerance=0.0, time_limit=10).solve(line, rng=np.random.default_rng(0))
    assert str(error.value) == (
        "aucun découpage en 2 secteurs d'un seul tenant ne tient l'équilibre de "
        "±0,0\u202f% : preuve du solveur"
    )


def test_the_lagrangian_bound_is_below_the_optimum_of_each_k(grid: UnitGraph) -> None:
    for k in (2, 3):
        expected, _ = brute_force(grid, k, 0.4)
        inst = build_instance(grid, k, tolerance=0.4)
        assert lagrangian_bound(inst, budget_s=1.0).lower <= expected + 1e-9


def test_the_lagrangian_budget_in_cpu_seconds_changes_the_stop_not_the_bound(
    grid: UnitGraph,
) -> None:
    # The exact mode's fixing counts its budget in CPU seconds (the same iterations under
    # any load): with a budget no run reaches, both clocks give the same iterations.
    expected, _ = brute_force(grid, 3, 0.4)
    inst = build_instance(grid, 3, tolerance=0.4)
    wall = lagrangian_bound(inst, budget_s=60.0, max_iterations=25)
    cpu = lagrangian_bound(inst, budget_s=60.0, max_iterations=25, clock=time.process_time)
    assert cpu.iterations == wall.iterations and cpu.lower == wall.lower <= expected + 1e-9
    # An exhausted budget stops after the first iteration.
    assert lagrangian_bound(inst, budget_s=-1.0, clock=time.process_time).iterations == 1


@pytest.fixture(scope="module")
def belfort8(belfort: tuple, filosofi: object) -> UnitGraph:  # type: ignore[type-arg]
    """The Belfort CSP's 112 H3 cells of resolution 8."""
    communes, csp = belfort
    cells = cell_attributes(tessellate(csp, 8), communes, filosofi)  # type: ignore[arg-type]
    cells["workload"] = workload(cells)
    return UnitGraph.from_cells(cells)


def test_the_time_limit_keeps_the_best_plan_with_its_proven_gap(belfort8: UnitGraph) -> None:
    params = DesignParameters(k=8, method="exact", time_limit=1)
    plan = make_sectorizer(params).solve(belfort8, rng=params.rng())
    assert isinstance(plan, SectorPlan) and plan.bound is not None
    assert plan.bound.status == "gap" and plan.bound.gap is not None and plan.bound.gap > 0
    assert plan.bound.lower_m is not None and plan.bound.lower_m < plan.bound.objective_m  # type: ignore[operator]
    assert plan.bound.sentence().startswith("meilleur plan trouvé, à au plus ")
    assert not plan.violations and (components_per_sector(plan) == 1).all()
    # The heuristic's Lagrangian bound is a bound of the same optimum: below the best plan.
    assert plan.bound.objective_m == pytest.approx(
        pmedian_distance(belfort8.centroids, belfort8.workload, plan.assignment, 8)
    )


def test_grids_too_large_for_the_exact_mode_are_refused_naming_the_method() -> None:
    check_exact_size(MAX_EXACT_UNITS)
    with pytest.raises(InvalidInputError, match=r"le mode exact est limité à 1"):
        check_exact_size(MAX_EXACT_UNITS + 1)


def test_the_exact_mode_shares_out_the_sectors_itself() -> None:
    params = DesignParameters(k=3, method="exact", sectors_per_part=(3,))
    with pytest.raises(InvalidInputError, match=r"le mode exact répartit lui-même"):
        make_sectorizer(params)


def test_a_solution_in_pieces_is_repaired_into_a_plan_of_one_piece(grid: UnitGraph) -> None:
    # Sector 0 holds units 0, 1, 2 and the stray unit 8 (loads 3 + 1 + 2 + 3 = 9); the band
    # is 6 ± 25 % = [4.5, 7.5]. Unit 8 touches sector 1 (load 6, 9 with it: too heavy) and
    # sector 2 (load 3, then 6): it joins sector 2, and every sector holds 6.
    inst = build_instance(grid, 3, tolerance=TOLERANCE)
    assert inst.atoms.of.tolist() == list(range(9))  # one atom per unit
    repaired = repair(inst, np.array([0, 0, 0, 1, 1, 1, 2, 2, 0]))
    assert repaired is not None
    assert repaired.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    # With no tolerance (band [6, 6]), sector 0 = {0, 1} + {8} (4 + 3) cannot lose unit 8
    # and stay in the band: no plan.
    exact_band = build_instance(grid, 3, tolerance=0.0)
    assert repair(exact_band, np.array([0, 0, 1, 1, 1, 1, 2, 2, 0])) is None
