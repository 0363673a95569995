from fastapi import APIRouter
from fastapi.responses import Response

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import INVALID
from api.schemas import CspProperties, CspsPublic, ErrorPublic, FeatureCollection
from api.services import qgis_project, territory

router = APIRouter(prefix="/csp", tags=["CSP"])


@router.get("", dependencies=[access.SIGNED_IN])
def read_csps(ctx: ContextDep) -> CspsPublic:
    """Every CSP with its number of communes, population, area and bounding box."""
    return territory.list_csps(ctx)


@router.get(
    "/{csp_id:int}", responses={404: {"model": ErrorPublic}}, dependencies=[access.SIGNED_IN]
)
def read_csp(csp_id: DbId, ctx: ContextDep) -> FeatureCollection[CspProperties]:
    """One CSP's outline (union of its communes) as a GeoJSON FeatureCollection."""
    return territory.get_csp(ctx, csp_id)


@router.get(
    "/{csp_id:int}/qgis-project",
    responses={**INVALID, 200: {"content": {"application/zip": {}}}},
    response_class=Response,
    dependencies=[access.SECTORS_READ],
)
def export_qgis_project(csp_id: DbId, ctx: ContextDep) -> Response:
    """The CSP as a QGIS project, in Lambert-93: a zip of the ``.qgz`` project and the
    GeoPackage it reads (communes, the adopted plan's sectors, the problems as the role
    permits: records, or counts per cell), each layer styled."""
    project = qgis_project.export_csp_project(ctx, csp_id)
    return Response(
        project.content,
        media_type=project.media_type,
        headers={"Content-Disposition": f'attachment; filename="{project.filename}"'},
    )
