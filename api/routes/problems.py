from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import CONFLICT, INVALID
from api.schemas import (
    ActionCreate,
    CategoryQuery,
    EvaluationCreate,
    ImportCountPublic,
    IndexInt,
    ProblemCollection,
    ProblemCreate,
    ProblemPublic,
    ProblemTransition,
    StatusQuery,
    TaxonomyPublic,
)
from api.schemas.common import Day
from api.services import problem_search, problems
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
from geo.study import ProblemSearch

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
    "/csp/{csp_id:int}/problems",
    status_code=201,
    responses=INVALID,
    dependencies=[access.PROBLEM_WRITE],
)
def create(csp_id: DbId, body: ProblemCreate, ctx: ContextDep) -> ProblemPublic:
    """Record a problem (status signalé). Its sector and GPO come from the adopted plan; a
    problem outside the CSP is refused."""
    return problems.create_problem(ctx, csp_id, body)


@router.post(
    "/csp/{csp_id:int}/problems/import",
    status_code=201,
    responses=INVALID,
    dependencies=[access.ADMIN],
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


async def search_filters(
    gpo: Annotated[
        DbId | None, Query(description="A GPO: its sectors, and its theme's categories")
    ] = None,
    sector: Annotated[list[IndexInt] | None, Query(description="Sector indexes")] = None,
    category: Annotated[list[CategoryQuery] | None, Query(description="Category codes")] = None,
    status: Annotated[list[StatusQuery] | None, Query(description="Status codes")] = None,
    since: Annotated[Day | None, Query(description="Reported on or after")] = None,
    until: Annotated[Day | None, Query(description="Reported on or before")] = None,
    from_: Annotated[Day | None, Query(alias="from", description="Same as since")] = None,
    to: Annotated[Day | None, Query(description="Same as until")] = None,
    q: Annotated[
        str | None, Query(description="Text in the title, description or address (no accents)")
    ] = None,
) -> ProblemSearch:
    """The filters of the problems page, checked (a French 422 naming the parameter)."""
    return ProblemSearch.checked(
        gpo_id=gpo,
        sectors=sector,
        categories=category,
        statuses=status,
        since=since if since is not None else from_,
        until=until if until is not None else to,
        text=q,
        names=(
            "since" if since is not None or from_ is None else "from",
            "until" if until is not None or to is None else "to",
        ),
    )


ProblemSearchDep = Annotated[ProblemSearch, Depends(search_filters)]


@router.get(
    "/csp/{csp_id:int}/problems",
    response_model=ProblemCollection,
    responses=INVALID,
    dependencies=[access.PROBLEM_RECORDS],
)
def read_problems(
    csp_id: DbId,
    ctx: ContextDep,
    search: ProblemSearchDep,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 5000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """The CSP's problems that the caller sees as GeoJSON (newest first), filtered by GPO,
    sector, category, status, period (``since``/``until``, both included) and text
    (``q``), a page at a time; ``count`` says how many match. Synthetic ones are flagged."""
    body = problem_search.search_problems_json(ctx, csp_id, search, limit=limit, offset=offset)
    return Response(body, media_type="application/json")


def _export(ctx: ContextDep, csp_id: int, search: ProblemSearch, fmt: str) -> Response:
    exported = problem_search.export_problems(ctx, csp_id, search, fmt=fmt)
    return Response(
        exported.content,
        media_type=exported.media_type,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


@router.get(
    "/csp/{csp_id:int}/problems.csv",
    responses={**INVALID, 200: {"content": {"text/csv": {}}}},
    response_class=Response,
    dependencies=[access.PROBLEM_RECORDS],
)
def export_problems_csv(csp_id: DbId, ctx: ContextDep, search: ProblemSearchDep) -> Response:
    """The problems of the list (same filters, all pages) as CSV: ``;``, UTF-8 with a BOM,
    French headers, the synthetic ones flagged « fictif »; recorded as an export."""
    return _export(ctx, csp_id, search, "csv")


@router.get(
    "/csp/{csp_id:int}/problems.geojson",
    responses={**INVALID, 200: {"content": {"application/geo+json": {}}}},
    response_class=Response,
    dependencies=[access.PROBLEM_RECORDS],
)
def export_problems_geojson(csp_id: DbId, ctx: ContextDep, search: ProblemSearchDep) -> Response:
    """The problems of the list (same filters, all pages) as a GeoJSON FeatureCollection
    (RFC 7946, WGS84) with their GPO and anchor; recorded as an export."""
    return _export(ctx, csp_id, search, "geojson")


@router.get("/problems/{problem_id:int}", responses=INVALID, dependencies=[access.PROBLEM_RECORDS])
def read_problem(problem_id: DbId, ctx: ContextDep) -> ProblemPublic:
    """A problem with its dated steps, actions and evaluations."""
    return problems.get_problem(ctx, problem_id)


@router.post(
    "/problems/{problem_id:int}/transitions",
    responses=CONFLICT,
    dependencies=[access.PROBLEM_WRITE],
)
def transition(problem_id: DbId, body: ProblemTransition, ctx: ContextDep) -> ProblemPublic:
    """Move the problem to its next step (signalé → analysé → actions en cours → évalué →
    résolu, or clos sans suite); illegal steps are refused (no résolu without an
    evaluation)."""
    return problems.transition_problem(ctx, problem_id, body)


@router.post(
    "/problems/{problem_id:int}/actions",
    status_code=201,
    responses=CONFLICT,
    dependencies=[access.PROBLEM_WRITE],
)
def create_action(problem_id: DbId, body: ActionCreate, ctx: ContextDep) -> ProblemPublic:
    """An action decided by the GPO for this problem, led by one partner."""
    return problems.add_action(ctx, problem_id, body)


@router.post(
    "/problems/{problem_id:int}/evaluations",
    status_code=201,
    responses=CONFLICT,
    dependencies=[access.PROBLEM_WRITE],
)
def create_evaluation(problem_id: DbId, body: EvaluationCreate, ctx: ContextDep) -> ProblemPublic:
    """The evaluation of the problem's actions (outcome, indicators)."""
    return problems.add_evaluation(ctx, problem_id, body)
