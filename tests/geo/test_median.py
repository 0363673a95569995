"""The exact p-median polish of the distance objective (issue 25): its moves keep every
sector of one piece and in the band and never raise the objective, its cost is the
plan's figure on units, and the engine reaches the brute-force optimum of small grids."""

from __future__ import annotations

import numpy as np
import pytest

from geo.pmedian import pmedian_distance
from geo.sectorize import RegionGrowth
from geo.sectorize.median import MedianSearch
from geo.unit_graph import UnitGraph
from tests.geo.test_exact import LOADS, TOLERANCE, _connected, brute_force
from tests.geo.test_sectorize import square_grid

#: 6 x 6 units; the 2 x 2 blocks of the four left columns are communes kept whole (six
#: atoms of four units), the units of the two right columns are free (twelve atoms).
SIDE = 6


@pytest.fixture(scope="module")
def lumpy() -> tuple[UnitGraph, RegionGrowth]:
    y, x = np.divmod(np.arange(SIDE * SIDE), SIDE)
    communes = [
        f"9{(yy // 2) * 3 + xx // 2:04d}" if xx < 4 else "90999"
        for yy, xx in zip(y.tolist(), x.tolist(), strict=True)
    ]
    loads = 1.0 + (x + 2 * y) % 5  # uneven workloads: 1 to 5
    graph = square_grid(SIDE, SIDE, loads, communes)
    population = {c: (400.0 if c != "90999" else 50_000.0) for c in set(communes)}
    engine = RegionGrowth(3, tolerance=0.1, commune_population=population)
    return graph, engine


def _search(graph: UnitGraph, engine: RegionGrowth) -> tuple[MedianSearch, np.ndarray]:
    k, target, _, atoms = engine.feasible_atoms(graph)
    fixed = np.full(atoms.n, -1)
    search = MedianSearch(
        atoms, graph.centroids, graph.workload, k, target * 0.9, target * 1.1, fixed
    )
    return search, atoms.of


def _adjacent(graph: UnitGraph) -> dict[int, set[int]]:
    adjacent: dict[int, set[int]] = {i: set() for i in range(graph.n)}
    for a, b in graph.open_edges[["a", "b"]].itertuples(index=False):
        adjacent[int(a)].add(int(b))
        adjacent[int(b)].add(int(a))
    return adjacent


def test_atoms_are_real_and_the_cost_is_the_plan_figure_on_units(
    lumpy: tuple[UnitGraph, RegionGrowth],
) -> None:
    graph, engine = lumpy
    search, of = _search(graph, engine)
    assert search.M.shape == (6 + 12, 36)
    plan = engine.solve(graph, rng=np.random.default_rng(0))
    sector = np.zeros(of.max() + 1, dtype=int)
    sector[of] = plan.assignment
    assert search.cost(sector) == pytest.approx(
        pmedian_distance(graph.centroids, graph.workload, plan.assignment, 3), rel=1e-12
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shifts_and_swaps_keep_pieces_and_band_and_never_raise_the_objective(
    lumpy: tuple[UnitGraph, RegionGrowth], seed: int
) -> None:
    """From the boundary objective's plan, each round of shifts then of swaps: every
    sector in one piece, in the band, and the p-median on units never higher."""
    graph, engine = lumpy
    search, of = _search(graph, engine)
    plan = engine.solve(graph, rng=np.random.default_rng(seed))
    sector = np.zeros(of.max() + 1, dtype=int)
    sector[of] = plan.assignment
    search.cost(sector)  # loads the state
    adjacent, target = _adjacent(graph), graph.workload.sum() / 3
    before = pmedian_distance(graph.centroids, graph.workload, plan.assignment, 3)
    moved = 0
    for _ in range(30):
        shifted = search._shift_round()
        swapped = False if shifted else search._swap_round()
        if not (shifted or swapped):
            break
        moved += 1
        units = search.sector[of]
        after = pmedian_distance(graph.centroids, graph.workload, units, 3)
        assert after <= before + 1e-9
        assert search.cur.sum() / search.total == pytest.approx(after, rel=1e-12)
        loads = np.bincount(units, weights=graph.workload, minlength=3)
        assert (np.abs(loads / target - 1) <= 0.1 + 1e-9).all()
        assert all(_connected(np.flatnonzero(units == s), adjacent) for s in range(3))
        assert (units[of == of[0]] == units[0]).all()  # an atom moves whole
        before = after
    assert moved or seed != 0  # seed 0's boundary plan is no p-median local optimum


def test_location_allocation_gives_a_plan_in_band_in_one_piece_per_sector(
    lumpy: tuple[UnitGraph, RegionGrowth],
) -> None:
    graph, engine = lumpy
    search, of = _search(graph, engine)
    corners = np.array([0, SIDE - 1, SIDE * SIDE - 1])  # far from any good plan
    found = search.locate_allocate(corners)
    assert found is not None
    sector, cost = found
    units = sector[of]
    assert cost == pytest.approx(
        pmedian_distance(graph.centroids, graph.workload, units, 3), rel=1e-12
    )
    loads = np.bincount(units, weights=graph.workload, minlength=3)
    assert (np.abs(loads / (graph.workload.sum() / 3) - 1) <= 0.1 + 1e-9).all()
    adjacent = _adjacent(graph)
    assert all(_connected(np.flatnonzero(units == s), adjacent) for s in range(3))


@pytest.mark.parametrize(
    ("nx", "ny", "loads", "k"),
    [(3, 3, LOADS, 3), (4, 3, np.array([1.0, 2, 1, 3, 2, 1, 1, 2, 3, 1, 2, 1]), 2)],
)
def test_the_distance_objective_finds_the_brute_force_optimum(
    nx: int, ny: int, loads: np.ndarray, k: int
) -> None:
    graph = square_grid(nx, ny, loads)
    expected, _ = brute_force(graph, k, TOLERANCE)
    for seed in range(3):
        plan = RegionGrowth(
            k, tolerance=TOLERANCE, whole_commune_population=0, objective="distance"
        ).solve(graph, rng=np.random.default_rng(seed))
        value = pmedian_distance(graph.centroids, graph.workload, plan.assignment, k)
        assert value == pytest.approx(expected, rel=1e-9), seed


def test_seeds_and_locks_hold_under_the_polish(lumpy: tuple[UnitGraph, RegionGrowth]) -> None:
    """Seeds head their sectors and locked units stay put through the location-allocation
    starts (their atoms are pinned in the transportation problem and never move)."""
    graph, engine = lumpy
    seeds, locked = ["5-0", "0-5", "5-5"], {"3-0": 0, "4-5": 2}
    for seed in (0, 1):
        plan = RegionGrowth(
            3,
            tolerance=0.1,
            commune_population=engine.commune_population,
            seeds=seeds,
            locked=locked,
            objective="distance",
        ).solve(graph, rng=np.random.default_rng(seed))
        sector = dict(zip(graph.units["unit"], plan.assignment.tolist(), strict=True))
        assert [sector[u] for u in seeds] == [0, 1, 2]
        assert all(sector[u] == s for u, s in locked.items())
        assert plan.metrics.max_deviation <= 0.1 + 1e-9 and plan.metrics.contiguous


def test_the_transportation_lp_allocates_within_the_band_and_follows_its_centres() -> None:
    """Four atoms on a line at 0, 1, 2, 3 km, two centres at either end, costs load times
    distance: with loads 3, 1, 1, 1 and a band of exactly 3 per centre, the heavy atom
    alone at its end is the cheapest (0 + (2 + 1 + 0) = 3 against (1 + 2 + 3) + 9 = 15;
    a fraction t of it sent to the far end costs 9t and saves at most 3t); the same
    model, the centres swapped (a warm start from the previous basis), swaps the
    sectors. Loads 1 and a band of 2, atom 0 locked to the far centre: {0, 3} there and
    {1, 2} at 0 km (3 + 0 + 1 + 2 = 6, against 8 and 10). A band no allocation meets:
    None."""
    from geo.sectorize.transport import Transport

    position = np.array([0.0, 1.0, 2.0, 3.0])
    distance = np.abs(position[:, None] - np.array([0.0, 3.0])[None, :])
    weight = np.array([3.0, 1.0, 1.0, 1.0])
    cost = weight[:, None] * distance
    transport = Transport(weight, 2, 3.0, 3.0, np.full(4, -1))
    assert transport.allocate(cost).tolist() == [0, 1, 1, 1]
    assert transport.allocate(cost[:, ::-1]).tolist() == [1, 0, 0, 0]
    locked = Transport(np.ones(4), 2, 2.0, 2.0, np.array([1, -1, -1, -1]))
    assert locked.allocate(distance).tolist() == [1, 0, 0, 1]
    assert Transport(np.ones(4), 2, 3.0, 3.0, np.full(4, -1)).allocate(distance) is None


def _engine_start(graph: UnitGraph, engine: RegionGrowth, seed: int) -> tuple[object, ...]:
    """The engine's first start under the distance objective (what the polish gets)."""
    k, _, _, atoms = engine.feasible_atoms(graph)
    fixed = np.full(atoms.n, -1)
    distance = RegionGrowth(
        k,
        tolerance=engine.tolerance,
        commune_population=engine.commune_population,
        objective="distance",
    )
    rng = np.random.default_rng(seed)
    search = distance._attempts(atoms, k, fixed, np.full(k, -1), rng)
    return search, atoms, rng


def test_the_polish_stops_at_its_work_budget_and_repeats_itself(
    lumpy: tuple[UnitGraph, RegionGrowth],
) -> None:
    """No start begins once the budget is spent: with a budget of 0 the polish only
    descends the engine's plan and draws nothing from the generator (every start draws
    its k-means seeds or its repair steps); with the default it does, never ends on a
    worse plan, and the same seed gives the same plan (the budget counts operations,
    not seconds)."""
    from geo.sectorize.polish import polish

    graph, engine = lumpy
    plans, costs = [], []
    for budget in (0, None, None):
        search, atoms, rng = _engine_start(graph, engine, 3)
        before = rng.bit_generator.state
        kwargs = {} if budget is None else {"budget": budget}
        plan = polish(search, graph.centroids, graph.workload, {}, rng, 16, **kwargs)
        assert (rng.bit_generator.state == before) == (budget == 0)
        units = plan[atoms.of]
        plans.append(units)
        costs.append(pmedian_distance(graph.centroids, graph.workload, units, 3))
        loads = np.bincount(units, weights=graph.workload, minlength=3)
        assert (np.abs(loads / (graph.workload.sum() / 3) - 1) <= 0.1 + 1e-9).all()
    assert costs[1] <= costs[0] + 1e-9
    assert (plans[1] == plans[2]).all()


def test_a_regrowth_is_in_band_of_one_piece_and_a_local_optimum(
    lumpy: tuple[UnitGraph, RegionGrowth],
) -> None:
    """The starts that replace failing allocations (communes kept whole): the engine's
    growth from k-means seeds, balanced and repaired into the band, then descended: no
    improving shift or swap is left, every sector is in the band and of one piece, the
    cost the figure on units."""
    from geo.sectorize.polish import _regrow
    from geo.sectorize.seeding import seed_atoms

    graph, engine = lumpy
    search, of = _search(graph, engine)
    k, _, _, atoms = engine.feasible_atoms(graph)
    adjacent, target = _adjacent(graph), graph.workload.sum() / 3
    grown = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        seeds = seed_atoms(atoms, k, search.fixed, rng)
        plan = _regrow(search, atoms, k, 0.1, search.fixed, rng, seeds)
        if plan is None:
            continue
        grown += 1
        assert not search._shift_round() and not search._swap_round()
        units = plan[of]
        loads = np.bincount(units, weights=graph.workload, minlength=3)
        assert (np.abs(loads / target - 1) <= 0.1 + 1e-9).all()
        assert all(_connected(np.flatnonzero(units == s), adjacent) for s in range(3))
        assert search.cost(plan) == pytest.approx(
            pmedian_distance(graph.centroids, graph.workload, units, 3), rel=1e-12
        )
    assert grown >= 3


def test_communes_kept_whole_reach_the_optimum_of_every_atom_plan_on_every_seed() -> None:
    """6 x 6 units in nine communes of 2 x 2 kept whole, one commune in four carrying
    seven times the others' workload (lumpy atoms, a ±5 % band narrower than most of
    them): every plan of the nine atoms in three sectors (3⁸ labellings, balanced, of one
    piece each) is enumerated; the distance objective reaches the best on every seed."""
    import itertools

    y, x = np.divmod(np.arange(SIDE * SIDE), SIDE)
    block = (x // 2 + 3 * (y // 2)).astype(int)
    communes = [f"9{b:04d}" for b in block.tolist()]
    loads = 1.0 + 6.0 * ((x // 2 + 2 * (y // 2)) % 4 == 0) + (x % 2)
    graph = square_grid(SIDE, SIDE, loads, communes)
    weight = np.bincount(block, weights=graph.workload)
    mean, best = weight.sum() / 3, np.inf
    for tail in itertools.product(range(3), repeat=8):
        label = np.array((0, *tail))
        if (np.abs(np.bincount(label, weights=weight, minlength=3) / mean - 1) > 0.05).any():
            continue
        cells = [{(b // 3, b % 3) for b in np.flatnonzero(label == s).tolist()} for s in range(3)]
        if all(c and _blocks_connected(c) for c in cells):
            units = label[block]
            best = min(best, pmedian_distance(graph.centroids, graph.workload, units, 3))
    assert np.isfinite(best)
    population = dict.fromkeys(communes, 100.0)
    for seed in range(5):
        plan = RegionGrowth(
            3, tolerance=0.05, commune_population=population, objective="distance"
        ).solve(graph, rng=np.random.default_rng(seed))
        value = pmedian_distance(graph.centroids, graph.workload, plan.assignment, 3)
        assert value == pytest.approx(best, rel=1e-9), seed
        assert plan.metrics.max_deviation <= 0.05 + 1e-9 and plan.metrics.contiguous


def _blocks_connected(cells: set[tuple[int, int]]) -> bool:
    start = next(iter(cells))
    seen, stack = {start}, [start]
    while stack:
        r, c = stack.pop()
        for nb in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if nb in cells and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return len(seen) == len(cells)


def test_the_centres_of_a_failed_allocation_seed_its_regrowth(
    lumpy: tuple[UnitGraph, RegionGrowth],
) -> None:
    """A regrowth from an allocation's centres starts from the centres' atoms, a sector's
    fixed atom or anchor (its police station) first; two sectors on one atom, or a seed
    fixed to another sector, give no regrowth."""
    from geo.sectorize.polish import _centre_seeds

    graph, engine = lumpy
    search, of = _search(graph, engine)
    index = {u: i for i, u in enumerate(graph.units["unit"])}
    centres = np.array([index["0-0"], index["5-0"], index["5-5"]])
    free = np.full(len(search.aw), -1)
    atom = [int(of[c]) for c in centres]
    assert _centre_seeds(search, centres, free, {}, 3) == atom
    assert _centre_seeds(search, centres, free, {1: int(of[index["4-5"]])}, 3) == [
        atom[0],
        int(of[index["4-5"]]),
        atom[2],
    ]
    pinned = free.copy()
    pinned[atom[2]] = 0  # the third centre's atom is fixed to sector 0
    assert _centre_seeds(search, centres, pinned, {}, 3) is None
    same = np.array([index["0-0"], index["1-0"], index["5-5"]])  # one commune, one atom
    assert of[index["0-0"]] == of[index["1-0"]]
    assert _centre_seeds(search, same, free, {}, 3) is None
