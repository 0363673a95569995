from fastapi import APIRouter

from api import access
from api.deps import ContextDep
from api.routes.responses import UNAVAILABLE
from api.schemas import HealthPublic, LivenessPublic
from api.services import database

router = APIRouter(tags=["santé"])


@router.get("/health/live", dependencies=[access.PUBLIC])
def live() -> LivenessPublic:
    """Liveness: the process answers. No database call (a probe that restarts the process
    when it fails must not restart it for a database outage)."""
    return LivenessPublic(status="ok")


@router.get("/health/ready", responses=UNAVAILABLE, dependencies=[access.PUBLIC])
def ready(ctx: ContextDep) -> HealthPublic:
    """Readiness: the database and PostGIS answer and the schema is at the newest
    migration; else 503 with a French message."""
    return database.readiness(ctx)


@router.get("/health", responses=UNAVAILABLE, dependencies=[access.PUBLIC])
def health(ctx: ContextDep) -> HealthPublic:
    """The same as ``/api/health/ready`` (kept for existing probes)."""
    return database.readiness(ctx)
