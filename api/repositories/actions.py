"""Actions decided by GPOs: their dated and signed steps (``action_event``), the lists a
partner or a chef follows (« Mes actions »), and who signs a step."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.models import (
    Account,
    Action,
    ActionEvent,
    Gpo,
    Partner,
    Problem,
    ProblemPlace,
    gpo_partner,
)
from api.repositories.base import (
    action_public,
    among,
    gpo_problems,
    require,
    scope_of,
    visible,
)
from api.schemas import ActionDetail, ActionEventPublic, ActionsPublic
from geo.accounts import Actor, Scope
from geo.problems import ACTION_STATUSES, OPEN_ACTION_STATUSES, STATUSES

#: Most actions one list answers.
MAX_ACTIONS = 2000


def signature(session: Session, actor: Actor) -> str:
    """How a step is signed: the account's name and, for a partner, its organisation;
    the command-line user otherwise."""
    if actor.account_id is None:
        return actor.name
    row = session.execute(
        select(Account.name, Partner.organisation)
        .outerjoin(Partner, Partner.id == Account.partner_id)
        .where(Account.id == actor.account_id)
    ).first()
    if row is None:
        return actor.name
    name, organisation = row
    return f"{name} ({organisation})" if organisation else name


def add_event(
    session: Session,
    action: Action,
    *,
    on: date,
    signed_by: str,
    account_id: int | None,
    status: str | None = None,
    due_on: date | None = None,
    comment: str | None = None,
) -> None:
    session.add(
        ActionEvent(
            action_id=action.id,
            on=on,
            status=status,
            due_on=due_on,
            comment=comment,
            account_id=account_id,
            signed_by=signed_by,
        )
    )


def last_step_on(session: Session, action_id: int) -> date | None:
    """The date of the action's latest step (a new step may not be dated before it)."""
    return session.scalar(
        select(func.max(ActionEvent.on)).where(ActionEvent.action_id == action_id)
    )


def _details(session: Session, actions: list[Action], today: date) -> list[ActionDetail]:
    if not actions:
        return []
    ids = [a.id for a in actions]
    problem_ids = {a.problem_id for a in actions}
    problems = {
        pid: (title, status, gpo_id, gpo_name)
        for pid, title, status, gpo_id, gpo_name in session.execute(
            select(Problem.id, Problem.title, Problem.status, Gpo.id, Gpo.name)
            .outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id)
            .outerjoin(Gpo, Gpo.id == ProblemPlace.gpo_id)
            .where(among(Problem.id, problem_ids))
        )
    }
    partner_ids = {a.lead_partner_id for a in actions if a.lead_partner_id is not None}
    names = dict(
        session.execute(
            select(Partner.id, Partner.organisation).where(Partner.id.in_(partner_ids))
        ).all()
    )
    events: dict[int, list[ActionEventPublic]] = {}
    for e in session.scalars(
        select(ActionEvent)
        .where(among(ActionEvent.action_id, ids))
        .order_by(ActionEvent.on, ActionEvent.id)
    ):
        events.setdefault(e.action_id, []).append(
            ActionEventPublic(
                on=e.on,
                status=e.status,
                status_label=ACTION_STATUSES.get(e.status, e.status) if e.status else None,
                due_on=e.due_on,
                comment=e.comment,
                signed_by=e.signed_by,
                synthetic=e.synthetic,
            )
        )
    details = []
    for a in actions:
        title, status, gpo_id, gpo_name = problems[a.problem_id]
        details.append(
            ActionDetail(
                **action_public(a, names, today).model_dump(),
                problem_id=a.problem_id,
                problem_title=title,
                problem_status_label=STATUSES.get(status, status),
                gpo_id=gpo_id,
                gpo_name=gpo_name,
                events=events.get(a.id, []),
            )
        )
    return details


def get_action(*, session: Session, action_id: int, today: date) -> ActionDetail:
    return _details(session, [require(session, Action, action_id)], today)[0]


@dataclass(frozen=True)
class ActionRanking:
    """Which actions a list shows and in what order: how many match, and the ids of the
    page."""

    count: int
    ids: list[int]


@dataclass(frozen=True)
class ActionQuery:
    """Which actions a list shows: of a GPO's problems (``gpo_id``), led by a partner, in
    some statuses, overdue only (on ``today``)."""

    today: date
    gpo_id: int | None = None
    partner_id: int | None = None
    statuses: tuple[str, ...] = ()
    overdue: bool = False


def _ranked(session: Session, query: ActionQuery) -> Any:
    """The actions of ``query`` the caller may read, with what they are ordered by."""
    scope = scope_of(session)
    stmt = select(Action.id, Action.status, Action.due_on, Action.start_on)
    if query.gpo_id is not None:
        gpo = require(session, Gpo, query.gpo_id)
        stmt = stmt.where(Action.problem_id.in_(select(Problem.id).where(gpo_problems(gpo))))
        # The problems of one of the caller's own GPOs are all visible to it (the same
        # rule as base.visible_problem_ids): its perimeter adds nothing but a costly
        # join that the planner misjudges (30 000 actions of a sector: 2 s).
        if scope.reads_problem_records and gpo.id in scope.gpo_ids:
            scope = Scope.everything()
    stmt = stmt.where(visible(Action, scope))
    if query.partner_id is not None:
        stmt = stmt.where(Action.lead_partner_id == query.partner_id)
    if query.statuses:
        stmt = stmt.where(Action.status.in_(query.statuses))
    if query.overdue:
        stmt = stmt.where(Action.status.in_(OPEN_ACTION_STATUSES), Action.due_on < query.today)
    return stmt


#: The order of the lists: open actions first by due date (none last), the latest
#: started first, then by id.
def _order() -> tuple[Any, ...]:
    finished = Action.status.not_in(OPEN_ACTION_STATUSES)
    return (finished, Action.due_on.asc().nulls_last(), Action.start_on.desc(), Action.id)


#: An action in its list: its sort key (:func:`_order`'s, ending with its id), its id, and
#: its detail as JSON once made (None before).
ActionEntry = tuple[tuple[bool, bool, int, int, int], int, bytes | None]


def action_ranking(
    *,
    session: Session,
    today: date,
    gpo_id: int | None = None,
    partner_id: int | None = None,
    statuses: Collection[str] = (),
    overdue: bool = False,
    limit: int,
    offset: int,
) -> ActionRanking:
    """The actions the caller may read, of a GPO's problems (``gpo_id``), led by a partner,
    in some statuses, overdue only: open ones first by due date, then finished ones."""
    query = ActionQuery(today, gpo_id, partner_id, tuple(statuses), overdue)
    stmt = _ranked(session, query)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    ids = session.scalars(
        stmt.with_only_columns(Action.id)
        .order_by(*_order())
        .limit(min(limit, MAX_ACTIONS))
        .offset(offset)
    ).all()
    return ActionRanking(count=int(count), ids=[int(i) for i in ids])


def action_ids(*, session: Session, query: ActionQuery) -> list[int]:
    """The ids of every action of ``query`` (how many: its count)."""
    return [int(i) for i in session.scalars(_ranked(session, query).with_only_columns(Action.id))]


def action_entries(
    *,
    session: Session,
    query: ActionQuery,
    limit: int | None = None,
    ids: Collection[int] | None = None,
) -> list[ActionEntry]:
    """The first ``limit`` actions of ``query`` in the lists' order, or those of ``ids``
    that ``query`` shows, each with its sort key (no detail yet)."""
    stmt = _ranked(session, query)
    if ids is not None:
        stmt = stmt.where(among(Action.id, ids))
    else:
        stmt = stmt.order_by(*_order()).limit(limit)
    return [
        (
            (
                status not in OPEN_ACTION_STATUSES,
                due_on is None,
                due_on.toordinal() if due_on is not None else 0,
                -start_on.toordinal(),
                int(i),
            ),
            int(i),
            None,
        )
        for i, status, due_on, start_on in session.execute(stmt)
    ]


def actions_of_problems(*, session: Session, problem_ids: Collection[int]) -> list[int] | None:
    """The ids of the actions of these problems, or None when one of the problems no
    longer exists (its actions went with it, unseen: a list holding them is read again)."""
    ids = sorted(set(problem_ids))
    if not ids:
        return []
    left, actions = session.execute(_OF_PROBLEMS, {"ids": ids}).one()
    if left != len(ids):
        return None
    return [int(i) for i in actions]


#: How many of the problems ``:ids`` exist, and their actions' ids: one round trip.
_OF_PROBLEMS = text(
    "SELECT (SELECT count(*) FROM problem WHERE id = ANY(CAST(:ids AS bigint[]))), "
    "ARRAY(SELECT id FROM action WHERE problem_id = ANY(CAST(:ids AS bigint[])))"
)


def list_actions(*, session: Session, today: date, ranked: ActionRanking) -> ActionsPublic:
    """The actions of an :func:`action_ranking`, in its order, with their steps, problem
    and GPO."""
    found = {a.id: a for a in session.scalars(select(Action).where(among(Action.id, ranked.ids)))}
    actions = [found[i] for i in ranked.ids if i in found]
    return ActionsPublic(data=_details(session, actions, today), count=ranked.count)


def action_pieces(*, session: Session, ids: Collection[int], today: date) -> dict[int, bytes]:
    """Each action's detail as :func:`list_actions` writes it (JSON), by id."""
    found = list(session.scalars(select(Action).where(among(Action.id, ids)).order_by(Action.id)))
    return {d.id: d.model_dump_json().encode() for d in _details(session, found, today)}


def pieces_page(pieces: Sequence[bytes], count: int) -> bytes:
    """A page (``{"data": [...], "count": n}``, as pydantic writes :class:`Page`) of
    items already written as JSON."""
    head, tail = page_ends(count)
    return head + b",".join(pieces) + tail


def page_ends(count: int) -> tuple[bytes, bytes]:
    """What a page of :func:`pieces_page` holds before its items and after them."""
    return b'{"data":[', b'],"count":%d}' % count


def problem_gpo_partners(session: Session, problem_id: int) -> set[int] | None:
    """The partners of the GPOs the problem is placed in (its sector's GPO and the
    thematic GPOs spanning its sector), or None when it is placed in no GPO."""
    gpo_ids = (
        select(Gpo.id)
        .join(
            ProblemPlace,
            and_(
                Gpo.csp_id == ProblemPlace.csp_id,
                Gpo.active,
                or_(
                    Gpo.sector == ProblemPlace.sector,
                    Gpo.sectors.op("@>")(func.to_jsonb(ProblemPlace.sector).cast(JSONB)),
                ),
            ),
        )
        .where(ProblemPlace.problem_id == problem_id)
    )
    if session.scalar(select(func.count()).select_from(gpo_ids.subquery())) == 0:
        return None
    return set(
        session.scalars(select(gpo_partner.c.partner_id).where(gpo_partner.c.gpo_id.in_(gpo_ids)))
    )
