"""GPOs (one per sector of the adopted plan, and thematic ones) and their partners."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from api import clock
from api.repositories import base, touches
from api.repositories import gpos as repo
from api.schemas import (
    GpoCreate,
    GpoPublic,
    GposPublic,
    GpoUpdate,
    PartnerCreate,
    PartnerPublic,
    PartnersPublic,
)
from api.services.audit_log import record_write
from api.services.context import Context
from api.services.kept_lists import kept_since
from geo.accounts import changes_between


@dataclass(frozen=True)
class KeptTallies:
    """The GPOs' counts' tallies as read in ``snapshot``: each open placed problem's
    (CSP, sector, category), their tally, and the open actions' tally as of the
    ``counts`` revision ``counts``."""

    snapshot: str
    counts: int
    places: dict[int, tuple[int, int, str]]
    tally: Counter[tuple[int, int, str]]
    actions: list[tuple[int, int, str, date, int]]


def _kept_tallies(
    ctx: Context, session: Session, csp_ids: list[int], today: date, horizon_days: int
) -> KeptTallies:
    """The tallies of these CSPs: those held brought up to date from the problems written
    since (their open actions read again only when the ``counts`` topic moved or one of
    them has an open action with a due date), or read whole (:func:`kept_since`)."""
    counts = sum(
        base.problem_revision(session=session, csp_id=c, topics=("counts",)) for c in csp_ids
    )

    def open_actions() -> list[tuple[int, int, str, date, int]]:
        return repo.open_action_tallies(
            session=session, csp_ids=csp_ids, today=today, horizon_days=horizon_days
        )

    def whole(now: str) -> KeptTallies:
        places = dict(repo.open_placed_problems(session=session, csp_ids=csp_ids))
        return KeptTallies(now, counts, places, Counter(places.values()), open_actions())

    def update(held: KeptTallies, touched: frozenset[int], now: str) -> KeptTallies:
        places, tally, actions = held.places, held.tally, held.actions
        if touched:
            places, tally = dict(places), Counter(tally)
            for i in touched & places.keys():
                tally[places.pop(i)] -= 1
            for i, where in repo.open_placed_problems(
                session=session, csp_ids=csp_ids, ids=touched
            ):
                places[i] = where
                tally[where] += 1
        if counts != held.counts or (
            touched and repo.with_open_actions_due(session=session, ids=touched)
        ):
            actions = open_actions()
        return KeptTallies(now, counts, places, tally, actions)

    key = ("gpo tallies", tuple(csp_ids), today, horizon_days)
    return kept_since(ctx.lists, session, key, csp_ids=csp_ids, whole=whole, update=update)


def list_gpos(ctx: Context, csp_id: int) -> GposPublic:
    """The CSP's active GPOs; their counts' tallies (over every open problem and action
    of the CSP: the costly part) are kept, and brought up to date from the problems
    written since (:mod:`api.services.kept_lists`); the open actions' tally until the
    ``counts`` topic moves (:data:`api.repositories.base.COUNTS`)."""
    with ctx.read() as session:
        touches.one_snapshot(session)
        return _list_gpos(ctx, session, csp_id)


def _kept_tallies_reader(ctx: Context, session: Session) -> repo.TalliesReader:
    """The GPOs' counts' tallies read in ``session`` (one snapshot), kept."""

    def tallies(csp_ids: list[int], today: date, horizon_days: int) -> repo.FollowUpTallies:
        kept = _kept_tallies(ctx, session, csp_ids, today, horizon_days)
        return repo.FollowUpTallies(
            today=today,
            horizon_days=horizon_days,
            open_problems=[(c, s, cat, n) for (c, s, cat), n in kept.tally.items() if n],
            open_actions=kept.actions,
        )

    return tallies


def _list_gpos(ctx: Context, session: Session, csp_id: int) -> GposPublic:
    """:func:`list_gpos` read in ``session`` (one snapshot), the tallies kept."""
    tallies = _kept_tallies_reader(ctx, session)
    return repo.list_gpos(session=session, csp_id=csp_id, tallies=tallies)


@dataclass(frozen=True)
class KeptFrame:
    """The GPOs a perimeter sees on a day, without their counts, and the mark of what
    they were read from (:func:`api.repositories.gpos.frame_mark`)."""

    mark: tuple[str, str, int]
    gpos: list[GpoPublic]


def _kept_frame(ctx: Context, session: Session, csp_id: int, today: date) -> list[GpoPublic]:
    """The CSP's GPOs as the caller sees them, without their counts: the ones held for
    its perimeter and the day while the GPOs' rows, their partners and the CSP's
    meetings are as they were read (a new problem, an action's status leave them), or
    read again."""
    key = ("gpo frame", csp_id, ctx.scope, today)
    mark = repo.frame_mark(session=session, csp_id=csp_id)
    held = ctx.lists.held(key)
    if held is not None and held[1].mark == mark:
        kept: list[GpoPublic] = held[1].gpos
        return kept
    frame = repo.gpo_frame(session=session, csp_id=csp_id, today=today)
    ctx.lists.put(key, 0, KeptFrame(mark, frame))
    return frame


def list_gpos_json(ctx: Context, csp_id: int) -> bytes:
    """:func:`list_gpos` as JSON, kept in the map cache for the caller's perimeter (its
    whole :class:`geo.accounts.Scope`: which GPOs it sees, whether it reads the chefs'
    contacts) and the day (their due and overdue meetings), until the CSP's revision of
    what the list reads moves (:data:`api.repositories.base.GPO_LIST`: a GPO or its
    partners, a problem, an action opened, closed or due another day, a meeting), by a
    write through any process; an action step or a comment leaves it. Served as the same
    ``bytes`` object until then: neither rebuilt nor hashed nor compressed again. Built
    again, the GPOs without their counts are kept while their rows, their partners and
    the CSP's meetings are as they were read (:func:`_kept_frame`: a new problem only
    changes the counts), and the counts' tallies are brought up to date from the
    problems written since (:func:`_kept_tallies`)."""
    today = clock.today()
    key = ("gpo list", csp_id, ctx.scope, today)
    with ctx.read() as session:
        touches.one_snapshot(session)
        revision = base.problem_revision(session=session, csp_id=csp_id, topics=base.GPO_LIST)

        def compute() -> bytes:
            frame = _kept_frame(ctx, session, csp_id, today)
            data = repo.with_counts(frame, today, _kept_tallies_reader(ctx, session))
            body = GposPublic(data=data, count=len(data)).model_dump_json().encode()
            held = ctx.maps.held(key)
            # a write that left the list as it was (a problem elsewhere): the same
            # object again, neither hashed for its ETag nor compressed again
            return held[1] if held is not None and held[1] == body else body

        body: bytes = ctx.maps.get_or_compute(key, revision, compute)
        return body


def get_gpo(ctx: Context, gpo_id: int) -> GpoPublic:
    with ctx.read() as session:
        return repo.get_gpo(session=session, gpo_id=gpo_id)


def create_thematic_gpo(ctx: Context, csp_id: int, gpo_in: GpoCreate) -> GpoPublic:
    with ctx.write() as session:
        gpo_id = repo.create_thematic_gpo(session=session, csp_id=csp_id, gpo_in=gpo_in)
        created = repo.get_gpo(session=session, gpo_id=gpo_id)
        record_write(
            session,
            ctx,
            "create",
            "gpo",
            gpo_id,
            changes=changes_between({}, gpo_in.model_dump(mode="json")),
            detail={"csp_id": csp_id},
        )
        return created


def update_gpo(ctx: Context, gpo_id: int, gpo_in: GpoUpdate) -> GpoPublic:
    with ctx.write() as session:
        fields = set(gpo_in.model_dump(exclude_unset=True, exclude={"version"}))
        before = repo.get_gpo(session=session, gpo_id=gpo_id).model_dump(include=fields)
        repo.update_gpo(session=session, gpo_id=gpo_id, gpo_in=gpo_in)
        after = repo.get_gpo(session=session, gpo_id=gpo_id)
        record_write(
            session,
            ctx,
            "update",
            "gpo",
            gpo_id,
            changes=changes_between(before, after.model_dump(include=fields)),
        )
        return after


def list_partners(ctx: Context, csp_id: int) -> PartnersPublic:
    with ctx.read() as session:
        return repo.list_partners(session=session, csp_id=csp_id)


def create_partner(ctx: Context, csp_id: int, partner_in: PartnerCreate) -> PartnerPublic:
    with ctx.write() as session:
        partner = repo.create_partner(session=session, csp_id=csp_id, partner_in=partner_in)
        record_write(
            session,
            ctx,
            "create",
            "partner",
            partner.id,
            detail={"csp_id": csp_id, "organisation": partner.organisation, "type": partner.type},
        )
        return partner
