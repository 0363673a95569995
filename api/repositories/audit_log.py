"""The audit trail: who did what to which row, when and from where. Rows are only ever
added (the database refuses UPDATE, DELETE and TRUNCATE of ``audit_log``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.models import AuditLogEntry
from api.schemas import AuditEntriesPublic, AuditEntryPublic, AuditLogPublic


def add_entry(
    session: Session,
    *,
    actor: str,
    actor_account_id: int | None,
    action: str,
    entity: str,
    entity_id: str | None,
    changes: dict[str, Any] | None,
    detail: dict[str, Any] | None,
    address: str | None,
) -> None:
    session.add(
        AuditLogEntry(
            actor=actor,
            actor_account_id=actor_account_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=changes,
            detail=detail,
            address=address,
        )
    )
    session.flush()


def _filtered(
    query: Select[Any],
    *,
    entity: str | None,
    entity_id: str | None,
    action: str | None,
    actor: str | None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Select[Any]:
    for column, value in (
        (AuditLogEntry.entity, entity),
        (AuditLogEntry.entity_id, entity_id),
        (AuditLogEntry.action, action),
        (AuditLogEntry.actor, actor),
    ):
        if value is not None:
            query = query.where(column == value)
    if date_from is not None:
        query = query.where(AuditLogEntry.at >= date_from)
    if date_to is not None and date_to < date.max:  # 31/12/9999: no day after it
        query = query.where(AuditLogEntry.at < date_to + timedelta(days=1))
    return query


def page_entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AuditLogPublic:
    """One page of the entries (newest first) filtered on what is given, both days
    included, with how many match in all."""
    filters: dict[str, Any] = {
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "actor": actor,
        "date_from": date_from,
        "date_to": date_to,
    }
    total = session.scalar(_filtered(select(func.count(AuditLogEntry.id)), **filters)) or 0
    query = _filtered(select(AuditLogEntry), **filters)
    rows = session.scalars(query.order_by(AuditLogEntry.id.desc()).limit(limit).offset(offset))
    data = [AuditEntryPublic.model_validate(row, from_attributes=True) for row in rows]
    return AuditLogPublic(data=data, count=len(data), total=total, limit=limit, offset=offset)


def list_entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 200,
) -> AuditEntriesPublic:
    """The newest entries first, filtered on what is given."""
    query = _filtered(
        select(AuditLogEntry).order_by(AuditLogEntry.id.desc()).limit(limit),
        entity=entity,
        entity_id=entity_id,
        action=action,
        actor=actor,
    )
    data = [
        AuditEntryPublic.model_validate(row, from_attributes=True) for row in session.scalars(query)
    ]
    return AuditEntriesPublic(data=data, count=len(data))
