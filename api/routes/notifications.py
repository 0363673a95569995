"""The notification outbox (issue 17), as the DDSP's direction reads it: every e-mail
queued, its status and its delivery attempts. Only ``admin`` reads it: 401 for an
anonymous caller, 403 for any other role."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api import access
from api.deps import ContextDep
from api.routes.responses import INVALID
from api.schemas.notifications import NotificationsPublic
from api.services import notifications
from api.services.notifications import MAX_PAGE

router = APIRouter(tags=["notifications"])


@router.get("/notifications", responses=INVALID, dependencies=[access.ADMIN])
def read_notifications(
    ctx: ContextDep,
    status: Annotated[
        Literal["pending", "sent", "failed"] | None,
        Query(description="pending (à envoyer), sent (envoyée), failed (abandonnée)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> NotificationsPublic:
    """The outbox, newest first, each notification with its attempts (never its
    attachment's content): ``count`` on the page, ``total`` matching. Reserved to
    ``admin``."""
    return notifications.page(ctx, status=status, limit=limit, offset=offset)
