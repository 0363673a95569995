"""The world the access tests call the app in: the demo as shipped, a second CSP
(« Massy »), one account per role bound to the first, and the app's routes flattened.
Registered as a plugin by ``tests/conftest.py`` (fixtures ``world`` and ``massy``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.models import (
    AuditRequest,
    Gpo,
    Grid,
    Job,
    Layer,
    Meeting,
    Plan,
    Problem,
    ProblemPlace,
    csp_commune,
)
from api.schemas import ActionCreate, GpoUpdate, PartnerCreate
from api.services import gpos, problems
from api.services.context import Context
from api.services.territory import import_territory
from geo.accounts import ROLES
from geo.territory import read_communes
from psq.app import create_app
from tests.roles import bearer_for
from tests.route_log import record_routes

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: Routes that are not the app's own: FastAPI's OpenAPI schema and the static files.
NOT_OURS = {"/openapi.json", "/static"}


def our_routes(app: FastAPI) -> list[Any]:
    """The app's routes as they answer (those of included routers flattened, with the
    dependencies of their routers), but for :data:`NOT_OURS`."""
    routes = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            assert route.path in NOT_OURS, f"{route.path}: not an APIRoute"
            continue
        routes.append(route)
    return routes


@dataclass
class World:
    """The demo as shipped, a second CSP, and one account per role bound to the first."""

    client: TestClient
    headers: dict[str | None, dict[str, str]]
    ids: dict[str, Any]


@pytest.fixture
def world(settings: Settings, demo_adopted: sessionmaker[Session]) -> Iterator[World]:
    factory = demo_adopted
    with factory() as session:
        csp_id = session.scalar(select(Gpo.csp_id).limit(1))
        # The sector GPO with the most placed problems, one of them, and one of its actions.
        gpo_id, problem_id = session.execute(
            select(ProblemPlace.gpo_id, ProblemPlace.problem_id)
            .join(Problem, Problem.id == ProblemPlace.problem_id)
            .where(ProblemPlace.gpo_id.is_not(None), Problem.status == "analyse")
            .order_by(ProblemPlace.gpo_id, ProblemPlace.problem_id)
            .limit(1)
        ).one()
        request = session.scalars(select(AuditRequest).limit(1)).one()
        meeting_id = session.scalar(
            select(Meeting.id).where(Meeting.gpo_id == gpo_id).order_by(Meeting.id).limit(1)
        )
        plan_id = session.scalar(select(Plan.id).where(Plan.status == "adopted"))
        layer_id = session.scalar(select(Layer.id).limit(1))
        grid_id = session.scalar(select(Grid.id).where(Grid.csp_id == csp_id).limit(1))
        job_id = session.scalar(select(Job.id).limit(1))
        commune = session.scalar(
            select(csp_commune.c.commune_code).where(csp_commune.c.csp_id == csp_id).limit(1)
        )
    ctx = Context(factory)
    # A partner of the GPO leading an action on the problem.
    partner = gpos.create_partner(
        ctx, csp_id, PartnerCreate(organisation="Bailleur social", type="bailleur_social")
    )
    members = gpos.get_gpo(ctx, gpo_id).partner_ids
    gpos.update_gpo(ctx, gpo_id, GpoUpdate(partner_ids=[*members, partner.id]))
    action = next(  # the demo's own actions of the problem may be listed after it
        a
        for a in problems.add_action(
            ctx, problem_id, ActionCreate(type="patrouilles", lead_partner_id=partner.id)
        ).actions
        if a.lead_partner_id == partner.id
    )
    headers: dict[str | None, dict[str, str]] = {None: {}}
    bindings: dict[str, dict[str, Any]] = {
        "admin": {},
        "planificateur": {"csp_ids": [csp_id]},
        "chef": {"gpo_ids": [gpo_id]},
        "partenaire": {"gpo_ids": [gpo_id], "partner_id": partner.id},
        "commune": {"commune_codes": [request.commune_code]},
        "referent": {"csp_ids": [csp_id]},
    }
    for role in ROLES:
        headers[role] = bearer_for(ctx, role, **bindings[role])
    ids = {
        "csp_id": csp_id,
        "gpo_id": gpo_id,
        "problem_id": problem_id,
        "action_id": action.id,
        "meeting_id": meeting_id,
        "partner_id": partner.id,
        "request_id": request.id,
        "convention_id": 1,
        "contract_id": 999_999,  # a PDF printed for every role would be slow
        "plan_id": plan_id,
        "layer_id": layer_id,
        "grid_id": grid_id,
        # The OGC API's: its feature ids are the collections' own (any one answers 404),
        # and an unknown collection id.
        "feature_id": problem_id,
        "collection_id": "inconnue",
        "job_id": job_id or 1,
        "token_id": 999_999,  # not the callers' own: revoking it would sign them out
        "account_id": 999_999,  # nor their account: disabling it would too
        "code": commune,
        "fmt": "png",
        # a tile of the base map over Belfort
        "z": 12,
        "x": 2125,
        "y": 1434,
        "other_commune": commune,
    }
    with TestClient(record_routes(create_app(settings))) as client:
        yield World(client, headers, ids)


def url_of(path: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(ids[m.group(1)]), path)


def other_gpo_problem(world: World) -> tuple[int, int]:
    """A GPO other than the chef's, and an open problem placed in it (admin's view)."""
    client, ids = world.client, world.ids
    admin = world.headers["admin"]
    features = client.get(
        f"/api/csp/{ids['csp_id']}/problems", params={"status": "analyse"}, headers=admin
    ).json()["features"]
    other = next(f for f in features if f["properties"]["gpo_id"] not in (None, ids["gpo_id"]))
    return other["properties"]["gpo_id"], other["id"]


@pytest.fixture
def massy(world: World) -> int:
    """A second CSP, outside every binding of the world's accounts."""
    report = import_territory(
        world.client.app.state.context,  # type: ignore[attr-defined]
        layer=read_communes(FIXTURES / "communes_massy.geojson"),
        csp_name="Massy",
        csp_code="MASSY",
        commune_codes=["91377"],
    )
    return report.csp_id
