"""Actions decided by GPOs: their dated and signed steps (``action_event``), the lists a
partner or a chef follows (« Mes actions »), and who signs a step."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

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
    page. It changes only with the actions' status, due date, start, lead partner or
    problem and with the problems' placement (topic ``counts`` and ``problems``), not
    with a comment."""

    count: int
    ids: list[int]


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
    scope = scope_of(session)
    stmt = select(Action.id)
    if gpo_id is not None:
        gpo = require(session, Gpo, gpo_id)
        stmt = stmt.where(Action.problem_id.in_(select(Problem.id).where(gpo_problems(gpo))))
        # The problems of one of the caller's own GPOs are all visible to it (the same
        # rule as base.visible_problem_ids): its perimeter adds nothing but a costly
        # join that the planner misjudges (30 000 actions of a sector: 2 s).
        if scope.reads_problem_records and gpo.id in scope.gpo_ids:
            scope = Scope.everything()
    stmt = stmt.where(visible(Action, scope))
    if partner_id is not None:
        stmt = stmt.where(Action.lead_partner_id == partner_id)
    if statuses:
        stmt = stmt.where(Action.status.in_(statuses))
    if overdue:
        stmt = stmt.where(Action.status.in_(OPEN_ACTION_STATUSES), Action.due_on < today)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    finished = Action.status.not_in(OPEN_ACTION_STATUSES)
    ids = session.scalars(
        stmt.order_by(finished, Action.due_on.asc().nulls_last(), Action.start_on.desc(), Action.id)
        .limit(min(limit, MAX_ACTIONS))
        .offset(offset)
    ).all()
    return ActionRanking(count=int(count), ids=[int(i) for i in ids])


def with_actions(*, session: Session, problem_ids: Collection[int]) -> bool:
    """Whether any of these problems has an action, or no longer exists (its actions
    were deleted with it, which the ``counts`` topic does not see: its trigger finds no
    problem left); a change of a problem without one leaves every action list as it was."""
    ids = sorted(set(problem_ids))
    with_one = select(Action.id).where(among(Action.problem_id, ids)).exists()
    left = select(func.count()).select_from(Problem).where(among(Problem.id, ids))
    return bool(session.scalar(select(or_(with_one, left.scalar_subquery() < len(ids)))))


def list_actions(*, session: Session, today: date, ranked: ActionRanking) -> ActionsPublic:
    """The actions of an :func:`action_ranking`, in its order, with their steps, problem
    and GPO (the ranking, the costly part, is kept by the caller)."""
    found = {a.id: a for a in session.scalars(select(Action).where(among(Action.id, ranked.ids)))}
    actions = [found[i] for i in ranked.ids if i in found]
    return ActionsPublic(data=_details(session, actions, today), count=ranked.count)


#: A digest of everything an action's detail shows (:func:`_details`): its row, its steps,
#: its problem's title and status, its GPO and lead partner; ``today`` is the caller's.
_FINGERPRINTS = text(
    "SELECT a.id, md5(concat_ws('|', a::text, p.title, p.status, g.id, g.name, "
    "pa.organisation, (SELECT string_agg(e::text, '|' ORDER BY e.id) FROM action_event e "
    "WHERE e.action_id = a.id))) "
    "FROM action a JOIN problem p ON p.id = a.problem_id "
    "LEFT JOIN problem_place pp ON pp.problem_id = p.id "
    "LEFT JOIN gpo g ON g.id = pp.gpo_id "
    "LEFT JOIN partner pa ON pa.id = a.lead_partner_id "
    "WHERE a.id = ANY(:ids)"
)


def action_fingerprints(*, session: Session, ids: list[int]) -> dict[int, str]:
    """A digest per action of what its detail shows (the ones that still exist): a detail
    serialised once is served again while its digest holds (:func:`list_actions_pieces`)."""
    return {int(i): str(d) for i, d in session.execute(_FINGERPRINTS, {"ids": list(ids)})}


def list_actions_pieces(
    *,
    session: Session,
    today: date,
    ranked: ActionRanking,
    held: Callable[[tuple[int, str]], bytes | None],
) -> tuple[bytes, dict[tuple[int, str], bytes]]:
    """:func:`list_actions` as JSON bytes, each action's detail taken from ``held`` (by id
    and digest) when it is there: only the actions whose digest moved (a step, a status…)
    are read and serialised again. Gives the answer and the pieces it made."""
    prints = action_fingerprints(session=session, ids=ranked.ids)
    keys = [(i, prints[i]) for i in ranked.ids if i in prints]
    pieces = {k: piece for k in keys if (piece := held(k)) is not None}
    missing = [i for i, d in keys if (i, d) not in pieces]
    made: dict[tuple[int, str], bytes] = {}
    if missing:
        # read after the digests: a piece is never older than the digest it is kept by
        found = {a.id: a for a in session.scalars(select(Action).where(among(Action.id, missing)))}
        actions = [found[i] for i in missing if i in found]
        for detail in _details(session, actions, today):
            made[(detail.id, prints[detail.id])] = detail.model_dump_json().encode()
    every = {**pieces, **made}
    shown = [every[k] for k in keys if k in every]
    body = b'{"data":[' + b",".join(shown) + b'],"count":%d}' % ranked.count
    return body, made


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
