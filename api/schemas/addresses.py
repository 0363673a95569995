"""The address geocoder (local address table)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Page


class GeocodeResultPublic(BaseModel):
    label: str
    lon: float
    lat: float
    score: float = Field(ge=0, le=1)
    citycode: str


GeocodeResultsPublic = Page[GeocodeResultPublic]
