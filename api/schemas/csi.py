"""Contrats de sécurité intégrée (issue 18): a contract over communes, its four
objectives with their actions, lead partners and indicators, its versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import COMMUNE_CODE, NOT_NULL, InputModel, taxonomy_code
from geo.csi import MAX_COMMUNES, OBJECTIVES
from geo.errors import InvalidValueError

ObjectiveCode = Annotated[str, taxonomy_code(OBJECTIVES, "objective")]
CommuneCode = Annotated[str, Field(pattern=COMMUNE_CODE)]


class CsiAction(InputModel):
    title: str = Field(min_length=1, max_length=300)
    lead_partner: str | None = Field(default=None, max_length=200)
    indicators: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=20
    )


class CsiObjective(InputModel):
    objective: ObjectiveCode
    actions: list[CsiAction] = Field(default_factory=list, max_length=50)


class CsiObjectivePublic(CsiObjective):
    model_config = ConfigDict(extra="ignore")
    label: str


class CsiContractCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    intercommunalite: str | None = Field(default=None, max_length=200)
    commune_codes: list[CommuneCode] = Field(max_length=MAX_COMMUNES)
    signed_on: date | None = None
    start_on: date | None = None
    end_on: date | None = None
    objectives: list[CsiObjective] = Field(default_factory=list, max_length=4)

    @model_validator(mode="after")
    def _one_each(self) -> CsiContractCreate:
        codes = [o.objective for o in self.objectives]
        if len(set(codes)) != len(codes):
            raise InvalidValueError("duplicate_objective", field="objectives")
        return self


class CsiContractUpdate(InputModel):
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    name: Annotated[str | None, NOT_NULL] = Field(default=None, min_length=1, max_length=200)
    intercommunalite: str | None = Field(default=None, max_length=200)
    commune_codes: Annotated[list[CommuneCode] | None, NOT_NULL] = Field(
        default=None, max_length=MAX_COMMUNES
    )
    signed_on: date | None = None
    start_on: date | None = None
    end_on: date | None = None
    objectives: Annotated[list[CsiObjective] | None, NOT_NULL] = Field(default=None, max_length=4)


class CsiCommune(BaseModel):
    code: str
    name: str


class CsiContractPublic(BaseModel):
    id: int
    csp_id: int
    name: str
    intercommunalite: str | None
    communes: list[CsiCommune]
    signed_on: date | None
    start_on: date | None
    end_on: date | None
    in_force: bool
    objectives: list[CsiObjectivePublic] = Field(description="The four, in order")
    synthetic: bool
    version: int


class CsiContractsPublic(BaseModel):
    data: list[CsiContractPublic]
    count: int


class CsiPartnerPublic(BaseModel):
    """A partner organisation a contract's action may name as its lead (names only)."""

    id: int
    csp_id: int
    organisation: str
    type_label: str


class CsiPartnersPublic(BaseModel):
    data: list[CsiPartnerPublic]
    count: int


class CsiVersionPublic(BaseModel):
    version: int
    at: datetime
    actor: str
    snapshot: dict[str, object]


class CsiVersionsPublic(BaseModel):
    data: list[CsiVersionPublic]
    count: int
