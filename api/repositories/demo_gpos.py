"""Data access of the demo's synthetic GPO life (:mod:`geo.synth_gpos`): what the
generator reads (communes, sectors, problems with their steps and actions) and the bulk
inserts of what it made (partners, staff, members, meetings, decisions, action steps).
Every row written here is flagged synthetic where the table has the flag."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    column,
    func,
    insert,
    select,
    update,
    values,
)
from sqlalchemy.orm import Session

from api import clock
from api.db import copy_frame
from api.models import (
    Action,
    Cell,
    Commune,
    Csp,
    Evaluation,
    Gpo,
    Grid,
    Meeting,
    Partner,
    Plan,
    PlanCell,
    Problem,
    ProblemEvent,
    ProblemPlace,
    csp_commune,
    gpo_partner,
)
from api.repositories.base import adopted_plan_id
from geo.synth_gpos import GpoInput, GpoLife, History
from geo.synth_partners import CommuneInfo, SynthPartner


def csp_name(*, session: Session, csp_id: int) -> str:
    return session.scalar(select(Csp.name).where(Csp.id == csp_id)) or ""


def commune_infos(*, session: Session, csp_id: int) -> list[CommuneInfo]:
    """The CSP's communes (code, name, population), by code."""
    rows = session.execute(
        select(Commune.code, Commune.name, Commune.population)
        .join(csp_commune, csp_commune.c.commune_code == Commune.code)
        .where(csp_commune.c.csp_id == csp_id)
        .order_by(Commune.code)
    ).all()
    return [CommuneInfo(code, name, population or 0) for code, name, population in rows]


def sector_communes(
    *, session: Session, csp_id: int, min_share: float = 0.05
) -> dict[int, tuple[tuple[str, str], ...]]:
    """The communes (code, name) each sector of the adopted plan covers, by number of
    its cells, most first: those holding at least ``min_share`` of its cells, and its
    main commune always."""
    plan_id = adopted_plan_id(session, csp_id)
    if plan_id is None:
        return {}
    resolution = session.scalar(select(Plan.resolution).where(Plan.id == plan_id))
    grid_id = session.scalar(
        select(Grid.id)
        .where(Grid.csp_id == csp_id, Grid.resolution == resolution)
        .order_by(Grid.id.desc())
        .limit(1)
    )
    rows = session.execute(
        select(PlanCell.sector, Commune.code, Commune.name, func.count())
        .join(Cell, (Cell.h3 == PlanCell.h3) & (Cell.grid_id == grid_id))
        .join(Commune, Commune.code == Cell.commune_code)
        .where(PlanCell.plan_id == plan_id)
        .group_by(PlanCell.sector, Commune.code, Commune.name)
    ).all()
    by_sector: dict[int, list[tuple[int, str, str]]] = {}
    for sector, code, name, cells in rows:
        by_sector.setdefault(sector, []).append((cells, code, name))
    out: dict[int, tuple[tuple[str, str], ...]] = {}
    for sector, found in by_sector.items():
        found.sort(key=lambda t: (-t[0], t[1]))
        total = sum(c for c, _, _ in found)
        kept = [f for k, f in enumerate(found) if k == 0 or f[0] >= min_share * total]
        out[sector] = tuple((code, name) for _, code, name in kept)
    return out


def active_gpo_rows(*, session: Session, csp_id: int) -> list[Gpo]:
    return list(
        session.scalars(select(Gpo).where(Gpo.csp_id == csp_id, Gpo.active).order_by(Gpo.id))
    )


def gpo_inputs(
    gpos: Sequence[Gpo], communes: dict[int, tuple[tuple[str, str], ...]]
) -> list[GpoInput]:
    """The generator's view of the GPOs: a thematic one covers the main commune of each
    of its sectors."""
    out = []
    for g in gpos:
        sectors = (g.sector,) if g.kind == "sector" and g.sector is not None else tuple(g.sectors)
        if g.kind == "sector":
            towns = communes.get(sectors[0], ()) if sectors else ()
        else:
            towns = tuple(dict.fromkeys(communes[s][0] for s in sectors if communes.get(s)))
        out.append(GpoInput(g.id, g.kind, sectors, tuple(g.categories or ()), towns))
    return out


def _noon(day: date) -> str:
    """Noon of the day (or now, if sooner) in ISO 8601: a row's ``created_at``."""
    return min(datetime.combine(day, time(12), tzinfo=UTC), clock.now()).isoformat()


def _frame(session: Session, stmt: Any) -> pd.DataFrame:
    result = session.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def history(*, session: Session, csp_id: int) -> History:
    """The CSP's placed problems (in a sector) with their steps, actions, evaluations."""
    in_sector = (ProblemPlace.csp_id == csp_id, ProblemPlace.sector >= 0)
    problems = _frame(
        session,
        select(
            Problem.id,
            ProblemPlace.sector,
            Problem.category,
            Problem.title,
            Problem.status,
            Partner.type.label("reporter_type"),
        )
        .join(ProblemPlace, ProblemPlace.problem_id == Problem.id)
        .outerjoin(Partner, Partner.id == Problem.partner_id)
        .where(*in_sector)
        .order_by(Problem.id),
    )
    events = _frame(
        session,
        select(ProblemEvent.problem_id, ProblemEvent.status, ProblemEvent.on)
        .join(ProblemPlace, ProblemPlace.problem_id == ProblemEvent.problem_id)
        .where(*in_sector)
        .order_by(ProblemEvent.problem_id, ProblemEvent.on, ProblemEvent.id),
    )
    actions = _frame(
        session,
        select(Action.id, Action.problem_id, Action.type, Action.start_on, Action.due_on)
        .join(ProblemPlace, ProblemPlace.problem_id == Action.problem_id)
        .where(*in_sector)
        .order_by(Action.id),
    )
    evaluations = _frame(
        session,
        select(
            Evaluation.problem_id,
            Evaluation.evaluated_on,
            Evaluation.outcome,
            Evaluation.indicators["signalements_avant"].as_integer().label("before"),
            Evaluation.indicators["signalements_apres"].as_integer().label("after"),
        )
        .join(ProblemPlace, ProblemPlace.problem_id == Evaluation.problem_id)
        .where(*in_sector)
        .order_by(Evaluation.id),
    )
    return History(problems, events, actions, evaluations)


def partner_ids(*, session: Session, csp_id: int, directory: Sequence[SynthPartner]) -> list[int]:
    """The id of each partner of the directory, inserted (flagged synthetic) unless a
    synthetic partner of the CSP already has its name (the demo loaded again)."""
    known = dict(
        session.execute(
            select(Partner.organisation, Partner.id).where(
                Partner.csp_id == csp_id, Partner.synthetic
            )
        ).all()
    )
    missing = [p for p in directory if p.organisation not in known]
    if missing:
        rows = [
            {
                "csp_id": csp_id,
                "organisation": p.organisation,
                "type": p.type,
                "contact_name": p.contact_name,
                "contact": p.contact,
                "synthetic": True,
            }
            for p in missing
        ]
        made = session.scalars(
            insert(Partner).returning(Partner.id, sort_by_parameter_order=True), rows
        ).all()
        known.update(zip((p.organisation for p in missing), made, strict=True))
    return [known[p.organisation] for p in directory]


def insert_synthetic_gpo_life(
    *, session: Session, life: GpoLife, partner_ids: list[int], since: date
) -> int:
    """Store the GPOs' synthetic life (:func:`geo.synth_gpos.gpo_life`; partners by
    index in ``partner_ids``): staff, members, meetings with their partners and
    decisions, the actions' statuses, leads and signed steps, and the problems'
    reporters; the GPOs exist ``since`` that day (their meetings go back to it), and each
    row is dated when it would have been written (a step on its day, a decision when its
    meeting was closed). Returns the number of meetings."""
    pid = lambda i: None if i is None else partner_ids[i]  # noqa: E731
    session.execute(
        update(Gpo),
        [
            {
                "id": s.gpo_id,
                "chief_grade": s.chief_grade,
                "chief_name": s.chief_name,
                "chief_contact": s.chief_contact,
                "deputy_grade": s.deputy_grade,
                "deputy_name": s.deputy_name,
                "cadence_days": s.cadence_days,
                "created_at": datetime.combine(since, time(9), tzinfo=UTC),
            }
            for s in life.staff
        ],
    )
    members = [
        {"gpo_id": g, "partner_id": partner_ids[i]} for g, idx in life.members.items() for i in idx
    ]
    gpo_ids = list(life.members)
    existing = set(
        session.execute(
            select(gpo_partner.c.gpo_id, gpo_partner.c.partner_id).where(
                gpo_partner.c.gpo_id.in_(gpo_ids)
            )
        ).all()
    )
    fresh = [m for m in members if (m["gpo_id"], m["partner_id"]) not in existing]
    if fresh:
        session.execute(insert(gpo_partner), fresh)
    # actions: the stored ones updated, the new ones inserted
    stored = [a for a in life.actions if a.id is not None]
    if stored:
        changed = values(
            column("id", BigInteger),
            column("status", String),
            column("due_on", Date),
            column("lead", Integer),
            name="changed",
        ).data([(a.id, a.status, a.due_on, pid(a.lead)) for a in stored])
        session.execute(
            update(Action)
            .where(Action.id == changed.c.id)
            .values(
                status=changed.c.status, due_on=changed.c.due_on, lead_partner_id=changed.c.lead
            ),
            execution_options={"synchronize_session": False},
        )
    new = [a for a in life.actions if a.id is None]
    if new:
        made = session.scalars(
            insert(Action).returning(Action.id, sort_by_parameter_order=True),
            [
                {
                    "problem_id": a.problem_id,
                    "type": a.type,
                    "lead_partner_id": pid(a.lead),
                    "start_on": a.start_on,
                    "due_on": a.due_on,
                    "status": a.status,
                }
                for a in new
            ],
        ).all()
        for a, action_id in zip(new, made, strict=True):
            a.id = action_id
    steps = [
        (a.id, st.on, st.status, st.due_on, st.comment, st.signed_by, _noon(st.on))
        for a in life.actions
        for st in a.steps
    ]
    if steps:
        frame = pd.DataFrame(
            steps,
            columns=["action_id", "on", "status", "due_on", "comment", "signed_by", "created_at"],
        )
        copy_frame(session, "action_event", frame.assign(synthetic=True))
    if life.reporters:
        reporters = values(
            column("id", BigInteger), column("partner_id", Integer), name="reporters"
        ).data([(p, partner_ids[i]) for p, i in life.reporters.items()])
        session.execute(
            update(Problem)
            .where(Problem.id == reporters.c.id, Problem.partner_id != reporters.c.partner_id)
            .values(partner_id=reporters.c.partner_id),
            execution_options={"synchronize_session": False},
        )
    if not life.meetings:
        return 0
    now = clock.now()
    meeting_ids = session.scalars(
        insert(Meeting).returning(Meeting.id, sort_by_parameter_order=True),
        [
            {
                "gpo_id": m.gpo_id,
                "status": m.status,
                "held_on": m.held_on,
                "starts_at": m.starts_at,
                "place": m.place,
                "attendees": m.attendees,
                "notes": m.notes,
                "invited_at": m.invited_at,
                "closed_at": m.closed_at,
                "created_at": m.invited_at or now,
                "synthetic": True,
            }
            for m in life.meetings
        ],
    ).all()
    attendance = pd.DataFrame(
        [
            (mid, partner_ids[i], True, present, who)
            for m, mid in zip(life.meetings, meeting_ids, strict=True)
            for i, present, who in m.partners
        ],
        columns=["meeting_id", "partner_id", "invited", "present", "represented_by"],
    )
    copy_frame(session, "meeting_partner", attendance)
    decisions = pd.DataFrame(
        [
            (
                mid,
                d.problem_id,
                d.kind,
                None if d.action is None else life.actions[d.action].id,
                d.text,
                m.closed_at.isoformat() if m.closed_at else None,
            )
            for m, mid in zip(life.meetings, meeting_ids, strict=True)
            for d in m.decisions
        ],
        columns=["meeting_id", "problem_id", "kind", "action_id", "text", "created_at"],
    )
    for name in ("problem_id", "action_id"):
        decisions[name] = pd.array(decisions[name], dtype="Int64")
    copy_frame(session, "meeting_decision", decisions)
    return len(meeting_ids)
