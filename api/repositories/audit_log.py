"""The audit trail: who did what to which row, when and from where. Rows are only ever
added (the database refuses UPDATE, DELETE and TRUNCATE of ``audit_log``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import AuditLogEntry
from api.schemas import AuditEntriesPublic, AuditEntryPublic


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
    query = select(AuditLogEntry).order_by(AuditLogEntry.id.desc()).limit(limit)
    for column, value in (
        (AuditLogEntry.entity, entity),
        (AuditLogEntry.entity_id, entity_id),
        (AuditLogEntry.action, action),
        (AuditLogEntry.actor, actor),
    ):
        if value is not None:
            query = query.where(column == value)
    data = [
        AuditEntryPublic.model_validate(row, from_attributes=True) for row in session.scalars(query)
    ]
    return AuditEntriesPublic(data=data, count=len(data))
