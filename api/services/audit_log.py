"""The audit trail every write is recorded in: :func:`record` adds a line inside the
caller's transaction, so that the line and the change it describes are committed (or
rolled back) together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from api.repositories import audit_log as repo
from api.schemas import AuditEntriesPublic
from api.services.context import Context
from geo.accounts import Actor


def _json(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """JSON-ready (dates as ISO strings, sets as lists), or None for nothing."""
    return None if value is None else dict(to_jsonable_python(dict(value)))


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | str | None = None,
    changes: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
    address: str | None = None,
) -> None:
    """Add a line to the audit trail in the caller's transaction.

    ``action`` is a verb (``create``, ``update``, ``delete``, ``login``, ``login_failed``,
    ``export``, ``download``…), ``entity`` the kind of row (``account``, ``api_token``…),
    ``changes`` is ``{field: [before, after]}`` (see :func:`geo.accounts.changes_between`)
    and ``address`` the client's IP address. Never put a password or a token in it."""
    repo.add_entry(
        session,
        actor=actor.name,
        actor_account_id=actor.account_id,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        changes=_json(changes),
        detail=_json(detail),
        address=address,
    )


def list_entries(
    ctx: Context,
    *,
    entity: str | None = None,
    entity_id: int | str | None = None,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 200,
) -> AuditEntriesPublic:
    """The newest lines of the trail first, filtered on what is given."""
    with ctx.read() as session:
        return repo.list_entries(
            session,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            action=action,
            actor=actor,
            limit=limit,
        )
