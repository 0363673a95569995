"""Running a GPO's meetings: plan one and invite its partners (an e-mail with an ``.ics``
file, through the notification outbox), build its agenda, record attendance, decisions
problem by problem and free minutes, close it with its compte rendu (an A4 PDF, stored,
for members only), or cancel it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from api import clock
from api.models import Gpo, Meeting
from api.repositories import gpos as gpos_repo
from api.repositories import meetings as repo
from api.repositories import notifications, touches
from api.repositories.base import (
    MEETINGS,
    MEETINGS_OWN,
    check_version,
    problem_revision,
    require,
)
from api.schemas import (
    DecisionCreate,
    GpoPublic,
    HotspotChange,
    MeetingAgendaPublic,
    MeetingClose,
    MeetingCreate,
    MeetingPublic,
    MeetingsPublic,
    MeetingUpdate,
)
from api.services import cartography, problems
from api.services.audit_log import record_access, record_write
from api.services.context import Context
from api.services.kept_lists import kept_since
from geo.calendar import meeting_invitation
from geo.errors import ConflictError, InvalidInputError, NotFoundError, StateConflictError
from geo.hotspots import TRENDS
from geo.meetings import DECISION_KINDS, check_meeting_day
from geo.problems import ACTION_TYPES, OUTCOMES, STATUSES

#: Prints a meeting's compte rendu as an A4 PDF (the web layer's, wired by the app).
ReportPrinter = Callable[[MeetingPublic, GpoPublic], bytes]
#: How long an invitation says a meeting lasts.
MEETING_MINUTES = 120
#: The organiser an invitation names when no account plans the meeting (the CLI).
FALLBACK_ORGANIZER = ("PSQ Secteurs", "ne-pas-repondre@psq-secteurs.invalid")


def list_meetings(ctx: Context, gpo_id: int) -> MeetingsPublic:
    with ctx.read() as session:
        return repo.list_meetings(session=session, gpo_id=gpo_id)


@dataclass(frozen=True)
class KeptMeetings:
    """A GPO's meetings list as JSON, read in ``snapshot`` at the revision ``revision``
    of its CSP's meetings and accounts, with what it shows of the GPO (its name and
    cadence: a change moves the ``problems`` topic, not ``problem_touch``) and the
    problems its decisions name (whose titles it shows)."""

    snapshot: str
    revision: int
    gpo: tuple[str, int]
    problems: frozenset[int]
    body: bytes


def list_meetings_json(ctx: Context, gpo_id: int) -> bytes:
    """:func:`list_meetings` as JSON, kept in the map cache until the GPO's CSP's
    meetings, problems or accounts (who closed a meeting) move (:data:`MEETINGS`,
    migration 0024). The answer is the same for every caller who may read the GPO
    (checked first). When only the problems moved, the list is written again only if a
    problem its decisions name was written since it was read (``problem_touch``: their
    titles; :func:`api.services.kept_lists.kept_since`): a new problem, or another
    problem's change, leaves it as it was."""
    with ctx.read() as session:
        touches.one_snapshot(session)
        gpo = require(session, Gpo, gpo_id)
        revision = problem_revision(session=session, csp_id=gpo.csp_id, topics=MEETINGS)

        def compute() -> bytes:
            own = problem_revision(session=session, csp_id=gpo.csp_id, topics=MEETINGS_OWN)
            shown = (gpo.name, gpo.cadence_days)

            def whole(now: str) -> KeptMeetings:
                listed = repo.list_meetings(session=session, gpo_id=gpo_id)
                named = frozenset(
                    d.problem_id
                    for m in listed.data
                    for d in m.decisions
                    if d.problem_id is not None
                )
                body = listed.model_dump_json().encode()
                return KeptMeetings(now, own, shown, named, body)

            def update(
                held: KeptMeetings, touched: frozenset[int], now: str
            ) -> KeptMeetings | None:
                return None if touched & held.problems else replace(held, snapshot=now)

            kept = kept_since(
                ctx.lists,
                session,
                ("meetings", gpo_id),
                csp_ids=None,  # a decision may name any problem
                whole=whole,
                update=update,
                usable=lambda held: held.revision == own and held.gpo == shown,
            )
            return kept.body

        body: bytes = ctx.maps.get_or_compute(("meetings", gpo_id), revision, compute)
        return body


def _meeting(session: Session, meeting_id: int, *, lock: bool = False) -> tuple[Meeting, Gpo]:
    meeting = require(session, Meeting, meeting_id, lock=lock)
    return meeting, session.get_one(Gpo, meeting.gpo_id)


def get_meeting(ctx: Context, meeting_id: int) -> MeetingPublic:
    with ctx.read() as session:
        meeting, gpo = _meeting(session, meeting_id)
        return repo.meeting_public(session, meeting, gpo)


def _gpo_since(session: Session, gpo: Gpo) -> date:
    """Since when the GPO exists: its creation, or its first meeting recorded before."""
    first = repo.first_meeting_on(session, gpo.id)
    created = gpo.created_at.date()
    return min(created, first) if first else created


def _check_members(session: Session, gpo: Gpo, partner_ids: list[int], field: str) -> None:
    outside = sorted(set(partner_ids) - repo.gpo_partner_ids(session, gpo.id))
    if outside:
        raise InvalidInputError(
            "meeting_partners_not_in_gpo",
            field=field,
            numbers=", ".join(map(str, outside)),
            gpo=gpo.name,
        )


def _open(meeting: Meeting) -> None:
    if meeting.status != "prevue":
        state = "close" if meeting.status == "close" else "annulée"
        raise ConflictError(
            "meeting_frozen", field="status", day=f"{meeting.held_on:%d/%m/%Y}", state=state
        )


def _organizer(session: Session, ctx: Context) -> tuple[str, str]:
    return repo.account_address(session, ctx.actor.account_id) or FALLBACK_ORGANIZER


def _ics(
    session: Session, ctx: Context, meeting: Meeting, gpo: Gpo, method: str, invited: list[int]
) -> bytes:
    organizer_name, organizer_email = _organizer(session, ctx)
    return meeting_invitation(
        uid=f"reunion-{meeting.id}@psq-secteurs",
        sequence=meeting.version - 1,
        method="CANCEL" if method == "CANCEL" else "REQUEST",
        day=meeting.held_on,
        starts_at=meeting.starts_at,
        duration_minutes=MEETING_MINUTES,
        summary=f"Réunion du {gpo.name}",
        location=meeting.place,
        description=(
            f"Réunion du groupe de partenariat opérationnel « {gpo.name} ». L'ordre du jour "
            "est dans PSQ Secteurs."
        ),
        organizer_name=organizer_name,
        organizer_email=organizer_email,
        attendees=_recipients(session, gpo, invited),
        stamp=clock.now(),
    )


def _recipients(session: Session, gpo: Gpo, partner_ids: list[int]) -> list[tuple[str, str]]:
    """Who a meeting's e-mails reach, as (name, address): the addresses speaking for
    each invited partner (named by its organisation), and the GPO's chef; each once."""
    names = repo.partner_names(session, partner_ids)
    found: dict[str, str] = {}
    for partner_id, addresses in notifications.partner_addresses(session, partner_ids).items():
        for address in addresses:
            found.setdefault(address, names[partner_id])
    for address in notifications.chef_addresses(session, [gpo.id]).get(gpo.id, []):
        found.setdefault(address, gpo.chief_name or "Chef de secteur")
    return [(name, address) for address, name in sorted(found.items())]


def _when(meeting: Meeting) -> str:
    day = f"le {meeting.held_on:%d/%m/%Y}"
    hour = f" à {meeting.starts_at:%H:%M}" if meeting.starts_at else ""
    place = f", {meeting.place}" if meeting.place else ""
    return day + hour + place


def _notify(
    session: Session, ctx: Context, meeting: Meeting, gpo: Gpo, kind: str, partner_ids: list[int]
) -> int:
    """One e-mail per recipient of the invited partners (``kind``: invitation, change,
    cancellation), each with the meeting's ``.ics``; returns how many were queued."""
    method = "CANCEL" if kind == "cancellation" else "REQUEST"
    ics = _ics(session, ctx, meeting, gpo, method, partner_ids)
    subject, opening = {
        "invitation": ("Invitation", "Vous êtes invité(e) à la réunion"),
        "change": ("Modification", "La réunion a changé : elle aura lieu"),
        "cancellation": ("Annulation", "La réunion est annulée ; elle devait avoir lieu"),
    }[kind]
    recipients = _recipients(session, gpo, partner_ids)
    for name, email in recipients:
        notifications.enqueue(
            session,
            kind=f"meeting_{kind}",
            recipient=email,
            subject=f"{subject} : réunion du {gpo.name} du {meeting.held_on:%d/%m/%Y}",
            body=(
                f"Bonjour {name},\n\n{opening} du {gpo.name} {_when(meeting)}.\n\n"
                "Le fichier joint l'ajoute à votre agenda.\n\n— PSQ Secteurs"
            ),
            attachment=("reunion.ics", f"text/calendar; method={method}", ics),
            dedupe_key=f"meeting-{kind}:{meeting.id}:{meeting.version}:{email}",
            entity=("meeting", meeting.id),
        )
    return len(recipients)


def plan_meeting(ctx: Context, gpo_id: int, meeting_in: MeetingCreate) -> MeetingPublic:
    """Plan a meeting of the GPO; by default every partner is invited and told at once."""
    today = clock.today()
    with ctx.write() as session:
        gpo = require(session, Gpo, gpo_id, lock=True)
        if not gpo.active:
            raise InvalidInputError("gpo_inactive_named", field="gpo", gpo=gpo.name)
        check_meeting_day(meeting_in.held_on, gpo_created=_gpo_since(session, gpo), today=today)
        members = repo.gpo_partner_ids(session, gpo.id)
        invited = (
            sorted(members)
            if meeting_in.invited_partner_ids is None
            else sorted(set(meeting_in.invited_partner_ids))
        )
        _check_members(session, gpo, invited, "invited_partner_ids")
        meeting = repo.create_meeting(session, gpo, meeting_in, invited)
        sent = 0
        if meeting_in.send_invitations:
            sent = _notify(session, ctx, meeting, gpo, "invitation", invited)
            meeting.invited_at = clock.now()
        record_write(
            session,
            ctx,
            "create",
            "meeting",
            meeting.id,
            changes={"held_on": [None, meeting.held_on], "place": [None, meeting.place]},
            detail={"gpo_id": gpo.id, "invited": invited, "e-mails": sent},
        )
        return repo.meeting_public(session, meeting, gpo)


SCHEDULE = ("held_on", "starts_at", "place")


def update_meeting(ctx: Context, meeting_id: int, update: MeetingUpdate) -> MeetingPublic:
    """Reschedule a planned meeting (the invited are told: the removed ones get a
    cancellation), or record its attendance, other attendees and minutes."""
    today = clock.today()
    with ctx.write() as session:
        meeting, gpo = _meeting(session, meeting_id, lock=True)
        _open(meeting)
        fields = update.model_dump(exclude_unset=True, exclude={"version"})
        if not fields:
            raise InvalidInputError("nothing_to_change", field="held_on")
        check_version(meeting, update.version, "cette réunion")
        before = {key: getattr(meeting, key) for key in (*SCHEDULE, "attendees", "notes")}
        rescheduled = False
        for key in SCHEDULE:
            if key in fields and fields[key] != getattr(meeting, key):
                if key == "held_on":
                    if fields[key] is None:
                        raise InvalidInputError("date_required", field="held_on")
                    check_meeting_day(
                        fields[key], gpo_created=_gpo_since(session, gpo), today=today
                    )
                setattr(meeting, key, fields[key])
                rescheduled = True
        invited_before = repo.invited_ids(session, meeting.id)
        invited = invited_before
        if update.invited_partner_ids is not None:
            invited = sorted(set(update.invited_partner_ids))
            _check_members(session, gpo, invited, "invited_partner_ids")
            repo.set_invited(session, meeting, invited)
        if update.attendance is not None:
            _check_members(session, gpo, [a.partner_id for a in update.attendance], "attendance")
            repo.set_attendance(session, meeting, update.attendance)
        if update.attendees is not None:
            meeting.attendees = [a.strip() for a in update.attendees if a.strip()]
        if "notes" in fields:
            meeting.notes = update.notes
        session.flush()
        if meeting.invited_at is not None:
            removed = sorted(set(invited_before) - set(invited))
            added = sorted(set(invited) - set(invited_before))
            if removed:
                _notify(session, ctx, meeting, gpo, "cancellation", removed)
            if rescheduled:
                _notify(session, ctx, meeting, gpo, "change", invited)
            elif added:
                _notify(session, ctx, meeting, gpo, "invitation", added)
        after = {key: getattr(meeting, key) for key in before}
        record_write(
            session,
            ctx,
            "update",
            "meeting",
            meeting.id,
            changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
            detail={
                "gpo_id": gpo.id,
                "invited": invited if invited != invited_before else None,
                "attendance": None
                if update.attendance is None
                else [a.model_dump() for a in update.attendance],
            },
        )
        return repo.meeting_public(session, meeting, gpo)


def send_invitations(ctx: Context, meeting_id: int) -> MeetingPublic:
    """(Re)send the invitation of a planned meeting to its invited partners."""
    with ctx.write() as session:
        meeting, gpo = _meeting(session, meeting_id, lock=True)
        _open(meeting)
        meeting.version += 1  # a new SEQUENCE for calendars, a new dedupe key
        sent = _notify(
            session, ctx, meeting, gpo, "invitation", repo.invited_ids(session, meeting.id)
        )
        meeting.invited_at = clock.now()
        session.flush()
        record_write(session, ctx, "invite", "meeting", meeting.id, detail={"e-mails": sent})
        return repo.meeting_public(session, meeting, gpo)


def agenda(ctx: Context, meeting_id: int) -> MeetingAgendaPublic:
    """The meeting's agenda, built from the GPO's records since its last closed meeting."""
    with ctx.read() as session:
        meeting, gpo = _meeting(session, meeting_id)
        last = repo.last_closed_on(session, gpo.id, before=meeting.held_on, other_than=meeting.id)
        since = last or _gpo_since(session, gpo)
        today = clock.today()
        agenda = repo.agenda(session, meeting, gpo, since, today)
        changes = cartography.hotspot_changes(session, ctx, gpo.csp_id, gpo.id, today)
        agenda.hotspot_changes = [
            HotspotChange(trend=trend, label=TRENDS[trend], cells=cells)
            for trend, cells in changes.items()
        ]
        return agenda


def _decision_text(decision: DecisionCreate) -> str:
    if decision.kind == "action" and decision.action is not None:
        a = decision.action
        text = f"{ACTION_TYPES[a.type]}"
        if a.due_on:
            text += f", échéance le {a.due_on:%d/%m/%Y}"
    elif decision.kind == "step" and decision.step is not None:
        text = f"Passage à « {STATUSES[decision.step.status]} »"
    elif decision.kind == "evaluation" and decision.evaluation is not None:
        text = f"Évaluation : {OUTCOMES[decision.evaluation.outcome]}"
    else:
        text = DECISION_KINDS[decision.kind]
    extra = (decision.text or "").strip()
    return (f"{text} — {extra}" if extra and decision.kind != "note" else extra or text)[:2000]


def add_decision(ctx: Context, meeting_id: int, decision: DecisionCreate) -> MeetingPublic:
    """A decision of the meeting, carried out at once in the same unit of work: a new
    action (its lead partner must sit in the GPO), a step of the problem, an evaluation,
    or a note."""
    with ctx.write() as session:
        meeting, gpo = _meeting(session, meeting_id, lock=True)
        _open(meeting)
        problem_id = decision.problem_id
        if problem_id is not None and not repo.problem_in_gpo(session, gpo, problem_id):
            raise InvalidInputError(
                "meeting_problem_not_followed",
                field="problem_id",
                problem_id=problem_id,
                gpo=gpo.name,
            )
        action_id = None
        if decision.kind == "action" and decision.action is not None and problem_id:
            if decision.action.lead_partner_id is None:
                raise InvalidInputError("lead_partner_needed", field="lead_partner_id")
            _check_members(session, gpo, [decision.action.lead_partner_id], "lead_partner_id")
            action_id = problems.record_action(session, ctx, problem_id, decision.action)
        elif decision.kind == "step" and decision.step is not None and problem_id:
            problems.record_step(session, ctx, problem_id, decision.step)
        elif decision.kind == "evaluation" and decision.evaluation is not None and problem_id:
            problems.record_evaluation(session, ctx, problem_id, decision.evaluation)
        repo.add_decision(
            session,
            meeting,
            kind=decision.kind,
            text=_decision_text(decision),
            problem_id=problem_id,
            action_id=action_id,
        )
        record_write(
            session,
            ctx,
            "decide",
            "meeting",
            meeting.id,
            detail={"kind": decision.kind, "problem_id": problem_id, "action_id": action_id},
        )
        return repo.meeting_public(session, meeting, gpo)


def close_meeting(
    ctx: Context, meeting_id: int, close: MeetingClose, printer: ReportPrinter
) -> MeetingPublic:
    """Close the meeting: its compte rendu is printed (A4 PDF, « diffusion restreinte »)
    and stored; the answer proposes the next date from the GPO's cadence. Closed twice:
    409."""
    with ctx.write() as session:
        meeting, gpo = _meeting(session, meeting_id, lock=True)
        _open(meeting)
        if meeting.held_on > clock.today():  # its state (not yet held), not the request: 409
            raise StateConflictError(
                "meeting_not_yet_held", field="held_on", day=f"{meeting.held_on:%d/%m/%Y}"
            )
        check_version(meeting, close.version, "cette réunion")
        meeting.status = "close"
        meeting.closed_by = ctx.actor.account_id
        meeting.closed_at = clock.now()
        session.flush()
        pdf = printer(
            repo.meeting_public(session, meeting, gpo),
            gpos_repo.get_gpo(session=session, gpo_id=gpo.id),
        )
        repo.store_report(session, meeting, pdf)
        record_write(
            session,
            ctx,
            "close",
            "meeting",
            meeting.id,
            changes={"status": ["prevue", "close"]},
            detail={"gpo_id": gpo.id, "report_bytes": len(pdf)},
        )
        return repo.meeting_public(session, meeting, gpo)


def cancel_meeting(ctx: Context, meeting_id: int, close: MeetingClose) -> MeetingPublic:
    """Cancel a planned meeting; the invited partners are told."""
    with ctx.write() as session:
        meeting, gpo = _meeting(session, meeting_id, lock=True)
        _open(meeting)
        check_version(meeting, close.version, "cette réunion")
        meeting.status = "annulee"
        session.flush()
        if meeting.invited_at is not None:
            _notify(
                session, ctx, meeting, gpo, "cancellation", repo.invited_ids(session, meeting.id)
            )
        record_write(
            session,
            ctx,
            "cancel",
            "meeting",
            meeting.id,
            changes={"status": ["prevue", "annulee"]},
            detail={"gpo_id": gpo.id},
        )
        return repo.meeting_public(session, meeting, gpo)


def invitation_file(ctx: Context, meeting_id: int) -> tuple[bytes, str]:
    """The meeting's ``.ics`` (a cancellation for a cancelled meeting) and its file name."""
    with ctx.read() as session:
        meeting, gpo = _meeting(session, meeting_id)
        method = "CANCEL" if meeting.status == "annulee" else "REQUEST"
        ics = _ics(session, ctx, meeting, gpo, method, repo.invited_ids(session, meeting.id))
        return ics, f"reunion-gpo{gpo.id}-{meeting.held_on:%Y%m%d}.ics"


def report_file(ctx: Context, meeting_id: int) -> tuple[bytes, str]:
    """The stored compte rendu of a closed meeting (members only) and its file name."""
    with ctx.read() as session:
        meeting, gpo = _meeting(session, meeting_id)
        pdf = repo.report_pdf(session, meeting_id)
        if not pdf:
            raise NotFoundError("meeting_no_minutes", day=f"{meeting.held_on:%d/%m/%Y}")
    record_access(ctx, "export", "meeting", meeting_id, detail={"sheet": "compte rendu"})
    return pdf, f"compte-rendu-gpo{gpo.id}-{meeting.held_on:%Y%m%d}.pdf"
