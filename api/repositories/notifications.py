"""The notification outbox: messages written in the transaction of the event they tell
(:func:`enqueue`), claimed one at a time by the delivery workers (:func:`claim_next`,
``FOR UPDATE SKIP LOCKED``: two workers never hold the same message), their attempts
recorded (:func:`record_attempt`), and listed for the direction
(:func:`page_notifications`). Also the reads the reminders need: actions due or overdue
with the addresses of their lead partner, GPOs whose cadence is late with the addresses
of their chef."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.models import (
    Account,
    Action,
    Gpo,
    Meeting,
    Notification,
    NotificationAttempt,
    Partner,
    Problem,
    ProblemPlace,
    account_gpo,
)
from api.schemas.notifications import (
    NotificationAttemptPublic,
    NotificationPublic,
    NotificationsPublic,
)
from geo.accounts import EMAIL_MAX_LENGTH, check_email
from geo.errors import InvalidInputError
from geo.meetings import meeting_due

#: The statuses of a notification.
STATUSES = ("pending", "sent", "failed")
#: How long the error of an attempt may be (the column's size).
ERROR_MAX_LENGTH = 2000


def enqueue(
    session: Session,
    *,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    attachment: tuple[str, str, bytes] | None = None,
    dedupe_key: str | None = None,
    entity: tuple[str, int] | None = None,
    channel: str = "email",
    commune_code: str | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Queue one e-mail in the caller's transaction (nothing is committed here: the
    message exists if and only if the event it tells is committed). ``attachment`` is
    ``(file name, content type, bytes)``, e.g. ``("reunion.ics", "text/calendar;
    method=REQUEST", ics)``; ``entity`` is ``(type, id)`` of what it is about. With a
    ``dedupe_key`` already queued, nothing is written and the answer is ``None``;
    otherwise the new notification's id. Delivery is the worker's
    (:mod:`api.services.notifications`). ``channel`` is ``email`` (``recipient`` an
    address) or ``sms`` (``recipient`` a telephone number); ``commune_code`` puts it in
    that commune's delivery log; ``not_before`` holds it until then (quiet hours)."""
    if channel == "sms":
        address = check_phone(recipient)
    elif channel == "email":
        address = check_email(recipient)
    else:
        raise InvalidInputError(
            "unknown_code", field="channel", value=str(channel), expected=["email", "sms"]
        )
    if not kind or len(kind) > 40:
        raise InvalidInputError("length_between", field="kind", low=1, high=40)
    if len(subject) > 300:
        raise InvalidInputError("text_too_long", field="subject", limit=300)
    if dedupe_key is not None and not 1 <= len(dedupe_key) <= 200:
        raise InvalidInputError("length_between", field="dedupe_key", low=1, high=200)
    values: dict[str, object] = {
        "kind": kind,
        "recipient": address,
        "subject": subject,
        "body": body,
        "dedupe_key": dedupe_key,
        "channel": channel,
        "commune_code": commune_code,
    }
    if not_before is not None:
        values["next_attempt_at"] = not_before
    if attachment is not None:
        name, content_type, content = attachment
        if not name or len(name) > 200 or "/" in name or "\\" in name:
            raise InvalidInputError("attachment_name_invalid", field="attachment", value=str(name))
        if "/" not in content_type or len(content_type) > 100:
            raise InvalidInputError(
                "attachment_type_invalid", field="attachment", value=str(content_type)
            )
        values |= {
            "attachment_name": name,
            "attachment_type": content_type,
            "attachment": content,
        }
    if entity is not None:
        values |= {"entity_type": entity[0], "entity_id": entity[1]}
    stmt = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
        .returning(Notification.id)
    )
    return session.scalar(stmt)


def check_phone(value: str) -> str:
    """A telephone number as the SMS gateway takes it: digits, an optional leading +."""
    digits = value.replace(" ", "").replace(".", "").replace("-", "")
    if not (digits.lstrip("+").isdigit() and 8 <= len(digits.lstrip("+")) <= 15):
        raise InvalidInputError("invalid_phone", field="recipient", value=str(value))
    return digits


def claim_next(
    session: Session, *, now: datetime, channels: tuple[str, ...] = ("email",)
) -> Notification | None:
    """The oldest pending notification due at ``now``, locked in the caller's transaction
    (``FOR UPDATE SKIP LOCKED``): another worker skips it until that transaction ends.
    Only the ``channels`` the worker can deliver."""
    stmt = (
        select(Notification)
        .where(
            Notification.status == "pending",
            Notification.next_attempt_at <= now,
            Notification.channel.in_(channels),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(stmt).first()


def claim_due(session: Session, *, now: datetime, limit: int) -> list[Notification]:
    """Up to ``limit`` pending notifications due at ``now``, oldest first, locked like
    :func:`claim_next`."""
    stmt = (
        select(Notification)
        .where(Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt).all())


def record_attempt(
    session: Session,
    notification: Notification,
    *,
    at: datetime,
    error: str | None,
    retry_at: datetime | None,
) -> None:
    """Record one attempt of a claimed notification: sent when ``error`` is ``None``;
    otherwise failed, retried at ``retry_at``, or ``failed`` for good when it is
    ``None``."""
    session.add(
        NotificationAttempt(
            notification_id=notification.id,
            at=at,
            outcome="sent" if error is None else "failed",
            error=None if error is None else error[:ERROR_MAX_LENGTH],
        )
    )
    values: dict[str, object] = {"attempts": Notification.attempts + 1}
    if error is None:
        values |= {"status": "sent", "sent_at": at}
    elif retry_at is None:
        values |= {"status": "failed"}
    else:
        values |= {"next_attempt_at": retry_at}
    session.execute(update(Notification).where(Notification.id == notification.id).values(values))


def page_notifications(
    session: Session, *, status: str | None, limit: int, offset: int
) -> NotificationsPublic:
    """A page of the outbox, newest first, each with its attempts (oldest first)."""
    where = [] if status is None else [Notification.status == status]
    total = session.scalar(select(func.count()).select_from(Notification).where(*where)) or 0
    rows = session.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.recipient,
            Notification.subject,
            Notification.status,
            Notification.attempts,
            Notification.next_attempt_at,
            Notification.sent_at,
            Notification.created_at,
            Notification.dedupe_key,
            Notification.entity_type,
            Notification.entity_id,
            Notification.attachment_name,
            Notification.attachment_type,
        )
        .where(*where)
        .order_by(Notification.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    attempts: dict[int, list[NotificationAttemptPublic]] = defaultdict(list)
    if rows:
        for a in session.execute(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id.in_([r.id for r in rows]))
            .order_by(NotificationAttempt.id)
        ).scalars():
            attempts[a.notification_id].append(
                NotificationAttemptPublic(at=a.at, outcome=a.outcome, error=a.error)
            )
    data = [NotificationPublic(**r._asdict(), attempt_log=attempts[r.id]) for r in rows]
    return NotificationsPublic(
        data=data, count=len(data), total=int(total), limit=limit, offset=offset
    )


# -- what the reminders read --------------------------------------------------------------
@dataclass(frozen=True)
class DueAction:
    """An action whose due date is near or past, with what its reminder names."""

    id: int
    type: str
    due_on: date
    status: str
    lead_partner_id: int
    partner: str
    problem_id: int
    problem_title: str
    gpo_id: int | None
    gpo_name: str | None


@dataclass(frozen=True)
class LateGpo:
    """An active GPO whose next meeting was due before today."""

    id: int
    name: str
    cadence_days: int
    last_meeting_on: date | None
    due_on: date


def _email_or_none(value: str | None) -> str | None:
    if not value or len(value) > EMAIL_MAX_LENGTH:
        return None
    try:
        return check_email(value)
    except InvalidInputError:
        return None


def actions_due(
    session: Session, *, today: date, horizon_days: int, statuses: tuple[str, ...]
) -> list[DueAction]:
    """The actions in ``statuses`` with a lead partner, due on or before ``today +
    horizon_days`` (overdue ones included), with their problem and the problem's GPO.
    The actions of synthetic (demo) problems are left out: no one is to be reminded of
    them."""
    stmt = (
        select(
            Action.id,
            Action.type,
            Action.due_on,
            Action.status,
            Action.lead_partner_id,
            Partner.organisation,
            Problem.id.label("problem_id"),
            Problem.title,
            Gpo.id.label("gpo_id"),
            Gpo.name.label("gpo_name"),
        )
        .join(Problem, Problem.id == Action.problem_id)
        .join(Partner, Partner.id == Action.lead_partner_id)
        .outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id)
        .outerjoin(Gpo, Gpo.id == ProblemPlace.gpo_id)
        .where(
            Action.status.in_(statuses),
            Action.due_on.is_not(None),
            Problem.synthetic.is_(False),
            Action.due_on <= today + timedelta(days=horizon_days),
        )
        .order_by(Action.due_on, Action.id)
    )
    return [
        DueAction(
            id=r.id,
            type=r.type,
            due_on=r.due_on,
            status=r.status,
            lead_partner_id=r.lead_partner_id,
            partner=r.organisation,
            problem_id=r.problem_id,
            problem_title=r.title,
            gpo_id=r.gpo_id,
            gpo_name=r.gpo_name,
        )
        for r in session.execute(stmt)
    ]


def partner_addresses(session: Session, partner_ids: list[int]) -> dict[int, list[str]]:
    """For each partner, the e-mail addresses that speak for it: its active
    ``partenaire`` accounts', and its contact when that is an e-mail address; sorted,
    without duplicates."""
    found: dict[int, set[str]] = defaultdict(set)
    if not partner_ids:
        return {}
    for partner_id, email in session.execute(
        select(Account.partner_id, Account.email).where(
            Account.partner_id.in_(partner_ids),
            Account.role == "partenaire",
            Account.active,
        )
    ):
        if partner_id is not None:
            found[partner_id].add(email)
    for partner_id, contact in session.execute(
        select(Partner.id, Partner.contact).where(Partner.id.in_(partner_ids))
    ):
        if (address := _email_or_none(contact)) is not None:
            found[partner_id].add(address)
    return {k: sorted(v) for k, v in found.items()}


def late_gpos(session: Session, *, today: date) -> list[LateGpo]:
    """The active GPOs « en retard »: their last closed meeting (their creation, if none)
    plus their cadence is before ``today``, as ``api.repositories.gpos`` reckons it."""
    last = (
        select(Meeting.gpo_id, func.max(Meeting.held_on).label("held_on"))
        .where(Meeting.status == "close")
        .group_by(Meeting.gpo_id)
        .subquery()
    )
    rows = session.execute(
        select(Gpo.id, Gpo.name, Gpo.cadence_days, Gpo.created_at, last.c.held_on)
        .outerjoin(last, last.c.gpo_id == Gpo.id)
        .where(Gpo.active)
        .order_by(Gpo.id)
    ).all()
    late = []
    for r in rows:
        due = meeting_due(r.held_on, r.created_at.date(), r.cadence_days)
        if due < today:
            late.append(LateGpo(r.id, r.name, r.cadence_days, r.held_on, due))
    return late


def chef_addresses(session: Session, gpo_ids: list[int]) -> dict[int, list[str]]:
    """For each GPO, the addresses of its chef: the active ``chef`` accounts bound to it,
    and its ``chief_contact`` when that is an e-mail address; sorted, without
    duplicates."""
    found: dict[int, set[str]] = defaultdict(set)
    if not gpo_ids:
        return {}
    for gpo_id, email in session.execute(
        select(account_gpo.c.gpo_id, Account.email)
        .join(Account, Account.id == account_gpo.c.account_id)
        .where(account_gpo.c.gpo_id.in_(gpo_ids), Account.role == "chef", Account.active)
    ):
        found[gpo_id].add(email)
    for gpo_id, contact in session.execute(
        select(Gpo.id, Gpo.chief_contact).where(Gpo.id.in_(gpo_ids))
    ):
        if (address := _email_or_none(contact)) is not None:
            found[gpo_id].add(address)
    return {k: sorted(v) for k, v in found.items()}
