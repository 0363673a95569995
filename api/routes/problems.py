from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import INVALID
from api.schemas import (
    ActionCreate,
    EvaluationCreate,
    FeatureCollection,
    ImportCountPublic,
    IndexInt,
    ProblemCreate,
    ProblemProperties,
    ProblemPublic,
    ProblemTransition,
    TaxonomyPublic,
)
from api.services import problems
from api.uploads import uploaded_file
from geo.problems import (
    ACTION_STATUSES,
    ACTION_TYPES,
    CATEGORIES,
    OUTCOMES,
    PARTNER_TYPES,
    PRIORITIES,
    STATUSES,
    THEMES,
    TRANSITIONS,
)

router = APIRouter(tags=["problématiques"])


@router.get("/taxonomy", dependencies=[access.PUBLIC])
def read_taxonomy() -> TaxonomyPublic:
    """Codes and French labels: categories, statuses and their legal transitions,
    priorities, action types and statuses, evaluation outcomes, partner types, themes."""
    return TaxonomyPublic(
        categories=dict(CATEGORIES),
        statuses=dict(STATUSES),
        transitions={k: sorted(v) for k, v in TRANSITIONS.items()},
        priorities=dict(PRIORITIES),
        action_types=dict(ACTION_TYPES),
        action_statuses=dict(ACTION_STATUSES),
        outcomes=dict(OUTCOMES),
        partner_types=dict(PARTNER_TYPES),
        themes=dict(THEMES),
    )


@router.post(
    "/csp/{csp_id}/problems",
    status_code=201,
    responses=INVALID,
    dependencies=[access.PROBLEM_WRITE],
)
def create(csp_id: DbId, body: ProblemCreate, ctx: ContextDep) -> ProblemPublic:
    """Record a problem (status signalé). Its sector and GPO come from the adopted plan; a
    problem outside the CSP is refused."""
    return problems.create_problem(ctx, csp_id, body)


@router.post(
    "/csp/{csp_id}/problems/import", status_code=201, responses=INVALID, dependencies=[access.ADMIN]
)
def import_problems(
    csp_id: DbId,
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="CSV (lon/lat or wkt columns) or GeoJSON")],
) -> ImportCountPublic:
    """Import problems from a file, all or nothing: a 422 lists every bad row (row,
    column, reason) and nothing is written."""
    with uploaded_file(file) as path:
        count = problems.import_problem_file(ctx, csp_id, path=path, filename=file.filename)
    return ImportCountPublic(imported=count)


@router.get("/csp/{csp_id}/problems", responses=INVALID, dependencies=[access.PROBLEM_RECORDS])
def read_problems(
    csp_id: DbId,
    ctx: ContextDep,
    status: Annotated[list[str] | None, Query(description="Status codes")] = None,
    category: Annotated[list[str] | None, Query(description="Category codes")] = None,
    sector: Annotated[list[IndexInt] | None, Query(description="Sector indexes")] = None,
    since: Annotated[date | None, Query(alias="from", description="Reported on or after")] = None,
    until: Annotated[date | None, Query(alias="to", description="Reported on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 5000,
) -> FeatureCollection[ProblemProperties]:
    """The CSP's problems as GeoJSON (newest first), filtered; synthetic ones are flagged."""
    return problems.list_problems(
        ctx,
        csp_id,
        status=status,
        category=category,
        sector=sector,
        since=since,
        until=until,
        limit=limit,
    )


@router.get("/problems/{problem_id}", responses=INVALID, dependencies=[access.PROBLEM_RECORDS])
def read_problem(problem_id: DbId, ctx: ContextDep) -> ProblemPublic:
    """A problem with its dated steps, actions and evaluations."""
    return problems.get_problem(ctx, problem_id)


@router.post(
    "/problems/{problem_id}/transitions", responses=INVALID, dependencies=[access.PROBLEM_WRITE]
)
def transition(problem_id: DbId, body: ProblemTransition, ctx: ContextDep) -> ProblemPublic:
    """Move the problem to its next step (signalé → analysé → actions en cours → évalué →
    résolu, or clos sans suite); illegal steps are refused (no résolu without an
    evaluation)."""
    return problems.transition_problem(ctx, problem_id, body)


@router.post(
    "/problems/{problem_id}/actions",
    status_code=201,
    responses=INVALID,
    dependencies=[access.PROBLEM_WRITE],
)
def create_action(problem_id: DbId, body: ActionCreate, ctx: ContextDep) -> ProblemPublic:
    """An action decided by the GPO for this problem, led by one partner."""
    return problems.add_action(ctx, problem_id, body)


@router.post(
    "/problems/{problem_id}/evaluations",
    status_code=201,
    responses=INVALID,
    dependencies=[access.PROBLEM_WRITE],
)
def create_evaluation(problem_id: DbId, body: EvaluationCreate, ctx: ContextDep) -> ProblemPublic:
    """The evaluation of the problem's actions (outcome, indicators)."""
    return problems.add_evaluation(ctx, problem_id, body)
