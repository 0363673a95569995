"""Activity reports of an area over a period."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class CategoryReport(BaseModel):
    category: str
    label: str
    opened: int = Field(description="Problems reported in the period")
    resolved: int = Field(description="Problems resolved in the period")
    median_days_to_resolution: float | None = Field(
        description="Of the problems resolved in the period: report to resolution"
    )


class ReportPublic(BaseModel):
    """The activity of an area (all CSPs, one CSP, or one sector) over a period."""

    csp_id: int | None
    csp_name: str | None
    sector: int | None
    date_from: date
    date_to: date
    sectors: int = Field(description="Sectors of the adopted plans in the area")
    meetings_held: int
    problems_opened: int
    problems_resolved: int
    problems_closed_without_action: int
    open_at_end: int = Field(description="Problems reported by the end and not closed then")
    median_days_to_resolution: float | None
    synthetic_problems: int = Field(description="Problems of the area that are synthetic")
    by_category: list[CategoryReport]
