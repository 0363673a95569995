from fastapi import APIRouter

from api import access
from api.deps import ContextDep, DbId
from api.schemas import CspProperties, CspsPublic, ErrorPublic, FeatureCollection
from api.services import territory

router = APIRouter(prefix="/csp", tags=["CSP"])


@router.get("", dependencies=[access.SIGNED_IN])
def read_csps(ctx: ContextDep) -> CspsPublic:
    """Every CSP with its number of communes, population, area and bounding box."""
    return territory.list_csps(ctx)


@router.get("/{csp_id}", responses={404: {"model": ErrorPublic}}, dependencies=[access.SIGNED_IN])
def read_csp(csp_id: DbId, ctx: ContextDep) -> FeatureCollection[CspProperties]:
    """One CSP's outline (union of its communes) as a GeoJSON FeatureCollection."""
    return territory.get_csp(ctx, csp_id)
