"""The territory: communes, CSPs (circonscriptions de sécurité publique) and their layers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import BBox, FeatureCollection, Page
from geo.layers import LayerKind


# -- communes -----------------------------------------------------------------------------
class CommuneProperties(BaseModel):
    code: str = Field(description="INSEE code", examples=["90010"])
    name: str = Field(examples=["Belfort"])
    population: int | None = Field(description="Population légale, when known")
    csp_ids: list[int] = Field(description="CSPs this commune belongs to")
    epci_code: str | None = Field(None, description="SIREN of its intercommunalité, if known")
    epci_name: str | None = Field(None, description="Name of its intercommunalité, if known")


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


CspsPublic = Page[CspPublic]


class CspProperties(CspPublic):
    commune_codes: list[str]


CspGeoJSON = FeatureCollection[CspProperties]


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


class LayersPublic(Page[LayerPublic]):
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
