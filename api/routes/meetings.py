from fastapi import APIRouter, Response

from api import access
from api.deps import ContextDep, DbId, ReportPrinterDep
from api.routes.responses import CONFLICT, INVALID, NOT_FOUND
from api.schemas import (
    DecisionCreate,
    MeetingAgendaPublic,
    MeetingClose,
    MeetingCreate,
    MeetingPublic,
    MeetingsPublic,
    MeetingUpdate,
)
from api.services import meetings

router = APIRouter(tags=["réunions de GPO"])


@router.get(
    "/gpos/{gpo_id:int}/meetings",
    response_model=MeetingsPublic,
    responses=NOT_FOUND,
    dependencies=[access.GPO_MEMBERS],
)
def read_meetings(gpo_id: DbId, ctx: ContextDep) -> Response:
    """The GPO's meetings, newest first: planned, closed (with their compte rendu) and
    cancelled."""
    return Response(meetings.list_meetings_json(ctx, gpo_id), media_type="application/json")


@router.post(
    "/gpos/{gpo_id:int}/meetings",
    status_code=201,
    responses=INVALID,
    dependencies=[access.GPO_WRITE],
)
def create_meeting(gpo_id: DbId, body: MeetingCreate, ctx: ContextDep) -> MeetingPublic:
    """Plan a meeting: date, time, place, invited partners (by default all the GPO's),
    who are sent an invitation with an .ics file."""
    return meetings.plan_meeting(ctx, gpo_id, body)


@router.get("/meetings/{meeting_id:int}", responses=NOT_FOUND, dependencies=[access.GPO_MEMBERS])
def read_meeting(meeting_id: DbId, ctx: ContextDep) -> MeetingPublic:
    return meetings.get_meeting(ctx, meeting_id)


@router.patch("/meetings/{meeting_id:int}", responses=CONFLICT, dependencies=[access.GPO_WRITE])
def patch_meeting(meeting_id: DbId, body: MeetingUpdate, ctx: ContextDep) -> MeetingPublic:
    """Reschedule a planned meeting (the invited are told), or record its attendance,
    other attendees and minutes; a stale ``version`` or a closed meeting: 409."""
    return meetings.update_meeting(ctx, meeting_id, body)


@router.get(
    "/meetings/{meeting_id:int}/agenda", responses=NOT_FOUND, dependencies=[access.GPO_MEMBERS]
)
def read_agenda(meeting_id: DbId, ctx: ContextDep) -> MeetingAgendaPublic:
    """The agenda: problems new since the last meeting, actions due or overdue, problems
    waiting for an evaluation."""
    return meetings.agenda(ctx, meeting_id)


@router.post(
    "/meetings/{meeting_id:int}/decisions",
    status_code=201,
    responses=CONFLICT,
    dependencies=[access.GPO_WRITE],
)
def create_decision(meeting_id: DbId, body: DecisionCreate, ctx: ContextDep) -> MeetingPublic:
    """A decision about a problem, carried out at once: a new action led by a partner of
    the GPO, a step of the problem-solving cycle, an evaluation; or a note."""
    return meetings.add_decision(ctx, meeting_id, body)


@router.post(
    "/meetings/{meeting_id:int}/invitations", responses=CONFLICT, dependencies=[access.GPO_WRITE]
)
def send_invitations(meeting_id: DbId, ctx: ContextDep) -> MeetingPublic:
    """Send (again) the invitation of a planned meeting to its invited partners."""
    return meetings.send_invitations(ctx, meeting_id)


@router.post(
    "/meetings/{meeting_id:int}/close", responses=CONFLICT, dependencies=[access.GPO_WRITE]
)
def close_meeting(
    meeting_id: DbId, body: MeetingClose, ctx: ContextDep, printer: ReportPrinterDep
) -> MeetingPublic:
    """Close the meeting: its compte rendu (A4 PDF, « diffusion restreinte ») is printed
    and stored; the answer proposes the next date. A meeting closes once (409 after)."""
    return meetings.close_meeting(ctx, meeting_id, body, printer)


@router.post(
    "/meetings/{meeting_id:int}/cancel", responses=CONFLICT, dependencies=[access.GPO_WRITE]
)
def cancel_meeting(meeting_id: DbId, body: MeetingClose, ctx: ContextDep) -> MeetingPublic:
    """Cancel a planned meeting; the invited partners are told."""
    return meetings.cancel_meeting(ctx, meeting_id, body)


@router.get(
    "/meetings/{meeting_id:int}/invitation.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **NOT_FOUND},
    dependencies=[access.GPO_MEMBERS],
)
def invitation(meeting_id: DbId, ctx: ContextDep) -> Response:
    """The meeting's invitation as an iCalendar file."""
    ics, name = meetings.invitation_file(ctx, meeting_id)
    return Response(
        ics,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/meetings/{meeting_id:int}/compte-rendu.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **NOT_FOUND},
    dependencies=[access.GPO_MEMBERS],
)
def report(meeting_id: DbId, ctx: ContextDep) -> Response:
    """The compte rendu of a closed meeting (members of the GPO only)."""
    pdf, name = meetings.report_file(ctx, meeting_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
