"""Following up the actions GPOs decide: their cycle (prévue → en cours → réalisée |
abandonnée), each step dated and signed, with comments and due-date changes; the lists a
partner (« Mes actions ») or a chef follows."""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api import clock
from api.models import Action
from api.repositories import actions as repo
from api.repositories import base, touches
from api.repositories.base import check_version, require
from api.schemas import ActionDetail, ActionsPublic, ActionUpdate
from api.services.audit_log import record_write
from api.services.context import Context
from geo.accounts import changes_between
from geo.errors import ForbiddenError, InvalidInputError
from geo.problems import check_action_transition


@dataclass(frozen=True)
class KeptRanking:
    """An action list's ranking as read in ``snapshot``, at the ``counts`` revision
    ``counts`` (of every CSP)."""

    snapshot: str
    counts: int
    ranking: repo.ActionRanking


def _kept_ranking(
    ctx: Context, session: Session, key: Hashable, rank: Callable[[], repo.ActionRanking]
) -> repo.ActionRanking:
    """Which actions a list shows, in what order: kept while the ``counts`` topic (the
    actions' statuses, due dates, problems…) holds and the problems written since (their
    places, categories: ``problem_touch``) have no action; read again with ``rank``
    otherwise. A new problem has none: the ranking over every action of the GPO holds."""
    now = touches.snapshot(session)
    counts = base.problem_revision(session=session, csp_id=None, topics=("counts",))
    held: KeptRanking | None = ctx.lists.peek(key, 0)[1]
    if held is not None and held.counts == counts:
        touched = touches.touched_since(session, csp_ids=None, snapshot=held.snapshot)
        if touched is not None and not (
            touched and repo.with_actions(session=session, problem_ids=touched)
        ):
            ctx.lists.put(key, 0, KeptRanking(now, counts, held.ranking))
            return held.ranking
    kept = KeptRanking(now, counts, rank())
    ctx.lists.put(key, 0, kept)
    return kept.ranking


def list_actions_json(
    ctx: Context,
    *,
    gpo_id: int | None = None,
    partner_id: int | None = None,
    statuses: Collection[str] = (),
    overdue: bool = False,
    mine: bool = False,
    limit: int = 500,
    offset: int = 0,
) -> bytes:
    """The actions the caller may read, filtered (:class:`ActionsPublic` as JSON); ``mine``:
    those its organisation leads (a partner) — for the other roles, the actions of the
    GPOs they may read. Which actions, in what order, is kept until the problems or the
    actions' statuses, due dates… change (``base.COUNTS``: over every action of the GPO,
    the costly part); the answer itself until any follow-up changes (``base.LISTS``: a
    step adds to an action's history)."""
    today = clock.today()
    if mine and ctx.scope.role == "partenaire":
        if ctx.scope.partner_id is None:
            return ActionsPublic(data=[], count=0).model_dump_json().encode()
        partner_id = ctx.scope.partner_id
    statuses = tuple(sorted(statuses))
    key = ("actions", ctx.scope, gpo_id, partner_id, statuses, overdue, limit, offset, today)
    with ctx.read() as session:
        touches.one_snapshot(session)

        def rank() -> repo.ActionRanking:
            return repo.action_ranking(
                session=session,
                today=today,
                gpo_id=gpo_id,
                partner_id=partner_id,
                statuses=statuses,
                overdue=overdue,
                limit=limit,
                offset=offset,
            )

        def compute() -> bytes:
            ranking = _kept_ranking(ctx, session, ("action ranking", *key), rank)
            body, made = repo.list_actions_pieces(
                session=session,
                today=today,
                ranked=ranking,
                held=lambda k: ctx.action_pieces.peek((*k, today), 0)[1],
            )
            for (i, d), piece in made.items():
                ctx.action_pieces.put((i, d, today), 0, piece)
            return body

        revision = base.problem_revision(session=session, csp_id=None, topics=base.LISTS)
        body: bytes = ctx.maps.get_or_compute(key, revision, compute)
        return body


def get_action(ctx: Context, action_id: int) -> ActionDetail:
    with ctx.read() as session:
        return repo.get_action(session=session, action_id=action_id, today=clock.today())


def update_action(ctx: Context, action_id: int, action_in: ActionUpdate) -> ActionDetail:
    """A step of the action: a status reached, a due date moved, a comment, its
    description; dated ``on`` and signed by the caller. A partner updates only the
    actions its organisation leads."""
    today = clock.today()
    with ctx.write() as session:
        action = require(session, Action, action_id, lock=True)
        scope = ctx.scope
        if scope.role == "partenaire" and (
            scope.partner_id is None or action.lead_partner_id != scope.partner_id
        ):
            raise ForbiddenError("action_led_by_other")
        changes = action_in.model_dump(exclude_unset=True, exclude={"on", "version", "comment"})
        changes = {k: v for k, v in changes.items() if v != getattr(action, k)}
        comment = (action_in.comment or "").strip() or None
        if not changes and comment is None:
            raise InvalidInputError("action_nothing_to_record", field="status")
        check_version(action, action_in.version, "cette action")
        on = action_in.on
        if on > today:
            raise InvalidInputError("date_in_future", field="on", day=f"{on:%d/%m/%Y}")
        last = repo.last_step_on(session, action_id) or action.start_on
        if on < last:
            raise InvalidInputError(
                "action_step_before_last", field="on", day=f"{on:%d/%m/%Y}", last=f"{last:%d/%m/%Y}"
            )
        if "status" in changes:
            check_action_transition(action.status, changes["status"])
        if changes.get("due_on") is not None and changes["due_on"] < action.start_on:
            raise InvalidInputError(
                "action_due_before_action_start",
                field="due_on",
                due_on=f"{changes['due_on']:%d/%m/%Y}",
                start_on=f"{action.start_on:%d/%m/%Y}",
            )
        before = {key: getattr(action, key) for key in changes}
        for key, value in changes.items():
            setattr(action, key, value)
        if "status" in changes or "due_on" in changes or comment is not None:
            repo.add_event(
                session,
                action,
                on=on,
                status=changes.get("status"),
                due_on=changes.get("due_on"),
                comment=comment,
                signed_by=repo.signature(session, ctx.actor),
                account_id=ctx.actor.account_id,
            )
        session.flush()
        record_write(
            session,
            ctx,
            "update",
            "action",
            action_id,
            changes=changes_between(before, changes),
            detail={"problem_id": action.problem_id, "on": on, "comment": comment is not None},
        )
        return repo.get_action(session=session, action_id=action_id, today=today)
