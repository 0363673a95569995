"""Sector plans: automatic proposals, editing of working copies, comparison, and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas.common import MAX_INT, FeatureCollection, IndexInt, InputModel, Page
from api.schemas.grid import UNITS_DESCRIPTION, Units, Weight
from geo.errors import InvalidValueError
from geo.grid import WORKLOAD_VARIABLES
from geo.sectorize.design import DesignParameters

PlanStatus = Literal["draft", "adopted", "archived", "editing"]
PlanOrigin = Literal["engine", "communes", "import", "edit"]
JobStatus = Literal["queued", "running", "cancelling", "cancelled", "done", "failed"]
WEIGHTS_DESCRIPTION = (
    "Workload weights by cell variable (population, households, poor_households, "
    "social_housing, problems: the CSP's recorded problems whose anchor lies in the cell, "
    "synthetic ones included, counted when the proposal runs); default: those the grid was "
    "built with (problems weigh 0 unless given)"
)


class PlanCreate(InputModel):
    """Parameters of an automatic proposal. Give ``k`` or ``target_workload``."""

    model_config = ConfigDict(allow_inf_nan=False)

    method: Literal["engine", "communes", "exact"] = Field(
        default="engine",
        description="engine: balanced sectors that may split large communes; "
        "communes: the whole-communes baseline; exact: the p-median plan with the solver's "
        "proof of optimality (or its proven gap at the time limit)",
    )
    time_limit: float = Field(
        default=60,
        ge=1,
        le=1800,
        description="Seconds the exact mode may search (method exact only)",
    )
    k: int | None = Field(default=None, ge=1, le=5000, description="Number of sectors")
    target_workload: float | None = Field(
        default=None, gt=0, description="Workload per sector (sets k = total / target)"
    )
    tolerance: float = Field(
        default=0.05, ge=0, le=0.5, description="Allowed deviation from the mean workload"
    )
    resolution: int = Field(default=9, ge=0, le=15, description="H3 resolution of the grid")
    units: Units = Field(default="h3", description="The grid's units: " + UNITS_DESCRIPTION)
    seed: int = Field(
        default=0, ge=0, le=2**32 - 1, description="Random seed (same seed, same plan)"
    )
    weights: dict[str, Weight] | None = Field(
        default=None, max_length=len(WORKLOAD_VARIABLES), description=WEIGHTS_DESCRIPTION
    )
    whole_commune_population: float = Field(
        default=10_000, ge=0, description="Communes with fewer inhabitants are never split"
    )
    seeds: list[tuple[float, float]] = Field(
        default_factory=list,
        max_length=500,
        description="Fixed seeds as [lon, lat] (e.g. commissariats): sector i contains seed i",
    )
    seed_point_types: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list,
        max_length=50,
        description="Also seed one sector at each point of the CSP's point layers whose type is "
        "one of these (e.g. commissariat, bureau de police)",
    )
    locked: dict[Annotated[str, Field(max_length=100)], IndexInt] = Field(
        default_factory=dict,
        max_length=100_000,
        description="Unit id (H3 cell or block) -> sector index kept as given",
    )
    sectors_per_part: list[Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Sectors of each separate part of the territory, heaviest part first "
        "(empty: shared out by workload, largest remainder)",
    )
    compactness: float = Field(
        default=1.0, ge=0, le=10, description="Weight of short sector boundaries"
    )
    commune_cohesion: float = Field(
        default=1.0, ge=0, le=10, description="Extra weight of a boundary that cuts a commune"
    )
    barrier_preference: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="Discount of a boundary along a barrier (sectors then straddle fewer barriers)",
    )
    objective: Literal["boundary", "distance", "mix"] = Field(
        default="boundary",
        description="What the engine optimises: boundary (longueur des limites: the cut "
        "length), distance (distance moyenne au centre du secteur: the p-median, "
        "workload-weighted mean distance to each sector's median unit) or mix",
    )
    objective_weight: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="With objective = mix: the share of distance (each term relative to "
        "its value on the plan the shape phase starts from)",
    )
    name: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _k_or_target(self) -> PlanCreate:
        if (self.k is None) == (self.target_workload is None):
            raise InvalidValueError("plan_k_or_target_workload", field="k")
        for lon, lat in self.seeds:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InvalidValueError("seed_not_wgs84", field="seeds", lon=str(lon), lat=str(lat))
        return self

    def design(self) -> DesignParameters:
        """The domain's design parameters (everything but the plan's ``name``)."""
        return DesignParameters.from_dict(self.model_dump(mode="json", exclude={"name"}))


class ViolationPublic(BaseModel):
    constraint: str = Field(description="balance, contiguity, whole_commune…")
    sector: int | None
    value: float | None
    limit: float | None
    message: str


class PlanSummary(BaseModel):
    id: int
    csp_id: int
    name: str
    status: PlanStatus
    origin: PlanOrigin
    resolution: int
    units: Units
    version: int = Field(description="Increases on every change; send it back with edits")
    parent_id: int | None = Field(description="The plan this one was derived from by hand")
    locked_sectors: list[int]
    comment: str | None
    created_at: datetime
    parameters: dict[str, Any]
    k: int
    max_deviation: float | None = Field(description="max |workload - mean| / mean")
    mean_polsby_popper: float | None
    communes_split: int | None
    violation_count: int


PlansPublic = Page[PlanSummary]


class SectorProperties(BaseModel):
    sector: int
    name: str
    workload: float
    metrics: dict[str, Any]
    label_point: list[float] | None = Field(
        default=None,
        description="Where the sector's label goes, [lon, lat]: its pole of inaccessibility",
    )


class PlanPublic(PlanSummary):
    saved_version: int = Field(
        default=1,
        description="Which saved version of its line the plan is: 1 for a proposal, one "
        "more than its parent for a plan edited by hand (a working copy: the version it "
        "will be once saved)",
    )
    metrics: dict[str, Any] = Field(description="All metrics of geo.metrics, per plan and sector")
    notes: list[str] = Field(description="What the engine did that a planner must know")
    violations: list[ViolationPublic]
    sectors: FeatureCollection[SectorProperties]


# -- adoption -----------------------------------------------------------------------------
#: The shortest reason that overrides a plan's violated constraints.
MIN_OVERRIDE_REASON = 5


class PlanAdoption(InputModel):
    """Adopt a plan once its preview (``GET /api/plans/{id}/adoption``) has been seen."""

    confirm: bool = Field(
        default=False,
        validate_default=True,
        description="Must be true: the changes of the preview were seen and accepted",
        json_schema_extra={"const": True},
    )
    expected_adopted_plan_id: int | None = Field(
        default=0,
        validate_default=True,
        ge=0,
        le=MAX_INT,
        description="Required: the CSP's adopted plan the preview was made on (null: none; "
        "0, the default, is refused); another one adopted since gives a 409",
    )
    override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="Why a plan with violated constraints is adopted anyway (recorded)",
    )

    @field_validator("confirm")
    @classmethod
    def _confirmed(cls, value: bool) -> bool:
        if not value:
            raise InvalidValueError("adoption_not_confirmed")
        return value

    @field_validator("expected_adopted_plan_id")
    @classmethod
    def _expected(cls, value: int | None) -> int | None:
        if value == 0:
            raise InvalidValueError("adoption_replaced_plan_missing")
        return value


class AdoptionSector(BaseModel):
    """A sector of the plan being adopted and the GPO that will hold it."""

    sector: int
    name: str
    gpo_id: int | None = Field(description="The GPO it continues; null: a new GPO")
    gpo_name: str | None
    new_gpo: bool
    previous_sector: int | None = Field(description="The GPO's sector in the adopted plan")
    area_km2: float
    kept_km2: float = Field(description="Of the GPO's current territory, what it keeps")
    gained_km2: float = Field(description="What the GPO gains")
    lost_km2: float = Field(description="Of the GPO's current territory, what it loses")
    problems_in: int = Field(description="Open problems that move into this GPO")
    problems_out: int = Field(description="Open problems that leave this GPO")


class AdoptionRetired(BaseModel):
    """A sector GPO left without territory: deactivated, its history kept."""

    gpo_id: int
    gpo_name: str
    previous_sector: int
    lost_km2: float
    problems_out: int


class AdoptionThematic(BaseModel):
    gpo_id: int
    gpo_name: str
    sectors_before: list[int]
    sectors_after: list[int]


class AdoptionPreview(BaseModel):
    """What adopting a plan changes for each GPO, to confirm before adopting it."""

    plan_id: int
    csp_id: int
    status: PlanStatus
    adopted_plan_id: int | None = Field(description="The plan adopted now: send it back")
    matching: str = Field(description="How sectors are matched to GPOs")
    sectors: list[AdoptionSector]
    retired: list[AdoptionRetired] = Field(description="GPOs left without territory")
    thematic: list[AdoptionThematic]
    problems_moving: int = Field(description="Open problems that change GPO")
    violations: list[ViolationPublic]
    override_required: bool = Field(description="Violated constraints: a reason is required")


# -- editing ------------------------------------------------------------------------------
class PlanEdit(InputModel):
    """Move cells to other sectors, in a working copy at ``version``."""

    version: int = Field(description="The version the edit was made on (else 409)")
    assignments: dict[str, int] = Field(
        min_length=1,
        max_length=100_000,
        description="H3 cell id -> its new sector index",
    )


class PlanLocks(InputModel):
    """Sectors that edits and re-optimisation must leave as they are."""

    version: int
    sectors: list[Annotated[int, Field(ge=0, le=MAX_INT)]] = Field(max_length=5000)


class PlanVersion(InputModel):
    """Only the version: for actions on a working copy that take no other input."""

    version: int


class PlanSave(InputModel):
    """Save a working copy as a new version (a draft) with a comment."""

    version: int
    comment: str = Field(min_length=1, max_length=2000, description="What changed and why")
    name: str | None = Field(default=None, min_length=1, max_length=200)


class EditorState(BaseModel):
    """A working copy's figures after the last change."""

    version: int
    locked_sectors: list[int]
    metrics: dict[str, Any]
    violations: list[ViolationPublic]
    detached: list[str] = Field(description="Cells cut off from the main piece of their sector")


class PlanEditResult(EditorState):
    moved: dict[str, int] = Field(description="Cells moved by the edit -> their new sector")
    previous: dict[str, int] = Field(description="Their sector before: the edit that undoes it")
    sectors: list[int] = Field(description="Sectors that changed")


# -- comparison ---------------------------------------------------------------------------
class ComparedCellProperties(BaseModel):
    h3: str
    sector: int = Field(description="Its sector in the plan")
    other_sector: int = Field(description="Its sector in the other plan")
    workload: float


class PlanComparison(BaseModel):
    plan: PlanPublic
    other: PlanPublic
    changed_count: int
    changed_workload: float
    cells: FeatureCollection[ComparedCellProperties] = Field(
        description="The cells whose sector differs"
    )


class PlanCellProperties(BaseModel):
    h3: str
    sector: int
    commune: str | None
    workload: float


# -- jobs ---------------------------------------------------------------------------------
class JobPublic(BaseModel):
    id: int
    kind: str
    csp_id: int
    status: JobStatus
    progress: float = Field(ge=0, le=1)
    stage: str | None
    plan_id: int | None = Field(description="The plan made, once status is done")
    error: str | None = Field(description="Why the job failed")
    created_at: datetime
    finished_at: datetime | None
