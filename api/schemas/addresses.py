"""The address geocoder (local address table)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Page


class GeocodeResultPublic(BaseModel):
    label: str
    lon: float
    lat: float
    score: float = Field(ge=0, le=1)
    citycode: str


GeocodeResultsPublic = Page[GeocodeResultPublic]


class AddressImportPublic(BaseModel):
    """What an address import did: ``imported`` rows read, of which ``added`` new and
    ``updated`` (the same number and street of the same commune, moved or renamed);
    ``removed`` are the communes' former addresses an import asked to replace dropped."""

    imported: int
    added: int
    updated: int
    removed: int


class ReverseGeocodePublic(BaseModel):
    """The address nearest a point (« près du 12 faubourg de France »), or none within
    ``max_distance_m``."""

    found: bool
    label: str | None = None
    near: str | None = Field(None, description="« près du 12 faubourg de France »")
    lon: float | None = None
    lat: float | None = None
    distance_m: float | None = None
    citycode: str | None = None
    max_distance_m: float


class BaseLayerPublic(BaseModel):
    """One layer of the base map: whether the territory has it, and how many features."""

    key: str
    label: str
    available: bool
    count: int
    legend: str = Field(description="« Rues : 4 786 tronçons » or « Rues : non importées »")


class BaseMapLabelPublic(BaseModel):
    """A name painted over the base map: a commune's, or a street's along its line."""

    kind: Literal["commune", "street"]
    text: str
    lon: float
    lat: float
    angle: float = Field(description="Rotation of the text, degrees clockwise, in (-90, 90]")


class BaseMapLabelsPublic(BaseModel):
    """The names to paint over the base map in a view (``/api/basemap/labels``)."""

    labels: list[BaseMapLabelPublic]


class BaseMapPublic(BaseModel):
    """The base map's layers (``/tiles/{z}/{x}/{y}.pbf``) and the attribution to show."""

    layers: list[BaseLayerPublic]
    attribution: str
    min_zoom: int
    max_zoom: int
