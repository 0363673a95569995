"""Request and response schemas (pydantic), grouped by resource.

GeoJSON follows RFC 7946: coordinates in WGS84 longitude/latitude.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from geo.layers import LayerKind

P = TypeVar("P", bound=BaseModel)

BBox = tuple[float, float, float, float]


class Geometry(BaseModel):
    """A GeoJSON geometry object."""

    type: str = Field(examples=["MultiPolygon"])
    coordinates: list[Any]


class Feature(BaseModel, Generic[P]):
    type: Literal["Feature"] = "Feature"
    id: str | int
    geometry: Geometry
    properties: P


class FeatureCollection(BaseModel, Generic[P]):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature[P]]
    bbox: BBox | None = Field(default=None, description="minlon, minlat, maxlon, maxlat")


# -- health -------------------------------------------------------------------------------
class HealthPublic(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    postgis: str = Field(description="PostGIS library version of the database")


# -- communes -----------------------------------------------------------------------------
class CommuneProperties(BaseModel):
    code: str = Field(description="INSEE code", examples=["90010"])
    name: str = Field(examples=["Belfort"])
    population: int | None = Field(description="Population légale, when known")
    csp_ids: list[int] = Field(description="CSPs this commune belongs to")


CommunesGeoJSON = FeatureCollection[CommuneProperties]


# -- CSP ----------------------------------------------------------------------------------
class CspPublic(BaseModel):
    id: int
    code: str
    name: str
    commune_count: int
    population: int | None = Field(description="Sum of the communes' populations")
    area_km2: float = Field(description="Area on the ellipsoid, km²")
    bbox: BBox


class CspsPublic(BaseModel):
    data: list[CspPublic]
    count: int


class CspProperties(CspPublic):
    commune_codes: list[str]


CspGeoJSON = FeatureCollection[CspProperties]


# -- errors -------------------------------------------------------------------------------
class ErrorPublic(BaseModel):
    detail: str = Field(description="What is wrong, naming the bad value")
    type: str = Field(description="Error class", examples=["NotFoundError"])


# -- layers -------------------------------------------------------------------------------
class LayerPublic(BaseModel):
    id: int
    name: str
    kind: LayerKind
    source: str
    source_crs: str
    feature_count: int
    features_in_csp: int | None = None
    warnings: list[str]
    created_at: datetime


class LayersPublic(BaseModel):
    data: list[LayerPublic]
    count: int
    qpv_by_commune: dict[str, list[str]] = Field(
        default_factory=dict,
        description="QPVs known only at commune level (no outline): commune code -> QPV names",
    )


class LayerFeatureProperties(BaseModel):
    code: str | None
    name: str | None
    category: str | None = Field(description="barrier class, point type or zone type")
    bridge: bool
    tunnel: bool
    values: dict[str, float]


# -- grid ---------------------------------------------------------------------------------
class GridCreate(BaseModel):
    resolution: int = Field(default=9, ge=0, le=15, description="H3 resolution")
    weights: dict[str, float] | None = Field(
        default=None,
        description="Workload weights by variable (population, households, poor_households, "
        "social_housing); default population 1, poor_households 2, social_housing 0.5",
    )
    crossing_distance_m: float = Field(default=100.0, ge=0, le=5000)


class GridPublic(BaseModel):
    id: int
    csp_id: int
    resolution: int
    cell_count: int
    component_count: int
    blocked_edge_count: int
    parameters: dict[str, Any]
    built_at: datetime


class GridsPublic(BaseModel):
    data: list[GridPublic]
    count: int


class CellProperties(BaseModel):
    h3: str
    commune: str | None
    clipped: bool
    area_m2: float
    population: float
    households: float
    poor_households: float
    social_housing: float
    poverty_rate: float | None = Field(description="poor households / households, when known")
    workload: float
    source: str = Field(description="grid, commune, grid+commune or none")
    component: int = Field(description="connected component of the unit graph, 0 = largest")


# -- plans and jobs -----------------------------------------------------------------------
PlanStatus = Literal["draft", "adopted", "archived", "editing"]
PlanOrigin = Literal["engine", "communes", "import", "edit"]
JobStatus = Literal["queued", "running", "done", "failed"]
WEIGHTS_DESCRIPTION = (
    "Workload weights by cell variable (population, households, poor_households, "
    "social_housing); default: those the grid was built with"
)


class PlanCreate(BaseModel):
    """Parameters of an automatic proposal. Give ``k`` or ``target_workload``."""

    model_config = ConfigDict(allow_inf_nan=False)

    method: Literal["engine", "communes"] = Field(
        default="engine",
        description="engine: balanced sectors that may split large communes; "
        "communes: the whole-communes baseline",
    )
    k: int | None = Field(default=None, ge=1, le=5000, description="Number of sectors")
    target_workload: float | None = Field(
        default=None, gt=0, description="Workload per sector (sets k = total / target)"
    )
    tolerance: float = Field(
        default=0.05, ge=0, le=0.5, description="Allowed deviation from the mean workload"
    )
    resolution: int = Field(default=9, ge=0, le=15, description="H3 resolution of the grid")
    seed: int = Field(
        default=0, ge=0, le=2**32 - 1, description="Random seed (same seed, same plan)"
    )
    weights: dict[str, float] | None = Field(default=None, description=WEIGHTS_DESCRIPTION)
    whole_commune_population: float = Field(
        default=10_000, ge=0, description="Communes with fewer inhabitants are never split"
    )
    seeds: list[tuple[float, float]] = Field(
        default_factory=list,
        max_length=500,
        description="Fixed seeds as [lon, lat] (e.g. commissariats): sector i contains seed i",
    )
    seed_point_types: list[str] = Field(
        default_factory=list,
        description="Also seed one sector at each point of the CSP's point layers whose type is "
        "one of these (e.g. commissariat, bureau de police)",
    )
    locked: dict[str, int] = Field(
        default_factory=dict, description="H3 cell id -> sector index kept as given"
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
    name: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _k_or_target(self) -> PlanCreate:
        if (self.k is None) == (self.target_workload is None):
            raise ValueError("give either k (number of sectors) or target_workload")
        for lon, lat in self.seeds:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"seeds: [{lon}, {lat}] is not a WGS84 [lon, lat] position")
        return self


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


class PlansPublic(BaseModel):
    data: list[PlanSummary]
    count: int


class SectorProperties(BaseModel):
    sector: int
    name: str
    workload: float
    metrics: dict[str, Any]


class PlanPublic(PlanSummary):
    metrics: dict[str, Any] = Field(description="All metrics of geo.metrics, per plan and sector")
    notes: list[str] = Field(description="What the engine did that a planner must know")
    violations: list[ViolationPublic]
    sectors: FeatureCollection[SectorProperties]


class PlanEdit(BaseModel):
    """Move cells to other sectors, in a working copy at ``version``."""

    version: int = Field(description="The version the edit was made on (else 409)")
    assignments: dict[str, int] = Field(
        min_length=1,
        max_length=100_000,
        description="H3 cell id -> its new sector index",
    )


class PlanLocks(BaseModel):
    """Sectors that edits and re-optimisation must leave as they are."""

    version: int
    sectors: list[int] = Field(max_length=5000)


class PlanVersion(BaseModel):
    """Only the version: for actions on a working copy that take no other input."""

    version: int


class PlanSave(BaseModel):
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
