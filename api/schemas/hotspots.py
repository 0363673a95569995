"""The map of problems (cartographie des problématiques): hot spots, density, trends."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import FeatureCollection, Page
from api.schemas.problems import ActionPublic


class HotspotCellProperties(BaseModel):
    h3: str
    count: int = Field(description="Problems in the cell over the period")
    z: float = Field(description="Getis-Ord Gi* z-score")
    p: float = Field(description="Two-sided p-value of z")
    level: int = Field(description="+3/+2/+1 hot spot at 99/95/90 % (FDR), negative: cold, 0")
    label: str


class HeatBandProperties(BaseModel):
    share: float = Field(description="Lower bound of the band, as a share of the peak")
    density: float = Field(description="Lower bound of the band, problems per km²")


class HotspotMeta(BaseModel):
    """What a hotspot map was computed from."""

    area: str
    csp_id: int
    gpo_id: int | None
    commune_code: str | None = Field(default=None, description="A commune's own map")
    date_from: date
    date_to: date
    problems: int = Field(description="Problems of the area and period after filters")
    synthetic_problems: int
    res: int = Field(description="H3 resolution of the cells")
    bandwidth_m: float | None = Field(description="Kernel bandwidth in metres (None: no problem)")
    kde_cell_m: float | None
    hot_cells: int
    cold_cells: int
    min_hotspot_problems: int = Field(
        default=30, description="Fewest problems for which hot spots are looked for"
    )
    hotspots_computed: bool = Field(
        default=True,
        description="False: too few problems to compute hot spots (no cell is hot or cold)",
    )
    revision: int = Field(description="Problem change log position the map was computed at")


class CommuneCellProperties(BaseModel):
    h3: str
    count: int | None = Field(description="Problems in the cell; None when 1 or 2 (masked)")
    few: bool = Field(description="1 or 2 problems: the count is masked")
    level: int = Field(description="Gi* level over the commune (-3..3)")
    label: str


class CommuneCellsPublic(FeatureCollection[CommuneCellProperties]):
    """A commune's problems per H3 cell, for its own pages."""

    meta: HotspotMeta


class HotspotsPublic(FeatureCollection[HotspotCellProperties]):
    """H3 cells with a problem or a significant Gi* (others are 0 and not significant)."""

    meta: HotspotMeta


class HeatPublic(FeatureCollection[HeatBandProperties]):
    """The kernel density surface as bands of equal width (quartic kernel)."""

    meta: HotspotMeta


# -- trends -------------------------------------------------------------------------------
class TrendCellProperties(BaseModel):
    h3: str
    trend: Literal["new", "intensifying", "persistent", "diminishing"]
    label: str
    count_before: int
    count_after: int


class PredictionPublic(BaseModel):
    """How well the hot spots of the first period anticipated the problems of the second."""

    problems: int
    hits: int
    best_hits: int
    hotspot_cells: int
    area_share: float
    hit_rate: float
    pai: float | None = Field(description="Prediction Accuracy Index: hit rate / area share")
    pei: float | None = Field(description="Prediction Efficiency Index: hits / best hits")


class HotspotComparisonPublic(FeatureCollection[TrendCellProperties]):
    before: HotspotMeta
    after: HotspotMeta
    prediction: PredictionPublic


class TrendSeries(BaseModel):
    category: str
    label: str
    counts: list[int] = Field(description="Problems reported each month")


class MonthlyTrendPublic(BaseModel):
    months: list[str] = Field(description="YYYY-MM")
    series: list[TrendSeries]


# -- open problems ------------------------------------------------------------------------
class OpenProblemPublic(BaseModel):
    id: int
    title: str
    category: str
    category_label: str
    status: str
    status_label: str
    priority: str
    reported_on: date
    status_on: date
    address: str | None
    sector: int | None
    synthetic: bool
    actions: list[ActionPublic]


OpenProblemsPublic = Page[OpenProblemPublic]
