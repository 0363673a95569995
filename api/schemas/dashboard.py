"""The commune's dashboard (issue 18): its problems as aggregates, its requests, the GPOs
of its territory, its conventions, the SSMSI figures of its département."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class CommuneProblemsSummary(BaseModel):
    """The commune's problems over the last 90 days and the 90 before: counts only, those
    under 3 masked (None), never a record; hot-spot cells and their trends."""

    date_from: date
    date_to: date
    count: int | None = Field(description="Problems of the last 90 days (None: 1 or 2)")
    previous_count: int | None = Field(description="Problems of the 90 days before")
    hot_cells: int
    trends: dict[str, int] = Field(description="Cells by hot-spot trend (French labels)")
    synthetic: bool = Field(description="The problems counted are fictitious (demo)")


class CommuneGpo(BaseModel):
    id: int
    name: str
    kind: str
    next_meeting_on: date | None
    next_meeting_due: date
    overdue: bool


class ConventionSummary(BaseModel):
    id: int
    quartier: str
    status: str
    status_label: str
    start_on: date | None
    next_renewal_on: date | None
    ends_on: date | None
    referents: int
    synthetic: bool


class ContractSummary(BaseModel):
    id: int
    name: str
    start_on: date | None
    end_on: date | None
    in_force: bool
    synthetic: bool


class SsmsiFigurePublic(BaseModel):
    indicator: str
    unit: str
    year: int
    count: int
    rate_per_mille: float | None
    previous_count: int | None
    change: float | None = Field(description="From the year before, as a fraction")


class SsmsiPublic(BaseModel):
    departement: str
    source: str
    vintage: str
    licence: str
    note: str
    first_year: int | None
    figures: list[SsmsiFigurePublic]


class CommuneDashboardPublic(BaseModel):
    code: str
    name: str
    departement: str
    population: int | None
    problems: CommuneProblemsSummary
    requests_by_status: dict[str, int]
    requests_open: int
    gpos: list[CommuneGpo] = Field(description="The GPOs whose sectors cover the commune")
    conventions: list[ConventionSummary]
    contracts: list[ContractSummary] = Field(description="Contrats de sécurité intégrée")
    interventions_30_days: int
    ssmsi: SsmsiPublic
