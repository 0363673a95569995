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


class GpoReport(BaseModel):
    """One GPO's activity over the period (the ministry's indicators per sector)."""

    gpo_id: int
    name: str
    kind: str
    sector: int | None
    active: bool
    meetings_held: int = Field(description="Closed meetings held in the period")
    partners_invited: int = Field(description="Partners invited to those meetings (in all)")
    partners_present: int = Field(description="Of them, those present")
    attendance_rate: float | None = Field(
        description="partners_present / partners_invited; null when none was recorded"
    )
    problems_opened: int = Field(description="Its problems reported in the period")
    problems_resolved: int = Field(description="Its problems resolved in the period")
    actions_realised: int = Field(description="Its problems' actions realised in the period")
    actions_on_time: int = Field(description="Of them, realised on or before their due date")


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
    gpos: list[GpoReport] = Field(
        description="Per GPO of the area the caller sees: active, or with meetings in the period"
    )
