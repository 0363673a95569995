"""GPOs (groupes de partenariat opérationnel), their partners and meetings."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import (
    NOT_NULL,
    CadenceDays,
    CategoryCode,
    DbInt,
    IndexInt,
    InputModel,
    Page,
    PartnerTypeCode,
    ThemeCode,
)


# -- partners -----------------------------------------------------------------------------
class PartnerCreate(InputModel):
    organisation: str = Field(min_length=1, max_length=200)
    type: PartnerTypeCode = Field(description="A code of geo.problems.PARTNER_TYPES")
    contact_name: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=200)


class PartnerPublic(PartnerCreate):
    model_config = ConfigDict(extra="ignore")
    id: int
    csp_id: int
    type_label: str
    synthetic: bool


PartnersPublic = Page[PartnerPublic]


# -- GPOs ---------------------------------------------------------------------------------
class GpoCreate(InputModel):
    """A thematic GPO (sector GPOs are made when a plan is adopted)."""

    name: str = Field(min_length=1, max_length=200)
    theme: ThemeCode
    sectors: list[IndexInt] = Field(
        default_factory=list, max_length=500, description="Sectors it spans"
    )
    categories: list[CategoryCode] = Field(
        default_factory=list,
        max_length=50,
        description="The problem categories of its theme (empty: all)",
    )
    cadence_days: CadenceDays = Field(default=30, description="15 or 30")
    chief_name: str | None = Field(default=None, max_length=200)
    chief_grade: str | None = Field(default=None, max_length=100)
    chief_contact: str | None = Field(default=None, max_length=200)
    deputy_name: str | None = Field(default=None, max_length=200)
    deputy_grade: str | None = Field(default=None, max_length=100)
    partner_ids: list[DbInt] = Field(default_factory=list, max_length=200)


class GpoUpdate(InputModel):
    chief_name: str | None = Field(default=None, max_length=200)
    chief_grade: str | None = Field(default=None, max_length=100)
    chief_contact: str | None = Field(default=None, max_length=200)
    deputy_name: str | None = Field(default=None, max_length=200)
    deputy_grade: str | None = Field(default=None, max_length=100)
    categories: Annotated[list[CategoryCode] | None, NOT_NULL] = Field(
        default=None, max_length=50, description="thematic GPOs only; null: unchanged"
    )
    sectors: Annotated[list[IndexInt] | None, NOT_NULL] = Field(
        default=None, max_length=500, description="thematic GPOs only: the sectors it spans"
    )
    cadence_days: Annotated[CadenceDays | None, NOT_NULL] = None
    partner_ids: list[DbInt] | None = Field(
        default=None, max_length=200, description="null: unchanged"
    )
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The version read: a GPO changed since is refused with 409",
    )


class GpoPublic(BaseModel):
    id: int
    csp_id: int
    kind: Literal["sector", "thematic"]
    name: str
    sector: int | None
    sectors: list[int]
    theme: str | None
    categories: list[str]
    plan_id: int | None
    active: bool
    chief_name: str | None
    chief_grade: str | None
    chief_contact: str | None
    deputy_name: str | None
    deputy_grade: str | None
    cadence_days: int
    partner_ids: list[int]
    last_meeting_on: date | None = Field(description="The last closed meeting")
    next_meeting_due: date = Field(description="Last meeting (or creation) + cadence")
    next_meeting_on: date | None = Field(description="The next planned meeting, if any")
    next_meeting_id: int | None
    overdue: bool = Field(description="No meeting within the cadence")
    open_problems: int
    actions_due: int = Field(description="Open actions due within the cadence")
    actions_overdue: int = Field(description="Open actions past their due date")
    version: int


GposPublic = Page[GpoPublic]
