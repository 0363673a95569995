"""Map domain errors to HTTP responses, once for the whole app.

Every error body is JSON. Domain errors give ``{"detail": message, "type": class}``;
bad query parameters give FastAPI's own 422 shape, ``{"detail": [{"loc", "msg", …}]}``,
so that the parameter is named the same way whichever check failed. What the database
refuses gives ``{"detail", "type"}`` too: 409 ``DatabaseConflict`` for an integrity
violation (a duplicate key under a race), 422 ``DatabaseInvalidValue`` for a value it
cannot store, naming the column when PostgreSQL says which.
"""

from __future__ import annotations

import logging
import math
import re

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from api.logs import SCOPE_KEY as REQUEST_ID_KEY
from api.logs import RequestInfo, request_context
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


def status_for(exc: PsqError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def psq_error_response(exc: PsqError) -> JSONResponse:
    """The JSON answer to a domain error: its status, French message and stable type."""
    content: dict[str, object] = {"detail": str(exc), "type": type(exc).__name__}
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


async def _psq_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PsqError)
    return psq_error_response(exc)


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
    """Validation errors echo the input: a non-finite number (``Infinity`` is accepted by
    the JSON parser) is not valid JSON, so it is returned as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=422, content={"detail": _json_safe(jsonable_encoder(exc.errors()))}
    )


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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PsqError, _psq_error_handler)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(IntegrityError, _database_conflict)
    app.add_exception_handler(DataError, _database_invalid_value)
    app.add_exception_handler(Exception, _unexpected_error)
