"""The HTTP schema of a proposal (``PlanCreate``) and the domain's design parameters
(:class:`geo.sectorize.DesignParameters`) hold the same parameters, stored the same way,
and make the same algorithm."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from api import services
from api.schemas import PlanCreate
from geo.sectorize import DesignParameters, make_sectorizer

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


@pytest.mark.parametrize("body", REQUESTS)
def test_the_same_algorithm(body: dict[str, Any]) -> None:
    seed_units = ["891f1d4817bffff"]
    today = services.make_sectorizer(PlanCreate(**body), seed_units)
    params = DesignParameters.from_dict(PlanCreate(**body).model_dump(mode="json"))
    made = make_sectorizer(params, seed_units)
    assert type(made) is type(today)
    assert vars(made) == vars(today)
