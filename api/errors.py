"""Map domain errors to HTTP responses, once for the whole app.

Every error body is JSON of one shape (:class:`api.schemas.ErrorPublic`): ``detail``, a
French sentence naming the field, and ``type``, a stable machine code (the error's class).
What a request's validation refuses is a 422 of type ``RequestValidationError`` whose
``fields`` list each field (``loc``, ``field``, French ``msg``, pydantic's ``type``), so
that a parameter is named the same way whichever check failed. What the database
refuses gives ``{"detail", "type"}`` too: 409 ``DatabaseConflict`` for an integrity
violation (a duplicate key under a race), 422 ``DatabaseInvalidValue`` for a value it
cannot store, naming the column when PostgreSQL says which.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic.json_schema import models_json_schema
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.logs import SCOPE_KEY as REQUEST_ID_KEY
from api.logs import RequestInfo, request_context
from api.openapi_rules import forbid_extra_form_fields, text_rules
from api.schemas import ErrorPublic
from api.validation_messages import (
    OWN_ERROR_TYPES,
    UNKNOWN_VALIDATION_MESSAGE,
    VALIDATION_MESSAGES,
)
from geo.errors import (
    AuthenticationRequiredError,
    ConflictError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
    PsqError,
    TooLargeError,
    TooManyAttemptsError,
    UnavailableError,
)
from geo.messages import MESSAGES, field_label
from geo.problem_files import RowErrorsError

STATUS_BY_ERROR: dict[type[PsqError], int] = {
    NotFoundError: 404,
    InvalidInputError: 422,
    ConflictError: 409,
    UnavailableError: 503,
    InvalidCredentialsError: 401,
    TooManyAttemptsError: 429,
    AuthenticationRequiredError: 401,
    ForbiddenError: 403,
    TooLargeError: 413,
}


def invalid_query_parameter(name: str, value: str, message: str) -> RequestValidationError:
    """A 422 naming a query parameter, in FastAPI's validation error format."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": message, "input": value}]
    )


def _snake_case(name: str) -> str:
    """``NotFound`` → ``not_found``: the code of an error not (yet) in the catalogue."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def status_for(exc: PsqError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def psq_error_response(exc: PsqError) -> JSONResponse:
    """The JSON answer to a domain error: its status, French message and stable type."""
    code = exc.code or _snake_case(type(exc).__name__.removesuffix("Error"))
    content: dict[str, object] = {"detail": str(exc), "type": type(exc).__name__, "code": code}
    if exc.field is not None:
        label = field_label(exc.field)
        content["detail"] = f"{label} : {exc.message}"
        content["fields"] = [
            {
                "loc": [exc.field],
                "field": exc.field,
                "label": label,
                "msg": exc.message,
                "type": code,
            }
        ]
    if isinstance(exc, RowErrorsError):
        content["errors"] = [e.as_dict() for e in exc.errors]
    # What a client acts on, beside the message (the existing request's id, the limit…).
    payload = getattr(exc, "payload", None)
    if isinstance(payload, dict):
        content.update(payload)
    status = status_for(exc)
    # RFC 6750: a 401 names the scheme to authenticate with.
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(status_code=status, content=content, headers=headers)


#: Where the answers follow OGC API - Features: their errors are OGC exceptions.
OGC_PREFIX = "/ogc"


def is_ogc(request: Request) -> bool:
    path = request.url.path
    return path == OGC_PREFIX or path.startswith(OGC_PREFIX + "/")


def ogc_exception(response: JSONResponse) -> JSONResponse:
    """An error answer of the app as an OGC API exception: ``{"code", "description"}``,
    a 400 for what the app calls invalid (422), the headers kept."""
    body = json.loads(bytes(response.body))
    status = 400 if response.status_code == 422 else response.status_code
    headers = {k: v for k, v in response.headers.items() if k.lower() == "www-authenticate"}
    # An OGC client reads the parameter as it sent it (``bbox``), not its label in words.
    fields = body.get("fields") or []
    description = " ; ".join(f"{f['field']} : {f['msg']}" for f in fields if "field" in f)
    return JSONResponse(
        status_code=status,
        content={
            "code": body.get("type", "Error"),
            "description": description or body.get("detail", ""),
        },
        headers=headers or None,
    )


def error_response(request: Request, exc: PsqError) -> JSONResponse:
    """The answer to a domain error: the API's shape, or an OGC exception under ``/ogc``."""
    response = psq_error_response(exc)
    return ogc_exception(response) if is_ogc(request) else response


async def _psq_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PsqError)
    return error_response(request, exc)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=503,
        content={
            "detail": f"base de données injoignable ({exc.__class__.__name__}) ; réessayez "
            "dans un instant",
            "type": "DatabaseUnavailable",
        },
    )


#: The columns a unique or foreign-key violation names: ``Key (gpo_id, partner_id)=(3, 7)…``.
_KEY_COLUMNS = re.compile(r"Key \(([^)]*)\)=")
#: What PostgreSQL's SQLSTATE says, in French, for the violations and invalid values a
#: request can cause (the others keep PostgreSQL's own words).
_SQLSTATE_MESSAGES = {
    "23505": "cette valeur existe déjà (enregistrée en même temps par une autre requête ?)",
    "23503": "cette valeur renvoie à un objet qui n'existe pas (ou plus)",
    "23502": "une valeur est requise",
    "23514": "cette valeur enfreint une règle de la base",
    "22001": "texte trop long pour cette colonne",
    "22003": "nombre hors des limites de la colonne (entiers : au plus 2 147 483 647)",
    "22P02": "valeur mal formée",
    "22007": "date ou heure mal formée",
    "22008": "date ou heure hors des limites permises",
}


def _database_field(exc: IntegrityError | DataError) -> tuple[str, str]:
    """What a database error is about (the column when PostgreSQL names it, else the
    constraint, else ``valeur``) and what went wrong, in French."""
    diag = getattr(exc.orig, "diag", None)
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    column = getattr(diag, "column_name", None)
    if column is None and (key := _KEY_COLUMNS.search(getattr(diag, "message_detail", "") or "")):
        column = key.group(1)
    field = column or getattr(diag, "constraint_name", None) or "valeur"
    # psycopg's own refusals (a NUL byte…) have no SQLSTATE and no diagnostics.
    primary = getattr(diag, "message_primary", None) or str(exc.orig).split("\n")[0]
    return field, _SQLSTATE_MESSAGES.get(sqlstate, primary)


async def _database_conflict(_request: Request, exc: Exception) -> JSONResponse:
    """An integrity violation (a duplicate key under a race…): 409, naming the column."""
    assert isinstance(exc, IntegrityError)
    field, message = _database_field(exc)
    return JSONResponse(
        status_code=409,
        content={
            "detail": f"{field} : {message} ; relisez les données et réessayez.",
            "type": "DatabaseConflict",
        },
    )


async def _database_invalid_value(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot store (out of range, too long…): 422, naming the column."""
    assert isinstance(exc, DataError)
    field, message = _database_field(exc)
    return JSONResponse(
        status_code=422,
        content={"detail": f"{field} : {message}", "type": "DatabaseInvalidValue"},
    )


def _json_safe(value: object) -> object:
    """A non-finite number in a validation error's context (``Infinity`` is accepted by
    the JSON parser) is not valid JSON, so it is returned as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _number(value: Any) -> Any:
    """A bound as a French person writes it: ``500.0`` → ``500``, ``0.25`` → ``0,25``."""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return value


def _french(error: Mapping[str, Any]) -> str:
    """An error of pydantic's list in French: ours already are (the value errors our
    validators raise, custom types such as ``not_null``); pydantic's own by
    :data:`VALIDATION_MESSAGES`."""
    kind = str(error.get("type", ""))
    message = str(error.get("msg", ""))
    if kind in ("value_error", "assertion_error"):
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = VALIDATION_MESSAGES.get(kind)
    if template is None:
        # A custom type of ours (``not_null``…) speaks French; anything else is not shown.
        return message if kind in OWN_ERROR_TYPES else UNKNOWN_VALIDATION_MESSAGE
    # pydantic lists the allowed values in English: « 'h3' or 'blocks' ».
    ctx = {
        k: str(v).replace("' or '", "' ou '") if k == "expected" else _number(v)
        for k, v in (error.get("ctx") or {}).items()
    }
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "à remplir : ce champ ne peut pas rester vide"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "la liste ne peut pas être vide"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return UNKNOWN_VALIDATION_MESSAGE


def _catalogued(error: Mapping[str, Any]) -> dict[str, Any]:
    """A validation error raised by a catalogued domain error (a validator's
    :class:`~geo.errors.InvalidValueError`): its code as the type, its French message, and
    the field it names (a model's validator is about the whole body for pydantic)."""
    cause = (error.get("ctx") or {}).get("error")
    if not isinstance(cause, PsqError) or cause.code is None:
        return dict(error)
    loc = tuple(error.get("loc", ()))
    if cause.field is not None and (not loc or loc == ("body",)):
        loc = ("body", cause.field)
    elif cause.field is not None and isinstance(loc[-1], str) and cause.field not in loc:
        # a nested model's validator (``action``) naming one of its fields (``due_on``)
        loc = (*loc, cause.field)
    return dict(error) | {"type": cause.code, "msg": cause.message, "loc": loc, "ctx": {}}


def _field(loc: Sequence[Any]) -> str:
    """Where an error is, as a person names it: ``action.lead_partner_id``, ``file``,
    ``sector`` (without ``body``, ``query`` or ``path``); the body as a whole (JSON that
    does not parse, at a character offset) is « corps de la requête »."""
    if not loc or (loc[0] == "body" and (len(loc) == 1 or isinstance(loc[1], int))):
        return "corps de la requête"
    return ".".join(str(p) for p in (loc[1:] if len(loc) > 1 else loc))


def validation_body(errors: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The API's one error shape (:class:`api.schemas.ErrorPublic`) for what a request's
    validation refused: a French sentence naming each field, and the fields with their
    location, French message and pydantic's stable error type."""
    fields = [
        {
            "loc": list(e.get("loc", ())),
            "field": _field(e.get("loc", ())),
            "label": field_label(_field(e.get("loc", ()))),
            "msg": e["msg"] if str(e.get("type")) in MESSAGES else _french(e),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    detail = " ; ".join(f"{f['label']} : {f['msg']}" for f in fields) or "requête invalide"
    return {
        "detail": detail,
        "type": "RequestValidationError",
        "code": fields[0]["type"] if fields else "request_validation",
        "fields": fields,
    }


def validation_detail(errors: Sequence[Mapping[str, Any]]) -> str:
    """What pydantic refused, as the one French sentence the API says (for the CLI)."""
    return str(validation_body([_catalogued(e) for e in errors])["detail"])


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's and Starlette's own refusals in the API's one error shape: a body that is
    not text (not UTF-8) or a form that does not parse is a 422 naming it, like JSON that
    does not parse; an unknown address or method is said in French."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # The body could not be read at all (FastAPI: « There was an error parsing the
        # body »; Starlette: « Invalid multipart data. »…): a 422 naming it.
        form = "multipart" in str(exc.detail).lower()
        message = UNREADABLE_FORM if form else UNREADABLE_BODY
        return JSONResponse(
            status_code=422,
            content=validation_body([{"loc": ["body"], "type": "body_unreadable", "msg": message}]),
        )
    if exc.status_code in HTTP_MESSAGES:
        code, message = HTTP_MESSAGES[exc.status_code]
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        response = JSONResponse(
            status_code=exc.status_code,
            content={"detail": message, "type": code},
            headers=headers,
        )
        return ogc_exception(response) if is_ogc(request) else response
    return await http_exception_handler(request, exc)


def _allowed_methods(request: Request) -> str:
    """Every method some route takes at the request's address (a 405's ``Allow``): Starlette
    names only those of the first route whose path matched (``GET`` for
    ``/api/gpos/{gpo_id}``, whose ``PATCH`` is another route)."""
    methods: set[str] = set()
    path = request.scope["path"]
    for route in iter_route_contexts(request.app.routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(path):
            methods |= set(route.methods or ())
    return ", ".join(sorted(methods))


#: The routing's refusals answered as the API answers them (the pages' handler, for what
#: is not a page).
http_error = _http_error

#: The routing's own refusals, in French, with a stable type.
HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    404: ("RouteNotFound", "adresse inconnue : aucune route ni page à cette adresse"),
    405: ("MethodNotAllowed", "méthode non permise à cette adresse"),
}


#: What a body that cannot be read as text is answered.
UNREADABLE_BODY = "illisible : du JSON en UTF-8 est attendu"
UNREADABLE_FORM = "formulaire illisible : un envoi de fichier (multipart/form-data) est attendu"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The refused input is not answered: encoding a 100 000-position geometry back took
    # seconds on the event loop, every other request waiting.
    refused = [{k: v for k, v in _catalogued(e).items() if k != "input"} for e in exc.errors()]
    errors = _json_safe(jsonable_encoder(refused))
    assert isinstance(errors, list)
    response = JSONResponse(status_code=422, content=validation_body(errors))
    return ogc_exception(response) if is_ogc(request) else response


log = logging.getLogger(__name__)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Any other error: a 500 whose body quotes the request id (``X-Request-ID``), so that
    the user can give it and the log line be found; nothing of the error itself is said."""
    request_id = str(request.scope.get(REQUEST_ID_KEY) or "-")
    # Starlette calls this handler outside the request's middleware: its context is put
    # back for the log record.
    token = request_context.set(RequestInfo(request_id, request.method, request.url.path))
    try:
        log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
    finally:
        request_context.reset(token)
    return JSONResponse(
        status_code=500,
        content={
            "detail": "Erreur interne du serveur. Si elle se reproduit, signalez-la en "
            f"citant la référence {request_id}.",
            "type": "InternalError",
            "request_id": request_id,
        },
        headers={"X-Request-ID": request_id},
    )


def _one_error_shape(app: FastAPI) -> None:
    """The OpenAPI document says what the app answers: every 422 has the one error shape
    (FastAPI would document its own ``HTTPValidationError`` list for the routes that do
    not name theirs)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        components.update(_error_components())
        error = {"$ref": "#/components/schemas/ErrorPublic"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                invalid = operation.get("responses", {}).get("422")
                if invalid is not None:
                    invalid["content"] = {"application/json": {"schema": error}}
        _refusals_of_policies(app, schema, error)
        forbid_extra_form_fields(schema)
        text_rules(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


#: What a route's policy answers (``api.access``): anonymous, and a role it does not admit.
_POLICY_REFUSALS = {
    "401": "Identification requise (aucune session ni jeton valable)",
    "403": "Accès refusé à ce rôle ou à cette opération",
}


def _refusals_of_policies(app: FastAPI, schema: dict[str, Any], error: dict[str, Any]) -> None:
    """Document the 401 and 403 of every operation whose policy admits only some roles:
    a partner's, a commune's or a référent's refusals are answers of the API too."""
    paths = schema.get("paths", {})
    for route in iter_route_contexts(app.routes):
        dependencies = getattr(route, "dependencies", None) or []
        if not any(getattr(d.dependency, "roles", None) is not None for d in dependencies):
            continue
        operations = paths.get(getattr(route, "path_format", ""), {})
        for method in getattr(route, "methods", None) or ():
            responses = operations.get(method.lower(), {}).get("responses")
            if responses is None:
                continue
            for status, description in _POLICY_REFUSALS.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": error}},
                    },
                )


def _error_components() -> dict[str, Any]:
    """The JSON schemas of the error shape, as OpenAPI components."""
    _, definitions = models_json_schema(
        [(ErrorPublic, "serialization")], ref_template="#/components/schemas/{model}"
    )
    return dict(definitions.get("$defs", {}))


def install_error_handlers(app: FastAPI) -> None:
    _one_error_shape(app)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PsqError, _psq_error_handler)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(IntegrityError, _database_conflict)
    app.add_exception_handler(DataError, _database_invalid_value)
    app.add_exception_handler(Exception, _unexpected_error)
