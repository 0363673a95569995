from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from api.db import transaction
from api.deps import DbId, JobRunnerDep, SessionDep, SessionFactoryDep
from api.repositories.jobs import create_job, get_job
from api.repositories.plans import (
    adopt_plan,
    check_proposal,
    get_plan,
    list_plans,
    plan_cells,
)
from api.schemas import (
    ErrorPublic,
    FeatureCollection,
    JobPublic,
    PlanCellProperties,
    PlanCreate,
    PlanPublic,
    PlansPublic,
    PlanSummary,
)
from api.services import score_sector_layer
from api.uploads import uploaded_file
from geo.territory import read_vector

router = APIRouter(tags=["plans de sectorisation"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorPublic}}
INVALID: dict[int | str, dict[str, Any]] = {**NOT_FOUND, 422: {"model": ErrorPublic}}


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
    runner.submit_proposal(job_id=job_id, csp_id=csp_id, plan_in=plan_in)
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
) -> PlanPublic:
    """Import an existing sector layer (e.g. today's sectors) and score it as a draft."""
    with uploaded_file(file) as path:
        plan_id, _ = score_sector_layer(
            factory=factory,
            csp_id=csp_id,
            sectors=read_vector(path),
            resolution=resolution,
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
