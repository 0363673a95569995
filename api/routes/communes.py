"""Communes, and what a commune's own page may show: its problems aggregated per H3
cell with their hot spots (never a problem record), and where cameras would cover the
most of them."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from api import access
from api.deps import BBoxDep, ContextDep
from api.routes.responses import INVALID
from api.schemas import (
    COMMUNE_CODE,
    CommuneCellsPublic,
    CommuneProperties,
    CoverageSuggestionPublic,
    ErrorPublic,
    FeatureCollection,
)
from api.services import cartography, coverage, territory
from geo.coverage import DEFAULT_RADIUS_M

router = APIRouter(prefix="/communes", tags=["communes"])
CommuneCode = Annotated[str, Path(pattern=COMMUNE_CODE, description="INSEE code")]


@router.get("", responses={404: {"model": ErrorPublic}}, dependencies=[access.SIGNED_IN])
def read_communes(
    ctx: ContextDep,
    bbox: BBoxDep,
    csp: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only the communes of this CSP id")
    ] = None,
) -> FeatureCollection[CommuneProperties]:
    """Communes as a GeoJSON FeatureCollection, filtered by CSP and/or bounding box."""
    return territory.list_communes(ctx, csp_id=csp, bbox=bbox)


@router.get(
    "/{code}/hotspots",
    response_model=CommuneCellsPublic,
    responses=INVALID,
    dependencies=[access.COMMUNE_PICTURE],
)
def read_commune_hotspots(code: CommuneCode, ctx: ContextDep) -> Response:
    """The commune's problems of the last 12 months per H3 cell (res 9) with their Gi* hot
    spots, computed over the commune alone: counts only, those under 3 masked. After a
    new problem, possibly the previous answer for at most PSQ_MAP_STALE_SECONDS (5 s by
    default) while the new one is computed: ``meta.revision`` says which."""
    body = cartography.commune_hotspots_json(ctx, code)
    return Response(body, media_type="application/json")


@router.get("/{code}/coverage", responses=INVALID, dependencies=[access.COMMUNE_PICTURE])
def read_coverage(
    code: CommuneCode,
    ctx: ContextDep,
    p: Annotated[int, Query(ge=1, le=50, description="How many sites to suggest")] = 5,
    radius: Annotated[
        float, Query(ge=50, le=500, description="Coverage radius of a site in metres")
    ] = DEFAULT_RADIUS_M,
    method: Annotated[
        Literal["auto", "exact", "greedy"],
        Query(description="exact (HiGHS), greedy, or auto (exact unless too large)"),
    ] = "auto",
) -> CoverageSuggestionPublic:
    """Where ``p`` more cameras would cover the most of the commune's problems of the last
    12 months (weighted by category and recency; maximal covering location), existing
    cameras and studied video-protection sites fixed; the commune's waiting requests for
    cameras or public spaces scored beside. Counts under 3 are masked."""
    return coverage.coverage_suggestion(ctx, code, p=p, radius_m=radius, method=method)
