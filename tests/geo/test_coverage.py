"""Site choice for cameras (maximal covering): hand-solved instances, brute force, bounds,
reductions, weights and candidate sites. Pure: no database."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime
from typing import Literal

import geopandas as gpd
import h3
import numpy as np
import pytest
from scipy import sparse
from shapely.geometry import LineString, box

from geo.coverage import (
    CATEGORY_WEIGHTS,
    DEFAULT_RADIUS_M,
    CoverageSolution,
    MaximalCovering,
    ReducedInstance,
    candidate_sites,
    cell_centres,
    coverage_matrix,
    problem_weights,
    reduce_instance,
    site_scores,
    street_intersections,
)
from geo.coverage.exact import solve_mip
from geo.coverage.greedy import lagrangian_bound, lazy_greedy
from geo.errors import InvalidInputError
from geo.problems import CATEGORIES
from tests.geo.conftest import FIXTURES

# The hand-made instance, radius 10 m (distances in metres):
#
#   site A (5, 0)   covers d1 (0, 0) and d2 (10, 0)              weight 1 + 1   = 2
#   site B (35, 0)  covers d3 (30, 0) and d4 (40, 0)             weight 1 + 1   = 2
#   site C (20, 0)  covers d2 (10, 0), d3 (30, 0) and d5 (20, 9) weight 1+1+0.5 = 2.5
#   site D (100, 0) covers d6 (100, 0)                           weight 0.8
#
# (A-d5 and B-d5 are 17.5 m apart, C-d1 and C-d4 20 m.)
# p = 1: C alone covers 2.5, more than A or B (2) or D (0.8): optimum {C}, 2.5.
# p = 2: A+B = 4; C+A = C+B = 2.5 + 1 = 3.5; C+D = 3.3; A+D = B+D = 2.8: optimum {A, B}, 4,
#        gains 2 then 2 (A first: equal gains go to the lower index). The greedy takes C
#        first and ends at 3.5 (gains 2.5, 1), below the optimum.
# p = 3: A+B+D = 4.8 beats C+A+B = 4.5.
DEMAND = np.array([[0, 0], [10, 0], [30, 0], [40, 0], [20, 9], [100, 0]], dtype=float)
WEIGHTS = np.array([1, 1, 1, 1, 0.5, 0.8])
SITES = np.array([[5, 0], [35, 0], [20, 0], [100, 0]], dtype=float)
A, B, C, D = 0, 1, 2, 3
RADIUS = 10.0


def solve(
    p: int, method: Literal["exact", "greedy"] = "exact", fixed_xy: np.ndarray | None = None
) -> CoverageSolution:
    return MaximalCovering(p, radius=RADIUS, method=method).solve(
        DEMAND, WEIGHTS, SITES, fixed_xy=fixed_xy
    )


def test_hand_solved_instance() -> None:
    one = solve(1)
    assert one.chosen.tolist() == [C]
    assert one.covered_weight == pytest.approx(2.5)
    assert one.gains.tolist() == pytest.approx([2.5])
    assert one.covered.tolist() == [False, True, True, False, True, False]
    two = solve(2)
    assert two.chosen.tolist() == [A, B]
    assert two.covered_weight == pytest.approx(4.0)
    assert two.gains.tolist() == pytest.approx([2.0, 2.0])
    assert two.optimal and two.method == "exact"
    assert two.upper_bound == pytest.approx(4.0, abs=1e-3)
    assert two.total_weight == pytest.approx(5.3)
    assert two.covered_share == pytest.approx(4.0 / 5.3)
    three = solve(3)
    assert sorted(three.chosen.tolist()) == [A, B, D]
    assert three.covered_weight == pytest.approx(4.8)
    greedy = solve(2, "greedy")
    assert greedy.chosen.tolist() == [C, A]
    assert greedy.gains.tolist() == pytest.approx([2.5, 1.0])
    assert greedy.covered_weight == pytest.approx(3.5)
    assert greedy.upper_bound >= 4.0
    assert not greedy.optimal and greedy.gap > 0


def test_p_zero_and_p_beyond_the_sites() -> None:
    none = solve(0)
    assert none.chosen.tolist() == [] and none.covered_weight == 0
    assert none.optimal and none.upper_bound == 0
    every = solve(10)
    assert sorted(every.chosen.tolist()) == [A, B, C, D]
    assert every.covered_weight == pytest.approx(5.3) and every.optimal
    assert every.covered.all()


def test_fixed_sites() -> None:
    # An existing camera where C would go covers d2, d3 and d5 (2.5).
    fixed = np.array([[20.0, 0.0]])
    one = solve(1, fixed_xy=fixed)
    assert one.fixed_weight == pytest.approx(2.5)
    assert one.chosen.tolist() == [A]  # d1: 1, as B's d4; D's d6 is 0.8
    assert one.gains.tolist() == pytest.approx([1.0])
    assert one.covered_weight == pytest.approx(3.5)
    assert one.fixed_weight + one.gains.sum() == pytest.approx(one.covered_weight)
    # No site is wasted on covered demand: C (same place as the camera) is never chosen,
    # even when every other site is taken.
    for method in ("exact", "greedy"):
        every = solve(4, method, fixed_xy=fixed)
        assert sorted(every.chosen.tolist()) == [A, B, D]
        assert every.covered_weight == pytest.approx(5.3) and every.optimal
    only_fixed = solve(0, fixed_xy=fixed)
    assert only_fixed.covered_weight == pytest.approx(2.5)
    assert only_fixed.covered.tolist() == [False, True, True, False, True, False]


def random_instance(
    rng: np.random.Generator, n: int, m: int, side: float = 300.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    demand = rng.uniform(0, side, (n, 2))
    # Integer weights with repeats and zeros: ties and merged rows do happen.
    weights = rng.integers(0, 6, n).astype(float)
    sites = rng.uniform(0, side, (m, 2))
    return demand, weights, sites


def brute_force(matrix: np.ndarray, weights: np.ndarray, p: int) -> float:
    m = matrix.shape[1]
    return max(
        float(weights[matrix[:, list(c)].any(axis=1)].sum()) if c else 0.0
        for c in itertools.combinations(range(m), min(p, m))
    )


def test_exact_equals_brute_force_and_greedy_is_bounded() -> None:
    rng = np.random.default_rng(7)
    for _ in range(30):
        n, m, p = int(rng.integers(4, 25)), int(rng.integers(2, 10)), int(rng.integers(1, 5))
        demand, weights, sites = random_instance(rng, n, m)
        fixed = rng.uniform(0, 300, (int(rng.integers(0, 3)), 2))
        matrix = coverage_matrix(demand, np.concatenate([sites, fixed]), 100).toarray()
        # Fixed sites are always "chosen": brute force over the others, fixed columns on.
        covered_by_fixed = matrix[:, m:].any(axis=1)
        best = float(weights[covered_by_fixed].sum()) + brute_force(
            matrix[:, :m], np.where(covered_by_fixed, 0.0, weights), p
        )
        exact = MaximalCovering(p, radius=100, method="exact").solve(
            demand, weights, sites, fixed_xy=fixed
        )
        greedy = MaximalCovering(p, radius=100, method="greedy").solve(
            demand, weights, sites, fixed_xy=fixed
        )
        assert exact.covered_weight == pytest.approx(best)
        assert exact.optimal
        for solution in (exact, greedy):
            assert solution.upper_bound >= best - 1e-9
            assert solution.fixed_weight + solution.gains.sum() == pytest.approx(
                solution.covered_weight
            )
            assert len(solution.chosen) <= p
            assert len(set(solution.chosen.tolist())) == len(solution.chosen)
            assert (np.diff(solution.gains) <= 1e-9).all()  # greedy order
            assert (solution.gains > 0).all()
            assert solution.covered_weight == pytest.approx(weights[solution.covered].sum())
        assert greedy.covered_weight <= best + 1e-9
        residual = best - exact.fixed_weight
        assert greedy.covered_weight - greedy.fixed_weight >= (1 - 1 / math.e) * residual - 1e-9


def test_lagrangian_bound_is_an_upper_bound() -> None:
    rng = np.random.default_rng(13)
    for _ in range(20):
        demand, weights, sites = random_instance(rng, int(rng.integers(5, 30)), 8)
        instance = reduce_instance(coverage_matrix(demand, sites, 100), weights)
        for p in (0, 1, 2, 3, 9):
            best = brute_force(instance.matrix.toarray(), instance.weights, p)
            greedy = lazy_greedy(instance.matrix.tocsc(), instance.weights, p)
            bound = lagrangian_bound(instance.matrix, instance.weights, p, greedy.gains.sum())
            assert best - 1e-9 <= bound <= instance.weights.sum() + 1e-9


def test_greedy_bound_and_time_limited_exact_on_a_larger_instance() -> None:
    rng = np.random.default_rng(3)
    demand = np.concatenate(
        [rng.normal(c, 60, (300, 2)) for c in rng.uniform(0, 2000, (6, 2))]
        + [rng.uniform(0, 2000, (400, 2))]
    )
    weights = rng.uniform(0.1, 1, len(demand))
    sites = rng.uniform(0, 2000, (400, 2))
    exact = MaximalCovering(10, method="exact").solve(demand, weights, sites)
    greedy = MaximalCovering(10, method="greedy").solve(demand, weights, sites)
    assert exact.optimal
    assert greedy.covered_weight <= exact.covered_weight + 1e-9
    assert greedy.upper_bound >= exact.covered_weight - 1e-9
    assert greedy.gap < 0.1  # the Lagrangian bound: the submodular one alone is ~20 % off
    assert exact.upper_bound >= exact.covered_weight
    # "auto" goes greedy above the size limit.
    assert MaximalCovering(10, exact_max_pairs=0).solve(demand, weights, sites).method == "greedy"
    # A time limit too short to prove anything still returns the greedy start or better.
    rushed = MaximalCovering(10, method="exact", time_limit=1e-3).solve(demand, weights, sites)
    assert rushed.covered_weight >= greedy.covered_weight - 1e-9
    assert rushed.upper_bound >= exact.covered_weight - 1e-6


def test_reductions_keep_the_optimum() -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        # Few sites, many points: identical coverage sets and dominated sites are common.
        demand, weights, sites = random_instance(rng, int(rng.integers(10, 40)), 8, side=250)
        matrix = coverage_matrix(demand, sites, 90)
        full = ReducedInstance(matrix=matrix, weights=weights, sites=np.arange(len(sites)))
        reduced = reduce_instance(matrix, weights)
        assert reduced.matrix.shape[0] <= int(((weights > 0) & (matrix.getnnz(axis=1) > 0)).sum())
        assert reduced.weights.sum() == pytest.approx(weights[matrix.getnnz(axis=1) > 0].sum())
        for p in (1, 2, 3):
            reference = brute_force(matrix.toarray(), weights, p)
            assert brute_force(reduced.matrix.toarray(), reduced.weights, p) == pytest.approx(
                reference
            )
            for instance in (full, reduced):
                start = lazy_greedy(instance.matrix.tocsc(), instance.weights, p).order
                chosen, bound = solve_mip(instance, p, start, time_limit=5, mip_gap=0)
                value = instance.weights[instance.matrix[:, chosen].getnnz(axis=1) > 0].sum()
                assert value == pytest.approx(reference)
                assert bound >= reference - 1e-6


def test_reduction_merges_rows_and_drops_dominated_sites() -> None:
    rows = np.array(
        [
            [1, 1, 0, 0],  # d0 and d1 have the same sites: merged
            [1, 1, 0, 0],
            [0, 1, 1, 0],
            [0, 0, 0, 0],  # no site: dropped
            [0, 0, 0, 1],  # weight 0: dropped, then site 3 covers nothing
        ],
        dtype=bool,
    )
    reduced = reduce_instance(sparse.csr_matrix(rows), np.array([1.0, 2.0, 4.0, 5.0, 0.0]))
    # Site 0 ({d0, d1}) is inside site 1's demand ({d0, d1, d2}); site 2 ({d2}) too.
    # Then every row is covered by site 1 alone: one row of weight 1 + 2 + 4.
    assert reduced.sites.tolist() == [1]
    assert reduced.weights.tolist() == [7.0]
    without = reduce_instance(
        sparse.csr_matrix(rows), np.array([1.0, 2.0, 4.0, 5.0, 0.0]), dominance=False
    )
    assert without.sites.tolist() == [0, 1, 2]


def test_coverage_matrix_against_brute_force() -> None:
    rng = np.random.default_rng(5)
    demand = rng.uniform(0, 500, (300, 2))
    sites = np.concatenate([rng.uniform(0, 500, (80, 2)), demand[:3]])  # zero distances too
    matrix = coverage_matrix(demand, sites, 75.0)
    assert sparse.issparse(matrix) and matrix.dtype == bool and matrix.shape == (300, 83)
    distances = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    assert (matrix.toarray() == (distances <= 75.0)).all()
    assert coverage_matrix(np.zeros((0, 2)), sites, 10).shape == (0, 83)
    scores = site_scores(demand, np.ones(300), sites, 75.0)
    assert scores.tolist() == (distances <= 75.0).sum(axis=0).tolist()


def test_problem_weights() -> None:
    today = date(2025, 3, 1)
    weights = problem_weights(
        ["stupefiants", "stupefiants", "stupefiants", "cambriolages"],
        [today, date(2024, 9, 2), date(2024, 3, 6), datetime(2025, 3, 1, 18, 30)],
        today=today,
    )
    # 180 and 360 days old: half and a quarter.
    assert weights.tolist() == pytest.approx([1.0, 0.5, 0.25, CATEGORY_WEIGHTS["cambriolages"]])
    custom = problem_weights(
        ["a"], [date(2025, 2, 19)], today=today, category_weights={"a": 2}, half_life_days=10
    )
    assert custom.tolist() == pytest.approx([1.0])
    assert problem_weights([], [], today=today).shape == (0,)
    assert set(CATEGORY_WEIGHTS) == set(CATEGORIES)
    assert CATEGORY_WEIGHTS["stupefiants"] > CATEGORY_WEIGHTS["cambriolages"]
    assert CATEGORY_WEIGHTS["rassemblements"] > CATEGORY_WEIGHTS["scolaire"]


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda t: problem_weights(["graffitis"], [t], today=t), "« graffitis »"),
        (lambda t: problem_weights(["rodeos"], [date(2025, 3, 2)], today=t), "2025-03-02"),
        (lambda t: problem_weights(["rodeos"], [None], today=t), "None"),  # type: ignore[list-item]
        (lambda t: problem_weights(["rodeos", "autre"], [t], today=t), "2 valeur"),
        (lambda t: problem_weights(["rodeos"], [t], today=t, half_life_days=0), "reçu 0"),
        (lambda t: problem_weights(["a"], [t], today=t, category_weights={"a": -1}), "-1"),
    ],
)
def test_problem_weights_errors(call: object, named: str) -> None:
    with pytest.raises(ValueError, match=named) as raised:
        call(date(2025, 3, 1))  # type: ignore[operator]
    assert isinstance(raised.value, InvalidInputError)


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: MaximalCovering(-1), "reçu -1"),
        (lambda: MaximalCovering(1.5), "reçu 1,5"),  # type: ignore[arg-type]
        (lambda: MaximalCovering(True), "reçu oui"),
        (lambda: MaximalCovering(2, radius=0), r"radius : un nombre de mètres positif .* reçu 0"),
        (lambda: MaximalCovering(2, radius=float("nan")), "reçu NaN"),
        (lambda: MaximalCovering(2, time_limit=0), "time_limit .* reçu 0"),
        (lambda: MaximalCovering(2, method="fast"), "« fast »"),  # type: ignore[arg-type]
        (lambda: MaximalCovering(2, mip_gap=1), "mip_gap"),
    ],
)
def test_parameter_errors(make: object, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        make()  # type: ignore[operator]


def test_input_errors_name_the_value() -> None:
    solver = MaximalCovering(1)
    with pytest.raises(InvalidInputError, match=r"5 valeur\(s\) pour 6 point"):
        solver.solve(DEMAND, WEIGHTS[:5], SITES)
    with pytest.raises(InvalidInputError, match=r"weights\[2\] .* reçu -1"):
        solver.solve(DEMAND, np.array([1, 1, -1, 1, 1, 1.0]), SITES)
    with pytest.raises(InvalidInputError, match=r"demand_xy\[1\] : .* reçu NaN, 0"):
        solver.solve(np.array([[0, 0], [np.nan, 0]]), np.ones(2), SITES)
    with pytest.raises(InvalidInputError, match=r"site_xy : un tableau \(n, 2\).* reçu 3"):
        solver.solve(DEMAND, WEIGHTS, np.array([1.0, 2.0, 3.0]))
    with pytest.raises(InvalidInputError, match=r"fixed_xy\[0\]"):
        solver.solve(DEMAND, WEIGHTS, SITES, fixed_xy=np.array([[np.inf, 0]]))


def test_degenerate_inputs() -> None:
    nothing = MaximalCovering(3).solve(np.zeros((0, 2)), np.zeros(0), SITES)
    assert nothing.covered_weight == 0 and nothing.covered_share == 0
    assert nothing.chosen.tolist() == [] and nothing.optimal
    no_site = MaximalCovering(3).solve(DEMAND, WEIGHTS, np.zeros((0, 2)))
    assert no_site.chosen.tolist() == [] and no_site.covered_weight == 0 and no_site.optimal
    assert DEFAULT_RADIUS_M == 100.0


# --- candidate sites ------------------------------------------------------------------


def hand_network() -> gpd.GeoDataFrame:
    """Lambert-93 metres around Belfort: a crossing, two T junctions, a bridge, a bend."""
    x, y = 990_000.0, 6_735_000.0

    def line(*points: tuple[float, float]) -> LineString:
        return LineString([(x + px, y + py) for px, py in points])

    rows = [
        (line((0, 0), (200, 0)), False, None),  # "+": two lines crossing, not split
        (line((100, -100), (100, 100)), False, None),
        (line((300, 0), (500, 0)), False, None),  # T: a stem ending on the bar
        (line((400, 0), (400, -100)), False, None),
        (line((600, 0), (700, 0)), False, None),  # T: three segments at one node
        (line((700, 0), (800, 0)), False, None),
        (line((700, 0), (700, 100)), False, "no"),
        (line((1000, 0), (1200, 0)), False, None),  # a bridge over a road: no node
        (line((1100, -100), (1100, 100)), True, None),
        (line((1300, 0), (1500, 0)), False, None),  # a tunnel under a road: no node
        (line((1400, -100), (1400, 100)), False, "yes"),
        (line((1600, 0), (1700, 0)), False, None),  # a bend, its first leg twice (OSM's
        (line((1700, 0), (1600, 0)), False, None),  # two directions): no node
        (line((1700, 0), (1700, 100)), False, None),
        (line((2000, 0), (2100, 0)), False, None),  # two T junctions 3 m apart: one node
        (line((2050, 0), (2050, 100)), False, None),
        (line((2053, 0), (2053, -100)), False, None),
    ]
    return gpd.GeoDataFrame(
        {"bridge": [r[1] for r in rows], "tunnel": [r[2] for r in rows]},
        geometry=[r[0] for r in rows],
        crs=2154,
    )


def test_street_intersections_on_a_hand_made_network() -> None:
    roads = hand_network()
    x, y = 990_000.0, 6_735_000.0
    nodes = street_intersections(roads, box(x - 500, y - 500, x + 2500, y + 500))
    assert nodes.crs.to_epsg() == 2154
    found = sorted(
        (round(p.x - x), round(p.y - y), d)
        for p, d in zip(nodes.geometry, nodes["degree"], strict=True)
    )
    assert found == [(100, 0, 4), (400, 0, 3), (700, 0, 3), (2050, 0, 3)]
    assert set(nodes["kind"]) == {"intersection"}
    # Only inside the area; no bridge or tunnel column means everything is at grade.
    west = street_intersections(roads, box(x - 500, y - 500, x + 550, y + 500))
    assert sorted(round(p.x - x) for p in west.geometry) == [100, 400]
    at_grade = street_intersections(
        roads.drop(columns=["bridge", "tunnel"]), box(x - 500, y - 500, x + 2500, y + 500)
    )
    assert sorted(round(p.x - x) for p in at_grade.geometry) == [100, 400, 700, 1100, 1400, 2050]
    # Any CRS in, the same CRS out.
    wgs84 = street_intersections(roads.to_crs(4326), box(x - 500, y - 500, x + 2500, y + 500))
    assert wgs84.empty  # the area was in metres, the roads are now in degrees
    area = gpd.GeoSeries([box(x - 500, y - 500, x + 2500, y + 500)], crs=2154).to_crs(4326)
    assert len(street_intersections(roads.to_crs(4326), area.iloc[0])) == 4


def test_street_intersections_of_massy() -> None:
    roads = gpd.read_file(FIXTURES / "roads_osm_massy.geojson")
    communes = gpd.read_file(FIXTURES / "communes_massy.geojson")
    massy = communes.loc[communes["code_insee"] == "91377", "geometry"].iloc[0]
    nodes = street_intersections(roads, massy)
    # OSMnx's graph has about 620 nodes of degree 3 or more in Massy.
    assert 400 < len(nodes) < 900
    assert nodes.crs.to_epsg() == 4326
    assert nodes.within(massy.buffer(1e-9)).all()
    assert (nodes["degree"] >= 3).all()
    metric = nodes.to_crs(2154)
    nearest = metric.geometry.apply(lambda p: metric.geometry.distance(p).nsmallest(2).iloc[1])
    assert nearest.min() >= 5.0


def test_cell_centres_and_candidate_fallback() -> None:
    area = box(6.85, 47.63, 6.86, 47.64)
    centres = cell_centres(area)
    assert centres.crs.to_epsg() == 4326 and len(centres) > 40
    assert centres.within(area).all()
    assert all(h3.get_resolution(c) == 10 for c in centres["h3"])
    assert set(centres["kind"]) == {"h3"}
    assert len(cell_centres(area, 9)) < len(centres)
    with pytest.raises(ValueError, match="reçu 16"):
        cell_centres(area, 16)
    for roads in (None, gpd.GeoDataFrame(geometry=[], crs=4326)):
        fallback = candidate_sites(area, roads)
        assert set(fallback["kind"]) == {"h3"} and len(fallback) == len(centres)
    # Roads elsewhere: no intersection in the area, H3 centres again.
    elsewhere = hand_network()
    assert set(candidate_sites(area, elsewhere)["kind"]) == {"h3"}
    # Roads in the area: their intersections, in WGS84.
    roads = hand_network().to_crs(4326)
    around = box(*roads.total_bounds).buffer(0.001)
    sites = candidate_sites(around, hand_network())
    assert set(sites["kind"]) == {"intersection"} and len(sites) == 4
    assert sites.crs.to_epsg() == 4326
