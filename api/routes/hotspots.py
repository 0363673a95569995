"""The cartographie des problématiques of a CSP or of one GPO's sectors: hot spots (Gi*),
heat (kernel density), comparison of two periods, monthly trend, open problems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api import access, clock
from api.deps import CategoryParam, ContextDep, DbId, ProblemFilterDep, StatusParam
from api.routes.responses import INVALID
from api.schemas import (
    HeatPublic,
    HotspotComparisonPublic,
    HotspotsPublic,
    MonthlyTrendPublic,
    OpenProblemsPublic,
)
from api.schemas.common import Day
from api.services import cartography
from api.services.cartography import AreaMaps
from geo.density import MIN_BANDWIDTH_M
from geo.hotspots import DEFAULT_H3_RES
from geo.study import comparison_filters

router = APIRouter(tags=["cartographie"])
GEOJSON = "application/geo+json"

GpoParam = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="A GPO of the CSP (default: the CSP)")
]
ResParam = Annotated[
    int,
    Query(
        ge=5,
        le=11,
        description="H3 resolution of the cells (a map of more cells than PSQ_MAX_MAP_CELLS, "
        "estimated from the area, is refused)",
    ),
]
BandwidthParam = Annotated[
    float | None,
    Query(
        ge=MIN_BANDWIDTH_M,
        le=20_000,
        description="Kernel bandwidth in metres (default: Silverman's rule); refused when "
        "its density grid would pass PSQ_MAX_HEAT_CELLS cells",
    ),
]


def requested_maps(
    csp_id: DbId,
    ctx: ContextDep,
    where: ProblemFilterDep,
    gpo: GpoParam = None,
    res: ResParam = DEFAULT_H3_RES,
    bandwidth: BandwidthParam = None,
) -> AreaMaps:
    """The maps a request asks for: of the CSP or one of its GPOs, for the filters."""
    return cartography.area_maps(ctx, csp_id, gpo_id=gpo, where=where, res=res, bandwidth=bandwidth)


MapsDep = Annotated[AreaMaps, Depends(requested_maps)]


@router.get(
    "/csp/{csp_id:int}/hotspots",
    response_model=HotspotsPublic,
    responses={**INVALID, 200: {"content": {GEOJSON: {}}}},
    dependencies=[access.PROBLEM_MAPS],
)
def read_hotspots(maps: MapsDep) -> Response:
    """Problems per H3 cell with their Getis-Ord Gi* z-score, p-value and FDR-corrected
    significance level; cached until problems change, and after a change possibly the
    previous answer for at most PSQ_MAP_STALE_SECONDS (5 s by default) while the new one
    is computed: ``meta.revision`` says which."""
    return Response(maps.hotspots_json, media_type=GEOJSON)


@router.get(
    "/csp/{csp_id:int}/heat",
    response_model=HeatPublic,
    responses={**INVALID, 200: {"content": {GEOJSON: {}}}},
    dependencies=[access.PROBLEM_MAPS],
)
def read_heat(maps: MapsDep) -> Response:
    """The quartic kernel density of the problems as bands of equal width (problems per
    km²); cached until problems change, and after a change possibly the previous answer
    for at most PSQ_MAP_STALE_SECONDS (5 s by default): ``meta.revision`` says which."""
    return Response(maps.heat_json, media_type=GEOJSON)


@router.get(
    "/csp/{csp_id:int}/hotspots/comparison",
    response_model=HotspotComparisonPublic,
    responses=INVALID,
    dependencies=[access.PROBLEM_MAPS],
)
def read_comparison(
    csp_id: DbId,
    ctx: ContextDep,
    gpo: GpoParam = None,
    before_from: Annotated[
        Day | None, Query(description="Default: a period as long as the second, before it")
    ] = None,
    before_to: Annotated[Day | None, Query(description="Default: the day before 'from'")] = None,
    date_from: Annotated[Day | None, Query(alias="from", description="Default: 90 days")] = None,
    date_to: Annotated[Day | None, Query(alias="to", description="Default: today")] = None,
    category: CategoryParam = None,
    status: StatusParam = None,
    res: ResParam = DEFAULT_H3_RES,
) -> Response:
    """Hot spots that are new, intensifying, persistent or diminishing from the first
    period to the second, and the PAI / PEI of the first period's hot spots against the
    second period's problems; cached until problems change, and after a change possibly
    the previous answer for at most PSQ_MAP_STALE_SECONDS (5 s by default):
    ``before.revision`` says which."""
    before, after = comparison_filters(
        since=date_from,
        until=date_to,
        before_since=before_from,
        before_until=before_to,
        categories=category,
        statuses=status,
        today=clock.today(),
    )
    body = cartography.comparison_json(ctx, csp_id, gpo_id=gpo, before=before, after=after, res=res)
    return Response(body, media_type="application/json")


@router.get(
    "/csp/{csp_id:int}/trend",
    response_model=MonthlyTrendPublic,
    responses=INVALID,
    dependencies=[access.PROBLEM_MAPS],
)
def read_trend(
    csp_id: DbId, ctx: ContextDep, where: ProblemFilterDep, gpo: GpoParam = None
) -> Response:
    """Problems reported each month of the period, by category."""
    body = cartography.trend_json(ctx, csp_id, gpo_id=gpo, where=where)
    return Response(body, media_type="application/json")


@router.get(
    "/csp/{csp_id:int}/open-problems",
    response_model=OpenProblemsPublic,
    responses=INVALID,
    dependencies=[access.PROBLEM_RECORDS],
)
def read_open_problems(
    csp_id: DbId,
    ctx: ContextDep,
    gpo: GpoParam = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Response:
    """Open problems of the area, highest priority and oldest first, with their actions
    (``count`` is all of them, ``data`` the first ``limit``)."""
    body = cartography.open_problems_json(ctx, csp_id, gpo_id=gpo, limit=limit)
    return Response(body, media_type="application/json")
