"""The commune's space (issue 18): conventions de participation citoyenne and their
référents, interventions and the mayors' alerts, the commune's delivery log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api import clock
from api.schemas.common import (
    COMMUNE_CODE,
    NOT_NULL,
    Geometry,
    GeometryIn,
    InputModel,
    LocalTime,
    Page,
    taxonomy_code,
)
from geo.errors import InvalidValueError
from geo.participation import CHANNELS, INTERVENTION_NATURES, SIGNATORIES

SignatoryCode = Annotated[str, taxonomy_code(SIGNATORIES, "role")]
NatureCode = Annotated[str, taxonomy_code(INTERVENTION_NATURES, "nature")]
ChannelCode = Annotated[str, taxonomy_code(CHANNELS, "channel")]


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    digits = value.replace(" ", "").replace(".", "").replace("-", "")
    if not (digits.lstrip("+").isdigit() and 8 <= len(digits.lstrip("+")) <= 15):
        raise InvalidValueError("invalid_phone", value=value)
    return digits


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if "@" not in value:
        raise InvalidValueError("not_an_email", value=value.strip())
    return value.strip()


Phone = Annotated[str | None, AfterValidator(_phone)]
Email = Annotated[str | None, AfterValidator(_email)]


# -- conventions --------------------------------------------------------------------------
class SignatoryIn(InputModel):
    role: SignatoryCode = Field(description="prefet, maire or chef_csp")
    name: str = Field(min_length=1, max_length=200)
    signed_on: date | None = Field(default=None, description="None: not signed yet")


class SignatoryPublic(SignatoryIn):
    model_config = ConfigDict(extra="ignore")
    role_label: str


class ConventionReferentIn(InputModel):
    """A volunteer référent (personal data: the police and the commune only)."""

    name: str = Field(min_length=1, max_length=200)
    phone: Phone = Field(default=None, max_length=40)
    email: Email = Field(default=None, max_length=254)
    street: str | None = Field(default=None, max_length=300, description="Street relayed")


class ConventionReferentPublic(ConventionReferentIn):
    model_config = ConfigDict(extra="ignore")
    id: int


class ConventionCreate(InputModel):
    """A convention: over a quartier drawn on the map (``quartier_geom``, a polygon inside
    the commune) or the whole commune (``whole_commune``)."""

    model_config = ConfigDict(allow_inf_nan=False)

    commune_code: str = Field(pattern=COMMUNE_CODE, description="INSEE code")
    quartier: str = Field(min_length=1, max_length=200, description="The quartier's name")
    whole_commune: bool = False
    quartier_geom: GeometryIn | None = Field(default=None, description="Polygon or MultiPolygon")
    signatories: list[SignatoryIn] = Field(default_factory=list, max_length=3)
    start_on: date | None = None
    end_on: date | None = Field(default=None, description="A fixed end (no renewal after)")
    note: str | None = Field(default=None, max_length=2000)
    referents: list[ConventionReferentIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _area(self) -> ConventionCreate:
        if self.whole_commune == (self.quartier_geom is not None):
            raise InvalidValueError("quartier_or_whole_commune", field="quartier_geom")
        roles = [s.role for s in self.signatories]
        if len(set(roles)) != len(roles):
            raise InvalidValueError("duplicate_signatory", field="signatories")
        return self


class ConventionUpdate(InputModel):
    """The fields to change (left out: unchanged), with the ``version`` read."""

    model_config = ConfigDict(allow_inf_nan=False)

    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    quartier: Annotated[str | None, NOT_NULL] = Field(default=None, min_length=1, max_length=200)
    whole_commune: Annotated[bool | None, NOT_NULL] = None
    quartier_geom: GeometryIn | None = None
    signatories: Annotated[list[SignatoryIn] | None, NOT_NULL] = Field(default=None, max_length=3)
    start_on: date | None = None
    end_on: date | None = None
    note: str | None = Field(default=None, max_length=2000)
    referents: Annotated[list[ConventionReferentIn] | None, NOT_NULL] = Field(
        default=None, max_length=200
    )


class ConventionDenounce(InputModel):
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    denounced_on: date = Field(default_factory=clock.today)
    reason: str | None = Field(default=None, max_length=2000)


class ConventionPublic(BaseModel):
    id: int
    csp_id: int
    commune_code: str
    commune: str
    departement: str
    quartier: str
    whole_commune: bool
    signatories: list[SignatoryPublic]
    start_on: date | None
    end_on: date | None
    denounced_on: date | None
    denunciation_reason: str | None
    note: str | None
    status: str
    status_label: str
    current_term: tuple[date, date] | None = Field(description="First and last day")
    renewals: int = Field(description="Tacit renewals so far")
    next_renewal_on: date | None
    ends_on: date | None
    referents: list[ConventionReferentPublic]
    synthetic: bool
    version: int
    quartier_geom: Geometry | None


ConventionsPublic = Page[ConventionPublic]


class ConventionFigures(BaseModel):
    """Counts over an area (a CSP or a département)."""

    code: str
    name: str
    communes: int = Field(description="Communes of the area in your perimeter")
    communes_covered: int = Field(description="Communes with a convention in force")
    conventions_in_force: int = Field(description="Signée, reconduite or dénoncée")
    by_status: dict[str, int]
    referents: int = Field(description="Référents of the conventions in force")
    renewals_next_90_days: int


class ConventionFiguresPublic(BaseModel):
    on: date
    csps: list[ConventionFigures]
    departements: list[ConventionFigures]


class CoveredQuartier(BaseModel):
    id: int
    commune_code: str
    commune: str
    quartier: str
    whole_commune: bool
    status: str
    status_label: str
    next_renewal_on: date | None


# -- interventions and alerts -------------------------------------------------------------
class InterventionCreate(InputModel):
    model_config = ConfigDict(allow_inf_nan=False)

    csp_id: int = Field(ge=1, le=2**31 - 1)
    occurred_at: datetime = Field(description="With its time zone")
    nature: NatureCode
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    place: str | None = Field(default=None, max_length=300, description="Street, landmark")
    note: str | None = Field(default=None, max_length=1000)


class InterventionPublic(BaseModel):
    id: int
    csp_id: int
    commune_code: str
    commune: str
    occurred_at: datetime
    nature: str
    nature_label: str
    place: str | None
    note: str | None
    lon: float
    lat: float
    alerts_queued: int
    synthetic: bool


InterventionsPublic = Page[InterventionPublic]


class AlertPreferenceIn(InputModel):
    """How the mayor wants its alerts: channels, natures (empty: all), quiet hours
    (Paris time; an alert raised in them waits until they end), its SMS number."""

    channels: list[ChannelCode] = Field(default_factory=lambda: ["email"], max_length=2)
    natures: list[NatureCode] = Field(default_factory=list, max_length=20)
    quiet_from: LocalTime | None = None
    quiet_to: LocalTime | None = None
    phone: Phone = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _checked(self) -> AlertPreferenceIn:
        if "sms" in self.channels and not self.phone:
            raise InvalidValueError("sms_needs_phone", field="phone")
        if (self.quiet_from is None) != (self.quiet_to is None):
            raise InvalidValueError("quiet_hours_both", field="quiet_to")
        return self


class AlertPreferencePublic(AlertPreferenceIn):
    model_config = ConfigDict(extra="ignore")
    account_id: int
    email: str


class DeliveryPublic(BaseModel):
    """One message of the commune's delivery log."""

    id: int
    kind: str
    channel: str
    recipient: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


DeliveriesPublic = Page[DeliveryPublic]
