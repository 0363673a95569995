"""Problems raised in GPOs: recording one (placed in its sector and GPO from the adopted
plan), importing a file of them, reading them, their dated life cycle, actions and
evaluations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import shapely

from api.repositories import csp
from api.repositories import problems as repo
from api.schemas import (
    ActionCreate,
    ActionPublic,
    ActionUpdate,
    EvaluationCreate,
    FeatureCollection,
    ProblemCreate,
    ProblemProperties,
    ProblemPublic,
    ProblemTransition,
)
from api.services.context import Context
from api.services.placement import assign_to_sectors, insert_placed
from geo.geometry import BORDER_TOLERANCE_DEG, anchor, check_inside_territory, checked_geometry
from geo.problem_files import check_inside, read_problem_file

PROBLEM_GEOMETRIES = frozenset(
    {"Point", "LineString", "Polygon", "MultiLineString", "MultiPolygon"}
)


def _geometry(problem_in: ProblemCreate) -> shapely.Geometry:
    """The problem's geometry from the request: checked, in WGS84 ranges, valid."""
    if problem_in.geometry is None:
        assert problem_in.lon is not None and problem_in.lat is not None
        return shapely.Point(problem_in.lon, problem_in.lat)
    return checked_geometry(problem_in.geometry.model_dump(), "geometry", PROBLEM_GEOMETRIES)


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
        problem_id = repo.create_problem(
            session=session, csp_id=csp_id, problem_in=problem_in, geom=geom, anchor=point
        )
        assign_to_sectors(session, csp_id, (problem_id, problem_id))
        return repo.get_problem(session=session, problem_id=problem_id)


def import_problem_file(
    ctx: Context, csp_id: int, *, path: Path, filename: str | None = None
) -> int:
    """Import problems from a CSV or GeoJSON file, all or nothing: every bad row is named
    (:class:`geo.problem_files.RowErrorsError`) and nothing is written."""
    frame = read_problem_file(path, filename)
    with ctx.write() as session:
        check_inside(frame, csp.csp_outline(session=session, csp_id=csp_id), f"CSP {csp_id}")
        return insert_placed(session, csp_id=csp_id, frame=frame, synthetic=False)


def list_problems(
    ctx: Context,
    csp_id: int,
    *,
    status: list[str] | None = None,
    category: list[str] | None = None,
    sector: list[int] | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 5000,
) -> FeatureCollection[ProblemProperties]:
    with ctx.read() as session:
        return repo.list_problems(
            session=session,
            csp_id=csp_id,
            status=status,
            category=category,
            sector=sector,
            since=since,
            until=until,
            limit=limit,
        )


def get_problem(ctx: Context, problem_id: int) -> ProblemPublic:
    with ctx.read() as session:
        return repo.get_problem(session=session, problem_id=problem_id)


def transition_problem(ctx: Context, problem_id: int, step: ProblemTransition) -> ProblemPublic:
    """Move the problem to its next step of the life cycle, dated."""
    with ctx.write() as session:
        repo.transition_problem(session=session, problem_id=problem_id, step=step)
        return repo.get_problem(session=session, problem_id=problem_id)


def add_action(ctx: Context, problem_id: int, action_in: ActionCreate) -> ProblemPublic:
    """An action decided by the GPO for the problem, led by one partner."""
    with ctx.write() as session:
        repo.add_action(session=session, problem_id=problem_id, action_in=action_in)
        return repo.get_problem(session=session, problem_id=problem_id)


def update_action(ctx: Context, action_id: int, action_in: ActionUpdate) -> ActionPublic:
    """Change an action's status, due date or note."""
    with ctx.write() as session:
        action = repo.update_action(session=session, action_id=action_id, action_in=action_in)
        return repo.action_public(action, {})


def add_evaluation(ctx: Context, problem_id: int, evaluation_in: EvaluationCreate) -> ProblemPublic:
    """The evaluation of the problem's actions (outcome, indicators)."""
    with ctx.write() as session:
        repo.add_evaluation(session=session, problem_id=problem_id, evaluation_in=evaluation_in)
        return repo.get_problem(session=session, problem_id=problem_id)
