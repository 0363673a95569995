"""Problems raised in GPOs: recording one (placed in its sector and GPO from the adopted
plan), importing a file of them, reading them, their dated life cycle, actions and
evaluations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import shapely
from sqlalchemy.orm import Session

from api.models import Action, Problem
from api.repositories import csp
from api.repositories import problems as repo
from api.repositories.base import outside_perimeter, require
from api.schemas import (
    ActionCreate,
    ActionPublic,
    ActionUpdate,
    EvaluationCreate,
    ProblemCreate,
    ProblemPublic,
    ProblemTransition,
)
from api.services.audit_log import record_write
from api.services.context import Context
from api.services.placement import assign_to_sectors, insert_placed
from geo.accounts import changes_between
from geo.errors import ForbiddenError, InvalidInputError
from geo.geometry import BORDER_TOLERANCE_DEG, anchor, check_inside_territory, checked_geometry
from geo.problem_files import check_inside, read_problem_file
from geo.problems import CLOSED_STATUSES, check_transition

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
        raise InvalidInputError(f"{field}: no partner with id {partner_id} in CSP {csp_id}")


def _check_date(problem: Problem, on: date, field: str) -> None:
    """A step's date: not in the future, not before the problem's last step."""
    if on > date.today():
        raise InvalidInputError(f"{field}: {on} is in the future")
    if on < problem.status_on:
        raise InvalidInputError(
            f"{field}: {on} is before the problem's last step ({problem.status} on "
            f"{problem.status_on})"
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
            raise ForbiddenError(
                "geometry : ce lieu est hors des secteurs de vos GPO ; la problématique "
                "doit être signalée au GPO du secteur où elle se trouve."
            )
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
    frame = read_problem_file(path, filename)
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


def transition_problem(ctx: Context, problem_id: int, step: ProblemTransition) -> ProblemPublic:
    """Move the problem to its next step of the life cycle, dated."""
    with ctx.write() as session:
        problem = require(session, Problem, problem_id, lock=True)
        evaluated = repo.count_evaluations(session=session, problem_id=problem_id) > 0
        check_transition(problem.status, step.status, evaluated=evaluated)
        _check_date(problem, step.on, "on")
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
        return repo.get_problem(session=session, problem_id=problem_id)


def add_action(ctx: Context, problem_id: int, action_in: ActionCreate) -> ProblemPublic:
    """An action decided by the GPO for the problem, led by one partner."""
    with ctx.write() as session:
        problem = require(session, Problem, problem_id, lock=True)
        if problem.status in CLOSED_STATUSES:
            raise InvalidInputError(f"problem {problem_id} is {problem.status}: no new action")
        _check_partner(session, problem.csp_id, action_in.lead_partner_id, "lead_partner_id")
        if action_in.start_on < problem.reported_on:
            raise InvalidInputError(
                f"start_on: {action_in.start_on} is before the problem was reported "
                f"({problem.reported_on})"
            )
        action_id = repo.insert_action(session=session, problem_id=problem_id, action_in=action_in)
        record_write(
            session,
            ctx,
            "create",
            "action",
            action_id,
            changes=changes_between({}, action_in.model_dump()),
            detail={"problem_id": problem_id},
        )
        return repo.get_problem(session=session, problem_id=problem_id)


def update_action(ctx: Context, action_id: int, action_in: ActionUpdate) -> ActionPublic:
    """Change an action's status, due date or note."""
    with ctx.write() as session:
        action = require(session, Action, action_id)
        scope = ctx.scope
        if scope.role == "partenaire" and (
            scope.partner_id is None or action.lead_partner_id != scope.partner_id
        ):
            raise ForbiddenError(
                "Cette action est pilotée par un autre partenaire : seul son pilote la met à jour."
            )
        changes = action_in.model_dump(exclude_unset=True)
        due = changes.get("due_on", action.due_on)
        if due is not None and due < action.start_on:
            raise InvalidInputError(f"due_on: {due} is before start_on {action.start_on}")
        before = {key: getattr(action, key) for key in changes}
        action = repo.store_action(session=session, action=action, changes=changes)
        record_write(
            session,
            ctx,
            "update",
            "action",
            action_id,
            changes=changes_between(before, changes),
            detail={"problem_id": action.problem_id},
        )
        return repo.action_public(action, {})


def add_evaluation(ctx: Context, problem_id: int, evaluation_in: EvaluationCreate) -> ProblemPublic:
    """The evaluation of the problem's actions (outcome, indicators)."""
    with ctx.write() as session:
        problem = require(session, Problem, problem_id, lock=True)
        if not repo.count_actions(session=session, problem_id=problem_id):
            raise InvalidInputError(
                f"problem {problem_id} has no action to evaluate: record its actions first"
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
        return repo.get_problem(session=session, problem_id=problem_id)
