from fastapi import APIRouter

from api.db import postgis_version
from api.deps import EngineDep
from api.schemas import HealthPublic

router = APIRouter(tags=["santé"])


@router.get("/health")
def health(engine: EngineDep) -> HealthPublic:
    """Liveness and database check: answers only when PostGIS is reachable."""
    return HealthPublic(status="ok", database="ok", postgis=postgis_version(engine))
