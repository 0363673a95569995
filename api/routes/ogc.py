"""OGC API - Features at ``/ogc`` (see :mod:`api.services.ogc`): the landing page, the
conformance classes, the OpenAPI 3.0 document, the collections, their queryables and
their features. Each kind of collection has its own routes, so that each declares the
policy of what it holds (problem records for the chefs and partners, the study requests
for the communes and référents…); an unknown collection is a 404 for anyone signed in.
Errors are OGC exceptions (``{"code", "description"}``, :func:`api.errors.is_ogc`).

These routes are described by ``/ogc/api``, not by the app's ``/openapi.json``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api import access
from api.deps import CallerDep, ContextDep
from api.services import ogc, ogc_pages
from api.services.ogc_openapi import openapi_document
from geo.errors import InvalidInputError
from geo.ogc import DEFAULT_LIMIT

router = APIRouter(prefix="/ogc", tags=["ogc"], include_in_schema=False)

#: The kinds of collection, the path of their collection id and the policy of their routes.
COLLECTIONS: tuple[tuple[str, str, Any], ...] = (
    ("communes", "communes", access.SIGNED_IN),
    ("csp", "csp", access.SIGNED_IN),
    ("sectors", "sectors", access.SECTORS_READ),
    ("plan", "plan-{plan_id}", access.SECTORS_READ),
    ("grid", "grid-{grid_id}", access.PLANNING),
    ("layer", "layer-{layer_id}", access.SIGNED_IN),
    ("problems", "problems", access.PROBLEM_RECORDS),
    ("problem-counts", "problem-counts", access.COMMUNE_PICTURE),
    ("camera-sites", "camera-sites-{code}", access.COMMUNE_PICTURE),
    ("study-requests", "study-requests", access.STUDY_REQUESTS),
)

Format = Annotated[str | None, Query(description="json (GeoJSON) or html")]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _html(request: Request, f: str | None) -> bool:
    """Whether to answer HTML: ``f=html``, or a browser asking for it without ``f``."""
    if f not in (None, "json", "geojson", "html"):
        raise InvalidInputError("format_unknown", field="f", value=str(f), expected="json ou html")
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept.split("text/html")[0]


def _json(document: dict[str, Any], media_type: str = "application/json") -> JSONResponse:
    return JSONResponse(document, media_type=media_type)


@router.get("", dependencies=[access.PUBLIC])
@router.get("/", dependencies=[access.PUBLIC])
def landing(request: Request, f: Format = None) -> Response:
    """The landing page: links to the API definition, conformance and collections."""
    html = _html(request, f)
    document = ogc.landing(_base(request), html)
    return HTMLResponse(ogc_pages.landing(document)) if html else _json(document)


@router.get("/conformance", dependencies=[access.PUBLIC])
def conformance(request: Request, f: Format = None) -> Response:
    """The conformance classes implemented, exactly."""
    document = ogc.conformance()
    if _html(request, f):
        return HTMLResponse(ogc_pages.conformance(document))
    return _json(document)


@router.get("/api", dependencies=[access.PUBLIC])
def api_definition(request: Request) -> JSONResponse:
    """The OpenAPI 3.0 document of the ``/ogc`` API."""
    return _json(
        openapi_document(_base(request), [kind for kind, _, _ in COLLECTIONS]),
        "application/vnd.oai.openapi+json;version=3.0",
    )


@router.get("/collections", dependencies=[access.SIGNED_IN])
def collections(request: Request, ctx: ContextDep, caller: CallerDep, f: Format = None) -> Response:
    """The collections the caller may read: those of the kinds its role's policies admit,
    one per plan, grid and layer of its perimeter."""
    role = caller.role if caller is not None else None
    kinds = {kind for kind, _, policy in COLLECTIONS if policy.dependency.admits(role)}
    html = _html(request, f)
    document = ogc.collections(ctx, _base(request), kinds)
    return HTMLResponse(ogc_pages.collections(document)) if html else _json(document)


def _add_collection_routes(path: str, policy: Any) -> None:
    """The four routes of the collections at ``/collections/<path>``."""

    def cid(request: Request) -> str:
        return path.format(**request.path_params)

    def read_collection(request: Request, ctx: ContextDep, f: Format = None) -> Response:
        html = _html(request, f)
        document = ogc.collection(ctx, _base(request), cid(request))
        return HTMLResponse(ogc_pages.collection(document)) if html else _json(document)

    def read_queryables(request: Request, ctx: ContextDep, f: Format = None) -> Response:
        html = _html(request, f)
        document = ogc.queryables(ctx, _base(request), cid(request))
        if html:
            return HTMLResponse(ogc_pages.queryables(document))
        return _json(document, "application/schema+json")

    def read_items(
        request: Request,
        ctx: ContextDep,
        f: Format = None,
        limit: Annotated[int, Query(ge=1, le=2**31 - 1)] = DEFAULT_LIMIT,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
        after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
        bbox: str | None = None,
        bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
        crs: str | None = None,
        datetime: str | None = None,
        properties: str | None = None,
        sortby: str | None = None,
        filter: str | None = None,
        filter_lang: Annotated[str | None, Query(alias="filter-lang")] = None,
        filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
    ) -> Response:
        html = _html(request, f)
        query = ogc.ItemsQuery(
            limit=limit,
            offset=offset,
            after=after,
            bbox=bbox,
            bbox_crs=bbox_crs,
            crs=crs,
            datetime=datetime,
            properties=properties,
            sortby=sortby,
            filter=filter,
            filter_lang=filter_lang,
            filter_crs=filter_crs,
        )
        params = list(request.query_params.multi_items())
        answer = ogc.items(ctx, _base(request), cid(request), query, params)
        if html:
            return HTMLResponse(ogc_pages.items(answer.body, cid(request)))
        return Response(answer.body, media_type=answer.media_type, headers=answer.headers)

    def read_item(
        request: Request,
        ctx: ContextDep,
        f: Format = None,
        crs: str | None = None,
        properties: str | None = None,
    ) -> Response:
        html = _html(request, f)
        feature_id = request.path_params["feature_id"]
        answer = ogc.feature(
            ctx, _base(request), cid(request), feature_id, crs=crs, properties=properties
        )
        if html:
            return HTMLResponse(ogc_pages.feature(answer.body, cid(request)))
        return Response(answer.body, media_type=answer.media_type, headers=answer.headers)

    base = f"/collections/{path}"
    name = "unknown_collection" if path == "{collection_id}" else path.split("-{")[0]
    for suffix, endpoint, what in (
        ("", read_collection, "collection"),
        ("/queryables", read_queryables, "queryables"),
        ("/items", read_items, "items"),
        ("/items/{feature_id}", read_item, "item"),
    ):
        router.add_api_route(
            base + suffix,
            endpoint,
            methods=["GET"],
            dependencies=[policy],
            name=f"ogc_{name}_{what}",
            include_in_schema=False,
        )


for _kind, _path, _policy in COLLECTIONS:
    _add_collection_routes(_path, _policy)
# Any other collection id: a 404 naming it, for anyone signed in.
_add_collection_routes("{collection_id}", access.SIGNED_IN)
