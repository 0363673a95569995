from fastapi import APIRouter

from api import access
from api.deps import ContextDep
from api.schemas import HealthPublic
from api.services import database

router = APIRouter(tags=["santé"])


@router.get("/health", dependencies=[access.PUBLIC])
def health(ctx: ContextDep) -> HealthPublic:
    """Liveness and database check: answers only when PostGIS is reachable."""
    return HealthPublic(status="ok", database="ok", postgis=database.postgis_version(ctx))
