"""Request and response schemas (pydantic), grouped by resource.

GeoJSON follows RFC 7946: coordinates in WGS84 longitude/latitude.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from geo.layers import LayerKind

P = TypeVar("P", bound=BaseModel)

BBox = tuple[float, float, float, float]


class Geometry(BaseModel):
    """A GeoJSON geometry object."""

    type: str = Field(examples=["MultiPolygon"])
    coordinates: list[Any]


class Feature(BaseModel, Generic[P]):
    type: Literal["Feature"] = "Feature"
    id: str | int
    geometry: Geometry
    properties: P


class FeatureCollection(BaseModel, Generic[P]):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature[P]]
    bbox: BBox | None = Field(default=None, description="minlon, minlat, maxlon, maxlat")


# -- health -------------------------------------------------------------------------------
class HealthPublic(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    postgis: str = Field(description="PostGIS library version of the database")


# -- communes -----------------------------------------------------------------------------
class CommuneProperties(BaseModel):
    code: str = Field(description="INSEE code", examples=["90010"])
    name: str = Field(examples=["Belfort"])
    population: int | None = Field(description="Population légale, when known")
    csp_ids: list[int] = Field(description="CSPs this commune belongs to")


CommunesGeoJSON = FeatureCollection[CommuneProperties]


# -- CSP ----------------------------------------------------------------------------------
class CspPublic(BaseModel):
    id: int
    code: str
    name: str
    commune_count: int
    population: int | None = Field(description="Sum of the communes' populations")
    area_km2: float = Field(description="Area on the ellipsoid, km²")
    bbox: BBox


class CspsPublic(BaseModel):
    data: list[CspPublic]
    count: int


class CspProperties(CspPublic):
    commune_codes: list[str]


CspGeoJSON = FeatureCollection[CspProperties]


# -- errors -------------------------------------------------------------------------------
class ErrorPublic(BaseModel):
    detail: str = Field(description="What is wrong, naming the bad value")
    type: str = Field(description="Error class", examples=["NotFoundError"])


# -- layers -------------------------------------------------------------------------------
class LayerPublic(BaseModel):
    id: int
    name: str
    kind: LayerKind
    source: str
    source_crs: str
    feature_count: int
    features_in_csp: int | None = None
    warnings: list[str]
    created_at: datetime


class LayersPublic(BaseModel):
    data: list[LayerPublic]
    count: int
    qpv_by_commune: dict[str, list[str]] = Field(
        default_factory=dict,
        description="QPVs known only at commune level (no outline): commune code -> QPV names",
    )


class LayerFeatureProperties(BaseModel):
    code: str | None
    name: str | None
    category: str | None = Field(description="barrier class, point type or zone type")
    bridge: bool
    tunnel: bool
    values: dict[str, float]


# -- grid ---------------------------------------------------------------------------------
class GridCreate(BaseModel):
    resolution: int = Field(default=9, ge=0, le=15, description="H3 resolution")
    weights: dict[str, float] | None = Field(
        default=None,
        description="Workload weights by variable (population, households, poor_households, "
        "social_housing); default population 1, poor_households 2, social_housing 0.5",
    )
    crossing_distance_m: float = Field(default=100.0, ge=0, le=5000)


class GridPublic(BaseModel):
    id: int
    csp_id: int
    resolution: int
    cell_count: int
    component_count: int
    blocked_edge_count: int
    parameters: dict[str, Any]
    built_at: datetime


class GridsPublic(BaseModel):
    data: list[GridPublic]
    count: int


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
    workload: float
    source: str = Field(description="grid, commune, grid+commune or none")
    component: int = Field(description="connected component of the unit graph, 0 = largest")
