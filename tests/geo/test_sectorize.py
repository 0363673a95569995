"""The sector-design engine: invariants on real Belfort data and on random grids."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo.crs import LAMBERT93
from geo.errors import InfeasibleDesignError, InvalidInputError
from geo.grid import adjacency
from geo.metrics import components_per_sector, split_communes
from geo.plan import SectorPlan, UnitGraph, plan_from_polygons
from geo.sectorize import RegionGrowth, WholeCommunes
from tests.plan_checks import check_partition

STEP = 0.002  # degrees: squares of about 150 m x 220 m


def square_grid(
    nx: int, ny: int, loads: np.ndarray | None = None, communes: list[str] | None = None
) -> UnitGraph:
    """An ``nx x ny`` grid of square units near Belfort (row-major ids ``x-y``)."""
    cells = [
        (
            f"{x}-{y}",
            box(6.8 + x * STEP, 47.6 + y * STEP, 6.8 + (x + 1) * STEP, 47.6 + (y + 1) * STEP),
        )
        for y in range(ny)
        for x in range(nx)
    ]
    units = gpd.GeoDataFrame(
        {
            "unit": [c[0] for c in cells],
            "commune": communes or ["90010"] * len(cells),
            "workload": loads if loads is not None else np.ones(len(cells)),
        },
        geometry=[c[1] for c in cells],
        crs=4326,
    )
    return UnitGraph.build(units, adjacency(units))


def assert_valid(plan: SectorPlan, k: int, tolerance: float) -> None:
    """Every unit in exactly one sector, sectors contiguous, balanced, union = territory."""
    graph = plan.graph
    assert plan.assignment.shape == (graph.n,)
    assert sorted(np.unique(plan.assignment)) == list(range(k))
    assert (components_per_sector(plan) == 1).all()
    check_partition(plan).assert_valid()  # the same, on the ground (tests/plan_checks.py)
    assert plan.metrics.max_deviation <= tolerance + 1e-9
    assert not plan.violations
    sectors = plan.sectors.to_crs(LAMBERT93)
    territory = graph.units.to_crs(LAMBERT93).union_all()
    assert sectors.geometry.is_valid.all()
    assert abs(sectors.area.sum() - territory.area) / territory.area < 1e-6  # no overlap
    assert shapely.difference(territory, sectors.union_all()).area / territory.area < 1e-6


@pytest.mark.parametrize("k", [4, 8, 12])
def test_belfort_plans_are_valid(belfort_graph: UnitGraph, k: int) -> None:
    plan = RegionGrowth(k).solve(belfort_graph, rng=np.random.default_rng(7))
    assert_valid(plan, k, 0.05)
    # Communes under 10 000 inhabitants are never split; only Belfort is.
    assert set(split_communes(plan)) <= {"90010"}


def test_same_seed_same_plan(belfort_graph: UnitGraph) -> None:
    first = RegionGrowth(6).solve(belfort_graph, rng=np.random.default_rng(3))
    again = RegionGrowth(6).solve(belfort_graph, rng=np.random.default_rng(3))
    assert (first.assignment == again.assignment).all()


def test_seeds_head_their_sectors_and_locks_hold(belfort_graph: UnitGraph) -> None:
    units = belfort_graph.units
    belfort = units.loc[units["commune"] == "90010", "unit"].tolist()
    seeds = [belfort[10], belfort[-10]]
    locked = {belfort[80]: 2, belfort[81]: 2}
    plan = RegionGrowth(5, seeds=seeds, locked=locked).solve(
        belfort_graph, rng=np.random.default_rng(1)
    )
    table = plan.unit_table().set_index("unit")["sector"]
    assert table[seeds[0]] == 0 and table[seeds[1]] == 1
    assert table[belfort[80]] == 2 and table[belfort[81]] == 2
    assert_valid(plan, 5, 0.05)
    assert plan.seeds is not None
    assert list(plan.seeds[:2]) == [int(units.index[units["unit"] == s][0]) for s in seeds]


def test_target_workload_sets_k(belfort_graph: UnitGraph) -> None:
    total = belfort_graph.workload.sum()
    plan = RegionGrowth(target_workload=total / 7).solve(
        belfort_graph, rng=np.random.default_rng(0)
    )
    assert plan.k == 7


def test_whole_communes_baseline_keeps_every_commune(belfort_graph: UnitGraph) -> None:
    plan = WholeCommunes(4).solve(belfort_graph, rng=np.random.default_rng(0))
    assert split_communes(plan) == {}
    assert (components_per_sector(plan) == 1).all()
    check_partition(plan).assert_valid()
    # Belfort alone is far above a quarter of the workload: the plan says so.
    assert any(v.constraint == "balance" for v in plan.violations)


# -- infeasible or bad requests ------------------------------------------------------------


def test_k_larger_than_units() -> None:
    with pytest.raises(InfeasibleDesignError, match="plus que les 4 unités du territoire"):
        RegionGrowth(5).solve(square_grid(2, 2), rng=np.random.default_rng(0))


def test_k_larger_than_whole_communes(belfort_graph: UnitGraph) -> None:
    # Every commune whole: the sentence says so, never « moins de ∞ habitants ».
    with pytest.raises(InfeasibleDesignError, match="n'a que 10 communes") as raised:
        WholeCommunes(12).solve(belfort_graph, rng=np.random.default_rng(0))
    assert (raised.value.code, raised.value.field) == ("more_sectors_than_communes", "k")
    assert "∞" not in str(raised.value)


def test_commune_too_heavy_to_stay_whole(belfort_graph: UnitGraph) -> None:
    # With a threshold above Belfort's population, Belfort must stay whole: impossible.
    with pytest.raises(InfeasibleDesignError, match=r"trop chargé pour rester entier.*90010") as e:
        RegionGrowth(4, whole_commune_population=math.inf).solve(
            belfort_graph, rng=np.random.default_rng(0)
        )
    assert e.value.code == "commune_too_heavy_to_keep_whole"
    assert e.value.field == "whole_commune_population" and "90010" in e.value.values["codes"]


def test_two_seeds_in_one_unit() -> None:
    with pytest.raises(InfeasibleDesignError, match="même unité 0-0"):
        RegionGrowth(2, seeds=["0-0", "0-0"]).solve(square_grid(4, 4), rng=np.random.default_rng(0))


def test_two_seeds_in_one_small_commune() -> None:
    communes = ["90001" if x < 2 else "90010" for y in range(4) for x in range(4)]
    graph = square_grid(4, 4, communes=communes)
    with pytest.raises(InfeasibleDesignError, match="de 90001, gardée entière"):
        RegionGrowth(2, seeds=["0-0", "1-3"], commune_population={"90001": 10}).solve(
            graph, rng=np.random.default_rng(0)
        )


def test_unknown_seed_unit() -> None:
    with pytest.raises(InvalidInputError, match=r"unité\(s\) inconnue\(s\)"):
        RegionGrowth(2, seeds=["nope"]).solve(square_grid(3, 3), rng=np.random.default_rng(0))


def test_locks_that_break_contiguity() -> None:
    # Column x = 1 is locked to sector 1 from top to bottom: sector 0's locks on either
    # side of it can never be joined.
    locked = {f"1-{y}": 1 for y in range(4)} | {"0-0": 0, "3-0": 0}
    with pytest.raises(InfeasibleDesignError, match="fixées au secteur 0 ne peuvent pas former"):
        RegionGrowth(2, locked=locked).solve(square_grid(4, 4), rng=np.random.default_rng(0))


def test_bad_parameters() -> None:
    with pytest.raises(InvalidInputError, match="indiquez soit le nombre de secteurs"):
        RegionGrowth()
    with pytest.raises(InvalidInputError, match="Écart de charge admis"):
        RegionGrowth(3, tolerance=1.5)
    with pytest.raises(InvalidInputError, match="au moins un secteur est nécessaire"):
        RegionGrowth(0)


def test_island_joins_nearest_mainland_sector() -> None:
    mainland = [box(6.8 + x * STEP, 47.6, 6.8 + (x + 1) * STEP, 47.6 + STEP) for x in range(6)]
    island = box(6.8 + 7 * STEP, 47.6, 6.8 + 8 * STEP, 47.6 + STEP)
    units = gpd.GeoDataFrame(
        {"unit": [f"u{i}" for i in range(7)], "commune": "90010", "workload": 1.0},
        geometry=[*mainland, island],
        crs=4326,
    )
    graph = UnitGraph.build(units, adjacency(units))
    assert graph.links[["a", "b"]].values.tolist() == [[6, 5]]
    plan = RegionGrowth(2, tolerance=0.5).solve(graph, rng=np.random.default_rng(0))
    assert plan.assignment[6] == plan.assignment[5]
    assert any("île de 1 unité" in note for note in plan.notes)
    assert (components_per_sector(plan) == 1).all()
    # On the ground the island's sector is in two pieces: the island is whole and linked.
    ground = check_partition(plan)
    ground.assert_valid()
    assert ground.pieces[int(plan.assignment[6])] == 2 and sum(ground.islands.values()) == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(2, 5),
    width=st.integers(4, 6),
    ny=st.integers(6, 12),
    seed=st.integers(0, 2**16),
)
def test_random_grids_where_balance_is_feasible_are_balanced(
    k: int, width: int, ny: int, seed: int
) -> None:
    """Balance is feasible by construction: ``k`` vertical strips of ``width`` columns,
    each of the same total workload (loads from 1 to 2 scaled per strip, so that no unit
    weighs more than 1/12 of a sector), are a perfectly balanced contiguous plan. The
    engine need not find these strips, but it must reach the ±10 % band."""
    rng = np.random.default_rng(seed)
    loads = rng.uniform(1.0, 2.0, (ny, k * width))
    for s in range(k):
        strip = loads[:, s * width : (s + 1) * width]
        strip *= 100.0 / strip.sum()  # every strip weighs 100
    graph = square_grid(k * width, ny, loads.ravel())
    plan = RegionGrowth(k, tolerance=0.1).solve(graph, rng=np.random.default_rng(seed))
    assert sorted(np.unique(plan.assignment)) == list(range(k))
    assert plan.metrics.max_deviation <= 0.1 + 1e-9
    assert not any(v.constraint == "balance" for v in plan.violations)
    assert (components_per_sector(plan) == 1).all()
    check_partition(plan).assert_valid()


def _least_deviation(units: int, k: int) -> float:
    """The smallest max deviation of ``k`` sectors of whole units of equal load: some
    sectors hold ⌈units/k⌉ units, others ⌊units/k⌋, against a mean of units/k."""
    mean = units / k
    return max(math.ceil(mean) / mean - 1, 1 - math.floor(mean) / mean)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nx=st.integers(2, 5), ny=st.integers(2, 5), k=st.integers(2, 6), seed=st.integers(0, 99))
def test_random_grids_where_balance_is_impossible_say_so(
    nx: int, ny: int, k: int, seed: int
) -> None:
    """Units of equal load that no split into ``k`` can balance within ±10 % (say 5
    units in 2 sectors: 3 against 2, 20 % from the mean of 2.5): the engine gives its
    best plan and flags it, never hiding the deviation."""
    least = _least_deviation(nx * ny, k)
    assume(k <= nx * ny and least > 0.1 + 1e-6)
    plan = RegionGrowth(k, tolerance=0.1).solve(
        square_grid(nx, ny), rng=np.random.default_rng(seed)
    )
    assert plan.metrics.max_deviation >= least - 1e-9
    assert any(v.constraint == "balance" for v in plan.violations)
    assert (components_per_sector(plan) == 1).all()
    check_partition(plan).assert_valid()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nx=st.integers(3, 8), ny=st.integers(3, 8), k=st.integers(2, 5), data=st.data())
def test_a_unit_above_the_band_is_refused(nx: int, ny: int, k: int, data: st.DataObject) -> None:
    """One unit heavier than a sector may be (its load L > 1.1 * total / k, with the
    others at 1: L > 1.1 (n - 1) / (k - 1.1)) cannot be balanced: the engine refuses,
    saying the band."""
    n = nx * ny
    assume(k < n)
    heavy = data.draw(st.integers(0, n - 1), label="heavy unit")
    loads = np.ones(n)
    loads[heavy] = 2 * 1.1 * (n - 1) / (k - 1.1)
    assert loads[heavy] > 1.1 * loads.sum() / k
    with pytest.raises(InfeasibleDesignError, match="doit rester entre"):
        RegionGrowth(k, tolerance=0.1).solve(
            square_grid(nx, ny, loads), rng=np.random.default_rng(heavy)
        )


# -- existing sector layers ----------------------------------------------------------------


def test_hand_drawn_layer_becomes_a_plan() -> None:
    graph = square_grid(6, 4)
    west = box(6.8, 47.6, 6.8 + 3 * STEP, 47.6 + 4 * STEP)
    east = box(6.8 + 3 * STEP, 47.6, 6.8 + 6 * STEP, 47.6 + 4 * STEP)
    layer = gpd.GeoDataFrame({"nom": ["Ouest", "Est"]}, geometry=[west, east], crs=4326)
    plan = plan_from_polygons(graph, layer)
    assert plan.names == ("Ouest", "Est")
    x = graph.units["unit"].str.split("-").str[0].astype(int).to_numpy()
    assert (plan.assignment == (x >= 3)).all()
    assert plan.metrics.max_deviation == 0


def test_hand_drawn_layer_with_a_gap_is_scored_and_says_so() -> None:
    graph = square_grid(6, 4)
    west = box(6.8, 47.6, 6.8 + 2 * STEP, 47.6 + 4 * STEP)
    east = box(6.8 + 4 * STEP, 47.6, 6.8 + 6 * STEP, 47.6 + 4 * STEP)
    layer = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[west, east], crs=4326)
    plan = plan_from_polygons(graph, layer)
    assert plan.k == 2
    assert any("hors de tout polygone" in n for n in plan.notes)


def test_sector_layer_of_points_is_refused() -> None:
    layer = gpd.GeoDataFrame(geometry=[shapely.Point(6.8, 47.6)], crs=4326)
    with pytest.raises(InvalidInputError, match="doivent être des polygones"):
        plan_from_polygons(square_grid(2, 2), layer)


def test_locks_leaving_too_few_free_units() -> None:
    locked = {"0-0": 0, "1-0": 0, "0-1": 0}
    with pytest.raises(InfeasibleDesignError, match=r"groupe\(s\) d.unités libres"):
        RegionGrowth(3, locked=locked).solve(square_grid(2, 2), rng=np.random.default_rng(0))


def test_hand_drawn_layer_lists_its_violations() -> None:
    graph = square_grid(6, 4)
    west = box(6.8, 47.6, 6.8 + 1 * STEP, 47.6 + 4 * STEP)
    east = box(6.8 + 1 * STEP, 47.6, 6.8 + 6 * STEP, 47.6 + 4 * STEP)
    layer = gpd.GeoDataFrame({"nom": ["A", "B"]}, geometry=[west, east], crs=4326)
    plan = plan_from_polygons(graph, layer)
    assert {v.constraint for v in plan.violations} == {"balance"}


def test_sector_layer_elsewhere_is_refused() -> None:
    layer = gpd.GeoDataFrame(geometry=[box(2.3, 48.8, 2.4, 48.9)], crs=4326)
    with pytest.raises(
        InvalidInputError, match="aucun polygone de la couche ne touche le territoire"
    ):
        plan_from_polygons(square_grid(2, 2), layer)


@pytest.mark.parametrize("seed", range(5))
def test_distant_locks_are_joined_to_their_sector(seed: int) -> None:
    rng = np.random.default_rng(seed)
    plan = RegionGrowth(2, locked={"0-0": 0, "7-7": 0}).solve(square_grid(8, 8), rng=rng)
    assert (components_per_sector(plan) == 1).all() and not plan.violations
    check_partition(plan).assert_valid()
    plan = RegionGrowth(3, seeds=["0-0"], locked={"7-7": 0}).solve(
        square_grid(8, 8), rng=np.random.default_rng(seed)
    )
    table = plan.unit_table().set_index("unit")["sector"]
    assert table["0-0"] == 0 and table["7-7"] == 0
    assert (components_per_sector(plan) == 1).all()
    check_partition(plan).assert_valid()
