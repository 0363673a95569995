"""The exact mode's rounds: the first with the centres alone integer when it is on (a
relaxation: its bound stays under the optimum), then rounds that, meeting a solution in
pieces, go on searching until their bound nears that solution's value (``RESTART_GAP``),
then add its separators and start again; the optimum and its proof are those of brute
force."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

import geo.sectorize.exact as exact
import geo.sectorize.hess as hess
import geo.sectorize.root as root
from geo.grid import adjacency
from geo.metrics import components_per_sector
from geo.plan import UnitGraph
from geo.pmedian import pmedian_distance
from tests.geo.test_exact import brute_force
from tests.geo.test_sectorize import STEP, square_grid

#: A « C » of seven square units: its two tips (2-0 and 2-2) are two steps apart on the
#: ground but six edges apart in the graph, so a sector holding both is in pieces yet near.
C_SHAPE = [(0, 0), (1, 0), (2, 0), (0, 1), (0, 2), (1, 2), (2, 2)]
LOADS = np.array([4.0, 4, 2, 4, 5, 1, 2])
K, TOLERANCE = 3, 0.4


def c_shape() -> UnitGraph:
    units = gpd.GeoDataFrame(
        {
            "unit": [f"{x}-{y}" for x, y in C_SHAPE],
            "commune": ["90010"] * len(C_SHAPE),
            "workload": LOADS,
        },
        geometry=[
            box(6.8 + x * STEP, 47.6 + y * STEP, 6.8 + (x + 1) * STEP, 47.6 + (y + 1) * STEP)
            for x, y in C_SHAPE
        ],
        crs=4326,
    )
    return UnitGraph.build(units, adjacency(units))


def no_separators(*_: object, **__: object) -> tuple[list[list[int]], list[list[float]]]:
    return [], []


@pytest.mark.parametrize("restart_gap", [exact.RESTART_GAP, 0.0, 1e9])
def test_rounds_met_in_pieces_end_on_the_brute_force_optimum(
    monkeypatch: pytest.MonkeyPatch, restart_gap: float
) -> None:
    # Without the rings of the model and the root's separators, the search meets a
    # solution in pieces (the two tips together) cheaper than every plan.
    monkeypatch.setattr(hess, "RINGS", 0)
    monkeypatch.setattr(hess, "RINGS_AROUND_CENTRE", 0)
    monkeypatch.setattr(root, "fractional_separators", no_separators)
    monkeypatch.setattr(exact, "RESTART_GAP", restart_gap)
    in_pieces: list[float] = []
    improving = exact._Solver._improving

    def spy(self: exact._Solver, event: Any) -> None:
        before = len(self.pending)
        improving(self, event)
        if len(self.pending) > before:
            in_pieces.append(float(event.data_out.objective_function_value))

    monkeypatch.setattr(exact._Solver, "_improving", spy)
    graph = c_shape()
    expected, _ = brute_force(graph, K, TOLERANCE)
    plan = exact.ExactDesign(K, tolerance=TOLERANCE, time_limit=20).solve(
        graph, rng=np.random.default_rng(0)
    )
    assert in_pieces and min(in_pieces) < expected - 1  # met, and cheaper than the optimum
    assert plan.bound is not None and plan.bound.status == "optimal"
    assert plan.bound.objective_m == pytest.approx(expected, rel=1e-9)
    assert plan.bound.lower_m == pytest.approx(expected, rel=1e-9)
    assert pmedian_distance(graph.centroids, graph.workload, plan.assignment, K) == pytest.approx(
        expected, rel=1e-9
    )


def test_the_round_with_the_centres_alone_integer_bounds_below_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A 3 x 3 grid where the root's relaxation opens centres in part: branching on the
    # centres alone lifts the bound (101.9 -> 107.4 m), still under the optimum (111.2 m).
    graph = square_grid(3, 3, np.array([5.0, 4, 4, 2, 5, 1, 1, 2, 4]))
    expected, _ = brute_force(graph, 3, 0.2)
    seen: dict[str, float] = {}
    centres_first = exact.centres_first

    def spy(s: exact._Solver, h: Any) -> None:
        seen["root"] = s.lower
        centres_first(s, h)
        seen["centres"] = s.lower

    monkeypatch.setattr(exact, "centres_first", spy)
    monkeypatch.setattr(root, "CENTRES_SHARE", 0.4)  # off by default
    plan = exact.ExactDesign(3, tolerance=0.2, time_limit=20).solve(
        graph, rng=np.random.default_rng(0)
    )
    assert seen["root"] + 1 < seen["centres"] <= expected + 1e-9
    assert plan.bound is not None and plan.bound.status == "optimal"
    assert plan.bound.objective_m == pytest.approx(expected, rel=1e-9)
    assert not plan.violations and (components_per_sector(plan) == 1).all()
