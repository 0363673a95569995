from fastapi import APIRouter

from api.deps import DbId, SessionDep
from api.repositories.csp import get_csp, list_csps
from api.schemas import CspProperties, CspsPublic, ErrorPublic, FeatureCollection

router = APIRouter(prefix="/csp", tags=["CSP"])


@router.get("")
def read_csps(session: SessionDep) -> CspsPublic:
    """Every CSP with its number of communes, population, area and bounding box."""
    return list_csps(session=session)


@router.get("/{csp_id}", responses={404: {"model": ErrorPublic}})
def read_csp(csp_id: DbId, session: SessionDep) -> FeatureCollection[CspProperties]:
    """One CSP's outline (union of its communes) as a GeoJSON FeatureCollection."""
    return get_csp(session=session, csp_id=csp_id)
