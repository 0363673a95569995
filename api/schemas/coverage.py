"""Where more cameras (or safety studies) would cover the most problems of a commune."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class CoverageSitePublic(BaseModel):
    lon: float
    lat: float
    kind: str = Field(description="intersection, h3 (a cell centre) or requested")
    rank: int | None = Field(description="Order of choice (1 = largest gain)")
    gain: float = Field(description="Weight it adds to what was covered before it")
    gain_share: float
    cumulative_share: float
    problems: int | None = Field(
        description="Problems it covers that no site before it covered (None: 1 or 2, masked)"
    )


class RequestedSiteScorePublic(BaseModel):
    request_id: int
    kind: str
    status: str
    lon: float
    lat: float
    share: float = Field(description="Share of the weight it covers alone")
    problems: int | None = Field(description="Problems it covers alone (None: 1 or 2, masked)")


class FixedSitePublic(BaseModel):
    lon: float
    lat: float
    source: str = Field(description="camera (a points layer) or audit (a study done)")
    label: str


class CoverageSuggestionPublic(BaseModel):
    """Where ``p`` more cameras (or studies) would cover the most problems of a commune."""

    commune_code: str
    commune_name: str
    p: int
    radius_m: float
    date_from: date
    date_to: date
    problems: int = Field(description="Problems of the commune in the period")
    synthetic_problems: int
    total_weight: float = Field(description="Problems weighted by category and recency")
    fixed: list[FixedSitePublic]
    fixed_share: float = Field(description="Share already covered by the fixed sites")
    sites: list[CoverageSitePublic]
    covered_share: float = Field(description="Share covered by fixed and suggested sites")
    problems_covered: int
    method: str = Field(description="exact (HiGHS) or greedy")
    optimal: bool
    gap: float = Field(description="Proven relative distance to the best choice")
    candidates: int
    candidate_kind: str = Field(description="intersection or h3 (res-10 cell centres)")
    requested: list[RequestedSiteScorePublic]
    requested_share: float = Field(description="Share the open requested sites cover together")
    seconds: float
