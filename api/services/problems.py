"""Problems raised in GPOs: recording one (placed in its sector and GPO from the adopted
plan), importing a file of them, reading them, their dated life cycle, actions and
evaluations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import shapely
from sqlalchemy.orm import Session

from api import clock
from api.models import Problem
from api.repositories import actions as actions_repo
from api.repositories import csp
from api.repositories import problems as repo
from api.repositories.base import check_version, outside_perimeter, require
from api.schemas import (
    ActionCreate,
    EvaluationCreate,
    ProblemCreate,
    ProblemPublic,
    ProblemTransition,
)
from api.services.audit_log import record_write
from api.services.context import Context
from api.services.placement import assign_to_sectors, insert_placed
from geo.accounts import changes_between
from geo.errors import ForbiddenError, InvalidInputError, StateConflictError
from geo.geometry import BORDER_TOLERANCE_DEG, anchor, check_inside_territory, checked_geometry
from geo.problem_files import check_inside, read_problem_file
from geo.problems import CLOSED_STATUSES, STATUSES, check_transition

PROBLEM_GEOMETRIES = frozenset(
    {"Point", "LineString", "Polygon", "MultiLineString", "MultiPolygon"}
)


def _geometry(problem_in: ProblemCreate) -> shapely.Geometry:
    """The problem's geometry from the request: checked, in WGS84 ranges, valid."""
    if problem_in.geometry is None:
        assert problem_in.lon is not None and problem_in.lat is not None
        return shapely.Point(problem_in.lon, problem_in.lat)
    return checked_geometry(problem_in.geometry.model_dump(), "geometry", PROBLEM_GEOMETRIES)


def _check_partner(session: Session, csp_id: int, partner_id: int | None, field: str) -> None:
    if partner_id is None:
        return
    partner = repo.find_partner(session=session, partner_id=partner_id)
    if partner is None or partner.csp_id != csp_id:
        raise InvalidInputError("partner_not_in_csp", field=field, partner_id=partner_id)


def _check_lead_in_gpo(session: Session, problem_id: int, partner_id: int | None) -> None:
    """The lead partner of a problem's action sits in the problem's GPO (when it has one)."""
    if partner_id is None:
        return
    members = actions_repo.problem_gpo_partners(session, problem_id)
    if members is not None and partner_id not in members:
        raise InvalidInputError(
            "lead_partner_not_in_gpo", field="lead_partner_id", partner_id=partner_id
        )


def _check_date(problem: Problem, on: date, field: str) -> None:
    """A step's date: not in the future, not before the problem's last step."""
    if on > clock.today():
        raise InvalidInputError("date_in_future", field=field, day=f"{on:%d/%m/%Y}")
    if on < problem.status_on:
        raise InvalidInputError(
            "problem_step_before_last",
            field=field,
            day=f"{on:%d/%m/%Y}",
            status=STATUSES[problem.status],
            since=f"{problem.status_on:%d/%m/%Y}",
        )


def create_problem(ctx: Context, csp_id: int, problem_in: ProblemCreate) -> ProblemPublic:
    """Record a problem (status signalé); a problem whose anchor lies outside the CSP is
    refused, saying when swapping latitude and longitude would put it inside."""
    with ctx.write() as session:
        outline = csp.csp_outline(session=session, csp_id=csp_id)
        geom = _geometry(problem_in)
        point = anchor(geom)
        check_inside_territory(
            point,
            outline,
            field="geometry",
            territory_name=f"CSP {csp_id}",
            tolerance_deg=BORDER_TOLERANCE_DEG,
        )
        _check_partner(session, csp_id, problem_in.partner_id, "partner_id")
        problem_id = repo.create_problem(
            session=session, csp_id=csp_id, problem_in=problem_in, geom=geom, anchor=point
        )
        assign_to_sectors(session, csp_id, (problem_id, problem_id))
        if outside_perimeter(session, Problem, problem_id):
            raise ForbiddenError("problem_outside_my_sectors", field="geometry")
        created = repo.get_problem(session=session, problem_id=problem_id)
        record_write(
            session,
            ctx,
            "create",
            "problem",
            problem_id,
            detail={
                "csp_id": csp_id,
                "category": problem_in.category,
                "title": problem_in.title,
                "reported_on": problem_in.reported_on,
            },
        )
        return created


def import_problem_file(
    ctx: Context, csp_id: int, *, path: Path, filename: str | None = None
) -> int:
    """Import problems from a CSV or GeoJSON file, all or nothing: every bad row is named
    (:class:`geo.problem_files.RowErrorsError`) and nothing is written."""
    frame = read_problem_file(path, filename, today=clock.today())
    with ctx.write() as session:
        check_inside(frame, csp.csp_outline(session=session, csp_id=csp_id), f"CSP {csp_id}")
        count = insert_placed(session, csp_id=csp_id, frame=frame, synthetic=False)
        record_write(
            session,
            ctx,
            "import",
            "problem",
            detail={"csp_id": csp_id, "file": filename or path.name, "count": count},
        )
        return count


def get_problem(ctx: Context, problem_id: int) -> ProblemPublic:
    with ctx.read() as session:
        return repo.get_problem(session=session, problem_id=problem_id)


def record_step(session: Session, ctx: Context, problem_id: int, step: ProblemTransition) -> None:
    """Move the problem to its next step of the life cycle, dated, in the caller's unit
    of work (a meeting's decision uses it too)."""
    problem = require(session, Problem, problem_id, lock=True)
    evaluated = repo.count_evaluations(session=session, problem_id=problem_id) > 0
    check_transition(problem.status, step.status, evaluated=evaluated)
    _check_date(problem, step.on, "on")
    check_version(problem, step.version, "cette problématique")
    before = problem.status
    repo.store_step(session=session, problem=problem, step=step)
    record_write(
        session,
        ctx,
        "transition",
        "problem",
        problem_id,
        changes={"status": [before, step.status]},
        detail={"on": step.on},
    )


def record_action(session: Session, ctx: Context, problem_id: int, action_in: ActionCreate) -> int:
    """An action decided for the problem, led by one partner of its GPO, its first step
    signed by the caller; in the caller's unit of work. Returns its id."""
    problem = require(session, Problem, problem_id, lock=True)
    if problem.status in CLOSED_STATUSES:
        raise StateConflictError(
            "problem_closed_for_actions",
            field="problem_id",
            problem_id=problem_id,
            status=STATUSES[problem.status],
        )
    _check_partner(session, problem.csp_id, action_in.lead_partner_id, "lead_partner_id")
    _check_lead_in_gpo(session, problem_id, action_in.lead_partner_id)
    if action_in.start_on < problem.reported_on:
        raise InvalidInputError(
            "action_before_report",
            field="start_on",
            day=f"{action_in.start_on:%d/%m/%Y}",
            reported_on=f"{problem.reported_on:%d/%m/%Y}",
        )
    action = repo.insert_action(session=session, problem_id=problem_id, action_in=action_in)
    actions_repo.add_event(
        session,
        action,
        on=action_in.start_on,
        status=action_in.status,
        due_on=action_in.due_on,
        signed_by=actions_repo.signature(session, ctx.actor),
        account_id=ctx.actor.account_id,
    )
    record_write(
        session,
        ctx,
        "create",
        "action",
        action.id,
        changes=changes_between({}, action_in.model_dump()),
        detail={"problem_id": problem_id},
    )
    return action.id


def record_evaluation(
    session: Session, ctx: Context, problem_id: int, evaluation_in: EvaluationCreate
) -> None:
    """The evaluation of the problem's actions, in the caller's unit of work."""
    problem = require(session, Problem, problem_id, lock=True)
    if not repo.count_actions(session=session, problem_id=problem_id):
        raise StateConflictError(
            "problem_nothing_to_evaluate", field="problem_id", problem_id=problem_id
        )
    _check_date(problem, evaluation_in.evaluated_on, "evaluated_on")
    repo.insert_evaluation(session=session, problem_id=problem_id, evaluation_in=evaluation_in)
    record_write(
        session,
        ctx,
        "evaluate",
        "problem",
        problem_id,
        detail=evaluation_in.model_dump(mode="json"),
    )


def transition_problem(ctx: Context, problem_id: int, step: ProblemTransition) -> ProblemPublic:
    """Move the problem to its next step of the life cycle, dated."""
    with ctx.write() as session:
        record_step(session, ctx, problem_id, step)
        return repo.get_problem(session=session, problem_id=problem_id)


def add_action(ctx: Context, problem_id: int, action_in: ActionCreate) -> ProblemPublic:
    """An action decided by the GPO for the problem, led by one partner."""
    with ctx.write() as session:
        record_action(session, ctx, problem_id, action_in)
        return repo.get_problem(session=session, problem_id=problem_id)


def add_evaluation(ctx: Context, problem_id: int, evaluation_in: EvaluationCreate) -> ProblemPublic:
    """The evaluation of the problem's actions (outcome, indicators)."""
    with ctx.write() as session:
        record_evaluation(session, ctx, problem_id, evaluation_in)
        return repo.get_problem(session=session, problem_id=problem_id)
