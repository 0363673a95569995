"""The base map: its vector tiles (``/tiles/{z}/{x}/{y}.pbf``, outside ``/api``: what
map renderers ask for) and its layers' legend (``/api/basemap``)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api import access
from api.deps import ContextDep, RequiredBBoxDep
from api.routes.responses import INVALID
from api.schemas import BaseMapLabelsPublic, BaseMapPublic
from api.services import basemap

router = APIRouter(tags=["fond de plan"])
tiles_router = APIRouter(tags=["fond de plan"])

MVT = "application/vnd.mapbox-vector-tile"


@router.get("/basemap", responses=INVALID, dependencies=[access.SIGNED_IN])
def read_base_map(
    ctx: ContextDep,
    csp: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only in this CSP")] = None,
) -> BaseMapPublic:
    """Which base layers the territory (or a CSP) has, each with its legend line (« Rues :
    non importées » when missing), and the attribution to show."""
    return basemap.base_map(ctx, csp)


@router.get("/basemap/labels", responses=INVALID, dependencies=[access.SIGNED_IN])
def read_base_map_labels(
    ctx: ContextDep,
    bbox: RequiredBBoxDep,
    zoom: Annotated[int, Query(ge=0, le=22, description="The map's zoom level")],
) -> BaseMapLabelsPublic:
    """The names to paint over the base map in the view ``bbox``: communes (from zoom 11,
    each inside its commune) and the longest named streets (from zoom 15, along them)."""
    return basemap.labels(ctx, bbox, zoom)


@tiles_router.get(
    "/tiles/{z}/{x}/{y}.pbf",
    response_class=Response,
    responses={
        200: {"content": {MVT: {}}, "description": "A Mapbox Vector Tile"},
        204: {"description": "Nothing of the territory in this tile"},
        **INVALID,
    },
    dependencies=[access.SIGNED_IN],
)
def read_tile(
    ctx: ContextDep,
    z: Annotated[int, Path(ge=0, le=22, description="Zoom level")],
    x: Annotated[int, Path(ge=0, le=2**22 - 1, description="Column, 0 … 2^z - 1")],
    y: Annotated[int, Path(ge=0, le=2**22 - 1, description="Row from the north, 0 … 2^z - 1")],
) -> Response:
    """The base map's tile ``z/x/y`` (Web Mercator, XYZ): one named layer each for the
    communes, water, roads (name, class), railways and, from zoom 16, the addresses, built
    by PostGIS from the territory's own data. 204 when the tile holds nothing of it."""
    data = basemap.tile(ctx, z, x, y)
    headers = {"Cache-Control": "private, max-age=60"}
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(content=data, media_type=MVT, headers=headers)
