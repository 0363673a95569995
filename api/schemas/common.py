"""Building blocks shared by the resources: GeoJSON, list pages, errors, taxonomy codes.

GeoJSON follows RFC 7946: coordinates in WGS84 longitude/latitude.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from api import clock
from geo.audits import KINDS as AUDIT_KINDS
from geo.audits import REFERENT_ROLES
from geo.audits import STATUSES as AUDIT_STATUSES
from geo.errors import InvalidValueError
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

#: The largest value of PostgreSQL's ``integer`` columns. Identifiers and indexes past it
#: are refused by the schema, a 422 naming the field, before the database sees them.
MAX_INT = 2**31 - 1
#: An identifier of a row (an ``integer`` column).
DbInt = Annotated[int, Field(ge=1, le=MAX_INT)]
#: An index or a count stored as ``integer`` (a sector index…).
IndexInt = Annotated[int, Field(ge=0, le=MAX_INT)]
#: An INSEE commune code (Corsica's start 2A or 2B).
COMMUNE_CODE = r"^[0-9][0-9AB][0-9]{3}$"

#: The notice every free-text field of a record carries (problems, actions, meetings,
#: requests): GPO partners share information « dans la limite de leurs prérogatives ».
FREE_TEXT_NOTICE = (
    "Facts only: no name, address or detail of a private person (data protection; "
    "the partners read it)."
)


class InputModel(BaseModel):
    """The base of every request body: a property the schema does not name is refused
    (422 naming it), and the OpenAPI document says so (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")


#: The geometry types a GeoJSON geometry object may have here (RFC 7946 §3.1, no
#: GeometryCollection).
GeometryType = Literal[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]


class Geometry(BaseModel):
    """A GeoJSON geometry object."""

    type: str = Field(examples=["MultiPolygon"])
    coordinates: list[Any]


class GeometryIn(Geometry):
    """A GeoJSON geometry object sent by a client: one of the geometry types, nothing but
    ``type`` and ``coordinates`` (what each field accepts is checked by its service)."""

    model_config = ConfigDict(extra="forbid")

    type: GeometryType = Field(examples=["MultiPolygon"])
    coordinates: list[Any] = Field(min_length=1)


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
            raise InvalidValueError("unknown_code", value=value, expected=list(codes), of=what)
        return value

    return _TaxonomyCheck(check, tuple(codes))


@dataclass(frozen=True, slots=True)
class _TaxonomyCheck(AfterValidator):
    """A taxonomy's check that also writes its codes as the schema's ``enum``, so that the
    OpenAPI document says which values are valid (the French 422 stays the check's)."""

    codes: tuple[str, ...] = ()

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["enum"] = list(self.codes)
        return schema


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


def code_schema(codes: Mapping[str, str]) -> WithJsonSchema:
    """A query parameter's code, said as the taxonomy's ``enum`` in the OpenAPI document
    (the route's own check answers an unknown one)."""
    return WithJsonSchema({"type": "string", "enum": list(codes)})


#: The codes a list filter of the query string takes (``?category=a&category=b``).
CategoryQuery = Annotated[str, code_schema(CATEGORIES)]
StatusQuery = Annotated[str, code_schema(STATUSES)]
AuditStatusQuery = Annotated[str, code_schema(AUDIT_STATUSES)]


def _not_future(value: date) -> date:
    if value > clock.today():
        raise InvalidValueError("date_in_future", day=f"{value:%d/%m/%Y}")
    return value


def _cadence(value: int) -> int:
    if value not in CADENCES_DAYS:
        raise InvalidValueError("not_a_gpo_cadence", value=value)
    return value


#: A date that is today or before.
NotFutureDate = Annotated[date, AfterValidator(_not_future)]


def _local_time(value: time) -> time:
    if value.tzinfo is not None:
        raise InvalidValueError("local_time_expected")
    return value.replace(microsecond=0)


#: A local time of day (Europe/Paris), « HH:MM » both ways.
LocalTime = Annotated[
    time,
    AfterValidator(_local_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$",
            "examples": ["14:00"],
        }
    ),
]
#: Days between two meetings of a GPO (geo.problems.CADENCES_DAYS).
CadenceDays = Annotated[
    int, AfterValidator(_cadence), WithJsonSchema({"type": "integer", "enum": list(CADENCES_DAYS)})
]


def _not_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError(
            "not_null", "null interdit : omettez le champ pour le laisser tel quel"
        )
    return value


@dataclass(frozen=True, slots=True)
class _NotNull(BeforeValidator):
    """The null check that also takes ``null`` out of the field's schema: the OpenAPI
    document says the field may be left out, never null."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        variants = schema.get("anyOf")
        if isinstance(variants, list):
            kept = [v for v in variants if v != {"type": "null"}]
            del schema["anyOf"]
            if len(kept) == 1:
                schema.update(kept[0])
            else:
                schema["anyOf"] = kept
        return schema


#: A field of an update that may be left out (unchanged) but not set to null, since what
#: it updates always has a value: ``status: Annotated[StatusCode | None, NOT_NULL] = None``.
#: Only a value sent is checked, so the default None stays.
NOT_NULL = _NotNull(_not_null)


# -- errors -------------------------------------------------------------------------------
class RowErrorPublic(BaseModel):
    row: int = Field(description="Data row (CSV line 2 is row 1) or feature number")
    column: str
    reason: str


class FieldErrorPublic(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query or path, then the field")
    field: str = Field(
        description="The field's name in the request (the form's input names it)",
        examples=["due_on"],
    )
    label: str | None = Field(
        default=None,
        description="The field in words, in French (geo.messages.FIELD_LABELS)",
        examples=["Échéance"],
    )
    msg: str = Field(description="What is wrong with it, in French")
    type: str = Field(
        description="Stable error code: a code of the message catalogue (geo.messages) "
        "or pydantic's error type",
        examples=["missing", "study_dates_order"],
    )


class ErrorPublic(BaseModel):
    """The one shape of every error the API answers."""

    detail: str = Field(description="What is wrong, in French, naming the field in words")
    type: str = Field(
        description="Stable machine code: the error's class",
        examples=["NotFoundError", "RequestValidationError"],
    )
    code: str | None = Field(
        default=None,
        description="Stable machine code of the sentence: a code of the message catalogue "
        "(geo.messages.MESSAGES, e.g. commune_too_heavy_to_keep_whole), else the error's "
        "class in snake_case; for a refused request, the code of its first field",
        examples=["study_dates_order", "not_found"],
    )
    fields: list[FieldErrorPublic] | None = Field(
        default=None,
        description="Every field refused, with its French message (a request's validation, "
        "or a domain error about one field)",
    )
    errors: list[RowErrorPublic] | None = Field(
        default=None, description="File imports: every bad row (at most 200)"
    )


# -- health -------------------------------------------------------------------------------
class HealthPublic(BaseModel):
    """Readiness: the database and PostGIS answer, the schema is at the newest migration."""

    status: Literal["ok"]
    database: Literal["ok"]
    postgis: str = Field(description="PostGIS library version of the database")
    migration: str = Field(description="The database schema's migration (the newest one)")
    worker: int = Field(
        description="The id of the server process that answered (``psq serve --workers N`` "
        "runs several)"
    )


class LivenessPublic(BaseModel):
    """Liveness: the process answers (no database call)."""

    status: Literal["ok"]


# -- imports ------------------------------------------------------------------------------
class ImportCountPublic(BaseModel):
    imported: int
