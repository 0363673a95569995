"""The planner's objective (issue 25): distance, boundary or a mix; balance whenever a
balanced plan exists; the p-median figure in every plan's metrics."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo import editing
from geo.editing import PlanEditor
from geo.errors import InvalidInputError
from geo.grid import adjacency
from geo.pmedian import pmedian_distance
from geo.sectorize import DesignParameters, RegionGrowth, make_sectorizer
from geo.unit_graph import UnitGraph

STEP = 0.004  # degrees: about 300 m by 450 m near Belfort


def grid(nx: int, ny: int, loads: np.ndarray, communes: list[str]) -> UnitGraph:
    """An ``nx x ny`` grid of rectangular units near Belfort, 100 inhabitants each."""
    cells = [
        box(6.8 + x * STEP, 47.6 + y * STEP, 6.8 + (x + 1) * STEP, 47.6 + (y + 1) * STEP)
        for y in range(ny)
        for x in range(nx)
    ]
    units = gpd.GeoDataFrame(
        {
            "unit": [f"{i % nx}-{i // nx}" for i in range(len(cells))],
            "commune": communes,
            "population": 100.0,
            "workload": loads,
        },
        geometry=cells,
        crs=4326,
    )
    return UnitGraph.build(units, adjacency(units))


@pytest.fixture(scope="module")
def town() -> UnitGraph:
    """A 14 x 14 grid, one commune of 19 600 inhabitants (split freely), with a dense
    centre off the middle: workload 1 + 20·exp(-r²/18), r in units."""
    n = 14
    y, x = np.divmod(np.arange(n * n), n)
    loads = 1 + 20 * np.exp(-((x - 4.0) ** 2 + (y - 9.0) ** 2) / 18)
    return grid(n, n, loads, ["90010"] * (n * n))


def test_distance_objective_shortens_the_mean_distance_and_stays_in_band(
    town: UnitGraph,
) -> None:
    xy, w = town.centroids, town.workload
    for seed in (0, 1):
        boundary = make_sectorizer(DesignParameters(k=5, seed=seed)).solve(
            town, rng=np.random.default_rng(seed)
        )
        distance = make_sectorizer(DesignParameters(k=5, seed=seed, objective="distance")).solve(
            town, rng=np.random.default_rng(seed)
        )
        assert pmedian_distance(xy, w, distance.assignment, 5) < pmedian_distance(
            xy, w, boundary.assignment, 5
        )
        for plan in (boundary, distance):
            assert plan.metrics.max_deviation <= 0.05 + 1e-9 and not plan.violations
            assert plan.metrics.contiguous


def test_pmedian_figure_of_the_metrics_and_of_the_editor(town: UnitGraph) -> None:
    plan = make_sectorizer(DesignParameters(k=4, objective="mix", objective_weight=0.3)).solve(
        town, rng=np.random.default_rng(3)
    )
    xy, w = town.centroids, town.workload
    assert plan.metrics.pmedian_distance_m == pytest.approx(
        pmedian_distance(xy, w, plan.assignment, 4), rel=1e-12
    )
    editor = PlanEditor(plan)
    assert editor.metrics().pmedian_distance_m == pytest.approx(plan.metrics.pmedian_distance_m)
    # a border unit moves: the editor's figure follows, as the whole formula says
    a, b = town.edges["a"].to_numpy(), town.edges["b"].to_numpy()
    edge = int(np.flatnonzero(plan.assignment[a] != plan.assignment[b])[0])
    unit, target = int(a[edge]), int(plan.assignment[b[edge]])
    editor.apply({unit: target})
    moved = plan.assignment.copy()
    moved[unit] = target
    assert editor.metrics().pmedian_distance_m == pytest.approx(
        pmedian_distance(xy, w, moved, 4), rel=1e-12
    )


def test_the_editor_leaves_large_sectors_p_median_to_the_save(
    town: UnitGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(editing, "PMEDIAN_STROKE_UNITS", 40)  # the 4 sectors hold ~49 units
    plan = make_sectorizer(DesignParameters(k=4)).solve(town, rng=np.random.default_rng(3))
    editor = PlanEditor(plan)
    assert editor.metrics().pmedian_distance_m is None
    expected = pmedian_distance(town.centroids, town.workload, plan.assignment, 4)
    assert editor.metrics(complete=True).pmedian_distance_m == pytest.approx(expected)
    assert editor.metrics().pmedian_distance_m == pytest.approx(expected)  # until an edit


def test_whole_communes_give_way_when_they_prevent_balance() -> None:
    """A 6 x 6 grid of units of workload 1 in nine communes of 2 x 2 units (400
    inhabitants each, under the threshold), k = 4: a sector of whole communes weighs a
    multiple of 4, never the 9 ± 5 % of the mean; the four 3 x 3 quadrants are balanced
    and contiguous. Every seed reaches the band, and the notes name the communes cut."""
    communes = [f"9{(y // 2) * 3 + x // 2:04d}" for y in range(6) for x in range(6)]
    graph = grid(6, 6, np.ones(36), communes)
    for seed in range(5):
        plan = RegionGrowth(4).solve(graph, rng=np.random.default_rng(seed))
        assert plan.metrics.max_deviation <= 0.05 + 1e-9, seed
        assert plan.metrics.contiguous
        assert not plan.violations  # the cut communes are said in the notes instead
        note = next(n for n in plan.notes if "coupée(s)" in n)
        assert "équilibre à ±5\u202f% n'a pas été atteint" in note
        assert all(c in note for c in plan.metrics.split_communes)


def test_unbalanceable_plans_say_infeasibility_is_not_proven() -> None:
    """Five units of equal workload in two sectors: 3 against 2, 20 % from the mean."""
    graph = grid(5, 1, np.ones(5), ["90010"] * 5)
    plan = RegionGrowth(2, whole_commune_population=0).solve(graph, rng=np.random.default_rng(0))
    balance = [v for v in plan.violations if v.constraint == "balance"]
    assert balance and all("infaisabilité non prouvée" in v.message for v in balance)
    assert "équilibre non atteint (infaisabilité non prouvée)" in plan.notes


@pytest.mark.parametrize(
    ("objective", "weight", "field", "words"),
    [
        ("vitesse", 0.5, "objective", "Objectif"),
        ("mix", 1.5, "objective_weight", "Part de la distance"),
    ],
)
def test_bad_objective_is_refused_naming_the_field(
    objective: str, weight: float, field: str, words: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"^{words} : ") as refused:
        DesignParameters(k=3, objective=objective, objective_weight=weight)  # type: ignore[arg-type]
    assert refused.value.field == field
