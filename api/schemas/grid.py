"""The analysis grid of a CSP: its units (H3 cells or street blocks) and their neighbours."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import InputModel, Page
from geo.grid import MAX_WORKLOAD_WEIGHT, WORKLOAD_VARIABLES

#: A workload weight (geo.grid.workload checks the same bounds).
Weight = Annotated[float, Field(ge=0, le=MAX_WORKLOAD_WEIGHT)]

#: What a grid's units are: H3 cells clipped to the CSP, or street blocks (geo.blocks).
Units = Literal["h3", "blocks"]
UNITS_DESCRIPTION = (
    "h3: H3 cells clipped to the CSP; blocks: street blocks cut by the CSP's road/barrier "
    "layer, no larger than about two H3 cells of the resolution"
)


class GridCreate(InputModel):
    resolution: int = Field(default=9, ge=0, le=15, description="H3 resolution")
    units: Units = Field(default="h3", description=UNITS_DESCRIPTION)
    weights: dict[str, Weight] | None = Field(
        default=None,
        max_length=len(WORKLOAD_VARIABLES),
        description="Workload weights by variable (population, households, poor_households, "
        "social_housing); default population 1, poor_households 2, social_housing 0.5",
    )
    crossing_distance_m: float = Field(default=100.0, ge=0, le=5000)


class GridPublic(BaseModel):
    id: int
    csp_id: int
    resolution: int
    units: Units
    cell_count: int
    component_count: int
    blocked_edge_count: int
    parameters: dict[str, Any]
    built_at: datetime


GridsPublic = Page[GridPublic]


class CellProperties(BaseModel):
    h3: str
    commune: str | None
    clipped: bool
    area_m2: float
    population: float
    households: float
    poor_households: float
    social_housing: float
    poverty_rate: float | None = Field(description="poor households / households, when known")
    workload: float = Field(description="workload with the weights the grid was built with")
    problems: int = Field(
        description="recorded problems of the CSP whose anchor lies in the cell (counted now)"
    )
    synthetic_problems: int = Field(description="how many of those problems are synthetic")
    source: str = Field(description="grid, commune, grid+commune or none")
    component: int = Field(description="connected component of the unit graph, 0 = largest")


class EdgeProperties(BaseModel):
    """A pair of neighbouring cells and the boundary they share."""

    a: str = Field(description="H3 id of one cell (a < b)")
    b: str = Field(description="H3 id of the other cell")
    shared_m: float = Field(description="length of the shared boundary, metres")
    barrier: str | None = Field(description="class of the barrier crossing it (motorway…)")
    blocked: bool = Field(description="the barrier has no crossing nearby: not neighbours")
