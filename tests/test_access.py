"""Who may call what: every route declares one policy, and every route answers every role
as its policy says (the role-by-route matrix, generated from the app's route table so that
a new route cannot be forgotten)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.access import Policy, policy_of
from api.config import Settings
from api.models import AuditRequest, Gpo, Job, Layer, Plan, Problem, ProblemPlace, csp_commune
from api.schemas import ActionCreate, PartnerCreate
from api.services import gpos, problems
from api.services.context import Context
from geo.accounts import ROLES
from psq.app import create_app
from tests.roles import bearer_for

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


def test_every_route_declares_exactly_one_policy() -> None:
    missing, several = [], []
    app = create_app(Settings(database_url="postgresql+psycopg://unused/x"))
    routes = our_routes(app)
    for route in routes:
        policies = policy_of(route.dependant.dependencies)
        name = f"{sorted(route.methods)} {route.path}"
        if not policies:
            missing.append(name)
        elif len(policies) > 1:
            several.append(name)
    assert missing == [], "routes without a policy (api/access.py)"
    assert several == [], "routes with several policies"
    assert len(routes) > 80


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
        plan_id = session.scalar(select(Plan.id).where(Plan.status == "adopted"))
        layer_id = session.scalar(select(Layer.id).limit(1))
        job_id = session.scalar(select(Job.id).limit(1))
        commune = session.scalar(
            select(csp_commune.c.commune_code).where(csp_commune.c.csp_id == csp_id).limit(1)
        )
    ctx = Context(factory)
    # A partner of the GPO leading an action on the problem.
    partner = gpos.create_partner(
        ctx, csp_id, PartnerCreate(organisation="Bailleur social", type="bailleur_social")
    )
    action = problems.add_action(
        ctx, problem_id, ActionCreate(type="patrouilles", lead_partner_id=partner.id)
    ).actions[-1]
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
        "request_id": request.id,
        "plan_id": plan_id,
        "layer_id": layer_id,
        "job_id": job_id or 1,
        "token_id": 999_999,  # not the callers' own: revoking it would sign them out
        "code": commune,
        "fmt": "png",
        "other_commune": commune,
    }
    with TestClient(create_app(settings)) as client:
        yield World(client, headers, ids)


def _url(path: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


def _expected(policy: Policy, role: str | None, page: bool) -> str:
    if policy.admits(role):
        return "admitted"
    if role is None:
        return "303 → /connexion" if page else "401"
    return "403"


def _observed(status: int, location: str, admitted: bool) -> str:
    if status == 303 and location.startswith("/connexion") and not admitted:
        return "303 → /connexion"
    if status in (401, 403):
        return str(status)
    return "admitted" if admitted else f"{status}"


def test_role_route_matrix(world: World) -> None:
    """Every route, for anonymous and every role: refused (401, or the sign-in page for a
    page; 403 for a role the policy does not admit) or admitted (anything but 401, 403
    and a server error)."""
    mismatches, errors, tried = [], [], 0
    for route in our_routes(world.client.app):  # type: ignore[arg-type]
        (policy,) = policy_of(route.dependant.dependencies)
        page = not route.path.startswith("/api/")
        url = _url(route.path, world.ids)
        for method in sorted(route.methods - {"HEAD"}):
            for role, headers in world.headers.items():
                response = world.client.request(
                    method, url, headers=headers, follow_redirects=False
                )
                tried += 1
                expected = _expected(policy, role, page)
                observed = _observed(
                    response.status_code,
                    response.headers.get("location", ""),
                    expected == "admitted",
                )
                if response.status_code >= 500:
                    errors.append(f"{method} {url} as {role}: {response.status_code}")
                elif observed != expected:
                    mismatches.append(
                        f"{method} {route.path} as {role or 'anonymous'}: expected "
                        f"{expected}, got {response.status_code} {response.text[:120]}"
                    )
                elif response.status_code == 403:
                    assert "Accès refusé" in response.text, (method, url, role)
    assert errors == [], "\n".join(errors)
    assert mismatches == [], "\n".join(mismatches)
    assert tried > 400
