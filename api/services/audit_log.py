"""The audit trail every write is recorded in: :func:`record` adds a line inside the
caller's transaction, so that the line and the change it describes are committed (or
rolled back) together."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from api import clock
from api.repositories import audit_log as repo
from api.schemas import AuditEntriesPublic, AuditLogPublic
from api.services.context import Context
from geo.accounts import Actor
from geo.errors import InvalidInputError
from geo.value_labels import trail_words


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


#: How many ids a detail lists at most (the count is always given).
MAX_LISTED_IDS = 50


def listed(ids: Iterable[Any]) -> list[Any]:
    """At most :data:`MAX_LISTED_IDS` of ``ids``, sorted: a detail stays small."""
    return sorted(ids)[:MAX_LISTED_IDS]


def record_write(
    session: Session,
    ctx: Context,
    action: str,
    entity: str,
    entity_id: int | str | None = None,
    changes: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """What every write service calls: :func:`record` in the service's transaction, for
    the context's actor (``ctx.actor``) from its address (``ctx.address``)."""
    record(
        session,
        ctx.actor,
        action,
        entity,
        entity_id,
        changes=changes,
        detail=detail,
        address=ctx.address,
    )


def record_access(
    ctx: Context,
    action: str,
    entity: str,
    entity_id: int | str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Record a download or an export (``download``, ``export``) of restricted content in
    its own short transaction."""
    with ctx.write() as session:
        record_write(session, ctx, action, entity, entity_id, detail=detail)


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


#: The most entries one page (or one CSV file) of the trail holds.
MAX_PAGE = 1000
MAX_CSV_ROWS = 100_000
CSV_HEADERS = (
    "date",
    "acteur",
    "compte",
    "adresse",
    "action",
    "objet",
    "identifiant",
    "modifications",
    "détail",
    "en clair",
)


@dataclass(frozen=True)
class TrailFilter:
    """What the trail is filtered on (every field optional; both days included)."""

    actor: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def checked(self) -> TrailFilter:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise InvalidInputError(
                "period_start_after_end",
                field="to",
                since=f"{self.date_from:%d/%m/%Y}",
                until=f"{self.date_to:%d/%m/%Y}",
            )
        return self


def page(ctx: Context, where: TrailFilter, *, limit: int = 100, offset: int = 0) -> AuditLogPublic:
    """One page of the trail, newest first, with how many entries match in all."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError("page_limit", field="limit", limit=MAX_PAGE, got=limit)
    if offset < 0:
        raise InvalidInputError("page_offset", field="offset", got=offset)
    with ctx.read() as session:
        return repo.page_entries(session, **asdict(where.checked()), limit=limit, offset=offset)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def trail_csv(ctx: Context, where: TrailFilter) -> tuple[str, str]:
    """The matching entries (newest first, at most :data:`MAX_CSV_ROWS`) as CSV: ``;``,
    French headers, changes and details as JSON (for a program) and in words (for a person:
    :func:`geo.value_labels.trail_words`, as the journal page says them); and the
    download's name."""
    with ctx.read() as session:
        entries = repo.page_entries(
            session, **asdict(where.checked()), limit=MAX_CSV_ROWS, offset=0
        ).data
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_HEADERS)
    for e in entries:
        writer.writerow(
            [
                e.at.isoformat(timespec="seconds"),
                e.actor,
                "" if e.actor_account_id is None else e.actor_account_id,
                e.address or "",
                e.action,
                e.entity,
                e.entity_id or "",
                _cell(e.changes),
                _cell(e.detail),
                trail_words(e.entity, e.changes, e.detail),
            ]
        )
    return out.getvalue(), f"journal_{clock.today()}.csv"
