"""GPOs (one per sector of the adopted plan, and thematic ones), their partners and
meetings, with cadence tracking."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from api import clock
from api.models import (
    Action,
    Csp,
    Gpo,
    Meeting,
    Partner,
    PlanSector,
    Problem,
    ProblemPlace,
    gpo_partner,
)
from api.repositories.base import (
    among,
    check_version,
    gpo_sectors,
    require,
    scope_of,
    visible,
)
from api.schemas import (
    GpoCreate,
    GpoPublic,
    GposPublic,
    GpoUpdate,
    PartnerCreate,
    PartnerPublic,
    PartnersPublic,
)
from geo.errors import InvalidInputError
from geo.meetings import meeting_due
from geo.problems import OPEN_ACTION_STATUSES, OPEN_STATUSES, PARTNER_TYPES, theme_categories


def sync_sector_gpos(
    *, session: Session, csp_id: int, plan_id: int, continued: dict[int, int]
) -> None:
    """The sector GPOs follow the plan just adopted: each sector of the plan continues the
    GPO ``continued`` names (new sector -> GPO id; see :func:`geo.adoption.match_by_overlap`),
    which keeps its id, chief, partners and meetings and takes the sector's index and name;
    a sector without one gets a new GPO. The other sector GPOs of the CSP are deactivated
    and lose their index (their history stays). Thematic GPOs span the new sectors
    continued by the GPOs of the sectors they spanned. The caller commits."""
    # Imported here: the module imports above belong to the rest of this file.
    from geo.adoption import remap_sectors

    sectors = session.execute(
        select(PlanSector.sector, PlanSector.name)
        .where(PlanSector.plan_id == plan_id)
        .order_by(PlanSector.sector)
    ).all()
    gpos = {
        g.id: g
        for g in session.scalars(
            select(Gpo).where(Gpo.csp_id == csp_id, Gpo.kind == "sector").with_for_update()
        )
    }
    gpo_of_old = {g.sector: g.id for g in gpos.values() if g.active and g.sector is not None}
    before = {g.id: (g.sector, g.name, g.plan_id, g.active) for g in gpos.values()}
    # The index is unique per CSP (uq_gpo_sector_per_csp): free them all, then renumber.
    for gpo in gpos.values():
        gpo.sector = None
    session.flush()
    kept: set[int] = set()
    for sector, name in sectors:
        gpo_id = continued.get(sector)
        found = gpos.get(gpo_id) if gpo_id is not None else None
        if found is None:
            # Since when it exists (its meetings are due from then): the app's day.
            gpo = Gpo(csp_id=csp_id, kind="sector", cadence_days=15, created_at=clock.now())
            session.add(gpo)
        else:
            gpo = found
            kept.add(gpo.id)
        gpo.sector = sector
        gpo.name = f"GPO {name}"
        gpo.plan_id = plan_id
        gpo.active = True
    for gpo in gpos.values():
        if gpo.id not in kept:
            gpo.active = False
    for gpo in gpos.values():
        if (gpo.sector, gpo.name, gpo.plan_id, gpo.active) != before[gpo.id]:
            gpo.version += 1
    for thematic in session.scalars(
        select(Gpo).where(Gpo.csp_id == csp_id, Gpo.kind != "sector").with_for_update()
    ):
        spanned = remap_sectors(thematic.sectors or [], gpo_of_old, continued)
        if spanned != list(thematic.sectors or []):
            thematic.sectors = spanned
            thematic.version += 1
    session.flush()


def sector_gpo_territories(
    *, session: Session, csp_id: int, plan_id: int
) -> list[tuple[int, str, int]]:
    """The active sector GPOs of the CSP that follow the plan: (id, name, sector)."""
    rows = session.execute(
        select(Gpo.id, Gpo.name, Gpo.sector)
        .where(
            Gpo.csp_id == csp_id,
            Gpo.kind == "sector",
            Gpo.active,
            Gpo.plan_id == plan_id,
            Gpo.sector.is_not(None),
        )
        .order_by(Gpo.sector)
    ).all()
    return [(int(i), str(n), int(s)) for i, n, s in rows if s is not None]


def thematic_gpo_sectors(*, session: Session, csp_id: int) -> list[tuple[int, str, list[int]]]:
    """The CSP's active thematic GPOs: (id, name, sectors spanned)."""
    rows = session.execute(
        select(Gpo.id, Gpo.name, Gpo.sectors)
        .where(Gpo.csp_id == csp_id, Gpo.kind != "sector", Gpo.active)
        .order_by(Gpo.id)
    ).all()
    return [(int(i), str(n), [int(s) for s in sectors or []]) for i, n, sectors in rows]


def open_problem_places(*, session: Session, csp_id: int) -> list[tuple[float, float, int]]:
    """The CSP's open problems: their anchor (lon, lat) and their GPO now (-1: none)."""
    rows = session.execute(
        select(
            func.ST_X(Problem.anchor),
            func.ST_Y(Problem.anchor),
            func.coalesce(ProblemPlace.gpo_id, -1),
        )
        .select_from(Problem)
        .outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id)
        .where(Problem.csp_id == csp_id, Problem.status.in_(OPEN_STATUSES))
        .order_by(Problem.id)
    ).all()
    return [(float(x), float(y), int(g)) for x, y, g in rows]


@dataclass(frozen=True)
class FollowUpTallies:
    """What the GPOs' follow-up counts add up, for some CSPs: the open problems per (CSP,
    sector, category), and the open actions with a due date per (CSP, sector, category,
    due date), every due date before ``today`` counted as the day before it and every one
    past ``today + horizon_days`` as the day after that (a few hundred rows, not one per
    date of the history)."""

    today: date
    horizon_days: int
    open_problems: list[tuple[int, int, str, int]]
    open_actions: list[tuple[int, int, str, date, int]]


#: Reads the tallies of these CSPs for (today, the longest cadence): the service may
#: keep them (see :func:`api.services.gpos.list_gpos`).
TalliesReader = Callable[[list[int], date, int], FollowUpTallies]


def follow_up_tallies(
    *, session: Session, csp_ids: list[int], today: date, horizon_days: int
) -> FollowUpTallies:
    """The :class:`FollowUpTallies` of these CSPs, in two grouped queries (the open
    problems and actions come from their partial indexes, migration 0021)."""
    open_problems = session.execute(
        _placed(csp_ids)
        .add_columns(func.count())
        .where(Problem.status.in_(OPEN_STATUSES))
        .group_by(ProblemPlace.csp_id, ProblemPlace.sector, Problem.category)
    ).all()
    return FollowUpTallies(
        today=today,
        horizon_days=horizon_days,
        open_problems=[(int(c), int(s), str(cat), int(n)) for c, s, cat, n in open_problems],
        open_actions=open_action_tallies(
            session=session, csp_ids=csp_ids, today=today, horizon_days=horizon_days
        ),
    )


def _placed(csp_ids: list[int]) -> Any:
    return (
        select(ProblemPlace.csp_id, ProblemPlace.sector, Problem.category)
        .join(Problem, Problem.id == ProblemPlace.problem_id)
        .where(ProblemPlace.csp_id.in_(csp_ids))
    )


def open_action_tallies(
    *, session: Session, csp_ids: list[int], today: date, horizon_days: int
) -> list[tuple[int, int, str, date, int]]:
    """:attr:`FollowUpTallies.open_actions` of these CSPs."""
    due = func.least(
        func.greatest(Action.due_on, today - timedelta(days=1)),
        today + timedelta(days=horizon_days + 1),
    )
    rows = session.execute(
        _placed(csp_ids)
        .add_columns(due, func.count())
        .join(Action, Action.problem_id == Problem.id)
        .where(Action.status.in_(OPEN_ACTION_STATUSES), Action.due_on.is_not(None))
        .group_by(ProblemPlace.csp_id, ProblemPlace.sector, Problem.category, due)
    ).all()
    return [(int(c), int(s), str(cat), d, int(n)) for c, s, cat, d, n in rows]


def open_placed_problems(
    *, session: Session, csp_ids: list[int], ids: Collection[int] | None = None
) -> list[tuple[int, tuple[int, int, str]]]:
    """The open problems placed in a sector of these CSPs (all, or those of ``ids``):
    each id with its (CSP, sector, category), what :attr:`FollowUpTallies.open_problems`
    counts."""
    stmt = _placed(csp_ids).add_columns(Problem.id).where(Problem.status.in_(OPEN_STATUSES))
    if ids is not None:
        stmt = stmt.where(among(Problem.id, ids))
    return [(int(i), (int(c), int(s), str(cat))) for c, s, cat, i in session.execute(stmt)]


def with_open_actions_due(*, session: Session, ids: Collection[int]) -> bool:
    """Whether any of these problems has an open action with a due date (what
    :attr:`FollowUpTallies.open_actions` counts), or no longer exists (its actions went
    with it, which the ``counts`` topic does not see)."""
    ids = sorted(set(ids))
    due = (
        select(Action.id)
        .where(
            among(Action.problem_id, ids),
            Action.status.in_(OPEN_ACTION_STATUSES),
            Action.due_on.is_not(None),
        )
        .exists()
    )
    left = select(func.count()).select_from(Problem).where(among(Problem.id, ids))
    return bool(session.scalar(select(or_(due, left.scalar_subquery() < len(ids)))))


def _read_tallies(session: Session) -> TalliesReader:
    def read(csp_ids: list[int], today: date, horizon_days: int) -> FollowUpTallies:
        return follow_up_tallies(
            session=session, csp_ids=csp_ids, today=today, horizon_days=horizon_days
        )

    return read


def _deals_with(gpo: GpoPublic) -> Callable[[str], bool]:
    """Whether the GPO deals with the problems of a category placed in one of its
    sectors (a thematic GPO's sectors): its theme's categories."""
    themed = theme_categories(gpo.kind, gpo.categories)

    def deals(category: str) -> bool:
        return themed is None or category in themed

    return deals


def _follow_up_counts(
    gpos: Sequence[GpoPublic], today: date, tallies: TalliesReader
) -> dict[int, tuple[int, int, int]]:
    """Each GPO's open problems, actions overdue and actions due before its next meeting:
    each GPO adds up the tallies of its sectors and its theme's categories (see
    :func:`api.repositories.base.gpo_problems`, the same rule as a condition)."""
    if not gpos:
        return {}
    csp_ids = sorted({g.csp_id for g in gpos})
    read = tallies(csp_ids, today, max(g.cadence_days for g in gpos))
    # Grouped by (CSP, sector) once: each GPO reads the groups of its sectors only, not
    # every row of the CSP (a thousand rows of actions' due dates, a dozen GPOs).
    problems: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
    for c, s, cat, n in read.open_problems:
        problems[c, s].append((cat, n))
    actions: dict[tuple[int, int], list[tuple[str, date, int]]] = defaultdict(list)
    for c, s, cat, due_on, n in read.open_actions:
        actions[c, s].append((cat, due_on, n))
    counts = {}
    for gpo in gpos:
        horizon = today + timedelta(days=gpo.cadence_days)
        deals = _deals_with(gpo)
        opened = overdue = due = 0
        for sector in sorted(set(gpo.sectors)):
            opened += sum(n for cat, n in problems[gpo.csp_id, sector] if deals(cat))
            for cat, due_on, n in actions[gpo.csp_id, sector]:
                if deals(cat):
                    if due_on < today:
                        overdue += n
                    elif due_on <= horizon:
                        due += n
        counts[gpo.id] = (int(opened), int(overdue), int(due))
    return counts


def with_counts(frame: Sequence[GpoPublic], today: date, tallies: TalliesReader) -> list[GpoPublic]:
    """The GPOs of a :func:`gpo_frame` with their follow-up counts, from ``tallies``."""
    counts = _follow_up_counts(frame, today, tallies)
    return [
        gpo.model_copy(
            update=dict(
                zip(
                    ("open_problems", "actions_overdue", "actions_due"), counts[gpo.id], strict=True
                )
            )
        )
        for gpo in frame
    ]


def _publics(session: Session, gpos: Sequence[Gpo], today: date) -> list[GpoPublic]:
    """The GPOs as answered, without their follow-up counts (:func:`with_counts`), in
    three queries whatever their number."""
    ids = [g.id for g in gpos]
    last = dict(
        session.execute(
            select(Meeting.gpo_id, func.max(Meeting.held_on))
            .where(Meeting.gpo_id.in_(ids), Meeting.status == "close")
            .group_by(Meeting.gpo_id)
        ).all()
    )
    planned = {
        gpo_id: (meeting_id, held_on)
        for gpo_id, meeting_id, held_on in session.execute(
            select(Meeting.gpo_id, Meeting.id, Meeting.held_on)
            .where(Meeting.gpo_id.in_(ids), Meeting.status == "prevue", Meeting.held_on >= today)
            .order_by(Meeting.gpo_id, Meeting.held_on, Meeting.id)
            .ext(distinct_on(Meeting.gpo_id))
        )
    }
    partners: dict[int, list[int]] = {i: [] for i in ids}
    for gpo_id, partner_id in session.execute(
        select(gpo_partner.c.gpo_id, gpo_partner.c.partner_id).where(gpo_partner.c.gpo_id.in_(ids))
    ):
        partners[gpo_id].append(partner_id)
    # The chef's contact, for the GPO's members and the direction only.
    contact = scope_of(session).reads_problem_records
    answered = []
    for gpo in gpos:
        due = meeting_due(last.get(gpo.id), gpo.created_at.date(), gpo.cadence_days)
        next_id, next_on = planned.get(gpo.id, (None, None))
        answered.append(
            GpoPublic(
                id=gpo.id,
                csp_id=gpo.csp_id,
                kind=gpo.kind,
                name=gpo.name,
                sector=gpo.sector,
                sectors=gpo_sectors(gpo),
                theme=gpo.theme,
                categories=list(gpo.categories or []),
                plan_id=gpo.plan_id,
                active=gpo.active,
                chief_name=gpo.chief_name,
                chief_grade=gpo.chief_grade,
                chief_contact=gpo.chief_contact if contact else None,
                deputy_name=gpo.deputy_name,
                deputy_grade=gpo.deputy_grade,
                cadence_days=gpo.cadence_days,
                partner_ids=sorted(partners[gpo.id]),
                last_meeting_on=last.get(gpo.id),
                next_meeting_due=due,
                next_meeting_on=next_on,
                next_meeting_id=next_id,
                overdue=gpo.active and due < today,
                open_problems=0,
                actions_due=0,
                actions_overdue=0,
                version=gpo.version,
            )
        )
    return answered


def list_gpos(
    *, session: Session, csp_id: int, active: bool = True, tallies: TalliesReader | None = None
) -> GposPublic:
    """The CSP's GPOs, sector ones by sector then thematic ones, with their cadence (the
    counts from ``tallies``, read afresh by default)."""
    today = clock.today()
    frame = gpo_frame(session=session, csp_id=csp_id, today=today, active=active)
    data = with_counts(frame, today, tallies or _read_tallies(session))
    return GposPublic(data=data, count=len(data))


def gpo_frame(
    *, session: Session, csp_id: int, today: date, active: bool = True
) -> list[GpoPublic]:
    """The CSP's GPOs the caller sees as :func:`list_gpos` answers them, without their
    follow-up counts: what :func:`frame_mark` and the caller's perimeter say."""
    require(session, Csp, csp_id)
    stmt = select(Gpo).where(Gpo.csp_id == csp_id, visible(Gpo, scope_of(session)))
    if active:
        stmt = stmt.where(Gpo.active)
    gpos = session.scalars(stmt.order_by(Gpo.kind, Gpo.sector, Gpo.id)).all()
    return _publics(session, gpos, today)


#: What a CSP's :func:`gpo_frame` is read from: its GPOs' rows and their partners, as
#: text (a digest of them: any change of a row, a row added or deleted), and its
#: ``meetings`` topic's revision (migration 0024).
_FRAME_MARK = text(
    "SELECT (SELECT md5(coalesce(string_agg(g::text, '|' ORDER BY g.id), '')) "
    "FROM gpo g WHERE g.csp_id = :csp), "
    "(SELECT md5(coalesce(string_agg(gp::text, '|' ORDER BY gp.gpo_id, gp.partner_id), '')) "
    "FROM gpo_partner gp JOIN gpo g ON g.id = gp.gpo_id WHERE g.csp_id = :csp), "
    "(SELECT coalesce(sum(n), 0) FROM problem_revision "
    "WHERE topic = 'meetings' AND csp_id IN (0, :csp))"
)


def frame_mark(*, session: Session, csp_id: int) -> tuple[str, str, int]:
    """What the CSP's :func:`gpo_frame` reads, in one round trip: the same mark, the same
    frame (for the same perimeter and day)."""
    gpos, partners, meetings = session.execute(_FRAME_MARK, {"csp": csp_id}).one()
    return str(gpos), str(partners), int(meetings)


def gpos_without_counts(*, session: Session, gpo_ids: Sequence[int]) -> list[GpoPublic]:
    """These GPOs, those the caller sees, in the order of ``gpo_ids``, without their
    follow-up counts (:func:`with_counts` reads every open problem and action of their
    CSP: the commune's dashboard shows only their meetings), in four queries whatever
    their number."""
    order = {gpo_id: i for i, gpo_id in enumerate(gpo_ids)}
    gpos = session.scalars(
        select(Gpo).where(Gpo.id.in_(order), visible(Gpo, scope_of(session)))
    ).all()
    return _publics(session, sorted(gpos, key=lambda g: order[g.id]), clock.today())


def get_gpo(*, session: Session, gpo_id: int) -> GpoPublic:
    today = clock.today()
    frame = _publics(session, [require(session, Gpo, gpo_id)], today)
    return with_counts(frame, today, _read_tallies(session))[0]


def _set_partners(session: Session, gpo: Gpo, partner_ids: list[int]) -> None:
    known = set(
        session.scalars(
            select(Partner.id).where(Partner.csp_id == gpo.csp_id, Partner.id.in_(partner_ids))
        )
    )
    unknown = sorted(set(partner_ids) - known)
    if unknown:
        raise InvalidInputError(
            "unknown_ids", field="partner_ids", what="partenaire", ids=[str(u) for u in unknown]
        )
    session.execute(delete(gpo_partner).where(gpo_partner.c.gpo_id == gpo.id))
    if known:
        session.execute(
            insert(gpo_partner), [{"gpo_id": gpo.id, "partner_id": p} for p in sorted(known)]
        )


def _check_sectors(session: Session, csp_id: int, wanted: list[int]) -> list[int]:
    """The sectors a thematic GPO spans: sectors of the CSP's adopted plan (sorted, once)."""
    sectors = set(
        session.scalars(
            select(Gpo.sector).where(Gpo.csp_id == csp_id, Gpo.kind == "sector", Gpo.active)
        )
    )
    unknown = sorted(set(wanted) - sectors)
    if unknown:
        raise InvalidInputError(
            "sectors_not_in_adopted_plan" if sectors else "sectors_no_adopted_plan",
            field="sectors",
            sectors=[str(s) for s in unknown],
        )
    return sorted(set(wanted))


def create_thematic_gpo(*, session: Session, csp_id: int, gpo_in: GpoCreate) -> int:
    require(session, Csp, csp_id)
    _check_sectors(session, csp_id, gpo_in.sectors)
    gpo = Gpo(
        csp_id=csp_id,
        kind="thematic",
        created_at=clock.now(),
        **gpo_in.model_dump(exclude={"partner_ids", "sectors", "categories"}),
        sectors=sorted(set(gpo_in.sectors)),
        categories=sorted(set(gpo_in.categories)),
    )
    session.add(gpo)
    session.flush()
    _set_partners(session, gpo, gpo_in.partner_ids)
    return gpo.id


def update_gpo(*, session: Session, gpo_id: int, gpo_in: GpoUpdate) -> None:
    """Change a GPO (locked: concurrent updates of its partners wait for each other)."""
    gpo = require(session, Gpo, gpo_id, lock=True)
    check_version(gpo, gpo_in.version, "ce GPO")
    changes = gpo_in.model_dump(exclude_unset=True, exclude={"version"})
    partner_ids = changes.pop("partner_ids", None)
    if "categories" in changes:
        if gpo.kind != "thematic":
            raise InvalidInputError("gpo_categories_thematic_only", field="categories")
        changes["categories"] = sorted(set(changes["categories"]))
    if "sectors" in changes:
        if gpo.kind != "thematic":
            raise InvalidInputError("gpo_sector_single", field="sectors")
        changes["sectors"] = _check_sectors(session, gpo.csp_id, changes["sectors"])
    for key, value in changes.items():
        setattr(gpo, key, value)
    if partner_ids is not None:
        _set_partners(session, gpo, partner_ids)
    session.flush()


def _partner_public(p: Partner, *, with_contact: bool = True) -> PartnerPublic:
    return PartnerPublic(
        id=p.id,
        csp_id=p.csp_id,
        organisation=p.organisation,
        type=p.type,
        type_label=PARTNER_TYPES.get(p.type, p.type),
        contact_name=p.contact_name if with_contact else None,
        contact=p.contact if with_contact else None,
        synthetic=p.synthetic,
    )


def create_partner(*, session: Session, csp_id: int, partner_in: PartnerCreate) -> PartnerPublic:
    require(session, Csp, csp_id)
    partner = Partner(csp_id=csp_id, **partner_in.model_dump())
    session.add(partner)
    session.flush()
    return _partner_public(partner)


def list_partners(*, session: Session, csp_id: int) -> PartnersPublic:
    """The CSP's partner organisations. A chef or a partner reads the contact person of
    the partners of its own GPOs only; the others' names stay, to compose a GPO."""
    require(session, Csp, csp_id)
    partners = session.scalars(
        select(Partner).where(Partner.csp_id == csp_id).order_by(Partner.organisation)
    ).all()
    scope = scope_of(session)
    members = None
    if scope.gpo_bound:
        members = set(
            session.scalars(
                select(gpo_partner.c.partner_id).where(gpo_partner.c.gpo_id.in_(scope.gpo_ids))
            )
        )
    data = [_partner_public(p, with_contact=members is None or p.id in members) for p in partners]
    return PartnersPublic(data=data, count=len(data))


def active_gpos(*, session: Session, csp_id: int) -> list[Gpo]:
    return list(
        session.scalars(select(Gpo).where(Gpo.csp_id == csp_id, Gpo.active).order_by(Gpo.id))
    )
