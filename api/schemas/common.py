"""Building blocks shared by the resources: GeoJSON, list pages, errors, taxonomy codes.

GeoJSON follows RFC 7946: coordinates in WGS84 longitude/latitude.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from types import UnionType
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
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


#: A day as the OpenAPI document says it (``format: date``): ``2026-12-07``, nothing more.
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _temporal_kind(annotation: Any) -> type | None:
    """``date``, ``datetime`` or ``time`` when a field's type is one of them (or one of
    them or None), else None."""
    if annotation in (date, datetime, time):
        return typing.cast(type, annotation)
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        kinds = {_temporal_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if typing.get_origin(annotation) is Annotated:
        return _temporal_kind(typing.get_args(annotation)[0])
    return None


def temporal_text(kind: type, value: object) -> object:
    """What the edge takes for a day, a time or a date and time: its ISO text, as the
    OpenAPI document says (``format: date``…). pydantic alone would also take a number
    (seconds since 1970: ``?to=0`` was 01/01/1970) and, for a day, a date and time. A
    date and time whose time zone puts it outside the years 1 to 9999 is refused too
    (converting it to UTC used to fail with a 500).

    >>> temporal_text(date, "2026-12-07")
    '2026-12-07'
    >>> temporal_text(date, 0)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.PydanticCustomError: date attendue (AAAA-MM-JJ)
    """
    if isinstance(value, bool | int | float):
        raise PydanticCustomError(f"{kind.__name__}_type", _TEMPORAL_WORDS[kind])
    if kind is date and isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise PydanticCustomError("date_parsing", _TEMPORAL_WORDS[date])
    return value


def _utc_in_range(value: datetime) -> datetime:
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise InvalidValueError("datetime_out_of_range") from None
    return value


def _scalar_kind(annotation: Any) -> tuple[str, Any]:
    """What a field's type asks of the JSON value: ``("number", int)``, ``("bool", …)``,
    ``("list", item)``, ``("dict", value)`` or ``("", None)`` (anything else)."""
    origin = typing.get_origin(annotation)
    if annotation in (int, float):
        return "number", annotation
    if annotation is bool:
        return "bool", annotation
    if origin is Annotated:
        return _scalar_kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, UnionType):
        kinds = {_scalar_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else ("", None)
    if origin in (list, set, frozenset) or (origin is tuple and ... in typing.get_args(annotation)):
        return "list", typing.get_args(annotation)[0]
    if origin is dict:
        return "dict", typing.get_args(annotation)[1]
    return "", None


def json_type(annotation: Any, value: object) -> object:
    """A JSON boolean is not a number, nor a number a boolean, as the OpenAPI document says
    (``integer``, ``number``, ``boolean``): pydantic alone took ``false`` for 0 (a GPO's
    sectors ``[false]`` was sector 0) and ``1`` for true. Lists and maps are checked item
    by item.

    >>> json_type(list[int], [1, 2])
    [1, 2]
    >>> json_type(int | None, True)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.PydanticCustomError: nombre attendu
    """
    kind, inner = _scalar_kind(annotation)
    if kind == "number" and isinstance(value, bool):
        raise PydanticCustomError("int_type" if inner is int else "float_type", "nombre attendu")
    if kind == "bool" and isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "vrai ou faux attendu (true / false)")
    if kind == "list" and isinstance(value, list):
        for item in value:
            json_type(inner, item)
    if kind == "dict" and isinstance(value, dict):
        for item in value.values():
            json_type(inner, item)
    return value


_TEMPORAL_WORDS = {
    date: "date attendue (AAAA-MM-JJ)",
    datetime: "date et heure attendues (AAAA-MM-JJTHH:MM)",
    time: "heure attendue (HH:MM)",
}

#: A day of a query parameter (``?from=2026-01-01``): its ISO text only.
Day = Annotated[date, BeforeValidator(lambda v: temporal_text(date, v))]


@functools.cache
def _field_kind(model: type[BaseModel], name: str) -> tuple[Any, type | None] | None:
    """A body field's type and its temporal kind (:func:`_temporal_kind`), worked out once
    per model and field rather than at every request (None: no such field)."""
    field = model.model_fields.get(name)
    return None if field is None else (field.annotation, _temporal_kind(field.annotation))


class InputModel(BaseModel):
    """The base of every request body: a property the schema does not name is refused
    (422 naming it), and the OpenAPI document says so (``additionalProperties: false``).
    A number is never a finite float's ``NaN`` or ``Infinity`` (which Python's JSON parser
    accepts) nor a boolean (:func:`json_type`), and a day, time or date and time is its
    ISO text (:func:`temporal_text`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _temporal_as_text(cls, value: object, info: ValidationInfo) -> object:
        if value is None or (found := _field_kind(cls, info.field_name or "")) is None:
            return value
        annotation, kind = found
        return json_type(annotation, value) if kind is None else temporal_text(kind, value)

    @field_validator("*", mode="after")
    @classmethod
    def _moment_in_range(cls, value: object) -> object:
        return _utc_in_range(value) if isinstance(value, datetime) else value


#: The geometry types a GeoJSON geometry object may have here (RFC 7946 §3.1, no
#: GeometryCollection).
GeometryType = Literal[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]


class Geometry(BaseModel):
    """A GeoJSON geometry object."""

    type: str = Field(examples=["MultiPolygon"])
    coordinates: list[Any]


#: The most positions a geometry sent by a client may have (a 100 000-vertex polygon is
#: checked and stored in about three seconds).
MAX_POSITIONS = 100_000


def _positions(coordinates: list[Any]) -> list[Any]:
    """Count the positions of GeoJSON coordinates level by level, without recursion: more
    than :data:`MAX_POSITIONS`, or nested deeper than a MultiPolygon's, is refused before
    any geometry is built.

    >>> _positions([[[6.86, 47.64], [6.87, 47.64], [6.87, 47.65], [6.86, 47.64]]])[0][0]
    [6.86, 47.64]
    """
    count, level = 0, [coordinates]
    for _depth in range(4):
        nested = [child for item in level for child in item if isinstance(child, list)]
        count += sum(1 for item in level if not any(isinstance(c, list) for c in item))
        if count > MAX_POSITIONS or len(nested) > MAX_POSITIONS:
            raise InvalidValueError("geometry_too_many_positions", most=MAX_POSITIONS)
        if not nested:
            return coordinates
        level = nested
    raise InvalidValueError("geometry_too_deep")


class GeometryIn(Geometry):
    """A GeoJSON geometry object sent by a client: one of the geometry types, nothing but
    ``type`` and ``coordinates`` (what each field accepts is checked by its service), at
    most :data:`MAX_POSITIONS` positions."""

    model_config = ConfigDict(extra="forbid")

    type: GeometryType = Field(examples=["MultiPolygon"])
    coordinates: Annotated[list[Any], AfterValidator(_positions)] = Field(min_length=1)


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
