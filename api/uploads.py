"""Uploaded files: their size bounded per kind, written to a temporary path GDAL can read.

Two guards, one limit per kind of upload (``Settings.upload_limits()``, the
``PSQ_MAX_UPLOAD_MB_*`` variables):

* :class:`UploadLimits`, an ASGI middleware installed by the app, bounds the request body
  of every upload route (:data:`UPLOAD_ROUTES`) before any parsing: a ``Content-Length``
  over the limit is refused at once, and a body without one (chunked) is counted as it
  arrives and cut off past the limit. Starlette parses a multipart body whole (into
  spooled temporary files) before the endpoint runs, so this is where a large body is
  stopped. Any other form body is bounded by :data:`FORM_LIMIT`, any other body (JSON)
  by :data:`BODY_LIMIT` (``"field": "body"``, ``"kind": "json"``). The answer is a 413
  with a French JSON body: ``{"detail", "type": "TooLargeError", "field": "file",
  "limit_bytes", "kind"}``. (FastAPI's own per-route ``max_body_size`` is fixed when the
  routes are declared, not per app, and answers a plain-text English 413.)
* :func:`uploaded_file` copies the file part to disk in chunks, counting its bytes
  against the kind's limit, and answers what the file held in the same words whatever
  went wrong: a domain error raised while reading it names the file by the name the
  user gave it, never by the server's temporary path (:func:`scrub_paths`).

And one rule on what a form holds: :func:`refuse_unknown_form_fields`, installed on every
route by the app, refuses (422 naming it) a multipart field the route does not declare, as
the JSON bodies' ``extra="forbid"`` does; :func:`api.openapi_rules.forbid_extra_form_fields`
says so in the OpenAPI document (``additionalProperties: false`` on the multipart bodies).
"""

from __future__ import annotations

import json
import re
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from fastapi import Request, UploadFile
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import CSRF_FIELD
from api.openapi_rules import MULTIPART
from geo.errors import InvalidInputError, PsqError, TooLargeError

#: The routes that take an uploaded file, by method and path, with their kind of upload.
UPLOAD_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"^/api/layers/?$"), "layer"),
    ("POST", re.compile(r"^/api/csp/[^/]+/plans/import/?$"), "layer"),
    ("POST", re.compile(r"^/api/csp/[^/]+/problems/import/?$"), "problems"),
    ("POST", re.compile(r"^/api/addresses/import/?$"), "addresses"),
    ("POST", re.compile(r"^/api/audits/[^/]+/document/?$"), "document"),
)
#: What a multipart body holds besides the file: its other fields and the part headers.
MULTIPART_MARGIN = 256 * 1024
#: The largest form body of any other route (sign-in, sign-out…): forms of a few fields.
FORM_LIMIT = 1024 * 1024
#: The largest body of any other request (JSON): a geometry of the most positions
#: (``api.schemas.common.MAX_POSITIONS``) or a plan edit of 100 000 cells, a few Mo, with
#: room to spare. Without it a body of any size was read whole into memory (300 Mo of
#: spaces were, before a 422).
BODY_LIMIT = 16 * 1024 * 1024
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
CHUNK = 1024 * 1024

#: The kind and byte limit of the upload the current request carries (set by
#: :class:`UploadLimits`, read by :func:`uploaded_file`).
_CURRENT_LIMIT: ContextVar[tuple[str, int] | None] = ContextVar("upload_limit", default=None)


def upload_kind(method: str, path: str) -> str | None:
    """The kind of upload a route takes (``layer``, ``problems``…), None if it takes none.

    >>> upload_kind("POST", "/api/csp/3/problems/import"), upload_kind("GET", "/api/layers")
    ('problems', None)
    """
    return next(
        (kind for m, pattern, kind in UPLOAD_ROUTES if m == method and pattern.match(path)),
        None,
    )


class _BodyTooLarge(Exception):
    """Raised into the app when the body passes its limit; the middleware answers 413."""


class UploadLimits:
    """Bound the body of upload and form requests (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int]) -> None:
        self.app = app
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        kind = upload_kind(scope["method"], scope["path"])
        if kind is not None:
            limit = self.limits[kind]
            body_limit = limit + MULTIPART_MARGIN
        elif headers.get("content-type", "").startswith(_FORMS):
            kind, limit = "form", FORM_LIMIT
            body_limit = limit
        elif scope["method"] in ("GET", "HEAD"):  # no route reads their body
            await self.app(scope, receive, send)
            return
        else:
            kind, limit = "json", BODY_LIMIT
            body_limit = limit
        error = TooLargeError("body" if kind == "json" else "file", limit, kind)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > body_limit:
            await _send_too_large(send, error)
            return
        total = 0
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal total, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > body_limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Once the body is cut off, whatever the app answers (a 400 for a body it
            # could not parse…) gives way to the 413.
            if not exceeded:
                await send(message)

        token = _CURRENT_LIMIT.set((kind, limit))
        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        finally:
            _CURRENT_LIMIT.reset(token)
        if exceeded:
            await _send_too_large(send, error)


async def _send_too_large(send: Send, error: TooLargeError) -> None:
    body = json.dumps(
        {"detail": str(error), "type": type(error).__name__, **error.payload}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


#: An absolute path of the server (two components or more): ``/tmp/tmpab12/upload.gpkg``.
_SERVER_PATH = re.compile(r"(?<![\w:/.])(?:/vsi\w+)?/(?:[\w.+~-]+/)+[\w.+~-]*")


def scrub_paths(text: str, path: Path, name: str) -> str:
    """``text`` with the temporary ``path`` of an upload (and its GDAL ``/vsizip/`` form)
    replaced by the upload's ``name``, and any other absolute server path by « … ».

    >>> scrub_paths("/vsizip//tmp/x1/a.zip: not recognized (/usr/share/gdal/x.csv)",
    ...             Path("/tmp/x1/a.zip"), "zones.zip")
    'zones.zip: not recognized (…)'
    """
    for server, shown in (
        (f"/vsizip/{path}", name),
        (str(path), name),
        (str(path.parent) + "/", ""),
        (str(path.parent), "le fichier"),
    ):
        text = text.replace(server, shown)
    return _SERVER_PATH.sub("…", text)


def _safe_name(filename: str, default_name: str) -> str:
    """A file name that is safe on disk and keeps the upload's suffix (GDAL picks its
    driver from it)."""
    name = re.sub(r"[^\w.+-]", "_", Path(filename).name)[-100:].lstrip(".")
    suffix = Path(name).suffix or Path(default_name).suffix
    stem = Path(name).stem or Path(default_name).stem
    return f"{stem}{suffix}"


@contextmanager
def uploaded_file(file: UploadFile, default_name: str = "upload.geojson") -> Iterator[Path]:
    """The upload saved to a temporary directory under its own (sanitised) name and
    suffix, copied in chunks and refused past the request's upload limit
    (:class:`~geo.errors.TooLargeError`, 413); removed after. A domain error raised
    inside the block names the file, not its temporary path."""
    shown = Path(file.filename or "").name or "le fichier"
    current = _CURRENT_LIMIT.get()
    with tempfile.TemporaryDirectory(prefix="psq-upload-") as tmp:
        path = Path(tmp) / _safe_name(file.filename or "", default_name)
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(CHUNK):
                size += len(chunk)
                if current is not None and size > current[1]:
                    raise TooLargeError("file", current[1], current[0])
                out.write(chunk)
        try:
            yield path
        except PsqError as exc:
            exc.args = tuple(
                scrub_paths(a, path, shown) if isinstance(a, str) else a for a in exc.args
            )
            raise


# -- the fields of a form -------------------------------------------------------------------
#: Each route's declared fields, computed at its first multipart request: by ``id`` of the
#: route (a route compares by its path and endpoint, it has no hash), beside a weak
#: reference to the route that drops the entry when the route goes (another app's).
_DECLARED: dict[int, tuple[weakref.ref[Any], frozenset[str]]] = {}


def declared_form_fields(route: Any) -> frozenset[str]:
    """The names of the body fields a route declares (its ``Form`` and ``File``
    parameters, those of its dependencies too), and the CSRF token field any form of a
    cookie-authenticated caller may carry (:data:`api.deps.CSRF_FIELD`). Walked once per
    route (:data:`_DECLARED`), not at every request: a route's parameters do not change."""
    key = id(route)
    kept = _DECLARED.get(key)
    if kept is not None and kept[0]() is route:
        return kept[1]
    names = _walk_form_fields(route)
    _DECLARED[key] = (weakref.ref(route, lambda _: _DECLARED.pop(key, None)), names)
    return names


def _walk_form_fields(route: Any) -> frozenset[str]:
    names = {CSRF_FIELD}
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        for param in dependant.body_params:
            model = param.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):  # a form model
                names |= {f.alias or n for n, f in model.model_fields.items()}
            else:
                names.add(param.alias)
        pending.extend(dependant.dependencies)
    return frozenset(names)


async def refuse_unknown_form_fields(request: Request) -> None:
    """Refuse (422, ``form_field_unknown`` naming it) a field of a multipart form that the
    route does not declare: a misspelt ``nom`` for ``name`` is said, not silently dropped.
    Installed on every route by the app; other bodies are left to their models."""
    if not request.headers.get("content-type", "").startswith(MULTIPART):
        return
    route = request.scope.get("route")
    if route is None:
        return
    accepted = declared_form_fields(route)
    form = await request.form()
    unknown = sorted({name for name in form if name not in accepted})
    if unknown:
        raise InvalidInputError(
            "form_field_unknown",
            field=unknown[0],
            names=[f"« {name} »" for name in unknown],
            accepted=sorted(accepted - {CSRF_FIELD}),
        )
