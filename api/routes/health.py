from fastapi import APIRouter

from api import access
from api.deps import AppContextDep
from api.routes.responses import UNAVAILABLE
from api.schemas import HealthPublic, LivenessPublic
from api.services import database

router = APIRouter(tags=["santé"])


@router.get("/health/live", dependencies=[access.PUBLIC])
async def live() -> LivenessPublic:
    """Liveness: the process answers. No database call (a probe that restarts the process
    when it fails must not restart it for a database outage), and answered on the event
    loop itself, never queued behind the worker threads of slow requests."""
    return LivenessPublic(status="ok")


@router.get("/health/ready", responses=UNAVAILABLE, dependencies=[access.PUBLIC])
async def ready(ctx: AppContextDep) -> HealthPublic:
    """Readiness: the database and PostGIS answer and the schema is at the newest
    migration, within 2 s; else 503 with a French message. Checked on threads of its own
    (not those of the other requests) and without resolving any credential."""
    return await database.readiness_within(ctx)


@router.get("/health", responses=UNAVAILABLE, dependencies=[access.PUBLIC])
async def health(ctx: AppContextDep) -> HealthPublic:
    """The same as ``/api/health/ready`` (kept for existing probes)."""
    return await database.readiness_within(ctx)
