"""The audit trail (issue 16): who wrote what, when, from where; and who downloaded or
exported restricted content. Only the DDSP's direction (``admin``) reads it: 401 for an
anonymous caller, 403 for any other role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api import access
from api.deps import ContextDep
from api.routes.responses import INVALID
from api.schemas import AuditLogPublic
from api.schemas.common import Day
from api.services import audit_log
from api.services.audit_log import MAX_PAGE, TrailFilter

#: Every route of the trail is the direction's alone.
router = APIRouter(tags=["journal"])


async def trail_filter(
    actor: Annotated[
        str | None, Query(max_length=200, description="account:<id>, cli:<user>, anonymous")
    ] = None,
    entity: Annotated[str | None, Query(max_length=50, description="plan, problem…")] = None,
    entity_id: Annotated[str | None, Query(max_length=50)] = None,
    action: Annotated[str | None, Query(max_length=50, description="create, update…")] = None,
    date_from: Annotated[Day | None, Query(alias="from", description="First day")] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="Last day")] = None,
) -> TrailFilter:
    return TrailFilter(
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        action=action,
        date_from=date_from,
        date_to=date_to,
    )


TrailFilterDep = Annotated[TrailFilter, Depends(trail_filter)]


@router.get("/audit-log", responses=INVALID, dependencies=[access.ADMIN])
def read_audit_log(
    ctx: ContextDep,
    where: TrailFilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> AuditLogPublic:
    """The audit trail, newest first, filtered (both days included) and paged: ``count``
    entries on the page, ``total`` matching. Reserved to ``admin``."""
    return audit_log.page(ctx, where, limit=limit, offset=offset)


@router.get(
    "/audit-log.csv",
    responses={**INVALID, 200: {"content": {"text/csv": {}}}},
    response_class=Response,
    dependencies=[access.ADMIN],
)
def read_audit_log_csv(ctx: ContextDep, where: TrailFilterDep) -> Response:
    """The same entries as CSV (``;``, French headers), for a spreadsheet. Reserved to
    ``admin``."""
    content, name = audit_log.trail_csv(ctx, where)
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
