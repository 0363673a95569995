"""Accounts, as the DDSP's direction manages them: list, create with their bindings,
disable and enable. Every change is in the audit trail; the CLI (``psq users``) does the
same from the server."""

from __future__ import annotations

from fastapi import APIRouter

from api import access
from api.deps import ContextDep, DbId
from api.routes.responses import CONFLICT, INVALID
from api.schemas import AccountCreate, AccountPublic, AccountsPublic, AccountUpdate
from api.services import accounts

router = APIRouter(prefix="/accounts", tags=["comptes"])


@router.get("", dependencies=[access.ADMIN])
def read_accounts(ctx: ContextDep) -> AccountsPublic:
    """Every account with its role and bindings, by e-mail."""
    return accounts.list_accounts(ctx)


@router.post("", status_code=201, responses=CONFLICT, dependencies=[access.ADMIN])
def create_account(body: AccountCreate, ctx: ContextDep) -> AccountPublic:
    """An account of a role with the bindings it needs (GPOs, communes or CSPs; the
    partner organisation of a ``partenaire``); 409 when the e-mail is taken."""
    return accounts.create_account(ctx, body)


@router.patch("/{account_id:int}", responses=INVALID, dependencies=[access.ADMIN])
def update_account(account_id: DbId, body: AccountUpdate, ctx: ContextDep) -> AccountPublic:
    """Disable an account (its sessions and tokens stop working) or enable it again; an
    account cannot disable itself."""
    change = accounts.enable_account if body.active else accounts.disable_account
    return change(ctx, account_id)
