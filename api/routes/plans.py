from typing import Annotated, Literal

from fastapi import APIRouter, Body, File, Form, Query, Response, UploadFile
from fastapi.exceptions import RequestValidationError

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import CONFLICT, INVALID, NOT_FOUND
from api.schemas import (
    AdoptionPreview,
    EditorState,
    FeatureCollection,
    JobPublic,
    PlanAdoption,
    PlanCellProperties,
    PlanComparison,
    PlanCreate,
    PlanEdit,
    PlanEditResult,
    PlanLocks,
    PlanPublic,
    PlanSave,
    PlansPublic,
    PlanSummary,
    PlanVersion,
    Units,
)
from api.services import editing, jobs, plans
from api.uploads import uploaded_file
from geo.export import FORMATS
from geo.territory import read_vector

router = APIRouter(tags=["plans de sectorisation"])


@router.post(
    "/csp/{csp_id:int}/plans", status_code=202, responses=INVALID, dependencies=[access.PLANNING]
)
def create_plan(csp_id: DbId, plan_in: PlanCreate, ctx: ContextDep) -> JobPublic:
    """Start an automatic proposal (or the whole-communes baseline); poll the job returned."""
    return plans.start_proposal(ctx, csp_id=csp_id, plan_in=plan_in)


@router.get("/csp/{csp_id:int}/plans", responses=NOT_FOUND, dependencies=[access.SECTORS_READ])
def read_plans(csp_id: DbId, ctx: ContextDep) -> PlansPublic:
    """The CSP's plans (adopted, drafts, archived) with their key metrics."""
    return plans.list_plans(ctx, csp_id)


@router.post(
    "/csp/{csp_id:int}/plans/import",
    status_code=201,
    responses=INVALID,
    dependencies=[access.PLANNING],
)
def import_plan(
    csp_id: DbId,
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="Sector polygons: GeoJSON, GeoPackage…")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    resolution: Annotated[int, Form(ge=0, le=15)] = 9,
    units: Annotated[Units, Form(description="h3 (H3 cells) or blocks (street blocks)")] = "h3",
) -> PlanPublic:
    """Import an existing sector layer (e.g. today's sectors) and score it as a draft."""
    with uploaded_file(file) as path:
        return plans.import_plan(
            ctx,
            csp_id=csp_id,
            sectors=read_vector(path),
            resolution=resolution,
            units=units,
            name=name,
            source=file.filename or path.name,
        )


@router.get("/plans/{plan_id:int}", responses=NOT_FOUND, dependencies=[access.SECTORS_READ])
def read_plan(plan_id: DbId, ctx: ContextDep) -> PlanPublic:
    """A plan: sectors as GeoJSON, metrics, notes and violated constraints."""
    return plans.get_plan(ctx, plan_id)


@router.get("/plans/{plan_id:int}/cells", responses=NOT_FOUND, dependencies=[access.PLANNING])
def read_plan_cells(plan_id: DbId, ctx: ContextDep) -> FeatureCollection[PlanCellProperties]:
    """The plan's cells with their sector, as GeoJSON."""
    return plans.plan_cells(ctx, plan_id)


@router.get("/plans/{plan_id:int}/adoption", responses=NOT_FOUND, dependencies=[access.PLANNING])
def read_adoption(plan_id: DbId, ctx: ContextDep) -> AdoptionPreview:
    """What adopting the plan would change for each GPO: the GPO each sector continues (the
    one whose territory overlaps it most) or a new one, territory kept, gained and lost,
    open problems that move, GPOs left without territory, violated constraints."""
    return plans.preview_adoption(ctx, plan_id)


@router.post("/plans/{plan_id:int}/adopt", responses=CONFLICT, dependencies=[access.PLANNING])
def adopt(
    plan_id: DbId, ctx: ContextDep, adoption: Annotated[PlanAdoption | None, Body()] = None
) -> PlanSummary:
    """Adopt a plan once its preview (``GET /api/plans/{id}/adoption``) is confirmed; the
    CSP's previously adopted plan is archived. Another plan adopted since the preview
    (``expected_adopted_plan_id``) gives a 409; violated constraints need an
    ``override_reason``, recorded in the audit trail."""
    if adoption is None:
        raise RequestValidationError(
            [
                {
                    "type": "confirm_required",
                    "loc": ("body", "confirm"),
                    "msg": "confirmez l'adoption (confirm: true) après avoir vu ce qui change "
                    "pour chaque GPO (GET /api/plans/{id}/adoption)",
                    "input": None,
                }
            ]
        )
    return plans.adopt_plan(ctx, plan_id, adoption)


@router.get(
    "/jobs/{job_id:int}", tags=["tâches"], responses=NOT_FOUND, dependencies=[access.PLANNING]
)
def read_job(job_id: DbId, ctx: ContextDep) -> JobPublic:
    """A background job: status, progress and, when done, the plan it made."""
    return jobs.get_job(ctx, job_id)


@router.post(
    "/jobs/{job_id:int}/cancel", tags=["tâches"], responses=CONFLICT, dependencies=[access.PLANNING]
)
def cancel_job(job_id: DbId, ctx: ContextDep) -> JobPublic:
    """Stop a queued or running job at its next progress report (nothing of its work is
    stored); 409 when it has already ended."""
    return jobs.cancel_job(ctx, job_id)


# --- editing by hand -------------------------------------------------------------------


@router.post("/plans/{plan_id:int}/edit", responses=NOT_FOUND, dependencies=[access.PLANNING])
def edit(plan_id: DbId, ctx: ContextDep) -> PlanSummary:
    """The working copy of a plan, to edit by hand: the existing one (shared by everyone
    editing this plan) or a new copy. Adopted and archived plans stay as they are."""
    return editing.start_editing(ctx, plan_id)


@router.get("/plans/{plan_id:int}/editor", responses=CONFLICT, dependencies=[access.PLANNING])
def read_editor_state(plan_id: DbId, ctx: ContextDep) -> EditorState:
    """A working copy's live figures: metrics, violations and cells cut off from their
    sector's main piece."""
    return editing.read_editor(ctx, plan_id)


@router.post("/plans/{plan_id:int}/edits", responses=CONFLICT, dependencies=[access.PLANNING])
def apply_edit(plan_id: DbId, body: PlanEdit, ctx: ContextDep) -> PlanEditResult:
    """Move cells to other sectors. All or nothing: an unknown cell or sector, a locked
    sector or a sector left empty gives a 422; an out-of-date ``version`` a 409."""
    return editing.edit_plan(ctx, plan_id, body)


@router.put("/plans/{plan_id:int}/locks", responses=CONFLICT, dependencies=[access.PLANNING])
def put_locks(plan_id: DbId, body: PlanLocks, ctx: ContextDep) -> EditorState:
    """Lock exactly these sectors: edits and re-optimisation leave them as they are."""
    return editing.set_locks(ctx, plan_id, body)


@router.post("/plans/{plan_id:int}/save", responses=CONFLICT, dependencies=[access.PLANNING])
def save(plan_id: DbId, body: PlanSave, ctx: ContextDep) -> PlanSummary:
    """Save a working copy as a new version (a draft) with a comment."""
    return editing.save_version(ctx, plan_id, body)


@router.post(
    "/plans/{plan_id:int}/reoptimise",
    status_code=202,
    responses=CONFLICT,
    dependencies=[access.PLANNING],
)
def reoptimise(plan_id: DbId, body: PlanVersion, ctx: ContextDep) -> JobPublic:
    """Redraw the unlocked sectors of a working copy (a job, as proposals are); the locked
    sectors stay exactly as they are. The result is an edit: a new version."""
    return editing.start_reoptimise(ctx, plan_id, version=body.version)


@router.delete(
    "/plans/{plan_id:int}", status_code=204, responses=CONFLICT, dependencies=[access.PLANNING]
)
def delete(
    plan_id: DbId,
    ctx: ContextDep,
    version: Annotated[
        int | None,
        Query(
            ge=0, le=2**31 - 1, description="Delete only if the plan is at this version (else 409)"
        ),
    ] = None,
) -> None:
    """Delete a draft, an archived plan, or a working copy (discarding its edits)."""
    editing.delete_plan(ctx, plan_id, version=version)


@router.get("/plans/{plan_id:int}/compare", responses=INVALID, dependencies=[access.PLANNING])
def compare(
    plan_id: DbId,
    ctx: ContextDep,
    other: Annotated[
        int, Query(alias="with", ge=1, le=2**31 - 1, description="The other plan's id")
    ],
) -> PlanComparison:
    """Two plans of the same CSP and grid side by side, and the cells that changed sector."""
    return editing.compare_plans(ctx, plan_id, other)


@router.get(
    "/plans/{plan_id:int}/export",
    responses={
        **INVALID,
        200: {"content": {f.media_type: {} for f in FORMATS.values()}},
    },
    response_class=Response,
    dependencies=[access.PLANNING],
)
def export(
    plan_id: DbId,
    ctx: ContextDep,
    fmt: Annotated[Literal["geojson", "gpkg", "shp"], Query(alias="format")] = "geojson",
    crs: Annotated[
        int,
        Query(
            description="EPSG code: 4326 (WGS84) or 2154 (Lambert-93)",
            json_schema_extra={"enum": [4326, 2154]},
        ),
    ] = 4326,
) -> Response:
    """The plan's sectors with their figures as GeoJSON, GeoPackage or zipped Shapefile,
    in EPSG:4326 (WGS84) or EPSG:2154 (Lambert-93)."""
    content, name, media_type = plans.export_plan(ctx, plan_id, fmt=fmt, crs=crs)
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
