"""Safety studies (études de sûreté): référents, communes' requests and their steps."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api import clock
from api.schemas.common import (
    COMMUNE_CODE,
    FREE_TEXT_NOTICE,
    AuditKindCode,
    AuditStatusCode,
    Geometry,
    GeometryIn,
    InputModel,
    Page,
    ReferentRoleCode,
)
from geo.errors import InvalidValueError


# -- référents ----------------------------------------------------------------------------
class ReferentCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    role: ReferentRoleCode = Field(default="referent", description="referent or correspondant")
    grade: str | None = Field(default=None, max_length=100)
    contact: str | None = Field(default=None, max_length=200)


class ReferentPublic(ReferentCreate):
    model_config = ConfigDict(extra="ignore")
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


# -- requests -----------------------------------------------------------------------------
class AuditTaxonomyPublic(BaseModel):
    """Codes and French labels of the safety studies (geo.audits)."""

    kinds: dict[str, str]
    statuses: dict[str, str]
    transitions: dict[str, list[str]]
    open_statuses: list[str]
    referent_roles: dict[str, str]
    evidence_radius_m: float


class AuditRequestCreate(InputModel):
    """A commune's request for a safety study. Place the site with ``site`` (a GeoJSON
    point or polygon, WGS84) or with ``address`` (found in the local address table)."""

    model_config = ConfigDict(allow_inf_nan=False)

    commune_code: str = Field(pattern=COMMUNE_CODE, description="INSEE code")
    kind: AuditKindCode = Field(description="A code of geo.audits.KINDS")
    site: GeometryIn | None = None
    site_name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=300)
    need: str = Field(
        min_length=1, max_length=5000, description=f"The need, explained. {FREE_TEXT_NOTICE}"
    )
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
            raise InvalidValueError("not_an_email", value=v.strip())
        return v.strip()

    @model_validator(mode="after")
    def _checked(self) -> AuditRequestCreate:
        if self.site is None and not (self.address and self.address.strip()):
            raise InvalidValueError("study_site_or_address", field="site")
        if self.desired_from and self.desired_to and self.desired_from > self.desired_to:
            raise InvalidValueError(
                "study_dates_order",
                field="desired_to",
                desired_from=f"{self.desired_from:%d/%m/%Y}",
                desired_to=f"{self.desired_to:%d/%m/%Y}",
            )
        if not (self.contact_email or self.contact_phone):
            raise InvalidValueError("study_contact_email_or_phone", field="contact_email")
        return self


class AuditTransition(InputModel):
    """The next step of a request, dated (default today)."""

    status: AuditStatusCode = Field(description="A code of geo.audits.STATUSES")
    on: date = Field(default_factory=clock.today)
    note: str | None = Field(default=None, max_length=2000)
    planned_on: date | None = Field(default=None, description="planifiee: the study's date")
    referent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    reason: str | None = Field(default=None, max_length=2000, description="refusee: why")
    recommendations: str | None = Field(default=None, max_length=20000)
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The version read: a row changed since is refused with 409",
    )


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
    version: int = Field(description="Raised by every step: send it back with the next one")
    geometry: Geometry
    events: list[AuditEventPublic]
    evidence: AuditEvidencePublic | None = None


class AuditRequestsPublic(Page[AuditRequestPublic]):
    date_from: date | None = Field(description="Start of the evidence period (with evidence)")
    date_to: date | None
    synthetic_problems: int | None = Field(
        description="Synthetic problems among the CSP's problems of the evidence period"
    )
