"""The multilevel path of the engine (:mod:`geo.sectorize.multilevel`) on a fictitious
territory of about 2 600 H3 cells at resolution 10, forced onto the large path by
lowering ``large_atoms``: the coarsening conserves the workload and keeps each aggregate
connected and within one commune, the refinement reaches the band and keeps every sector
in one piece, and the three objectives work."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.grid import cell_attributes, tessellate, workload
from geo.metrics import components_per_sector
from geo.sectorize import RegionGrowth
from geo.sectorize.multilevel import Edges, Refinement, hierarchy
from geo.unit_graph import UnitGraph
from tests.plan_checks import check_partition

pytestmark = pytest.mark.filterwarnings("ignore:Geometry is in a geographic CRS")
K = 12
#: Forces the ~2 600 atoms onto the multilevel path (two levels above a top of 400).
LARGE = 1_000


@pytest.fixture(scope="module")
def city() -> UnitGraph:
    """Four fictitious communes (quadrants of a 5.9 x 6.7 km box) of 40 000, 20 000,
    10 000 and 5 000 inhabitants, spread over their cells by area."""
    x0, y0, x1, y1 = 2.20, 48.60, 2.28, 48.66
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    communes = gpd.GeoDataFrame(
        {"code": ["99001", "99002", "99003", "99004"], "population": [40e3, 20e3, 10e3, 5e3]},
        geometry=[
            shapely.box(x0, y0, xm, ym),
            shapely.box(xm, y0, x1, ym),
            shapely.box(x0, ym, xm, y1),
            shapely.box(xm, ym, x1, y1),
        ],
        crs=4326,
    )
    cells = cell_attributes(tessellate(shapely.box(x0, y0, x1, y1), 10), communes)
    cells["workload"] = workload(cells)
    return UnitGraph.from_cells(cells)


def _pieces(atoms_adj: list[list[int]], sector: np.ndarray) -> np.ndarray:
    """Connected pieces of each sector in an atom graph (edges inside a sector only)."""
    src = np.repeat(np.arange(len(atoms_adj)), [len(r) for r in atoms_adj])
    dst = np.array([y for row in atoms_adj for y in row], dtype=int)
    inside = sector[src] == sector[dst]
    n = len(atoms_adj)
    m = coo_matrix((np.ones(int(inside.sum())), (src[inside], dst[inside])), shape=(n, n))
    _, label = connected_components(m, directed=False)
    pairs = np.unique(np.column_stack([sector, label]), axis=0)
    return np.bincount(pairs[:, 0], minlength=int(sector.max()) + 1)


def test_coarsening_conserves_workload_and_keeps_aggregates_connected(city: UnitGraph) -> None:
    engine = RegionGrowth(K, whole_commune_population=0, large_atoms=LARGE)
    k, _, _, atoms = engine.feasible_atoms(city)
    assert atoms.n > 2_000
    fixed = np.full(atoms.n, -1)
    fixed[[0, 1]] = [3, 7]  # two fixed atoms (a seed, a locked unit): each stays alone
    levels = hierarchy(city, atoms, fixed, k, 0.05, LARGE)
    assert levels is not None and len(levels.levels) >= 2
    assert levels.top.n <= 0.9 * levels.levels[-1].fine.n
    assert hierarchy(city, atoms, fixed, k, 0.05, atoms.n) is None  # small: direct path
    communes = city.units["commune"].to_numpy()
    for level in levels.levels:
        fine, coarse, group = level.fine, level.coarse, level.group
        # workload: each aggregate weighs the sum of its atoms, the total is kept
        sums = np.bincount(group, weights=fine.weight, minlength=coarse.n)
        np.testing.assert_allclose(coarse.weight, sums)
        assert coarse.weight.sum() == pytest.approx(atoms.weight.sum(), rel=1e-12)
        # the units map to the aggregate of their atom
        np.testing.assert_array_equal(coarse.of, group[fine.of])
        # each aggregate is one piece of the finer graph, within one commune
        assert (_pieces(fine.adj, group) == 1).all()
        per_aggregate = {g: set(communes[coarse.of == g]) for g in range(0, coarse.n, 37)}
        assert all(len(c) == 1 for c in per_aggregate.values())
        # the fixed atoms are aggregates of their own, fixed to their sector
        for atom, sector in ((0, 3), (1, 7)):
            assert (coarse.of == coarse.of[atoms.of == atom][0]).sum() == 1
            assert level.fixed[coarse.of[atoms.of == atom][0]] == sector
        # the coarse cut costs are the fine ones between aggregates
        edges = Edges.of(fine)
        across = group[edges.src] != group[edges.dst]
        assert sum(map(sum, coarse.cost)) == pytest.approx(edges.cost[across].sum())


def test_refinement_reaches_the_band_and_keeps_sectors_in_one_piece(city: UnitGraph) -> None:
    """The large path's plan at ±5 %, then refined to a band of ±1 %: every sector moves
    into it, each stays one piece of the atom graph, and no fixed atom moves."""
    engine = RegionGrowth(K, whole_commune_population=0, large_atoms=LARGE)
    plan = engine.solve(city, rng=np.random.default_rng(0))
    loads = plan.workloads
    assert np.abs(loads / loads.mean() - 1).max() <= 0.05 + 1e-9
    assert (components_per_sector(plan) == 1).all()
    _, _, _, atoms = engine.feasible_atoms(city)
    sector = np.zeros(atoms.n, dtype=int)
    sector[atoms.of] = plan.assignment
    assert np.abs(loads / loads.mean() - 1).max() > 0.01  # out of the narrower band
    fixed = np.full(atoms.n, -1)
    fixed[0] = sector[0]
    run = Refinement(atoms, sector, K, 0.01, fixed)
    run.balance()
    assert not run.gaps().any()
    run.descend()
    refined = run.sector
    assert refined[0] == sector[0]
    assert (_pieces(atoms.adj, refined) == 1).all()
    final = np.bincount(refined, weights=atoms.weight, minlength=K)
    assert np.abs(final / final.mean() - 1).max() <= 0.01 + 1e-9
    np.testing.assert_allclose(final, run.load)
    assert run.totals()[0] > 0


@pytest.mark.parametrize("objective", ["distance", "mix"])
def test_the_large_path_takes_every_objective(city: UnitGraph, objective: str) -> None:
    """Distance and mix (the boundary objective is the test above) on the large path: in
    the band, every sector one piece on the ground (shapely)."""
    engine = RegionGrowth(K, whole_commune_population=0, large_atoms=LARGE, objective=objective)
    plan = engine.solve(city, rng=np.random.default_rng(1))
    loads = plan.workloads
    assert np.abs(loads / loads.mean() - 1).max() <= 0.05 + 1e-9
    ground = check_partition(plan)
    ground.assert_valid()
    assert set(ground.pieces.values()) == {1}


def test_seeds_and_locks_hold_on_the_large_path(city: UnitGraph) -> None:
    """A seed unit heads sector 0 and a locked unit stays in sector 5 through the
    coarsening (each its own aggregate) and the refinement (fixed atoms never move)."""
    units = city.units["unit"].tolist()
    seed, locked = units[100], units[2_000]
    engine = RegionGrowth(
        K, whole_commune_population=0, large_atoms=LARGE, seeds=[seed], locked={locked: 5}
    )
    plan = engine.solve(city, rng=np.random.default_rng(2))
    assert plan.assignment[100] == 0 and plan.seed_units[0] == 100
    assert plan.assignment[2_000] == 5
    loads = plan.workloads
    assert np.abs(loads / loads.mean() - 1).max() <= 0.05 + 1e-9
    assert (components_per_sector(plan) == 1).all()
