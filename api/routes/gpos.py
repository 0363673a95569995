from fastapi import APIRouter, Response

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import CONFLICT, INVALID
from api.schemas import (
    GpoCreate,
    GpoPublic,
    GposPublic,
    GpoUpdate,
    PartnerCreate,
    PartnerPublic,
    PartnersPublic,
)
from api.services import gpos

router = APIRouter(tags=["GPO"])


@router.get(
    "/csp/{csp_id:int}/gpos",
    response_model=GposPublic,
    responses=INVALID,
    dependencies=[access.GPO_READ],
)
def read_gpos(csp_id: DbId, ctx: ContextDep) -> Response:
    """The CSP's active GPOs (one per sector of the adopted plan, and thematic ones), with
    their last meeting, next due date and whether they are overdue."""
    return Response(gpos.list_gpos_json(ctx, csp_id), media_type="application/json")


@router.post(
    "/csp/{csp_id:int}/gpos", status_code=201, responses=INVALID, dependencies=[access.GPO_CREATE]
)
def create_gpo(csp_id: DbId, body: GpoCreate, ctx: ContextDep) -> GpoPublic:
    """A thematic GPO (transports, mineurs non accompagnés…) spanning several sectors."""
    return gpos.create_thematic_gpo(ctx, csp_id, body)


@router.get("/gpos/{gpo_id:int}", responses=INVALID, dependencies=[access.GPO_READ])
def read_gpo(gpo_id: DbId, ctx: ContextDep) -> GpoPublic:
    return gpos.get_gpo(ctx, gpo_id)


@router.patch("/gpos/{gpo_id:int}", responses=CONFLICT, dependencies=[access.GPO_WRITE])
def patch_gpo(gpo_id: DbId, body: GpoUpdate, ctx: ContextDep) -> GpoPublic:
    """Its chef de secteur and deputy, cadence, partners and (thematic GPOs) categories;
    a stale ``version`` is refused with 409."""
    return gpos.update_gpo(ctx, gpo_id, body)


@router.get("/csp/{csp_id:int}/partners", responses=INVALID, dependencies=[access.GPO_MEMBERS])
def read_partners(csp_id: DbId, ctx: ContextDep) -> PartnersPublic:
    return gpos.list_partners(ctx, csp_id)


@router.post(
    "/csp/{csp_id:int}/partners",
    status_code=201,
    responses=INVALID,
    dependencies=[access.GPO_WRITE],
)
def create(csp_id: DbId, body: PartnerCreate, ctx: ContextDep) -> PartnerPublic:
    """A partner of the CSP's GPOs (type from the PSQ list)."""
    return gpos.create_partner(ctx, csp_id, body)
