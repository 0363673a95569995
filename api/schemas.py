"""Request and response schemas (pydantic), grouped by resource.

GeoJSON follows RFC 7946: coordinates in WGS84 longitude/latitude.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from geo.audits import KINDS as AUDIT_KINDS
from geo.audits import REFERENT_ROLES
from geo.audits import STATUSES as AUDIT_STATUSES
from geo.layers import LayerKind
from geo.problems import (
    ACTION_STATUSES,
    ACTION_TYPES,
    CADENCES_DAYS,
    CATEGORIES,
    OUTCOMES,
    PARTNER_TYPES,
    PRIORITIES,
    STATUSES,
    THEMES,
)

P = TypeVar("P", bound=BaseModel)
T = TypeVar("T")

BBox = tuple[float, float, float, float]
#: An INSEE commune code (Corsica's start 2A or 2B).
COMMUNE_CODE = r"^[0-9][0-9AB][0-9]{3}$"


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


class Page(BaseModel, Generic[T]):
    """A list response: ``data`` and how many items it holds (``Page[CspPublic]``)."""

    data: list[T]
    count: int


# -- codes --------------------------------------------------------------------------------
def taxonomy_code(codes: Mapping[str, str], what: str) -> AfterValidator:
    """The check of a string field against a taxonomy (code -> French label): use it as
    ``Annotated[str, taxonomy_code(CATEGORIES, "category")]``. An unknown code is a 422
    naming the code and the known ones."""

    def check(value: str) -> str:
        if value not in codes:
            raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(codes)}")
        return value

    return AfterValidator(check)


CategoryCode = Annotated[str, taxonomy_code(CATEGORIES, "category")]
PriorityCode = Annotated[str, taxonomy_code(PRIORITIES, "priority")]
StatusCode = Annotated[str, taxonomy_code(STATUSES, "status")]
ActionTypeCode = Annotated[str, taxonomy_code(ACTION_TYPES, "type")]
ActionStatusCode = Annotated[str, taxonomy_code(ACTION_STATUSES, "status")]
OutcomeCode = Annotated[str, taxonomy_code(OUTCOMES, "outcome")]
PartnerTypeCode = Annotated[str, taxonomy_code(PARTNER_TYPES, "type")]
ThemeCode = Annotated[str, taxonomy_code(THEMES, "theme")]
AuditKindCode = Annotated[str, taxonomy_code(AUDIT_KINDS, "kind")]
AuditStatusCode = Annotated[str, taxonomy_code(AUDIT_STATUSES, "status")]
ReferentRoleCode = Annotated[str, taxonomy_code(REFERENT_ROLES, "role")]


def _not_future(value: date) -> date:
    if value > date.today():
        raise ValueError(f"{value} is in the future")
    return value


def _cadence(value: int) -> int:
    if value not in CADENCES_DAYS:
        raise ValueError(f"{value} is not a GPO cadence (15 or 30 days)")
    return value


#: A date that is today or before.
NotFutureDate = Annotated[date, AfterValidator(_not_future)]
#: Days between two meetings of a GPO (geo.problems.CADENCES_DAYS).
CadenceDays = Annotated[int, AfterValidator(_cadence)]


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


CspsPublic = Page[CspPublic]


class CspProperties(CspPublic):
    commune_codes: list[str]


CspGeoJSON = FeatureCollection[CspProperties]


# -- errors -------------------------------------------------------------------------------
class RowErrorPublic(BaseModel):
    row: int = Field(description="Data row (CSV line 2 is row 1) or feature number")
    column: str
    reason: str


class ErrorPublic(BaseModel):
    detail: str = Field(description="What is wrong, naming the bad value")
    type: str = Field(description="Error class", examples=["NotFoundError"])
    errors: list[RowErrorPublic] | None = Field(
        default=None, description="File imports: every bad row (at most 200)"
    )


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


class LayersPublic(Page[LayerPublic]):
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
#: What a grid's units are: H3 cells clipped to the CSP, or street blocks (geo.blocks).
Units = Literal["h3", "blocks"]
UNITS_DESCRIPTION = (
    "h3: H3 cells clipped to the CSP; blocks: street blocks cut by the CSP's road/barrier "
    "layer, no larger than about two H3 cells of the resolution"
)


class GridCreate(BaseModel):
    resolution: int = Field(default=9, ge=0, le=15, description="H3 resolution")
    units: Units = Field(default="h3", description=UNITS_DESCRIPTION)
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
    units: Units
    cell_count: int
    component_count: int
    blocked_edge_count: int
    parameters: dict[str, Any]
    built_at: datetime


GridsPublic = Page[GridPublic]


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
    workload: float = Field(description="workload with the weights the grid was built with")
    problems: int = Field(
        description="recorded problems of the CSP whose anchor lies in the cell (counted now)"
    )
    synthetic_problems: int = Field(description="how many of those problems are synthetic")
    source: str = Field(description="grid, commune, grid+commune or none")
    component: int = Field(description="connected component of the unit graph, 0 = largest")


class EdgeProperties(BaseModel):
    """A pair of neighbouring cells and the boundary they share."""

    a: str = Field(description="H3 id of one cell (a < b)")
    b: str = Field(description="H3 id of the other cell")
    shared_m: float = Field(description="length of the shared boundary, metres")
    barrier: str | None = Field(description="class of the barrier crossing it (motorway…)")
    blocked: bool = Field(description="the barrier has no crossing nearby: not neighbours")


# -- plans and jobs -----------------------------------------------------------------------
PlanStatus = Literal["draft", "adopted", "archived", "editing"]
PlanOrigin = Literal["engine", "communes", "import", "edit"]
JobStatus = Literal["queued", "running", "done", "failed"]
WEIGHTS_DESCRIPTION = (
    "Workload weights by cell variable (population, households, poor_households, "
    "social_housing, problems: the CSP's recorded problems whose anchor lies in the cell, "
    "synthetic ones included, counted when the proposal runs); default: those the grid was "
    "built with (problems weigh 0 unless given)"
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
    units: Units = Field(default="h3", description="The grid's units: " + UNITS_DESCRIPTION)
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
        default_factory=dict, description="Unit id (H3 cell or block) -> sector index kept as given"
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


# -- problems, GPOs, partners, meetings ---------------------------------------------------
class ProblemCreate(BaseModel):
    """A problem raised in a GPO. Place it with ``geometry`` (GeoJSON point, line or
    polygon, WGS84) or with ``lon``/``lat``."""

    model_config = ConfigDict(allow_inf_nan=False)

    category: CategoryCode = Field(description="A code of geo.problems.CATEGORIES")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    geometry: Geometry | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str | None = Field(default=None, max_length=300)
    partner_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    reported_on: NotFutureDate = Field(default_factory=date.today)
    priority: PriorityCode = "normale"

    @model_validator(mode="after")
    def _placed(self) -> ProblemCreate:
        if self.geometry is None and (self.lon is None or self.lat is None):
            raise ValueError("give a geometry, or lon and lat")
        return self


class TaxonomyPublic(BaseModel):
    """Codes and French labels of the problem-solving method (geo.problems)."""

    categories: dict[str, str]
    statuses: dict[str, str]
    transitions: dict[str, list[str]]
    priorities: dict[str, str]
    action_types: dict[str, str]
    action_statuses: dict[str, str]
    outcomes: dict[str, str]
    partner_types: dict[str, str]
    themes: dict[str, str]


class ImportCountPublic(BaseModel):
    imported: int


class GeocodeResultPublic(BaseModel):
    label: str
    lon: float
    lat: float
    score: float = Field(ge=0, le=1)
    citycode: str


GeocodeResultsPublic = Page[GeocodeResultPublic]


class ProblemTransition(BaseModel):
    status: StatusCode = Field(description="The next step (geo.problems.TRANSITIONS)")
    on: date = Field(default_factory=date.today)
    note: str | None = Field(default=None, max_length=2000)


class ActionCreate(BaseModel):
    type: ActionTypeCode = Field(description="A code of geo.problems.ACTION_TYPES")
    lead_partner_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    start_on: date = Field(default_factory=date.today)
    due_on: date | None = None
    status: ActionStatusCode = "prevue"
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _dates(self) -> ActionCreate:
        if self.due_on is not None and self.due_on < self.start_on:
            raise ValueError(f"due_on {self.due_on} is before start_on {self.start_on}")
        return self


class ActionUpdate(BaseModel):
    status: ActionStatusCode | None = None
    due_on: date | None = None
    note: str | None = Field(default=None, max_length=2000)


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    evaluated_on: date = Field(default_factory=date.today)
    outcome: OutcomeCode = Field(description="positif, partiel or sans_effet")
    indicators: dict[str, float] = Field(
        default_factory=dict, description="e.g. signalements_avant, signalements_apres"
    )
    note: str | None = Field(default=None, max_length=2000)


class ProblemEventPublic(BaseModel):
    status: str
    on: date
    note: str | None


class ActionPublic(BaseModel):
    id: int
    type: str
    type_label: str
    lead_partner_id: int | None
    lead_partner: str | None
    start_on: date
    due_on: date | None
    status: str
    overdue: bool = Field(description="Due date passed and the action not finished")
    note: str | None


class EvaluationPublic(BaseModel):
    id: int
    evaluated_on: date
    outcome: str
    indicators: dict[str, float]
    note: str | None


class ProblemProperties(BaseModel):
    id: int
    csp_id: int
    category: str
    category_label: str
    title: str
    address: str | None
    reported_on: date
    priority: str
    status: str
    status_label: str
    status_on: date
    sector: int | None = Field(description="Sector of the adopted plan holding the problem")
    gpo_id: int | None
    synthetic: bool = Field(description="Generated for the demonstration, not a real record")


class ProblemPublic(ProblemProperties):
    description: str | None
    partner_id: int | None
    partner: str | None
    geometry: Geometry
    events: list[ProblemEventPublic]
    actions: list[ActionPublic]
    evaluations: list[EvaluationPublic]


class PartnerCreate(BaseModel):
    organisation: str = Field(min_length=1, max_length=200)
    type: PartnerTypeCode = Field(description="A code of geo.problems.PARTNER_TYPES")
    contact_name: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=200)


class PartnerPublic(PartnerCreate):
    id: int
    csp_id: int
    type_label: str
    synthetic: bool


PartnersPublic = Page[PartnerPublic]


class GpoCreate(BaseModel):
    """A thematic GPO (sector GPOs are made when a plan is adopted)."""

    name: str = Field(min_length=1, max_length=200)
    theme: ThemeCode
    sectors: list[int] = Field(default_factory=list, description="Sectors it spans")
    cadence_days: CadenceDays = Field(default=30, description="15 or 30")
    chief_name: str | None = Field(default=None, max_length=200)
    chief_grade: str | None = Field(default=None, max_length=100)
    chief_contact: str | None = Field(default=None, max_length=200)
    partner_ids: list[int] = Field(default_factory=list)


class GpoUpdate(BaseModel):
    chief_name: str | None = Field(default=None, max_length=200)
    chief_grade: str | None = Field(default=None, max_length=100)
    chief_contact: str | None = Field(default=None, max_length=200)
    cadence_days: CadenceDays | None = None
    partner_ids: list[int] | None = None


class GpoPublic(BaseModel):
    id: int
    csp_id: int
    kind: Literal["sector", "thematic"]
    name: str
    sector: int | None
    sectors: list[int]
    theme: str | None
    plan_id: int | None
    active: bool
    chief_name: str | None
    chief_grade: str | None
    chief_contact: str | None
    cadence_days: int
    partner_ids: list[int]
    last_meeting_on: date | None
    next_meeting_due: date = Field(description="Last meeting (or creation) + cadence")
    overdue: bool = Field(description="No meeting within the cadence")
    open_problems: int


GposPublic = Page[GpoPublic]


class MeetingCreate(BaseModel):
    held_on: NotFutureDate
    attendees: list[str] = Field(default_factory=list, max_length=200)
    notes: str | None = Field(default=None, max_length=10_000)
    decisions: list[str] = Field(default_factory=list, max_length=200)


class MeetingPublic(MeetingCreate):
    id: int
    gpo_id: int
    synthetic: bool


MeetingsPublic = Page[MeetingPublic]


class CategoryReport(BaseModel):
    category: str
    label: str
    opened: int = Field(description="Problems reported in the period")
    resolved: int = Field(description="Problems resolved in the period")
    median_days_to_resolution: float | None = Field(
        description="Of the problems resolved in the period: report to resolution"
    )


class ReportPublic(BaseModel):
    """The activity of an area (all CSPs, one CSP, or one sector) over a period."""

    csp_id: int | None
    csp_name: str | None
    sector: int | None
    date_from: date
    date_to: date
    sectors: int = Field(description="Sectors of the adopted plans in the area")
    meetings_held: int
    problems_opened: int
    problems_resolved: int
    problems_closed_without_action: int
    open_at_end: int = Field(description="Problems reported by the end and not closed then")
    median_days_to_resolution: float | None
    synthetic_problems: int = Field(description="Problems of the area that are synthetic")
    by_category: list[CategoryReport]


# -- hotspots (cartographie des problématiques) -------------------------------------------
class HotspotCellProperties(BaseModel):
    h3: str
    count: int = Field(description="Problems in the cell over the period")
    z: float = Field(description="Getis-Ord Gi* z-score")
    p: float = Field(description="Two-sided p-value of z")
    level: int = Field(description="+3/+2/+1 hot spot at 99/95/90 % (FDR), negative: cold, 0")
    label: str


class HeatBandProperties(BaseModel):
    share: float = Field(description="Lower bound of the band, as a share of the peak")
    density: float = Field(description="Lower bound of the band, problems per km²")


class HotspotMeta(BaseModel):
    """What a hotspot map was computed from."""

    area: str
    csp_id: int
    gpo_id: int | None
    commune_code: str | None = Field(default=None, description="A commune's own map")
    date_from: date
    date_to: date
    problems: int = Field(description="Problems of the area and period after filters")
    synthetic_problems: int
    res: int = Field(description="H3 resolution of the cells")
    bandwidth_m: float | None = Field(description="Kernel bandwidth in metres (None: no problem)")
    kde_cell_m: float | None
    hot_cells: int
    cold_cells: int
    revision: int = Field(description="Problem change log position the map was computed at")


class CommuneCellProperties(BaseModel):
    h3: str
    count: int | None = Field(description="Problems in the cell; None when 1 or 2 (masked)")
    few: bool = Field(description="1 or 2 problems: the count is masked")
    level: int = Field(description="Gi* level over the commune (-3..3)")
    label: str


class CommuneCellsPublic(FeatureCollection[CommuneCellProperties]):
    """A commune's problems per H3 cell, for its own pages."""

    meta: HotspotMeta


class HotspotsPublic(FeatureCollection[HotspotCellProperties]):
    """H3 cells with a problem or a significant Gi* (others are 0 and not significant)."""

    meta: HotspotMeta


class HeatPublic(FeatureCollection[HeatBandProperties]):
    """The kernel density surface as bands of equal width (quartic kernel)."""

    meta: HotspotMeta


class TrendCellProperties(BaseModel):
    h3: str
    trend: Literal["new", "intensifying", "persistent", "diminishing"]
    label: str
    count_before: int
    count_after: int


class PredictionPublic(BaseModel):
    """How well the hot spots of the first period anticipated the problems of the second."""

    problems: int
    hits: int
    best_hits: int
    hotspot_cells: int
    area_share: float
    hit_rate: float
    pai: float | None = Field(description="Prediction Accuracy Index: hit rate / area share")
    pei: float | None = Field(description="Prediction Efficiency Index: hits / best hits")


class HotspotComparisonPublic(FeatureCollection[TrendCellProperties]):
    before: HotspotMeta
    after: HotspotMeta
    prediction: PredictionPublic


class TrendSeries(BaseModel):
    category: str
    label: str
    counts: list[int] = Field(description="Problems reported each month")


class MonthlyTrendPublic(BaseModel):
    months: list[str] = Field(description="YYYY-MM")
    series: list[TrendSeries]


class OpenProblemPublic(BaseModel):
    id: int
    title: str
    category: str
    category_label: str
    status: str
    status_label: str
    priority: str
    reported_on: date
    status_on: date
    address: str | None
    sector: int | None
    synthetic: bool
    actions: list[ActionPublic]


OpenProblemsPublic = Page[OpenProblemPublic]


# -- safety studies (études de sûreté) ------------------------------------------------------
class ReferentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: ReferentRoleCode = Field(default="referent", description="referent or correspondant")
    grade: str | None = Field(default=None, max_length=100)
    contact: str | None = Field(default=None, max_length=200)


class ReferentPublic(ReferentCreate):
    id: int
    csp_id: int
    role_label: str
    active: bool
    synthetic: bool
    planned: int = Field(description="Studies planned, not yet carried out")
    awaiting_recommendations: int = Field(description="Studies done, recommendations due")
    next_on: date | None = Field(description="Date of the next planned study")
    done_12_months: int = Field(description="Recommendations handed over in 12 months")


ReferentsPublic = Page[ReferentPublic]


class AuditTaxonomyPublic(BaseModel):
    """Codes and French labels of the safety studies (geo.audits)."""

    kinds: dict[str, str]
    statuses: dict[str, str]
    transitions: dict[str, list[str]]
    open_statuses: list[str]
    referent_roles: dict[str, str]
    evidence_radius_m: float


class AuditRequestCreate(BaseModel):
    """A commune's request for a safety study. Place the site with ``site`` (a GeoJSON
    point or polygon, WGS84) or with ``address`` (found in the local address table)."""

    model_config = ConfigDict(allow_inf_nan=False)

    commune_code: str = Field(pattern=COMMUNE_CODE, description="INSEE code")
    kind: AuditKindCode = Field(description="A code of geo.audits.KINDS")
    site: Geometry | None = None
    site_name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=300)
    need: str = Field(min_length=1, max_length=5000, description="The need, explained")
    desired_from: date | None = None
    desired_to: date | None = None
    contact_name: str = Field(min_length=1, max_length=200)
    contact_role: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=40)
    confirm_duplicate: bool = Field(
        default=False,
        description="File it although an open request for the same site exists (409 otherwise)",
    )

    @field_validator("contact_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if "@" not in v:
            raise ValueError(f"{v!r} is not an e-mail address")
        return v.strip()

    @model_validator(mode="after")
    def _checked(self) -> AuditRequestCreate:
        if self.site is None and not (self.address and self.address.strip()):
            raise ValueError("give the site (a point or polygon drawn on the map) or an address")
        if self.desired_from and self.desired_to and self.desired_from > self.desired_to:
            raise ValueError(
                f"desired_from {self.desired_from} is after desired_to {self.desired_to}"
            )
        if not (self.contact_email or self.contact_phone):
            raise ValueError("give a contact e-mail or telephone")
        return self


class AuditTransition(BaseModel):
    """The next step of a request, dated (default today)."""

    status: AuditStatusCode = Field(description="A code of geo.audits.STATUSES")
    on: date = Field(default_factory=date.today)
    note: str | None = Field(default=None, max_length=2000)
    planned_on: date | None = Field(default=None, description="planifiee: the study's date")
    referent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    reason: str | None = Field(default=None, max_length=2000, description="refusee: why")
    recommendations: str | None = Field(default=None, max_length=20000)


class AuditEventPublic(BaseModel):
    status: str
    status_label: str
    on: date
    note: str | None
    planned_on: date | None
    referent: str | None


class AuditEvidencePublic(BaseModel):
    """What the problems say about a request's site (see the queue)."""

    radius_m: float
    problems: int = Field(description="Problems within radius_m of the site, in the period")
    by_category: dict[str, int]
    hotspot_level: int = Field(description="Gi* level of the site's H3 cell (-3..3)")
    hotspot_label: str
    trend: str | None = Field(description="Hot-spot trend of the site's cell, if any")
    trend_label: str | None


class AuditRequestPublic(BaseModel):
    id: int
    csp_id: int
    commune_code: str
    commune_name: str
    kind: str
    kind_label: str
    site_name: str | None
    address: str | None
    need: str
    desired_from: date | None
    desired_to: date | None
    contact_name: str
    contact_role: str | None
    contact_email: str | None
    contact_phone: str | None
    requested_on: date
    waiting_days: int = Field(description="Days since the request (until its closing step)")
    status: str
    status_label: str
    status_on: date
    referent_id: int | None
    referent: str | None
    planned_on: date | None
    refusal_reason: str | None
    recommendations: str | None
    document: str | None = Field(description="File name of the recommendations handed over")
    duplicate_of: int | None
    synthetic: bool
    geometry: Geometry
    events: list[AuditEventPublic]
    evidence: AuditEvidencePublic | None = None


class AuditRequestsPublic(Page[AuditRequestPublic]):
    date_from: date | None = Field(description="Start of the evidence period (with evidence)")
    date_to: date | None
    synthetic_problems: int | None = Field(
        description="Synthetic problems among the CSP's problems of the evidence period"
    )


class CoverageSitePublic(BaseModel):
    lon: float
    lat: float
    kind: str = Field(description="intersection, h3 (a cell centre) or requested")
    rank: int | None = Field(description="Order of choice (1 = largest gain)")
    gain: float = Field(description="Weight it adds to what was covered before it")
    gain_share: float
    cumulative_share: float
    problems: int | None = Field(
        description="Problems it covers that no site before it covered (None: 1 or 2, masked)"
    )


class RequestedSiteScorePublic(BaseModel):
    request_id: int
    kind: str
    status: str
    lon: float
    lat: float
    share: float = Field(description="Share of the weight it covers alone")
    problems: int | None = Field(description="Problems it covers alone (None: 1 or 2, masked)")


class FixedSitePublic(BaseModel):
    lon: float
    lat: float
    source: str = Field(description="camera (a points layer) or audit (a study done)")
    label: str


class CoverageSuggestionPublic(BaseModel):
    """Where ``p`` more cameras (or studies) would cover the most problems of a commune."""

    commune_code: str
    commune_name: str
    p: int
    radius_m: float
    date_from: date
    date_to: date
    problems: int = Field(description="Problems of the commune in the period")
    synthetic_problems: int
    total_weight: float = Field(description="Problems weighted by category and recency")
    fixed: list[FixedSitePublic]
    fixed_share: float = Field(description="Share already covered by the fixed sites")
    sites: list[CoverageSitePublic]
    covered_share: float = Field(description="Share covered by fixed and suggested sites")
    problems_covered: int
    method: str = Field(description="exact (HiGHS) or greedy")
    optimal: bool
    gap: float = Field(description="Proven relative distance to the best choice")
    candidates: int
    candidate_kind: str = Field(description="intersection or h3 (res-10 cell centres)")
    requested: list[RequestedSiteScorePublic]
    requested_share: float = Field(description="Share the open requested sites cover together")
    seconds: float
