"""HTTP routes of the JSON API, one module per resource. A route parses its request,
calls one service with the context, and returns what the service returns.

An identifier in a path matches digits only (``{plan_id:int}``, Starlette's convertor;
the OpenAPI document says ``{plan_id}``): else
``PATCH /api/conventions/figures`` was ``PATCH /api/conventions/{convention_id}`` with
the id « figures », a 403 or a 422 instead of the 405 of a method the address does not
take; a path whose id is not a number is an unknown address (404)."""

from fastapi import APIRouter

from api.routes import (
    accounts,
    actions,
    addresses,
    alerts,
    audit_log,
    audits,
    auth,
    basemap,
    communes,
    conventions,
    csi,
    csp,
    gpos,
    grid,
    health,
    hotspots,
    layers,
    meetings,
    notifications,
    plans,
    problems,
    reports,
)

RESOURCES = (
    health,
    communes,
    conventions,
    csi,
    csp,
    layers,
    grid,
    plans,
    problems,
    actions,
    gpos,
    meetings,
    hotspots,
    addresses,
    basemap,
    audits,
    reports,
    auth,
    accounts,
    audit_log,
    notifications,
    alerts,
)


def api_router() -> APIRouter:
    """Every route of the JSON API under ``/api``."""
    router = APIRouter(prefix="/api")
    for module in RESOURCES:
        router.include_router(module.router)
    return router


def tiles_router() -> APIRouter:
    """The base map's vector tiles, at ``/tiles`` (outside ``/api``)."""
    return basemap.tiles_router
