"""Which problems were written since a snapshot (``problem_touch``, migration 0026), and
which actions (``action_touch``, migration 0027): a list read in one snapshot is brought
up to date by reading again only those."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

#: Past this many problems touched since a snapshot, a list is read again whole.
MAX_TOUCHED = 2000
#: How many transactions back the touches are kept (migration 0026's ``RETAINED``): a
#: snapshot older than that is not brought up to date.
RETAINED = 1_000_000

#: What was written since a snapshot, in one round trip: whether the snapshot is older
#: than the touches kept, the problems touched and (``{actions}``) the actions touched
#: with their problems, of the CSPs ``{csps}`` (at most ``:limit`` of each).
_SINCE = (
    "SELECT pg_snapshot_xmin(s.snap)::text::bigint "
    "< pg_snapshot_xmax(pg_current_snapshot())::text::bigint - :retained, "
    "ARRAY(SELECT DISTINCT t.problem_id FROM problem_touch t WHERE t.csp_id = ANY({csps}) "
    "AND t.xid >= pg_snapshot_xmin(s.snap)::text::bigint "
    "AND NOT pg_visible_in_snapshot(t.xid::text::xid8, s.snap) LIMIT :limit){actions} "
    "FROM (SELECT CAST(:snapshot AS pg_snapshot) AS snap) s"
)
_ACTIONS = (
    ", ARRAY(SELECT DISTINCT ARRAY[t.action_id, t.problem_id] FROM action_touch t "
    "WHERE t.csp_id = ANY({csps}) AND t.xid >= pg_snapshot_xmin(s.snap)::text::bigint "
    "AND NOT pg_visible_in_snapshot(t.xid::text::xid8, s.snap) LIMIT :limit)"
)
#: Of these CSPs (and "every CSP", 0), or of every CSP.
_SOME, _EVERY = "CAST(:csps AS integer[])", "ARRAY(SELECT id FROM csp) || 0"
_STATEMENTS = {
    (every, actions): text(
        _SINCE.format(
            csps=_EVERY if every else _SOME,
            actions=_ACTIONS.format(csps=_EVERY if every else _SOME) if actions else "",
        )
    )
    for every in (False, True)
    for actions in (False, True)
}


def _since(
    session: Session,
    csp_ids: Collection[int] | None,
    snapshot: str,
    retained: int,
    *,
    actions: bool,
) -> tuple[frozenset[int], list[list[int]]] | None:
    """The problems (and, with ``actions``, the actions with their problems) of these
    CSPs touched since ``snapshot``, one statement; None when ``snapshot`` is too old,
    more than :data:`MAX_TOUCHED` problems were touched, or every one (a row 0)."""
    values: dict[str, object] = {"snapshot": snapshot, "retained": retained}
    values["limit"] = MAX_TOUCHED + 1
    if csp_ids is not None:
        values["csps"] = [0, *csp_ids]
    row = session.execute(_STATEMENTS[csp_ids is None, actions], values).one()
    if row[0]:
        return None
    touched = frozenset(int(problem_id) for problem_id in row[1])
    if len(touched) > MAX_TOUCHED or 0 in touched:
        return None
    return touched, (list(row[2]) if actions else [])


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
    ``snapshot`` is older than the touches kept (:data:`RETAINED` transactions). One
    round trip."""
    found = _since(session, csp_ids, snapshot, retained, actions=False)
    return None if found is None else found[0]


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
    found = _since(session, csp_ids, snapshot, retained, actions=True)
    if found is None:
        return None
    problems, rows = found
    if len(rows) > MAX_TOUCHED or any(action_id == 0 for action_id, _ in rows):
        return None
    return FollowUp(
        problems=problems,
        actions=frozenset(int(a) for a, _ in rows),
        action_problems=frozenset(int(p) for _, p in rows if p),
    )
