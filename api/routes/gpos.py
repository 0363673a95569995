from fastapi import APIRouter

from api.db import transaction
from api.deps import DbId, SessionDep, SessionFactoryDep
from api.repositories.gpos import (
    add_meeting,
    create_partner,
    create_thematic_gpo,
    get_gpo,
    list_gpos,
    list_meetings,
    list_partners,
    update_gpo,
)
from api.routes.responses import INVALID
from api.schemas import (
    GpoCreate,
    GpoPublic,
    GposPublic,
    GpoUpdate,
    MeetingCreate,
    MeetingPublic,
    MeetingsPublic,
    PartnerCreate,
    PartnerPublic,
    PartnersPublic,
)

router = APIRouter(tags=["GPO"])


@router.get("/csp/{csp_id}/gpos", responses=INVALID)
def read_gpos(csp_id: DbId, session: SessionDep) -> GposPublic:
    """The CSP's active GPOs (one per sector of the adopted plan, and thematic ones), with
    their last meeting, next due date and whether they are overdue."""
    return list_gpos(session=session, csp_id=csp_id)


@router.post("/csp/{csp_id}/gpos", status_code=201, responses=INVALID)
def create_gpo(csp_id: DbId, body: GpoCreate, factory: SessionFactoryDep) -> GpoPublic:
    """A thematic GPO (transports, mineurs non accompagnés…) spanning several sectors."""
    with transaction(factory) as session:
        gpo_id = create_thematic_gpo(session=session, csp_id=csp_id, gpo_in=body)
    with factory() as session:
        return get_gpo(session=session, gpo_id=gpo_id)


@router.get("/gpos/{gpo_id}", responses=INVALID)
def read_gpo(gpo_id: DbId, session: SessionDep) -> GpoPublic:
    return get_gpo(session=session, gpo_id=gpo_id)


@router.patch("/gpos/{gpo_id}", responses=INVALID)
def patch_gpo(gpo_id: DbId, body: GpoUpdate, factory: SessionFactoryDep) -> GpoPublic:
    """Its chef de secteur (name, grade, contact), cadence and partners."""
    with transaction(factory) as session:
        update_gpo(session=session, gpo_id=gpo_id, gpo_in=body)
    with factory() as session:
        return get_gpo(session=session, gpo_id=gpo_id)


@router.get("/gpos/{gpo_id}/meetings", responses=INVALID)
def read_meetings(gpo_id: DbId, session: SessionDep) -> MeetingsPublic:
    return list_meetings(session=session, gpo_id=gpo_id)


@router.post("/gpos/{gpo_id}/meetings", status_code=201, responses=INVALID)
def create_meeting(gpo_id: DbId, body: MeetingCreate, factory: SessionFactoryDep) -> MeetingPublic:
    """A meeting held: date, attendees, notes, decisions."""
    with transaction(factory) as session:
        return add_meeting(session=session, gpo_id=gpo_id, meeting_in=body)


@router.get("/csp/{csp_id}/partners", responses=INVALID)
def read_partners(csp_id: DbId, session: SessionDep) -> PartnersPublic:
    return list_partners(session=session, csp_id=csp_id)


@router.post("/csp/{csp_id}/partners", status_code=201, responses=INVALID)
def create(csp_id: DbId, body: PartnerCreate, factory: SessionFactoryDep) -> PartnerPublic:
    """A partner of the CSP's GPOs (type from the PSQ list)."""
    with transaction(factory) as session:
        return create_partner(session=session, csp_id=csp_id, partner_in=body)
