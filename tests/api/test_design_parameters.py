"""The HTTP schema of a proposal (``PlanCreate``) and the domain's design parameters
(:class:`geo.sectorize.DesignParameters`) hold the same parameters, stored the same way,
and make the same algorithm."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from api.schemas import PlanCreate
from geo.sectorize import (
    CutCosts,
    DesignParameters,
    RegionGrowth,
    Sectorizer,
    WholeCommunes,
    make_sectorizer,
)

REQUESTS: list[dict[str, Any]] = [
    {"k": 3},
    {"method": "communes", "target_workload": 2_000.0, "tolerance": 0.1},
    {
        "k": 4,
        "resolution": 10,
        "units": "blocks",
        "seed": 7,
        "weights": {"population": 1.0, "problems": 2.0},
        "whole_commune_population": 3_000,
        "seeds": [[6.86, 47.64]],
        "seed_point_types": ["commissariat"],
        "locked": {"891f1d48177ffff": 2},
        "compactness": 2.0,
        "commune_cohesion": 0.0,
        "barrier_preference": 1.0,
        "name": "Essai",
    },
]


def test_the_same_parameters() -> None:
    fields = {f.name for f in dataclasses.fields(DesignParameters)}
    assert set(PlanCreate.model_fields) - {"name"} == fields


@pytest.mark.parametrize("body", REQUESTS)
def test_the_stored_parameters_are_the_same(body: dict[str, Any]) -> None:
    stored = PlanCreate(**body).model_dump(mode="json", exclude={"name"})
    params = DesignParameters.from_dict(PlanCreate(**body).model_dump(mode="json"))
    assert params.to_dict() == stored
    assert DesignParameters.from_dict(stored) == params


def from_request(plan_in: PlanCreate, seeds: list[str]) -> Sectorizer:
    """How the algorithm was made from the HTTP schema before the domain had its own
    type (the reference the domain's factory must reproduce)."""
    if plan_in.method == "communes":
        return WholeCommunes(
            plan_in.k, target_workload=plan_in.target_workload, tolerance=plan_in.tolerance
        )
    return RegionGrowth(
        plan_in.k,
        target_workload=plan_in.target_workload,
        tolerance=plan_in.tolerance,
        whole_commune_population=plan_in.whole_commune_population,
        seeds=seeds,
        locked=plan_in.locked,
        costs=CutCosts(
            compactness=plan_in.compactness,
            commune_cohesion=plan_in.commune_cohesion,
            barrier=plan_in.barrier_preference,
        ),
    )


def test_the_schema_converts_into_the_domain_type() -> None:
    plan_in = PlanCreate(**REQUESTS[2])
    assert plan_in.design() == DesignParameters.from_dict(plan_in.model_dump(mode="json"))


@pytest.mark.parametrize("body", REQUESTS)
def test_the_same_algorithm(body: dict[str, Any]) -> None:
    seed_units = ["891f1d4817bffff"]
    today = from_request(PlanCreate(**body), seed_units)
    params = DesignParameters.from_dict(PlanCreate(**body).model_dump(mode="json"))
    made = make_sectorizer(params, seed_units).engine
    assert type(made) is type(today)
    assert vars(made) == vars(today)
