"""Lists of problems kept up to date under writes (issue 22): a list read whole once is
kept with the snapshot it was read in, then brought up to date by reading again only the
problems written since (``problem_touch``, migration 0026), and the actions
(``action_touch``, migration 0027), instead of every problem of the list after each
write. Every kept answer follows one protocol (:func:`up_to_date`): the maps' points, the
GPOs' tallies, the OGC aggregate's partial month, these lists and the action lists.

A kept list is the ids of every problem (or action) it matches (its count) and its first
``limit`` entries in order, each with its sort key and its piece (a feature's text, a
problem's or an action's JSON…). After a write, the entries touched are taken out and
those of them that match now are put back at their place; when the entries taken out
leave fewer than ``limit`` known before the old last one while more match, the list is
read again whole."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from api import clock
from api.map_cache import MapCache
from api.repositories import actions, problems, touches
from api.services.context import Context
from geo.study import StudyArea


class Snapshotted(Protocol):
    """A value read in a PostgreSQL snapshot (``pg_current_snapshot()`` as text)."""

    @property
    def snapshot(self) -> str: ...


S = TypeVar("S", bound=Snapshotted)
#: What was written since a snapshot (by default the problems: a frozenset of ids).
T = TypeVar("T")


def up_to_date(
    session: Session,
    held: S | None,
    *,
    csp_ids: Collection[int] | None,
    whole: Callable[[str], S],
    update: Callable[[S, T, str], S | None],
    usable: Callable[[S], bool] | None = None,
    touched: Callable[[str], T | None] | None = None,
) -> tuple[S, bool]:
    """The protocol every kept answer follows: ``held`` (read in some snapshot, or None)
    brought up to date by ``update`` (the held value, what was written since its snapshot,
    the session's snapshot), or read again by ``whole`` (the session's snapshot) when none
    is held, it is not ``usable`` any more, too much was written since or ``update`` gives
    None. What was written since is ``touched(snapshot)`` (None: too much), by default the
    problems of these CSPs (None: of every CSP) written since
    (:func:`api.repositories.touches.touched_since`). Gives the value and whether it may
    be held: a session whose transaction has written sees its own uncommitted writes, and
    what it reads is not to be held."""
    now, wrote = touches.snapshot_and_writes(session)
    value: S | None = None
    if held is not None and not wrote and (usable is None or usable(held)):
        since = (
            touched(held.snapshot)
            if touched is not None
            else touches.touched_since(session, csp_ids=csp_ids, snapshot=held.snapshot)
        )
        if since is not None:
            value = update(held, since, now)  # type: ignore[arg-type]
    if value is None:
        value = whole(now)
    return value, not wrote


def kept_since(
    cache: MapCache[Any],
    session: Session,
    key: Hashable,
    *,
    csp_ids: Collection[int] | None,
    whole: Callable[[str], S],
    update: Callable[[S, T, str], S | None],
    usable: Callable[[S], bool] | None = None,
    touched: Callable[[str], T | None] | None = None,
) -> S:
    """The value ``key`` as the session sees it (:func:`up_to_date`), from the one held
    in ``cache``, held there again when it may be."""
    held = cache.held(key)
    value, holdable = up_to_date(
        session,
        held[1] if held is not None else None,
        csp_ids=csp_ids,
        whole=whole,
        update=update,
        usable=usable,
        touched=touched,
    )
    if holdable:
        cache.put(key, 0, value)
    return value


#: A listed problem: its sort key (unique: it ends with something unique to the problem,
#: its id), its id, and what the list shows of it.
Entry = tuple[Any, int, Any]


@dataclass(frozen=True)
class KeptList:
    """What a list is read from: the snapshot it holds, the ids of every problem it
    matches, and its first ``limit`` entries in order."""

    snapshot: str
    members: frozenset[int]
    first: tuple[Entry, ...]
    limit: int

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def pieces(self) -> list[Any]:
        return [piece for _, _, piece in self.first]


def whole_list(
    snapshot: str, members: Iterable[int], first: Sequence[Entry], limit: int
) -> KeptList:
    """A list read whole in ``snapshot``."""
    return KeptList(snapshot, frozenset(members), tuple(sorted(first)[:limit]), limit)


def updated_list(
    held: KeptList, touched: Collection[int], rows: Sequence[Entry], snapshot: str
) -> KeptList | None:
    """``held`` after the problems ``touched`` since its snapshot, ``rows`` being those
    of them the list matches now (read in ``snapshot``); None when it must be read again
    whole (entries beyond its old last one, never read, would now be among the first)."""
    if not rows and held.members.isdisjoint(touched):
        return replace(held, snapshot=snapshot)  # nothing of it written (another GPO's)
    remaining = [entry for entry in held.first if entry[1] not in touched]
    members = (held.members - frozenset(touched)) | {entry[1] for entry in rows}
    known = remaining  # in order: the rows written since are put at their place
    for row in rows:
        bisect.insort(known, row)
    if len(held.first) < len(held.members):  # the entries after the last one are unknown
        if not held.first:
            return None
        last = held.first[-1][0]
        known = [entry for entry in known if entry[0] <= last]
        if len(known) < min(held.limit, len(members)):
            return None
    return KeptList(snapshot, frozenset(members), tuple(known[: held.limit]), held.limit)


def kept_list(
    ctx: Context,
    session: Session,
    key: Hashable,
    *,
    csp_ids: Collection[int] | None,
    limit: int,
    whole: Callable[[], tuple[Iterable[int], Sequence[Entry]]],
    some: Callable[[frozenset[int]], Sequence[Entry]],
) -> KeptList:
    """The list ``key`` of these CSPs' problems (None: of every CSP) as the session
    sees it: the one held in ``ctx.lists`` brought up to date with ``some`` (the entries
    of the given problems that the list matches), or read again with ``whole`` (every
    member, and at least the first ``limit`` entries). The session reads one snapshot
    (:func:`api.repositories.touches.one_snapshot`, before its first statement)."""

    def read(now: str) -> KeptList:
        members, first = whole()
        return whole_list(now, members, first, limit)

    def update(held: KeptList, touched: frozenset[int], now: str) -> KeptList | None:
        return updated_list(held, touched, some(touched) if touched else [], now)

    return kept_since(ctx.lists, session, key, csp_ids=csp_ids, whole=read, update=update)


def open_list(ctx: Context, session: Session, area: StudyArea, limit: int) -> bytes:
    """The area's open problems in the list's order (highest priority and oldest first),
    with their actions (:class:`OpenProblemsPublic` as JSON), each problem written once
    and kept (:func:`kept_list`'s protocol): after a write, only the problems written
    since (``problem_touch``) and those whose actions' rows were (``action_touch``: an
    action added, its status, due date…; not a step alone) are read and written again."""
    csp_ids = [area.csp_id]

    def pieces(kept: KeptList) -> KeptList:
        # an entry read holds the problem's sector until its piece (bytes) is written
        missing = [(i, sector) for _, i, sector in kept.first if not isinstance(sector, bytes)]
        if not missing:
            return kept
        items = problems.open_problem_items(session=session, area=area, first=missing)
        made = {item.id: item.model_dump_json().encode() for item in items}
        first = tuple(
            (k, i, p if isinstance(p, bytes) else made.get(i, b"")) for k, i, p in kept.first
        )
        return replace(kept, first=first)

    def whole(now: str) -> KeptList:
        members = problems.open_ids(session=session, area=area)
        first = problems.open_entries(session=session, area=area, limit=limit)
        return pieces(whole_list(now, members, first, limit))

    def update(held: KeptList, since: touches.FollowUp, now: str) -> KeptList | None:
        touched = since.problems | since.action_problems
        rows = problems.open_entries(session=session, area=area, ids=touched) if touched else []
        kept = updated_list(held, touched, rows, now)
        return None if kept is None else pieces(kept)

    kept = kept_since(
        ctx.lists,
        session,
        ("open list", area.key, limit, clock.today()),  # "overdue" changes at midnight
        csp_ids=csp_ids,
        whole=whole,
        update=update,
        touched=lambda snapshot: touches.follow_up_since(
            session, csp_ids=csp_ids, snapshot=snapshot
        ),
    )
    return actions.pieces_page([piece for _, _, piece in kept.first if piece], kept.count)
