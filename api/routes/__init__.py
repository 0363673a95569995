"""HTTP routes of the JSON API, one module per resource. A route parses its request,
calls one service with the context, and returns what the service returns."""

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
