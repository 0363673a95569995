"""Map domain errors to HTTP responses, once for the whole app.

Every error body is JSON. Domain errors give ``{"detail": message, "type": class}``;
bad query parameters give FastAPI's own 422 shape, ``{"detail": [{"loc", "msg", …}]}``,
so that the parameter is named the same way whichever check failed.
"""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from geo.errors import (
    AuthenticationRequiredError,
    ConflictError,
    DuplicateRequestError,
    ForbiddenError,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
    PsqError,
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
    if isinstance(exc, DuplicateRequestError):
        content.update(exc.payload)
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
            "detail": f"database unavailable: {exc.__class__.__name__}",
            "type": "DatabaseUnavailable",
        },
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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PsqError, _psq_error_handler)
    app.add_exception_handler(OperationalError, _database_unavailable)
