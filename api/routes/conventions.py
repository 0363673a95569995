"""Conventions de participation citoyenne (issue 18): a commune's conventions over its
quartiers or its whole territory, their terms and tacit renewals, their volunteer
référents (police and commune only), the figures per CSP and département, the map layer
of covered quartiers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import CONFLICT, INVALID, NOT_FOUND
from api.schemas import COMMUNE_CODE, FeatureCollection
from api.schemas.participation import (
    ConventionCreate,
    ConventionDenounce,
    ConventionFiguresPublic,
    ConventionPublic,
    ConventionsPublic,
    ConventionUpdate,
    CoveredQuartier,
)
from api.services import conventions

router = APIRouter(prefix="/conventions", tags=["participation citoyenne"])
CommuneQuery = Annotated[
    str | None, Query(pattern=COMMUNE_CODE, description="Of this commune (INSEE code)")
]
CspQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Of this CSP")]


@router.get("", responses=INVALID, dependencies=[access.COMMUNE_SPACE])
def read_conventions(
    ctx: ContextDep, commune: CommuneQuery = None, csp: CspQuery = None
) -> ConventionsPublic:
    """The conventions of your perimeter (a commune sees its own), with their status, term,
    next tacit renewal and référents."""
    return conventions.list_conventions(ctx, commune_code=commune, csp_id=csp)


@router.post("", status_code=201, responses=CONFLICT, dependencies=[access.CONVENTION_WRITE])
def create_convention(body: ConventionCreate, ctx: ContextDep) -> ConventionPublic:
    """Record a convention over a quartier drawn inside the commune, or the whole commune.
    A quartier outside the commune, an end before the start, or a quartier already
    covered by another convention over the same period is a 422 naming the field."""
    return conventions.create_convention(ctx, body)


@router.get("/figures", dependencies=[access.COMMUNE_SPACE])
def read_figures(ctx: ContextDep) -> ConventionFiguresPublic:
    """Per CSP and per département of your perimeter: communes covered, conventions by
    status, référents, renewals in the next 90 days."""
    return conventions.figures(ctx)


@router.get("/map", responses=INVALID, dependencies=[access.COMMUNE_SPACE])
def read_covered_quartiers(
    ctx: ContextDep, commune: CommuneQuery = None, csp: CspQuery = None
) -> FeatureCollection[CoveredQuartier]:
    """The map layer of the quartiers covered by a convention in force (GeoJSON)."""
    return conventions.covered_quartiers(ctx, commune_code=commune, csp_id=csp)


@router.get("/{convention_id:int}", responses=NOT_FOUND, dependencies=[access.COMMUNE_SPACE])
def read_convention(convention_id: DbId, ctx: ContextDep) -> ConventionPublic:
    return conventions.read_convention(ctx, convention_id)


@router.patch("/{convention_id:int}", responses=CONFLICT, dependencies=[access.CONVENTION_WRITE])
def update_convention(
    convention_id: DbId, body: ConventionUpdate, ctx: ContextDep
) -> ConventionPublic:
    """Change a convention (its ``version`` read: a stale one is a 409)."""
    return conventions.update_convention(ctx, convention_id, body)


@router.post(
    "/{convention_id:int}/denounce", responses=CONFLICT, dependencies=[access.CONVENTION_WRITE]
)
def denounce_convention(
    convention_id: DbId, body: ConventionDenounce, ctx: ContextDep
) -> ConventionPublic:
    """Denounce a convention: it runs to the end of its current three-year term."""
    return conventions.denounce_convention(ctx, convention_id, body)
