"""Request and response schemas (pydantic), grouped by resource.

GeoJSON follows RFC 7946: coordinates in WGS84 longitude/latitude.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

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
