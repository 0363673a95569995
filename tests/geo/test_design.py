"""Design parameters: defaults, storage as JSON, and the algorithm they make."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from geo.errors import InvalidInputError
from geo.plan import UnitGraph
from geo.sectorize import (
    CutCosts,
    DesignParameters,
    RegionGrowth,
    WholeCommunes,
    make_sectorizer,
)

#: What a plan stores today for a proposal of 3 sectors with every default.
STORED_DEFAULTS = {
    "method": "engine",
    "k": 3,
    "target_workload": None,
    "tolerance": 0.05,
    "resolution": 9,
    "units": "h3",
    "seed": 0,
    "weights": None,
    "whole_commune_population": 10_000,
    "seeds": [],
    "seed_point_types": [],
    "locked": {},
    "sectors_per_part": [],
    "compactness": 1.0,
    "commune_cohesion": 1.0,
    "barrier_preference": 0.5,
    "time_limit": 60.0,
    "objective": "boundary",
    "objective_weight": 0.5,
}

FULL = DesignParameters(
    method="engine",
    target_workload=1_500.5,
    tolerance=0.08,
    resolution=10,
    units="blocks",
    seed=42,
    weights={"population": 1.0, "problems": 3.0},
    whole_commune_population=5_000,
    seeds=((6.86, 47.64), (6.83, 47.62)),
    seed_point_types=("commissariat",),
    locked={"891f1d48177ffff": 1},
    compactness=2.0,
    commune_cohesion=0.5,
    barrier_preference=1.5,
    objective="mix",
    objective_weight=0.25,
)


def test_the_defaults_are_the_algorithms_defaults() -> None:
    params = DesignParameters(k=3)
    engine = RegionGrowth(3)
    assert params.tolerance == engine.tolerance
    assert params.whole_commune_population == engine.whole_commune_population
    assert params.cut_costs == CutCosts() == engine.costs
    assert (params.objective, params.objective_weight) == (engine.objective, 0.5)
    assert params.to_dict() == STORED_DEFAULTS


def test_stored_as_json_and_read_back() -> None:
    stored = json.loads(json.dumps(FULL.to_dict()))
    assert DesignParameters.from_dict(stored) == FULL
    assert stored["seeds"] == [[6.86, 47.64], [6.83, 47.62]]
    assert stored["locked"] == {"891f1d48177ffff": 1}
    assert stored["weights"] == {"population": 1.0, "problems": 3.0}


def test_unknown_keys_are_ignored_and_missing_ones_default() -> None:
    stored = STORED_DEFAULTS | {"seed_units": ["891f1d48177ffff"], "problems_counted": 12}
    assert DesignParameters.from_dict(stored) == DesignParameters(k=3)
    assert DesignParameters.from_dict({"source": "secteurs.geojson"}) == DesignParameters()


def test_frozen_with_read_only_containers() -> None:
    locked = {"891f1d48177ffff": 0}
    params = DesignParameters(k=2, locked=locked)
    locked["891f1d4817bffff"] = 1  # the caller's dict is copied
    assert dict(params.locked) == {"891f1d48177ffff": 0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.k = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        params.locked["891f1d4817bffff"] = 1  # type: ignore[index]
    redraw = dataclasses.replace(FULL, k=4, target_workload=None, locked={})
    assert redraw.k == 4 and dict(redraw.locked) == {} and redraw.seeds == FULL.seeds


def test_json_numbers_give_equal_parameters() -> None:
    assert DesignParameters.from_dict({"k": 3, "whole_commune_population": 10_000}) == (
        DesignParameters(k=3)
    )
    assert isinstance(DesignParameters(k=3, tolerance=0).tolerance, float)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"method": "voronoi"}, "méthode inconnue « voronoi » ; attendu : engine, communes"),
        ({"units": "iris"}, "unités inconnues « iris » ; attendu : h3, blocks"),
        ({"seeds": ((6.86, 47.64, 300.0),)}, "n'est pas une position"),
    ],
)
def test_bad_values_are_named(changes: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidInputError, match=named) as raised:
        DesignParameters(k=3, **changes)  # type: ignore[arg-type]
    assert raised.value.field == next(iter(changes))


def test_the_engine_gets_every_setting() -> None:
    engine = make_sectorizer(FULL, ["891f1d4817bffff", "891f1d48173ffff"]).engine
    assert isinstance(engine, RegionGrowth) and not isinstance(engine, WholeCommunes)
    assert engine.k is None and engine.target_workload == 1_500.5
    assert engine.tolerance == 0.08 and engine.whole_commune_population == 5_000
    assert engine.seeds == ["891f1d4817bffff", "891f1d48173ffff"]
    assert engine.locked == {"891f1d48177ffff": 1}
    assert engine.costs == CutCosts(compactness=2.0, commune_cohesion=0.5, barrier=1.5)
    assert engine.objective == "mix" and engine.share == 0.25


def test_the_communes_baseline_keeps_every_commune_whole() -> None:
    baseline = make_sectorizer(
        dataclasses.replace(FULL, method="communes"), ["891f1d4817bffff"]
    ).engine
    assert isinstance(baseline, WholeCommunes)
    assert baseline.target_workload == 1_500.5 and baseline.tolerance == 0.08
    assert baseline.whole_commune_population == math.inf
    assert baseline.seeds == [] and baseline.locked == {} and baseline.costs == CutCosts()


def test_k_or_target_workload_is_required_by_the_algorithm() -> None:
    with pytest.raises(InvalidInputError, match="indiquez soit le nombre de secteurs"):
        make_sectorizer(DesignParameters())


def test_same_parameters_same_plan(belfort_graph: UnitGraph) -> None:
    params = DesignParameters(k=4, seed=3, compactness=2.0)
    plan = make_sectorizer(params).solve(belfort_graph, rng=params.rng())
    direct = RegionGrowth(4, costs=CutCosts(compactness=2.0)).solve(
        belfort_graph, rng=np.random.default_rng(3)
    )
    assert np.array_equal(plan.assignment, direct.assignment)
