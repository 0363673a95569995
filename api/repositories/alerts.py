"""Interventions and the mayors' alerts: the intervention rows within the caller's
perimeter, the commune a point falls in, the mayors of a commune with their
preferences, a commune account's own preferences, the commune's delivery log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import (
    Account,
    AlertPreference,
    Commune,
    Intervention,
    Notification,
    NotificationAttempt,
    account_commune,
    csp_commune,
)
from api.repositories.base import scope_of, visible, wkb_element

#: A point this close (metres) to a commune of the CSP counts as in it (digitising).
NEAR_M = 25.0


@dataclass(frozen=True)
class Mayor:
    """A commune account to alert, with its preferences (defaults when it set none)."""

    account_id: int
    email: str
    phone: str | None
    channels: list[str]
    natures: list[str]
    quiet_from: time | None
    quiet_to: time | None


def commune_at(session: Session, csp_id: int, point: shapely.Point) -> tuple[str, str] | None:
    """The commune of the CSP the point lies in (or within :data:`NEAR_M` of): its code
    and name."""
    geom = func.ST_GeomFromWKB(shapely.to_wkb(point), 4326)
    row = session.execute(
        select(Commune.code, Commune.name)
        .join(csp_commune, csp_commune.c.commune_code == Commune.code)
        .where(
            csp_commune.c.csp_id == csp_id,
            func.ST_DWithin(func.Geography(Commune.geom), func.Geography(geom), NEAR_M),
        )
        .order_by(func.ST_Distance(Commune.geom, geom), Commune.code)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def insert_intervention(session: Session, values: dict[str, Any], point: shapely.Point) -> int:
    row = Intervention(**values, geom=wkb_element(point))
    session.add(row)
    session.flush()
    return int(row.id)


def mayors(session: Session, commune_code: str) -> list[Mayor]:
    """The active ``commune`` accounts bound to the commune, with their preferences."""
    rows = session.execute(
        select(Account.id, Account.email, AlertPreference)
        .join(account_commune, account_commune.c.account_id == Account.id)
        .outerjoin(AlertPreference, AlertPreference.account_id == Account.id)
        .where(
            account_commune.c.commune_code == commune_code,
            Account.role == "commune",
            Account.active,
        )
        .order_by(Account.id)
    ).all()
    return [
        Mayor(
            account_id=account_id,
            email=email,
            phone=p.phone if p else None,
            channels=list(p.channels) if p else ["email"],
            natures=list(p.natures) if p else [],
            quiet_from=p.quiet_from if p else None,
            quiet_to=p.quiet_to if p else None,
        )
        for account_id, email, p in rows
    ]


def read_interventions(
    session: Session, *, commune_code: str | None, limit: int
) -> list[tuple[Intervention, str, float, float, int]]:
    """The latest interventions the caller sees (of a commune): each with its commune's
    name, its longitude and latitude, and how many alerts it queued."""
    alerts = (
        select(func.count())
        .where(
            Notification.entity_type == "intervention",
            Notification.entity_id == Intervention.id,
        )
        .scalar_subquery()
    )
    stmt = (
        select(
            Intervention,
            Commune.name,
            func.ST_X(Intervention.geom),
            func.ST_Y(Intervention.geom),
            alerts,
        )
        .join(Commune, Commune.code == Intervention.commune_code)
        .where(visible(Intervention, scope_of(session)))
        .order_by(Intervention.occurred_at.desc(), Intervention.id.desc())
        .limit(limit)
    )
    if commune_code is not None:
        stmt = stmt.where(Intervention.commune_code == commune_code)
    return [(i, name, float(x), float(y), int(n)) for i, name, x, y, n in session.execute(stmt)]


def preference_of(session: Session, account_id: int) -> tuple[str, AlertPreference | None]:
    email = session.scalar(select(Account.email).where(Account.id == account_id))
    return email or "", session.get(AlertPreference, account_id)


def save_preference(session: Session, account_id: int, values: dict[str, Any]) -> None:
    row = session.get(AlertPreference, account_id, with_for_update=True)
    if row is None:
        session.add(AlertPreference(account_id=account_id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = datetime.now().astimezone()
    session.flush()


def deliveries(session: Session, commune_code: str, limit: int) -> list[dict[str, Any]]:
    """The messages about the commune, newest first, each with its last error."""
    rows = session.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.channel,
            Notification.recipient,
            Notification.subject,
            Notification.status,
            Notification.attempts,
            Notification.created_at,
            Notification.next_attempt_at,
            Notification.sent_at,
        )
        .where(Notification.commune_code == commune_code)
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()
    errors: dict[int, str | None] = defaultdict(lambda: None)
    if rows:
        for notification_id, error in session.execute(
            select(NotificationAttempt.notification_id, NotificationAttempt.error)
            .where(NotificationAttempt.notification_id.in_([r.id for r in rows]))
            .order_by(NotificationAttempt.id)
        ):
            errors[notification_id] = error
    return [{**r._asdict(), "last_error": errors[r.id]} for r in rows]
