"""Problems (problématiques) of the problem-solving method: their steps, actions and evaluations."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api import clock
from api.schemas.common import (
    FREE_TEXT_NOTICE,
    NOT_NULL,
    ActionStatusCode,
    ActionTypeCode,
    CategoryCode,
    FeatureCollection,
    Geometry,
    GeometryIn,
    InputModel,
    NotFutureDate,
    OutcomeCode,
    Page,
    PriorityCode,
    StatusCode,
)
from geo.errors import InvalidValueError


class ProblemCreate(InputModel):
    """A problem raised in a GPO. Place it with ``geometry`` (GeoJSON point, line or
    polygon, WGS84) or with ``lon``/``lat``."""

    model_config = ConfigDict(allow_inf_nan=False)

    category: CategoryCode = Field(description="A code of geo.problems.CATEGORIES")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000, description=FREE_TEXT_NOTICE)
    geometry: GeometryIn | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str | None = Field(default=None, max_length=300)
    partner_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    reported_on: NotFutureDate = Field(default_factory=clock.today)
    priority: PriorityCode = "normale"

    @model_validator(mode="after")
    def _placed(self) -> ProblemCreate:
        if self.geometry is None and (self.lon is None or self.lat is None):
            raise InvalidValueError("problem_geometry_or_position", field="geometry")
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


class ProblemTransition(InputModel):
    status: StatusCode = Field(description="The next step (geo.problems.TRANSITIONS)")
    on: date = Field(default_factory=clock.today)
    note: str | None = Field(default=None, max_length=2000, description=FREE_TEXT_NOTICE)
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The version read: a row changed since is refused with 409",
    )


class ActionCreate(InputModel):
    type: ActionTypeCode = Field(description="A code of geo.problems.ACTION_TYPES")
    lead_partner_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    start_on: date = Field(default_factory=clock.today)
    due_on: date | None = None
    status: ActionStatusCode = "prevue"
    note: str | None = Field(default=None, max_length=2000, description=FREE_TEXT_NOTICE)

    @model_validator(mode="after")
    def _dates(self) -> ActionCreate:
        if self.due_on is not None and self.due_on < self.start_on:
            raise InvalidValueError(
                "action_due_before_start",
                field="due_on",
                due_on=f"{self.due_on:%d/%m/%Y}",
                start_on=f"{self.start_on:%d/%m/%Y}",
            )
        return self


class ActionUpdate(InputModel):
    """A step of the action, dated ``on`` and signed by the caller: a status reached
    (prévue → en cours → réalisée | abandonnée), a due date moved, a comment; and its
    description (``note``). Fields left out are unchanged."""

    status: Annotated[ActionStatusCode | None, NOT_NULL] = None
    due_on: date | None = None
    note: str | None = Field(default=None, max_length=2000, description=FREE_TEXT_NOTICE)
    comment: str | None = Field(default=None, max_length=2000, description=FREE_TEXT_NOTICE)
    on: date = Field(default_factory=clock.today, description="The day of the step")
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The version read: an action changed since is refused with 409",
    )


class EvaluationCreate(InputModel):
    model_config = ConfigDict(allow_inf_nan=False)

    evaluated_on: date = Field(default_factory=clock.today)
    outcome: OutcomeCode = Field(description="positif, partiel or sans_effet")
    indicators: dict[Annotated[str, Field(max_length=100)], float] = Field(
        default_factory=dict,
        max_length=50,
        description="e.g. signalements_avant, signalements_apres",
    )
    note: str | None = Field(default=None, max_length=2000, description=FREE_TEXT_NOTICE)


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
    status_label: str
    overdue: bool = Field(description="Due date passed and the action not finished")
    note: str | None
    version: int


class ActionEventPublic(BaseModel):
    on: date
    status: str | None
    status_label: str | None
    due_on: date | None
    comment: str | None
    signed_by: str
    synthetic: bool


class ActionDetail(ActionPublic):
    """An action with its problem, its GPO and its dated, signed steps."""

    problem_id: int
    problem_title: str
    problem_status_label: str
    gpo_id: int | None
    gpo_name: str | None
    events: list[ActionEventPublic]


ActionsPublic = Page[ActionDetail]


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
    version: int = Field(description="Raised by every step: send it back with the next one")


class ProblemCollection(FeatureCollection[ProblemProperties]):
    """A page of the problems matching a search (newest first), and how many match."""

    count: int = Field(description="Problems matching the filters, all pages together")


class ProblemExportProperties(ProblemProperties):
    """A problem as the problems page exports it: its GPO's name and its anchor."""

    gpo: str | None = Field(description="Name of the GPO holding the problem")
    lon: float = Field(description="Longitude of the problem's anchor (WGS84)")
    lat: float = Field(description="Latitude of the problem's anchor (WGS84)")


class ProblemExport(FeatureCollection[ProblemExportProperties]):
    """The problems matching a search, as exported (RFC 7946, WGS84)."""
