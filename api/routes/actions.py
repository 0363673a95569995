from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import CONFLICT, INVALID
from api.schemas import ActionDetail, ActionsPublic, ActionStatusCode, ActionUpdate, DbInt
from api.services import actions

router = APIRouter(tags=["actions"])


@router.get(
    "/actions",
    response_model=ActionsPublic,
    responses=INVALID,
    dependencies=[access.PROBLEM_RECORDS],
)
def read_actions(
    ctx: ContextDep,
    gpo: Annotated[DbInt | None, Query(description="A GPO's actions")] = None,
    partner: Annotated[DbInt | None, Query(description="Led by this partner")] = None,
    status: Annotated[list[ActionStatusCode] | None, Query(description="Status codes")] = None,
    overdue: Annotated[bool, Query(description="Only the overdue ones")] = False,
    mine: Annotated[
        bool, Query(description="A partner: the actions its organisation leads (« Mes actions »)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The actions the caller may read (a chef: its GPOs'; a partner: its GPOs'), open
    ones first by due date, with their problem, GPO and dated steps."""
    body = actions.list_actions_json(
        ctx,
        gpo_id=gpo,
        partner_id=partner,
        statuses=status or (),
        overdue=overdue,
        mine=mine,
        limit=limit,
        offset=offset,
    )
    return Response(body, media_type="application/json")


@router.get("/actions/{action_id:int}", responses=INVALID, dependencies=[access.PROBLEM_RECORDS])
def read_action(action_id: DbId, ctx: ContextDep) -> ActionDetail:
    return actions.get_action(ctx, action_id)


@router.patch("/actions/{action_id:int}", responses=CONFLICT, dependencies=[access.ACTION_UPDATE])
def patch_action(action_id: DbId, body: ActionUpdate, ctx: ContextDep) -> ActionDetail:
    """A step of the action, dated and signed: prévue → en cours → réalisée | abandonnée,
    a due date moved, a comment. A partner updates only the actions its organisation
    leads (403 otherwise); a stale ``version`` is refused with 409."""
    return actions.update_action(ctx, action_id, body)
