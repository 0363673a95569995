"""Contrats de sécurité intégrée (issue 18): a contract over communes, its four objectives
with their actions, lead partners and indicators, and its versions. Its diagnostic
partagé is an A4 PDF printed by the web layer (``/csi/{id}/diagnostic.pdf``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import CONFLICT, INVALID, NOT_FOUND
from api.schemas import COMMUNE_CODE
from api.schemas.csi import (
    CsiContractCreate,
    CsiContractPublic,
    CsiContractsPublic,
    CsiContractUpdate,
    CsiPartnersPublic,
    CsiVersionsPublic,
)
from api.services import csi

router = APIRouter(prefix="/csi", tags=["contrats de sécurité intégrée"])


@router.get("", responses=INVALID, dependencies=[access.COMMUNE_SPACE])
def read_contracts(
    ctx: ContextDep,
    commune: Annotated[
        str | None, Query(pattern=COMMUNE_CODE, description="Spanning this commune")
    ] = None,
) -> CsiContractsPublic:
    """The contracts of your perimeter (a commune: those it belongs to)."""
    return csi.list_contracts(ctx, commune_code=commune)


@router.post("", status_code=201, responses=INVALID, dependencies=[access.CONTRACT_WRITE])
def create_contract(body: CsiContractCreate, ctx: ContextDep) -> CsiContractPublic:
    """Record a contract over communes of your perimeter. No commune, an unknown one or an
    end before the start is a 422 naming the field."""
    return csi.create_contract(ctx, body)


@router.get("/partners", responses=INVALID, dependencies=[access.CONTRACT_WRITE])
def read_lead_partners(
    ctx: ContextDep,
    csp: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Of this CSP")] = None,
) -> CsiPartnersPublic:
    """The partner organisations of your CSPs (of one), among which an action's lead
    partner is chosen (names only)."""
    return csi.lead_partners(ctx, csp_id=csp)


@router.get("/{contract_id:int}", responses=NOT_FOUND, dependencies=[access.COMMUNE_SPACE])
def read_contract(contract_id: DbId, ctx: ContextDep) -> CsiContractPublic:
    return csi.get_contract(ctx, contract_id)


@router.patch("/{contract_id:int}", responses=CONFLICT, dependencies=[access.CONTRACT_WRITE])
def update_contract(
    contract_id: DbId, body: CsiContractUpdate, ctx: ContextDep
) -> CsiContractPublic:
    """Change a contract (its ``version`` read: a stale one is a 409); every change is kept
    as a new version."""
    return csi.update_contract(ctx, contract_id, body)


@router.get("/{contract_id:int}/versions", responses=NOT_FOUND, dependencies=[access.COMMUNE_SPACE])
def read_versions(contract_id: DbId, ctx: ContextDep) -> CsiVersionsPublic:
    """The contract as it was after each change, oldest first."""
    return csi.contract_versions(ctx, contract_id)
