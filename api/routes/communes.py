from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import BBoxDep, SessionDep
from api.repositories.communes import list_communes
from api.repositories.csp import require_csp
from api.schemas import CommuneProperties, ErrorPublic, FeatureCollection

router = APIRouter(prefix="/communes", tags=["communes"])


@router.get("", responses={404: {"model": ErrorPublic}})
def read_communes(
    session: SessionDep,
    bbox: BBoxDep,
    csp: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only the communes of this CSP id")
    ] = None,
) -> FeatureCollection[CommuneProperties]:
    """Communes as a GeoJSON FeatureCollection, filtered by CSP and/or bounding box."""
    if csp is not None:
        require_csp(session=session, csp_id=csp)
    return list_communes(session=session, csp_id=csp, bbox=bbox)
