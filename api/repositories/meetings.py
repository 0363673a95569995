"""GPO meetings: planned with their invited partners, attended, decided, closed with
their compte rendu; the agenda built from the GPO's records; who receives an invitation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session

from api.models import (
    Account,
    Action,
    ActionEvent,
    Evaluation,
    Gpo,
    Meeting,
    MeetingDecision,
    MeetingPartner,
    Partner,
    Problem,
    gpo_partner,
)
from api.repositories.base import action_public, gpo_problems, require
from api.schemas import (
    AgendaAction,
    AgendaProblem,
    AttendanceIn,
    DecisionPublic,
    MeetingAgendaPublic,
    MeetingCreate,
    MeetingPartnerPublic,
    MeetingPublic,
    MeetingsPublic,
)
from geo.meetings import DECISION_KINDS, MEETING_STATUSES, next_meeting_on
from geo.problems import CATEGORIES, OPEN_ACTION_STATUSES, PARTNER_TYPES, STATUSES


def gpo_partner_ids(session: Session, gpo_id: int) -> set[int]:
    return set(
        session.scalars(select(gpo_partner.c.partner_id).where(gpo_partner.c.gpo_id == gpo_id))
    )


def last_closed_on(
    session: Session, gpo_id: int, *, before: date | None = None, other_than: int | None = None
) -> date | None:
    """The day of the GPO's last closed meeting (on or before ``before``, if given; not
    meeting ``other_than``)."""
    stmt = select(func.max(Meeting.held_on)).where(
        Meeting.gpo_id == gpo_id, Meeting.status == "close"
    )
    if before is not None:
        stmt = stmt.where(Meeting.held_on <= before)
    if other_than is not None:
        stmt = stmt.where(Meeting.id != other_than)
    return session.scalar(stmt)


def first_meeting_on(session: Session, gpo_id: int) -> date | None:
    return session.scalar(select(func.min(Meeting.held_on)).where(Meeting.gpo_id == gpo_id))


def invited_ids(session: Session, meeting_id: int) -> list[int]:
    return list(
        session.scalars(
            select(MeetingPartner.partner_id)
            .where(MeetingPartner.meeting_id == meeting_id, MeetingPartner.invited)
            .order_by(MeetingPartner.partner_id)
        )
    )


def account_address(session: Session, account_id: int | None) -> tuple[str, str] | None:
    """An account's (name, e-mail), e.g. to name the organiser of a meeting."""
    if account_id is None:
        return None
    row = session.execute(
        select(Account.name, Account.email).where(Account.id == account_id)
    ).first()
    return (row.name, row.email) if row else None


def meeting_public(session: Session, meeting: Meeting, gpo: Gpo) -> MeetingPublic:
    return meetings_public(session, [meeting], gpo)[0]


def meetings_public(session: Session, meetings: Sequence[Meeting], gpo: Gpo) -> list[MeetingPublic]:
    """The GPO's meetings as answered, in four queries whatever their number: their
    partners, their decisions, who closed them, which have a stored compte rendu."""
    ids = [m.id for m in meetings]
    partners: dict[int, list[MeetingPartnerPublic]] = {i: [] for i in ids}
    for mp, p in session.execute(
        select(MeetingPartner, Partner)
        .join(Partner, Partner.id == MeetingPartner.partner_id)
        .where(MeetingPartner.meeting_id.in_(ids))
        .order_by(Partner.organisation, Partner.id)
    ):
        partners[mp.meeting_id].append(
            MeetingPartnerPublic(
                partner_id=p.id,
                organisation=p.organisation,
                type_label=PARTNER_TYPES.get(p.type, p.type),
                contact_name=p.contact_name,
                invited=mp.invited,
                present=mp.present,
                represented_by=mp.represented_by,
                synthetic=p.synthetic,
            )
        )
    decisions: dict[int, list[DecisionPublic]] = {i: [] for i in ids}
    for d, title in session.execute(
        select(MeetingDecision, Problem.title)
        .outerjoin(Problem, Problem.id == MeetingDecision.problem_id)
        .where(MeetingDecision.meeting_id.in_(ids))
        .order_by(MeetingDecision.id)
    ):
        decisions[d.meeting_id].append(
            DecisionPublic(
                id=d.id,
                kind=d.kind,
                kind_label=DECISION_KINDS[d.kind],
                problem_id=d.problem_id,
                problem_title=title,
                action_id=d.action_id,
                text=d.text,
                created_at=d.created_at,
            )
        )
    closers = {m.closed_by for m in meetings if m.closed_by is not None}
    closed_by = (
        dict(session.execute(select(Account.id, Account.name).where(Account.id.in_(closers))).all())
        if closers
        else {}
    )
    with_report = set(
        session.scalars(
            select(Meeting.id).where(Meeting.id.in_(ids), Meeting.report_pdf.is_not(None))
        )
    )
    return [
        MeetingPublic(
            id=meeting.id,
            gpo_id=gpo.id,
            gpo_name=gpo.name,
            status=meeting.status,
            status_label=MEETING_STATUSES[meeting.status],
            held_on=meeting.held_on,
            starts_at=meeting.starts_at,
            place=meeting.place,
            partners=partners[meeting.id],
            attendees=list(meeting.attendees or []),
            notes=meeting.notes,
            decisions=decisions[meeting.id],
            invited_at=meeting.invited_at,
            closed_at=meeting.closed_at,
            closed_by=closed_by.get(meeting.closed_by) if meeting.closed_by else None,
            has_report=meeting.id in with_report,
            next_proposed_on=(
                next_meeting_on(meeting.held_on, gpo.cadence_days)
                if meeting.status == "close"
                else None
            ),
            version=meeting.version,
            synthetic=meeting.synthetic,
        )
        for meeting in meetings
    ]


def list_meetings(*, session: Session, gpo_id: int) -> MeetingsPublic:
    gpo = require(session, Gpo, gpo_id)
    meetings = session.scalars(
        select(Meeting)
        .where(Meeting.gpo_id == gpo_id)
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
    ).all()
    return MeetingsPublic(data=meetings_public(session, meetings, gpo), count=len(meetings))


def create_meeting(
    session: Session, gpo: Gpo, meeting_in: MeetingCreate, invited: Iterable[int]
) -> Meeting:
    meeting = Meeting(
        gpo_id=gpo.id,
        status="prevue",
        held_on=meeting_in.held_on,
        starts_at=meeting_in.starts_at,
        place=meeting_in.place,
    )
    session.add(meeting)
    session.flush()
    session.add_all(MeetingPartner(meeting_id=meeting.id, partner_id=p) for p in sorted(invited))
    session.flush()
    return meeting


def set_invited(session: Session, meeting: Meeting, partner_ids: Iterable[int]) -> None:
    """The invited partners become exactly ``partner_ids`` (attendance kept for those who
    stay invited)."""
    wanted = set(partner_ids)
    current = set(
        session.scalars(
            select(MeetingPartner.partner_id).where(MeetingPartner.meeting_id == meeting.id)
        )
    )
    if current - wanted:
        session.execute(
            delete(MeetingPartner).where(
                MeetingPartner.meeting_id == meeting.id,
                MeetingPartner.partner_id.in_(current - wanted),
            )
        )
    session.add_all(
        MeetingPartner(meeting_id=meeting.id, partner_id=p) for p in sorted(wanted - current)
    )
    session.flush()


def set_attendance(session: Session, meeting: Meeting, attendance: Sequence[AttendanceIn]) -> None:
    """Who came; a partner not invited but present is added as such (``invited`` false)."""
    rows = {
        mp.partner_id: mp
        for mp in session.scalars(
            select(MeetingPartner).where(MeetingPartner.meeting_id == meeting.id)
        )
    }
    for a in attendance:
        row = rows.get(a.partner_id)
        if row is None:
            row = MeetingPartner(meeting_id=meeting.id, partner_id=a.partner_id, invited=False)
            session.add(row)
        row.present = a.present
        row.represented_by = (a.represented_by or "").strip() or None
    session.flush()


def add_decision(
    session: Session,
    meeting: Meeting,
    *,
    kind: str,
    text: str,
    problem_id: int | None = None,
    action_id: int | None = None,
) -> None:
    session.add(
        MeetingDecision(
            meeting_id=meeting.id, kind=kind, text=text, problem_id=problem_id, action_id=action_id
        )
    )
    session.flush()


def problem_in_gpo(session: Session, gpo: Gpo, problem_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Problem.id == problem_id, gpo_problems(gpo)))))


def store_report(session: Session, meeting: Meeting, pdf: bytes) -> None:
    meeting.report_pdf = pdf
    session.flush()


def report_pdf(session: Session, meeting_id: int) -> bytes | None:
    require(session, Meeting, meeting_id)
    return session.scalar(select(Meeting.report_pdf).where(Meeting.id == meeting_id))


def _agenda_problem(p: Problem) -> AgendaProblem:
    return AgendaProblem(
        id=p.id,
        title=p.title,
        category_label=CATEGORIES.get(p.category, p.category),
        status=p.status,
        status_label=STATUSES.get(p.status, p.status),
        reported_on=p.reported_on,
        address=p.address,
        synthetic=p.synthetic,
    )


#: Most rows an agenda section lists.
AGENDA_LIMIT = 200


def agenda(
    session: Session, meeting: Meeting, gpo: Gpo, since: date, today: date
) -> MeetingAgendaPublic:
    """What the meeting goes through: the problems reported since ``since``, the open
    actions due by the meeting's day (or overdue), the problems in « actions en cours »
    whose actions are all finished and that wait for an evaluation."""
    in_gpo = gpo_problems(gpo)
    new = session.scalars(
        select(Problem)
        .where(in_gpo, Problem.reported_on > since, Problem.reported_on <= meeting.held_on)
        .order_by(Problem.reported_on, Problem.id)
        .limit(AGENDA_LIMIT)
    ).all()
    due = session.execute(
        select(Action, Problem.title)
        .join(Problem, Problem.id == Action.problem_id)
        .where(
            in_gpo,
            Action.status.in_(OPEN_ACTION_STATUSES),
            Action.due_on <= meeting.held_on,
        )
        .order_by(Action.due_on, Action.id)
        .limit(AGENDA_LIMIT)
    ).all()
    names = dict(
        session.execute(
            select(Partner.id, Partner.organisation).where(Partner.csp_id == gpo.csp_id)
        ).all()
    )
    finished_actions = (
        select(func.max(func.coalesce(ActionEvent.on, Action.start_on)))
        .select_from(Action)
        .outerjoin(ActionEvent, ActionEvent.action_id == Action.id)
        .where(Action.problem_id == Problem.id)
        .scalar_subquery()
    )
    waiting = session.scalars(
        select(Problem)
        .where(
            in_gpo,
            Problem.status == "actions_en_cours",
            exists().where(Action.problem_id == Problem.id),
            ~exists().where(
                Action.problem_id == Problem.id, Action.status.in_(OPEN_ACTION_STATUSES)
            ),
            ~exists().where(
                and_(
                    Evaluation.problem_id == Problem.id,
                    Evaluation.evaluated_on >= finished_actions,
                )
            ),
        )
        .order_by(Problem.status_on, Problem.id)
        .limit(AGENDA_LIMIT)
    ).all()
    return MeetingAgendaPublic(
        meeting_id=meeting.id,
        since=since,
        new_problems=[_agenda_problem(p) for p in new],
        hotspot_changes=[],
        due_actions=[
            AgendaAction(
                **action_public(a, names, today).model_dump(),
                problem_id=a.problem_id,
                problem_title=title,
            )
            for a, title in due
        ],
        to_evaluate=[_agenda_problem(p) for p in waiting],
    )


def partner_names(session: Session, partner_ids: Iterable[int]) -> dict[int, str]:
    return dict(
        session.execute(
            select(Partner.id, Partner.organisation).where(Partner.id.in_(list(partner_ids)))
        ).all()
    )
