from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import INVALID, NOT_FOUND
from api.schemas import (
    CellProperties,
    EdgeProperties,
    FeatureCollection,
    GridCreate,
    GridPublic,
    GridsPublic,
    Units,
)
from api.services import grid

router = APIRouter(prefix="/csp/{csp_id:int}", tags=["grille H3"])
UnitsParam = Annotated[
    Units, Query(description="h3: H3 cells clipped to the CSP; blocks: street blocks")
]
ResolutionParam = Annotated[int, Query(ge=0, le=15, description="H3 resolution of the grid")]


@router.get("/grids", responses=NOT_FOUND, dependencies=[access.PLANNING])
def read_grids(csp_id: DbId, ctx: ContextDep) -> GridsPublic:
    """The grids built for the CSP, one per units (H3 cells, street blocks) and resolution."""
    return grid.list_grids(ctx, csp_id)


@router.post("/grids", status_code=201, responses=INVALID, dependencies=[access.PLANNING])
def create_grid(csp_id: DbId, grid_in: GridCreate, ctx: ContextDep) -> GridPublic:
    """Build (or rebuild) the CSP's grid of H3 cells or street blocks at a resolution."""
    return grid.build_grid(
        ctx,
        csp_id=csp_id,
        resolution=grid_in.resolution,
        units=grid_in.units,
        weights=grid_in.weights,
        crossing_distance_m=grid_in.crossing_distance_m,
    )


@router.get(
    "/cells",
    response_model=FeatureCollection[CellProperties],
    responses=NOT_FOUND,
    dependencies=[access.PLANNING],
)
def read_cells(
    csp_id: DbId, ctx: ContextDep, res: ResolutionParam = 9, units: UnitsParam = "h3"
) -> Response:
    """The CSP's cells (or blocks) at a resolution, with their attributes, as GeoJSON."""
    body = grid.grid_cells_json(ctx, csp_id, resolution=res, units=units)
    return Response(body, media_type="application/json")


@router.get("/edges", responses=NOT_FOUND, dependencies=[access.PLANNING])
def read_edges(
    csp_id: DbId,
    ctx: ContextDep,
    res: ResolutionParam = 9,
    units: UnitsParam = "h3",
    blocked: Annotated[
        bool | None,
        Query(description="true: only edges a barrier blocks; false: only open ones; omitted: all"),
    ] = None,
) -> FeatureCollection[EdgeProperties]:
    """Boundaries shared by neighbouring cells, with the barrier crossing them, as GeoJSON."""
    return grid.grid_edges(ctx, csp_id, resolution=res, units=units, blocked=blocked)
