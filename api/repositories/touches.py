"""Which problems were written since a snapshot (``problem_touch``, migration 0026), and
which actions (``action_touch``, migration 0027): a list read in one snapshot is brought
up to date by reading again only those."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.models import Csp

#: Past this many problems touched since a snapshot, a list is read again whole.
MAX_TOUCHED = 2000
#: How many transactions back the touches are kept (migration 0026's ``RETAINED``): a
#: snapshot older than that is not brought up to date.
RETAINED = 1_000_000

_TOO_OLD = text(
    "SELECT pg_snapshot_xmin(CAST(:snapshot AS pg_snapshot))::text::bigint "
    "< pg_snapshot_xmax(pg_current_snapshot())::text::bigint - :retained"
)

_ACTIONS_TOUCHED = text(
    "SELECT DISTINCT action_id, problem_id FROM action_touch "
    "WHERE csp_id = ANY(:csps) "
    "AND xid >= pg_snapshot_xmin(CAST(:snapshot AS pg_snapshot))::text::bigint "
    "AND NOT pg_visible_in_snapshot(xid::text::xid8, CAST(:snapshot AS pg_snapshot)) "
    "LIMIT :limit"
)

_TOUCHED = text(
    "SELECT DISTINCT problem_id FROM problem_touch "
    "WHERE csp_id = ANY(:csps) "
    "AND xid >= pg_snapshot_xmin(CAST(:snapshot AS pg_snapshot))::text::bigint "
    "AND NOT pg_visible_in_snapshot(xid::text::xid8, CAST(:snapshot AS pg_snapshot)) "
    "LIMIT :limit"
)


def one_snapshot(session: Session) -> None:
    """Every statement of the session's transaction reads the same snapshot (REPEATABLE
    READ): a list, the snapshot it is kept with and the touches since another one agree.
    Called before the session's first statement."""
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def snapshot(session: Session) -> str:
    """The session's snapshot (``pg_current_snapshot()``) as text."""
    return snapshot_and_writes(session)[0]


def snapshot_and_writes(session: Session) -> tuple[str, bool]:
    """The session's snapshot (:func:`snapshot`), and whether its transaction has
    written: its own uncommitted writes are then seen, and what it reads is not to be
    kept."""
    row = session.execute(
        text("SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned() IS NOT NULL")
    ).one()
    return str(row[0]), bool(row[1])


def touched_since(
    session: Session,
    *,
    csp_ids: Collection[int] | None,
    snapshot: str,
    retained: int = RETAINED,
) -> frozenset[int] | None:
    """The problems of these CSPs (None: of every CSP) written by the transactions
    committed since ``snapshot`` that the session sees; None when that is every problem
    (a bulk write, a GPO's territory changed), more than :data:`MAX_TOUCHED`, or when
    ``snapshot`` is older than the touches kept (:data:`RETAINED` transactions)."""
    if session.scalar(_TOO_OLD, {"snapshot": snapshot, "retained": retained}):
        return None
    csps = list(csp_ids) if csp_ids is not None else list(session.scalars(select(Csp.id)))
    rows = session.execute(
        _TOUCHED, {"csps": [0, *csps], "snapshot": snapshot, "limit": MAX_TOUCHED + 1}
    ).all()
    touched = frozenset(int(problem_id) for (problem_id,) in rows)
    if len(touched) > MAX_TOUCHED or 0 in touched:
        return None
    return touched


@dataclass(frozen=True)
class FollowUp:
    """What was written since a snapshot of the problems and their actions: the problems
    (``problem_touch``), the actions (their row or their steps: ``action_touch``) and the
    problems whose actions' rows were written (an action added, changed, deleted; not a
    step alone)."""

    problems: frozenset[int]
    actions: frozenset[int]
    action_problems: frozenset[int]


def follow_up_since(
    session: Session,
    *,
    csp_ids: Collection[int] | None,
    snapshot: str,
    retained: int = RETAINED,
) -> FollowUp | None:
    """The problems and actions of these CSPs (None: of every CSP) written since
    ``snapshot`` (:class:`FollowUp`); None when that is every one (a bulk write, a partner
    or a GPO renamed…), more than :data:`MAX_TOUCHED`, or ``snapshot`` is too old."""
    problems = touched_since(session, csp_ids=csp_ids, snapshot=snapshot, retained=retained)
    if problems is None:
        return None
    csps = list(csp_ids) if csp_ids is not None else list(session.scalars(select(Csp.id)))
    rows = session.execute(
        _ACTIONS_TOUCHED, {"csps": [0, *csps], "snapshot": snapshot, "limit": MAX_TOUCHED + 1}
    ).all()
    if len(rows) > MAX_TOUCHED or any(action_id == 0 for action_id, _ in rows):
        return None
    return FollowUp(
        problems=problems,
        actions=frozenset(int(a) for a, _ in rows),
        action_problems=frozenset(int(p) for _, p in rows if p),
    )
