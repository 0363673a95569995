"""Problems raised in GPOs as stored: one recorded or many copied in (with their anchors
and placements, computed by :mod:`api.services.placement`), reading them, their dated
life cycle, actions and evaluations, the open problems of an area, and the placements
read and rewritten in bulk."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from api import clock
from api.db import copy_frame, read_query
from api.models import (
    Action,
    Evaluation,
    Gpo,
    Partner,
    Problem,
    ProblemEvent,
    ProblemPlace,
)
from api.repositories.base import (
    GEOJSON_DECIMALS,
    action_public,
    adopted_plan_id,
    among,
    plan_sector_outlines,
    problem_properties,
    require,
    wkb_element,
)
from api.schemas import (
    ActionCreate,
    EvaluationCreate,
    EvaluationPublic,
    Geometry,
    OpenProblemPublic,
    OpenProblemsPublic,
    ProblemCreate,
    ProblemEventPublic,
    ProblemPublic,
    ProblemTransition,
)
from geo.problems import (
    CATEGORIES,
    OPEN_STATUSES,
    STATUSES,
)
from geo.study import StudyArea


def find_partner(*, session: Session, partner_id: int) -> Partner | None:
    return session.get(Partner, partner_id)


def sector_outlines(session: Session, csp_id: int) -> tuple[list[tuple[int, Any]], dict[int, int]]:
    """The adopted plan's sector outlines (sector, shapely geometry) and the id of each
    sector's GPO; empty without an adopted plan."""
    plan_id = adopted_plan_id(session, csp_id)
    if plan_id is None:
        return [], {}
    outlines = plan_sector_outlines(session, plan_id)
    gpos = session.execute(
        select(Gpo.sector, Gpo.id).where(Gpo.csp_id == csp_id, Gpo.kind == "sector")
    ).all()
    return (
        [(int(s), g) for s, g in zip(outlines["sector"], outlines.geometry, strict=True)],
        {int(s): int(g) for s, g in gpos if s is not None},
    )


def _last_step_dates(events: pd.DataFrame, reported: np.ndarray) -> np.ndarray:
    """The date of each problem's last step (its report when that is its only step)."""
    if len(events) == len(reported) and (events["status"] == "signale").all():
        return reported
    last = pd.to_datetime(events["on"]).groupby(events["problem"].to_numpy()).max()
    return last.reindex(np.arange(len(reported))).dt.date.to_numpy()


def _nullable(ids: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Integer ids with -1 as missing, as a nullable column (NULL in the database)."""
    column = pd.array(ids, dtype="Int64")
    column[ids < 0] = pd.NA
    return column


def _places(
    problem_ids: np.ndarray, csp_id: int, sector: np.ndarray, gpo: np.ndarray
) -> pd.DataFrame:
    """``problem_place`` rows of the placed problems (sector >= 0)."""
    placed = sector >= 0
    return pd.DataFrame(
        {
            "problem_id": problem_ids[placed],
            "csp_id": csp_id,
            "sector": sector[placed],
            "gpo_id": _nullable(gpo[placed]),
        }
    )


def current_placements(
    *, session: Session, csp_id: int, ids: tuple[int, int] | None = None
) -> pd.DataFrame:
    """The CSP's problems (all, or those whose id is in the range ``ids``): ``id``, their
    anchor (``x``, ``y``) and where they are placed now (``sector``, ``gpo``; -1: none)."""
    scope = f"p.csp_id = {int(csp_id)}"
    if ids is not None:
        scope += f" AND p.id BETWEEN {int(ids[0])} AND {int(ids[1])}"
    return read_query(
        session,
        "SELECT p.id, ST_X(p.anchor) AS x, ST_Y(p.anchor) AS y, "
        "COALESCE(pp.sector, -1) AS sector, COALESCE(pp.gpo_id, -1) AS gpo "
        f"FROM problem p LEFT JOIN problem_place pp ON pp.problem_id = p.id WHERE {scope}",
    )


def replace_placements(
    *,
    session: Session,
    csp_id: int,
    problem_ids: np.ndarray,
    sector: np.ndarray,
    gpo: np.ndarray,
    whole_csp: bool,
) -> None:
    """Rewrite the placement of these problems (sector -1: none; gpo -1: none); with
    ``whole_csp``, every placement of the CSP is dropped first (a new plan)."""
    if whole_csp:
        session.execute(text(f"DELETE FROM problem_place WHERE csp_id = {int(csp_id)}"))
    else:
        session.execute(text("DROP TABLE IF EXISTS moved"))
        session.execute(text("CREATE TEMP TABLE moved (id bigint PRIMARY KEY) ON COMMIT DROP"))
        copy_frame(session, "moved", pd.DataFrame({"id": problem_ids}))
        session.execute(
            text("DELETE FROM problem_place pp USING moved m WHERE pp.problem_id = m.id")
        )
        session.execute(text("DROP TABLE moved"))
    copy_frame(session, "problem_place", _places(problem_ids, csp_id, sector, gpo))


def create_problem(
    *,
    session: Session,
    csp_id: int,
    problem_in: ProblemCreate,
    geom: shapely.Geometry,
    anchor: shapely.Point,
) -> int:
    """Record a problem (status signalé) in the CSP at ``geom`` with its ``anchor``
    (:func:`geo.geometry.anchor`), both checked by the caller; the caller commits."""
    problem = Problem(
        csp_id=csp_id,
        category=problem_in.category,
        title=problem_in.title,
        description=problem_in.description,
        address=problem_in.address,
        partner_id=problem_in.partner_id,
        reported_on=problem_in.reported_on,
        priority=problem_in.priority,
        status="signale",
        status_on=problem_in.reported_on,
        geom=wkb_element(geom),
        anchor=wkb_element(anchor),
    )
    session.add(problem)
    session.flush()
    session.add(ProblemEvent(problem_id=problem.id, status="signale", on=problem.reported_on))
    session.flush()
    return problem.id


def get_problem(*, session: Session, problem_id: int) -> ProblemPublic:
    """A problem with its geometry, dated steps, actions and evaluations."""
    problem = require(session, Problem, problem_id)
    geojson = session.scalar(
        select(func.ST_AsGeoJSON(Problem.geom, GEOJSON_DECIMALS)).where(Problem.id == problem_id)
    )
    names = dict(
        session.execute(
            select(Partner.id, Partner.organisation).where(Partner.csp_id == problem.csp_id)
        ).all()
    )
    events = session.scalars(
        select(ProblemEvent)
        .where(ProblemEvent.problem_id == problem_id)
        .order_by(ProblemEvent.on, ProblemEvent.id)
    ).all()
    actions = session.scalars(
        select(Action).where(Action.problem_id == problem_id).order_by(Action.start_on, Action.id)
    ).all()
    evaluations = session.scalars(
        select(Evaluation)
        .where(Evaluation.problem_id == problem_id)
        .order_by(Evaluation.evaluated_on)
    ).all()
    return ProblemPublic(
        **problem_properties(problem, session.get(ProblemPlace, problem_id)),
        description=problem.description,
        version=problem.version,
        partner_id=problem.partner_id,
        partner=names.get(problem.partner_id) if problem.partner_id else None,
        geometry=Geometry.model_validate(json.loads(str(geojson))),
        events=[ProblemEventPublic(status=e.status, on=e.on, note=e.note) for e in events],
        actions=[action_public(a, names, clock.today()) for a in actions],
        evaluations=[
            EvaluationPublic(
                id=e.id,
                evaluated_on=e.evaluated_on,
                outcome=e.outcome,
                indicators=e.indicators,
                note=e.note,
            )
            for e in evaluations
        ],
    )


def count_evaluations(*, session: Session, problem_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Evaluation.problem_id == problem_id)) or 0)


def count_actions(*, session: Session, problem_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Action.problem_id == problem_id)) or 0)


def store_step(*, session: Session, problem: Problem, step: ProblemTransition) -> None:
    """Move a problem (locked) to a checked step and record it, dated."""
    problem.status = step.status
    problem.status_on = step.on
    session.add(ProblemEvent(problem_id=problem.id, status=step.status, on=step.on, note=step.note))
    session.flush()


def insert_action(*, session: Session, problem_id: int, action_in: ActionCreate) -> Action:
    action = Action(problem_id=problem_id, **action_in.model_dump())
    session.add(action)
    session.flush()
    return action


def insert_evaluation(*, session: Session, problem_id: int, evaluation_in: EvaluationCreate) -> int:
    evaluation = Evaluation(problem_id=problem_id, **evaluation_in.model_dump())
    session.add(evaluation)
    session.flush()
    return evaluation.id


def _reserve_ids(session: Session, table: str, n: int) -> int:
    """The first of ``n`` consecutive ids reserved in ``table``'s sequence."""
    if n == 0:
        return 0
    session.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
    last = session.scalar(
        text(
            "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
            "nextval(pg_get_serial_sequence(:t, 'id')) + :n - 1)"
        ),
        {"t": table, "n": n},
    )
    return int(last) - n + 1


def insert_problems(
    *,
    session: Session,
    csp_id: int,
    problems: gpd.GeoDataFrame,
    anchor_points: np.ndarray,
    sector: np.ndarray,
    gpo: np.ndarray,
    synthetic: bool,
    events: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
    evaluations: pd.DataFrame | None = None,
    partner_ids: Mapping[str, int] | None = None,
) -> int:
    """Insert checked problems (EPSG:4326; ``category``, ``title``, ``reported_on``,
    ``priority``, optional ``description``, ``address``, ``status``, ``reporter_type``)
    with COPY, in the caller's transaction, with their anchors (:func:`geo.geometry.anchors`)
    and their placement (``sector`` and ``gpo``, -1: none), one per row. ``events``,
    ``actions`` and ``evaluations`` refer to problems by row position (see
    :mod:`geo.synth`); without ``events`` each problem gets its "signalé" step."""
    n = len(problems)
    if n == 0:
        return 0
    first = _reserve_ids(session, "problem", n)
    ids = np.arange(first, first + n)
    if events is None:
        events = pd.DataFrame(
            {"problem": np.arange(n), "status": "signale", "on": problems["reported_on"]}
        )
    geoms = problems.geometry.to_numpy()
    ewkb = lambda g: shapely.to_wkb(shapely.set_srid(g, 4326), hex=True, include_srid=True)  # noqa: E731
    geom_hex = ewkb(geoms)
    anchor_hex = geom_hex.copy()  # a point is its own anchor
    shaped = shapely.get_type_id(geoms) != 0
    anchor_hex[shaped] = ewkb(anchor_points[shaped])
    optional = lambda column: (  # noqa: E731
        problems[column].replace("", None).to_numpy() if column in problems else None
    )
    reporter = optional("reporter_type")
    table = pd.DataFrame(
        {
            "id": ids,
            "csp_id": csp_id,
            "category": problems["category"].to_numpy(),
            "title": problems["title"].to_numpy(),
            "description": optional("description"),
            "address": optional("address"),
            "partner_id": pd.array(
                [None] * n if reporter is None else [(partner_ids or {}).get(r) for r in reporter],
                dtype="Int64",
            ),
            "reported_on": problems["reported_on"].to_numpy(),
            "priority": problems["priority"].to_numpy(),
            "status": problems["status"].to_numpy() if "status" in problems else "signale",
            "status_on": _last_step_dates(events, problems["reported_on"].to_numpy()),
            "synthetic": synthetic,
            "geom": geom_hex,
            "anchor": anchor_hex,
        }
    )
    copy_frame(session, "problem", table)
    copy_frame(session, "problem_place", _places(ids, csp_id, sector, gpo))
    steps = pd.DataFrame(
        {"problem_id": ids[events["problem"]], "status": events["status"], "on": events["on"]}
    )
    copy_frame(session, "problem_event", steps)
    if actions is not None and len(actions):
        rows = actions.assign(problem=ids[actions["problem"]]).rename(
            columns={"problem": "problem_id"}
        )[["problem_id", "type", "start_on", "due_on", "status"]]
        copy_frame(session, "action", rows)
    if evaluations is not None and len(evaluations):
        indicators = [
            json.dumps({"signalements_avant": int(b), "signalements_apres": int(a)})
            for b, a in zip(evaluations["before"], evaluations["after"], strict=True)
        ]
        rows = pd.DataFrame(
            {
                "problem_id": ids[evaluations["problem"]],
                "evaluated_on": evaluations["evaluated_on"],
                "outcome": evaluations["outcome"],
                "indicators": indicators,
            }
        )
        copy_frame(session, "evaluation", rows)
    return n


@dataclass(frozen=True)
class OpenRanking:
    """The area's open problems in the order the list shows them: how many, and the ids
    and sectors of the first ``limit``. It changes only with the problems themselves
    (their status, priority, date, category, placement), not with their actions."""

    count: int
    first: list[tuple[int, int | None]]


#: The order of the open problems: highest priority first (a priority not named, last).
URGENCY = {"haute": 0, "normale": 1}


def _open_stmt(area: StudyArea) -> Any:
    stmt = (
        select(Problem.id, ProblemPlace.sector, Problem.priority, Problem.reported_on)
        .outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id)
        .where(Problem.csp_id == area.csp_id, Problem.status.in_(OPEN_STATUSES))
    )
    if area.sectors is not None:
        stmt = stmt.where(ProblemPlace.sector.in_(area.sectors))
    if area.categories is not None:
        stmt = stmt.where(Problem.category.in_(area.categories))
    return stmt


def open_ranking(*, session: Session, area: StudyArea, limit: int = 500) -> OpenRanking:
    """The area's open problems (any date), highest priority and oldest first."""
    stmt = _open_stmt(area)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    urgency = case(URGENCY, value=Problem.priority, else_=2)
    rows = session.execute(
        stmt.order_by(urgency, Problem.reported_on, Problem.id).limit(limit)
    ).all()
    return OpenRanking(count=int(count), first=[(int(i), s) for i, s, _, _ in rows])


#: An open problem in its list: its sort key (urgency, date, id), id and sector.
OpenEntry = tuple[tuple[int, int, int], int, int | None]


def open_entries(
    *,
    session: Session,
    area: StudyArea,
    limit: int | None = None,
    ids: Collection[int] | None = None,
) -> list[OpenEntry]:
    """The first ``limit`` open problems of the area in :func:`open_ranking`'s order, or
    those of ``ids`` that are open problems of the area, each with its sort key."""
    stmt = _open_stmt(area)
    if ids is not None:
        stmt = stmt.where(among(Problem.id, ids))
    else:
        urgency = case(URGENCY, value=Problem.priority, else_=2)
        stmt = stmt.order_by(urgency, Problem.reported_on, Problem.id).limit(limit)
    return [
        ((URGENCY.get(priority, 2), reported_on.toordinal(), int(i)), int(i), sector)
        for i, sector, priority, reported_on in session.execute(stmt)
    ]


def open_ids(*, session: Session, area: StudyArea) -> list[int]:
    """The ids of every open problem of the area (how many: its count)."""
    return [int(i) for i, _, _, _ in session.execute(_open_stmt(area))]


def open_problems(
    *, session: Session, area: StudyArea, limit: int = 500, ranking: OpenRanking | None = None
) -> OpenProblemsPublic:
    """The area's open problems (any date), highest priority and oldest first, with their
    actions; in the order of ``ranking`` when it is given (kept by the caller)."""
    ranked = ranking or open_ranking(session=session, area=area, limit=limit)
    return OpenProblemsPublic(
        data=open_problem_items(session=session, area=area, first=ranked.first),
        count=ranked.count,
    )


def open_problem_items(
    *, session: Session, area: StudyArea, first: Sequence[tuple[int, int | None]]
) -> list[OpenProblemPublic]:
    """The open problems ``first`` (ids and sectors), in that order, with their actions,
    as the list shows them."""
    ids = [i for i, _ in first]
    found = {p.id: p for p in session.scalars(select(Problem).where(among(Problem.id, ids)))}
    rows = [(found[i], sector) for i, sector in first if i in found]
    today = clock.today()
    actions: dict[int, list[Action]] = {}
    for action in session.scalars(
        select(Action).where(among(Action.problem_id, ids)).order_by(Action.start_on, Action.id)
    ):
        actions.setdefault(action.problem_id, []).append(action)
    partner_names = dict(
        session.execute(
            select(Partner.id, Partner.organisation).where(Partner.csp_id == area.csp_id)
        ).all()
    )
    return [
        OpenProblemPublic(
            id=p.id,
            title=p.title,
            category=p.category,
            category_label=CATEGORIES.get(p.category, p.category),
            status=p.status,
            status_label=STATUSES.get(p.status, p.status),
            priority=p.priority,
            reported_on=p.reported_on,
            status_on=p.status_on,
            address=p.address,
            sector=sector,
            synthetic=p.synthetic,
            actions=[action_public(a, partner_names, today) for a in actions.get(p.id, [])],
        )
        for p, sector in rows
    ]


def anchors_since(*, session: Session, csp_id: int, after: date) -> np.ndarray:
    """(lon, lat) of the anchors of the CSP's problems reported after ``after``."""
    return np.array(
        session.execute(
            select(func.ST_X(Problem.anchor), func.ST_Y(Problem.anchor)).where(
                Problem.csp_id == csp_id, Problem.reported_on > after
            )
        ).all(),
        dtype=float,
    ).reshape(-1, 2)
