"""Following up the actions GPOs decide: their cycle (prévue → en cours → réalisée |
abandonnée), each step dated and signed, with comments and due-date changes; the lists a
partner (« Mes actions ») or a chef follows."""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

from api import clock
from api.compression import JoinedBody
from api.models import Action
from api.repositories import actions as repo
from api.repositories import base, touches
from api.repositories.base import check_version, require
from api.schemas import ActionDetail, ActionsPublic, ActionUpdate
from api.services.audit_log import record_write
from api.services.context import Context
from api.services.kept_lists import KeptList, kept_since, updated_list, whole_list
from geo.accounts import changes_between
from geo.errors import ForbiddenError, InvalidInputError
from geo.problems import check_action_transition


def _with_pieces(session: Session, kept: KeptList, shown: slice, today: date) -> KeptList:
    """``kept`` with the details of the entries ``shown`` written (those not yet)."""
    missing = [i for _, i, piece in kept.first[shown] if piece is None]
    if not missing:
        return kept
    made = repo.action_pieces(session=session, ids=missing, today=today)
    first = tuple((k, i, made.get(i) if piece is None else piece) for k, i, piece in kept.first)
    return replace(kept, first=first)


def _kept_actions(
    ctx: Context, session: Session, key: Hashable, query: repo.ActionQuery, shown: slice
) -> KeptList:
    """Which actions a list shows, in what order, each with its detail as JSON: kept with
    the snapshot it was read in, and brought up to date by reading again the actions
    written since (``action_touch``: their row or their steps) and those of the problems
    written since (``problem_touch``: their title, status, place…); read whole when none
    is held, too much was written (a partner or GPO renamed…) or a problem was deleted.
    Holds the first ``shown.stop`` entries, and the details of those ``shown``."""
    held_n = shown.stop

    def whole(now: str) -> KeptList:
        members = repo.action_ids(session=session, query=query)
        first = repo.action_entries(session=session, query=query, limit=held_n)
        return _with_pieces(session, whole_list(now, members, first, held_n), shown, query.today)

    def update(held: KeptList, since: touches.FollowUp, now: str) -> KeptList | None:
        of_problems = repo.actions_of_problems(session=session, problem_ids=since.problems)
        if of_problems is None:
            return None
        ids = since.actions | frozenset(of_problems)
        rows = repo.action_entries(session=session, query=query, ids=ids) if ids else []
        kept = updated_list(held, ids, rows, now)
        return None if kept is None else _with_pieces(session, kept, shown, query.today)

    return kept_since(
        ctx.lists,
        session,
        key,
        csp_ids=None,
        whole=whole,
        update=update,
        touched=lambda snapshot: touches.follow_up_since(session, csp_ids=None, snapshot=snapshot),
    )


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
    GPOs they may read. Served as bytes once per revision of the lists (``base.LISTS``);
    after a write, the list held is brought up to date from the actions and problems
    written since (:func:`_kept_actions`), not read again over every action of the GPO."""
    today = clock.today()
    if mine and ctx.scope.role == "partenaire":
        if ctx.scope.partner_id is None:
            return ActionsPublic(data=[], count=0).model_dump_json().encode()
        partner_id = ctx.scope.partner_id
    query = repo.ActionQuery(today, gpo_id, partner_id, tuple(sorted(statuses)), overdue)
    shown = slice(offset, offset + min(limit, repo.MAX_ACTIONS))
    key = ("actions", ctx.scope, query, limit, offset)
    with ctx.read() as session:
        touches.one_snapshot(session)

        def compute() -> bytes:
            kept = _kept_actions(ctx, session, ("action list", *key), query, shown)
            pieces = [piece for _, _, piece in kept.first[shown] if piece is not None]
            head, tail = repo.page_ends(kept.count)
            held = ctx.maps.held(key)
            # the same page again after a write that left it (a new problem); else its
            # gzipped form is assembled from runs of pieces, each deflated once
            return JoinedBody.again(held and held[1], head, pieces, b",", tail)

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
