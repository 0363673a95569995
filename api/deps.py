"""FastAPI dependencies, exposed as ``Annotated`` aliases: the context that routes hand to
the services, the caller (:data:`CallerDep`), the CSRF check of cookie-authenticated
writes (:func:`check_csrf`), the refusal of control characters in any text
(:func:`refuse_control_characters`), the session cookies, and the parameters several routes parse
the same way."""

from __future__ import annotations

import base64
import hmac
import json
import re
from collections.abc import Iterator
from contextlib import suppress
from typing import Annotated, cast
from urllib.parse import urlsplit

from fastapi import Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api import clock
from api.errors import invalid_query_parameter
from api.schemas import BBox, CategoryQuery, StatusQuery
from api.schemas.common import Day
from api.services import sessions
from api.services.context import Context
from api.services.meetings import ReportPrinter
from geo.accounts import Actor, Caller
from geo.errors import AuthenticationRequiredError, CsrfRejectedError, UnavailableError
from geo.passwords import SESSION_PREFIX, TOKEN_PREFIX, csrf_token
from geo.study import ProblemFilter

#: The web session cookie (HttpOnly) and the CSRF token cookie that page scripts read.
SESSION_COOKIE = "psq_session"
CSRF_COOKIE = "psq_csrf"
#: Where a cookie-authenticated write carries the CSRF token: this header (what
#: web/static/js/api.js sends), or this field of a form (the pages' plain forms).
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def app_context(request: Request) -> Context:
    """The app's own :class:`~api.services.context.Context` (acting as nobody)."""
    ctx: Context = request.app.state.context
    return ctx


async def _app_context_now(request: Request) -> Context:
    """:func:`app_context` resolved on the event loop (a sync dependency takes a worker
    thread, which the health checks must not wait for)."""
    return app_context(request)


#: The app's own context, acting as nobody: for the routes that read nothing of anyone's
#: (the health checks), so that no credential is resolved for them.
AppContextDep = Annotated[Context, Depends(_app_context_now)]


async def get_context(request: Request) -> Context:
    """What every service call takes: the app's context acting as the caller
    (``account:<id>`` when signed in, else ``anonymous``) from the client's address, so
    that the services record who wrote what in the audit trail, and limited to the
    caller's perimeter (:attr:`geo.accounts.Caller.scope`), which the repositories apply
    to their queries. An anonymous caller passes only the public routes' policies.
    On the event loop: the route's policy, which runs first, has resolved the caller."""
    caller = await resolved_caller(request)
    if caller is None:
        return app_context(request).acting(Actor.anonymous(), client_address(request))
    return app_context(request).acting(caller.actor, client_address(request), caller.scope)


ContextDep = Annotated[Context, Depends(get_context)]


# -- the caller ---------------------------------------------------------------------------
def client_address(request: Request) -> str | None:
    """The client's IP address, as the audit trail and the throttling record it."""
    return request.client.host if request.client else None


def bearer_of(request: Request) -> str | None:
    """The value of an ``Authorization: Bearer …`` header, or None. A personal access
    token given as the password of ``Authorization: Basic`` counts too (any user name):
    the desktop clients without a header setting (QGIS before 3.26, whose authentication
    configurations offer « Basic » but not « API header ») send it so. A password that
    is not a token is not looked at: passwords go through the throttled sign-in only."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        password = decoded.partition(":")[2]
        return password if password.startswith(TOKEN_PREFIX) else None
    return None


def current_caller(request: Request) -> Caller | None:
    """Who sends the request (:func:`api.services.sessions.resolve_caller`: the bearer
    token first, else the session cookie), or None for an anonymous caller. Resolved once
    per request (the pages' navigation bar and the route share it)."""
    if not hasattr(request.state, "caller"):
        request.state.caller = sessions.resolve_caller(
            app_context(request),
            bearer=bearer_of(request),
            cookie=request.cookies.get(SESSION_COOKIE),
        )
    caller: Caller | None = request.state.caller
    return caller


def _carries_credential(request: Request) -> bool:
    """Whether the request carries what :func:`sessions.resolve_caller` would look up."""
    bearer = bearer_of(request)
    if bearer is not None:
        return bearer.startswith((TOKEN_PREFIX, SESSION_PREFIX))
    cookie = request.cookies.get(SESSION_COOKIE) or ""
    return cookie.startswith((TOKEN_PREFIX, SESSION_PREFIX))


async def resolved_caller(request: Request) -> Caller | None:
    """:func:`current_caller` for the dependencies, which run on the event loop: a
    request without a credential is anonymous at once, and a credential is resolved in
    a worker thread (its check is a query) once per request, whichever of the route's
    policy, :func:`get_context` and :data:`CallerDep` asks first; the others then take
    no thread (each hop to a thread and back cost about as much CPU as the check)."""
    if hasattr(request.state, "caller"):
        caller: Caller | None = request.state.caller
        return caller
    if not _carries_credential(request):
        request.state.caller = None
        return None
    return await run_in_threadpool(current_caller, request)


#: The caller or None: routes that everyone may call but that answer differently.
CallerDep = Annotated[Caller | None, Depends(resolved_caller)]


async def signed_in_caller(caller: CallerDep) -> Caller:
    """The caller, or 401 (:class:`AuthenticationRequiredError`) when anonymous."""
    if caller is None:
        raise AuthenticationRequiredError()
    return caller


#: The caller, who must be signed in (401 otherwise).
SignedInDep = Annotated[Caller, Depends(signed_in_caller)]


# -- control characters -------------------------------------------------------------------
#: The C0 control characters and DEL, but tab, line feed and carriage return (multi-line
#: text): PostgreSQL refuses NUL in text and JSON, and none of them belongs in a field.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_JSON = re.compile(r"^application/([\w.+-]+\+)?json\b")


#: Where a text is in the request, as FastAPI's validation errors say it: ("query", "category").
Loc = tuple[str | int, ...]


def _json_strings(value: object, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every string of a parsed JSON document (keys too) with where it is."""
    stack: list[tuple[Loc, object]] = [(loc, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, str):
            yield here, item
        elif isinstance(item, dict):
            for key, child in item.items():
                yield (*here, key), key
                stack.append(((*here, key), child))
        elif isinstance(item, list):
            stack.extend(((*here, i), child) for i, child in enumerate(item))


async def _texts(request: Request) -> list[tuple[Loc, str]]:
    """Every text the request hands the routes: its path parameters, its query string, the
    fields and file names of its form, the strings of its JSON body."""
    texts: list[tuple[Loc, str]] = [
        (("path", name), value)
        for name, value in request.path_params.items()
        if isinstance(value, str)
    ]
    for name, value in request.query_params.multi_items():
        texts += [(("query", name), name), (("query", name), value)]
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_FORMS):
        for name, field in (await request.form()).multi_items():
            text = (field.filename or "") if isinstance(field, UploadFile) else field
            texts += [(("body", name), name), (("body", name), text)]
    elif _JSON.match(content_type):
        body = await request.body()
        # Raw control characters are not valid JSON (FastAPI refuses the body): only an
        # escaped one (\u0000…\u001f, \u007f) can reach a string.
        if b"\\u00" in body:
            with suppress(ValueError):  # FastAPI answers an invalid JSON body itself
                texts += _json_strings(json.loads(body), ("body",))
    return texts


async def refuse_control_characters(request: Request) -> None:
    """Refuse (422 naming the field) any text of the request holding a control character
    (NUL…) but tab and line breaks, before any route sees it. Installed on every route by
    the app."""
    errors = [
        {
            "type": "string_control_character",
            "loc": loc,
            "msg": f"caractère de contrôle interdit (U+{ord(found.group()):04X}) : "
            "retirez-le du texte",
            "input": text,
        }
        for loc, text in await _texts(request)
        if (found := _CONTROL.search(text))
    ]
    if errors:
        raise RequestValidationError(errors)


# -- CSRF ---------------------------------------------------------------------------------
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def check_csrf(request: Request) -> None:
    """Refuse (403, :class:`CsrfRejectedError`) a write (POST, PUT, PATCH, DELETE…) that
    carries the session cookie, unless it carries the session's CSRF token (the
    ``X-CSRF-Token`` header or a ``csrf_token`` form field) and, when the browser says
    where it comes from (``Origin``, else ``Referer``), comes from this site.

    Installed on every route by the app. Requests without the cookie (anonymous callers,
    scripts) and those with an ``Authorization: Bearer`` header (which browsers never
    add on their own) are not concerned."""
    if request.method in SAFE_METHODS or bearer_of(request) is not None:
        return
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is not None and _origin(source) != _origin(str(request.base_url)):
        raise CsrfRejectedError("csrf_foreign_origin")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(_FORMS):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token(session_id)):
        raise CsrfRejectedError("csrf_token_missing")


# -- the session cookies ------------------------------------------------------------------
def set_session_cookies(
    response: Response, request: Request, opened: sessions.OpenedSession
) -> None:
    """The session cookie (HttpOnly) and its CSRF token (readable by the page scripts):
    SameSite=Lax, Path=/, Secure over https. They last as long as the browser runs; the
    server ends the session sooner (idle, absolute expiry, sign-out)."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE, opened.session_id, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE, opened.csrf_token, httponly=False, samesite="lax", secure=secure, path="/"
    )


def clear_session_cookies(response: Response, request: Request) -> None:
    secure = request.url.scheme == "https"
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=httponly, samesite="lax")


#: A database id (PostgreSQL ``integer``): larger values cannot exist, so they are a 422.
async def meeting_report_printer(request: Request) -> ReportPrinter:
    """What prints a meeting's compte rendu: the web layer's printer, which the app (its
    composition root, :mod:`psq.app`) puts in ``app.state.meeting_report_printer``."""
    printer = getattr(request.app.state, "meeting_report_printer", None)
    if printer is None:
        raise UnavailableError("minutes_printing_unavailable")
    return cast(ReportPrinter, printer)


ReportPrinterDep = Annotated[ReportPrinter, Depends(meeting_report_printer)]

DbId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Identifier")]


CategoryParam = Annotated[
    list[CategoryQuery] | None, Query(description="Category codes (default: all)")
]
StatusParam = Annotated[list[StatusQuery] | None, Query(description="Status codes (default: all)")]


async def problem_filter(
    date_from: Annotated[Day | None, Query(alias="from", description="Default: 1 year")] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="Default: today")] = None,
    category: CategoryParam = None,
    status: StatusParam = None,
) -> ProblemFilter:
    """Problems reported in the period (both days included) of the given codes."""
    return ProblemFilter.checked(date_from, date_to, category, status, today=clock.today())


ProblemFilterDep = Annotated[ProblemFilter, Depends(problem_filter)]


_LON = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[0-9]{1,2})(?:\.[0-9]+)?)"
_LAT = r"-?(?:90(?:\.0+)?|[0-8]?[0-9](?:\.[0-9]+)?)"
#: Four decimal degrees, longitudes within [-180, 180] and latitudes within [-90, 90]:
#: what the schema says of a ``bbox`` (that each minimum is below its maximum stays the
#: check's own).
BBOX_PATTERN = f"^{_LON},{_LAT},{_LON},{_LAT}$"
_BBOX_QUERY = Query(
    description="minlon,minlat,maxlon,maxlat in WGS84 degrees (each minimum at most its maximum)",
    examples=["6.80,47.60,6.90,47.68"],
    json_schema_extra={"pattern": BBOX_PATTERN},
)


async def parse_bbox(bbox: Annotated[str | None, _BBOX_QUERY] = None) -> BBox | None:
    if bbox is None:
        return None
    return _bbox(bbox)


async def parse_required_bbox(bbox: Annotated[str, _BBOX_QUERY]) -> BBox:
    return _bbox(bbox)


def _bbox(bbox: str) -> BBox:
    parts = bbox.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise invalid_query_parameter(
            "bbox", bbox, f"quatre nombres séparés par des virgules attendus, reçu « {bbox} »"
        ) from None
    if len(values) != 4:
        raise invalid_query_parameter(
            "bbox",
            bbox,
            f"4 nombres attendus (minlon,minlat,maxlon,maxlat), reçu {len(values)}",
        )
    min_x, min_y, max_x, max_y = values
    if not (
        -180 <= min_x <= 180 and -180 <= max_x <= 180 and -90 <= min_y <= 90 and -90 <= max_y <= 90
    ):
        raise invalid_query_parameter(
            "bbox", bbox, f"« {bbox} » sort des longitudes [-180, 180] ou latitudes [-90, 90]"
        )
    if min_x > max_x or min_y > max_y:
        raise invalid_query_parameter(
            "bbox", bbox, f"« {bbox} » a son minimum au-dessus de son maximum"
        )
    return (min_x, min_y, max_x, max_y)


BBoxDep = Annotated[BBox | None, Depends(parse_bbox)]
RequiredBBoxDep = Annotated[BBox, Depends(parse_required_bbox)]
