import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from api.db import transaction
from api.deps import DbId, EditorCacheDep, JobRunnerDep, SessionDep, SessionFactoryDep
from api.repositories.editing import (
    compare_plans,
    delete_plan,
    edit_plan,
    read_editor,
    require_working_copy,
    save_version,
    set_locks,
    start_editing,
)
from api.repositories.jobs import create_job, get_job
from api.repositories.plans import (
    adopt_plan,
    check_proposal,
    get_plan,
    list_plans,
    plan_cells,
    plan_sector_layer,
    plan_summary,
)
from api.routes.responses import CONFLICT, INVALID, NOT_FOUND
from api.schemas import (
    EditorState,
    FeatureCollection,
    JobPublic,
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
from api.services import propose_plan, reoptimise_plan, score_sector_layer
from api.uploads import uploaded_file
from geo.errors import InvalidInputError
from geo.export import FORMATS, write_layer
from geo.territory import read_vector

router = APIRouter(tags=["plans de sectorisation"])


@router.post("/csp/{csp_id}/plans", status_code=202, responses=INVALID)
def create_plan(
    csp_id: DbId, plan_in: PlanCreate, factory: SessionFactoryDep, runner: JobRunnerDep
) -> JobPublic:
    """Start an automatic proposal (or the whole-communes baseline); poll the job returned."""
    with transaction(factory) as session:
        check_proposal(session=session, csp_id=csp_id, plan_in=plan_in)
        job_id = create_job(
            session=session,
            kind="sectorize",
            csp_id=csp_id,
            parameters=plan_in.model_dump(mode="json"),
        ).id
    runner.submit(
        job_id=job_id,
        work=lambda progress: propose_plan(
            factory=factory, csp_id=csp_id, plan_in=plan_in, progress=progress
        )[0],
    )
    with factory() as session:
        return get_job(session=session, job_id=job_id)


@router.get("/csp/{csp_id}/plans", responses=NOT_FOUND)
def read_plans(csp_id: DbId, session: SessionDep) -> PlansPublic:
    """The CSP's plans (adopted, drafts, archived) with their key metrics."""
    return list_plans(session=session, csp_id=csp_id)


@router.post("/csp/{csp_id}/plans/import", status_code=201, responses=INVALID)
def import_plan(
    csp_id: DbId,
    factory: SessionFactoryDep,
    file: Annotated[UploadFile, File(description="Sector polygons: GeoJSON, GeoPackage…")],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    resolution: Annotated[int, Form(ge=0, le=15)] = 9,
    units: Annotated[Units, Form(description="h3 (H3 cells) or blocks (street blocks)")] = "h3",
) -> PlanPublic:
    """Import an existing sector layer (e.g. today's sectors) and score it as a draft."""
    with uploaded_file(file) as path:
        plan_id, _ = score_sector_layer(
            factory=factory,
            csp_id=csp_id,
            sectors=read_vector(path),
            resolution=resolution,
            units=units,
            name=name,
            source=file.filename or path.name,
        )
    assert plan_id is not None
    with factory() as session:
        return get_plan(session=session, plan_id=plan_id)


@router.get("/plans/{plan_id}", responses=NOT_FOUND)
def read_plan(plan_id: DbId, session: SessionDep) -> PlanPublic:
    """A plan: sectors as GeoJSON, metrics, notes and violated constraints."""
    return get_plan(session=session, plan_id=plan_id)


@router.get("/plans/{plan_id}/cells", responses=NOT_FOUND)
def read_plan_cells(plan_id: DbId, session: SessionDep) -> FeatureCollection[PlanCellProperties]:
    """The plan's cells with their sector, as GeoJSON."""
    return plan_cells(session=session, plan_id=plan_id)


@router.post("/plans/{plan_id}/adopt", responses=NOT_FOUND)
def adopt(plan_id: DbId, factory: SessionFactoryDep) -> PlanSummary:
    """Adopt a plan; the CSP's previously adopted plan is archived."""
    with transaction(factory) as session:
        return adopt_plan(session=session, plan_id=plan_id)


@router.get("/jobs/{job_id}", tags=["tâches"], responses=NOT_FOUND)
def read_job(job_id: DbId, session: SessionDep) -> JobPublic:
    """A background job: status, progress and, when done, the plan it made."""
    return get_job(session=session, job_id=job_id)


# --- editing by hand -------------------------------------------------------------------


@router.post("/plans/{plan_id}/edit", responses=NOT_FOUND)
def edit(plan_id: DbId, factory: SessionFactoryDep) -> PlanSummary:
    """The working copy of a plan, to edit by hand: the existing one (shared by everyone
    editing this plan) or a new copy. Adopted and archived plans stay as they are."""
    with transaction(factory) as session:
        return PlanSummary(**plan_summary(start_editing(session=session, plan_id=plan_id)))


@router.get("/plans/{plan_id}/editor", responses=INVALID)
def read_editor_state(plan_id: DbId, session: SessionDep, cache: EditorCacheDep) -> EditorState:
    """A working copy's live figures: metrics, violations and cells cut off from their
    sector's main piece."""
    return read_editor(session=session, cache=cache, plan_id=plan_id)


@router.post("/plans/{plan_id}/edits", responses=CONFLICT)
def apply_edit(
    plan_id: DbId, body: PlanEdit, factory: SessionFactoryDep, cache: EditorCacheDep
) -> PlanEditResult:
    """Move cells to other sectors. All or nothing: an unknown cell or sector, a locked
    sector or a sector left empty gives a 422; an out-of-date ``version`` a 409."""
    with transaction(factory) as session:
        result, editor = edit_plan(session=session, cache=cache, plan_id=plan_id, edit=body)
    cache.put(plan_id, result.version, editor)
    return result


@router.put("/plans/{plan_id}/locks", responses=CONFLICT)
def put_locks(
    plan_id: DbId, body: PlanLocks, factory: SessionFactoryDep, cache: EditorCacheDep
) -> EditorState:
    """Lock exactly these sectors: edits and re-optimisation leave them as they are."""
    with transaction(factory) as session:
        state, editor = set_locks(session=session, cache=cache, plan_id=plan_id, locks=body)
    cache.put(plan_id, state.version, editor)
    return state


@router.post("/plans/{plan_id}/save", responses=CONFLICT)
def save(
    plan_id: DbId, body: PlanSave, factory: SessionFactoryDep, cache: EditorCacheDep
) -> PlanSummary:
    """Save a working copy as a new version (a draft) with a comment."""
    with transaction(factory) as session:
        plan = save_version(session=session, cache=cache, plan_id=plan_id, save=body)
        return PlanSummary(**plan_summary(plan))


@router.post("/plans/{plan_id}/reoptimise", status_code=202, responses=CONFLICT)
def reoptimise(
    plan_id: DbId, body: PlanVersion, factory: SessionFactoryDep, runner: JobRunnerDep
) -> JobPublic:
    """Redraw the unlocked sectors of a working copy (a job, as proposals are); the locked
    sectors stay exactly as they are. The result is an edit: a new version."""
    with transaction(factory) as session:
        plan = require_working_copy(session=session, plan_id=plan_id, version=body.version)
        if len(plan.locked_sectors or []) >= int((plan.metrics or {}).get("k", 0)):
            raise InvalidInputError(
                f"locked: every sector of plan {plan_id} is locked; unlock some to re-optimise"
            )
        job_id = create_job(
            session=session,
            kind="reoptimise",
            csp_id=plan.csp_id,
            parameters={"plan_id": plan_id, "version": body.version},
        ).id
    runner.submit(
        job_id=job_id,
        work=lambda progress: reoptimise_plan(
            factory=factory, plan_id=plan_id, version=body.version, progress=progress
        ),
    )
    with factory() as session:
        return get_job(session=session, job_id=job_id)


@router.delete("/plans/{plan_id}", status_code=204, responses=CONFLICT)
def delete(
    plan_id: DbId,
    factory: SessionFactoryDep,
    cache: EditorCacheDep,
    version: Annotated[
        int | None, Query(description="Delete only if the plan is at this version (else 409)")
    ] = None,
) -> None:
    """Delete a draft, an archived plan, or a working copy (discarding its edits)."""
    with transaction(factory) as session:
        delete_plan(session=session, cache=cache, plan_id=plan_id, version=version)


@router.get("/plans/{plan_id}/compare", responses=INVALID)
def compare(
    plan_id: DbId,
    session: SessionDep,
    other: Annotated[
        int, Query(alias="with", ge=1, le=2**31 - 1, description="The other plan's id")
    ],
) -> PlanComparison:
    """Two plans of the same CSP and grid side by side, and the cells that changed sector."""
    return compare_plans(session=session, plan_id=plan_id, other_id=other)


@router.get(
    "/plans/{plan_id}/export",
    responses={
        **INVALID,
        200: {"content": {f.media_type: {} for f in FORMATS.values()}},
    },
    response_class=Response,
)
def export(
    plan_id: DbId,
    session: SessionDep,
    fmt: Annotated[Literal["geojson", "gpkg", "shp"], Query(alias="format")] = "geojson",
    crs: Annotated[int, Query(description="EPSG code: 4326 (WGS84) or 2154 (Lambert-93)")] = 4326,
) -> Response:
    """The plan's sectors with their figures as GeoJSON, GeoPackage or zipped Shapefile,
    in EPSG:4326 (WGS84) or EPSG:2154 (Lambert-93)."""
    plan, layer = plan_sector_layer(session=session, plan_id=plan_id)
    vector = FORMATS[fmt]
    stem = f"secteurs_plan{plan.id}_v{plan.version}_epsg{crs}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}{vector.suffix}"
        write_layer(layer, path, vector, crs)
        content = path.read_bytes()
    return Response(
        content,
        media_type=vector.media_type,
        headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
    )
