"""GPOs (one per sector of the adopted plan, and thematic ones) and their partners."""

from __future__ import annotations

from api.repositories import gpos as repo
from api.schemas import (
    GpoCreate,
    GpoPublic,
    GposPublic,
    GpoUpdate,
    PartnerCreate,
    PartnerPublic,
    PartnersPublic,
)
from api.services.audit_log import record_write
from api.services.context import Context
from geo.accounts import changes_between


def list_gpos(ctx: Context, csp_id: int) -> GposPublic:
    with ctx.read() as session:
        return repo.list_gpos(session=session, csp_id=csp_id)


def get_gpo(ctx: Context, gpo_id: int) -> GpoPublic:
    with ctx.read() as session:
        return repo.get_gpo(session=session, gpo_id=gpo_id)


def create_thematic_gpo(ctx: Context, csp_id: int, gpo_in: GpoCreate) -> GpoPublic:
    with ctx.write() as session:
        gpo_id = repo.create_thematic_gpo(session=session, csp_id=csp_id, gpo_in=gpo_in)
        created = repo.get_gpo(session=session, gpo_id=gpo_id)
        record_write(
            session,
            ctx,
            "create",
            "gpo",
            gpo_id,
            changes=changes_between({}, gpo_in.model_dump(mode="json")),
            detail={"csp_id": csp_id},
        )
        return created


def update_gpo(ctx: Context, gpo_id: int, gpo_in: GpoUpdate) -> GpoPublic:
    with ctx.write() as session:
        fields = set(gpo_in.model_dump(exclude_unset=True, exclude={"version"}))
        before = repo.get_gpo(session=session, gpo_id=gpo_id).model_dump(include=fields)
        repo.update_gpo(session=session, gpo_id=gpo_id, gpo_in=gpo_in)
        after = repo.get_gpo(session=session, gpo_id=gpo_id)
        record_write(
            session,
            ctx,
            "update",
            "gpo",
            gpo_id,
            changes=changes_between(before, after.model_dump(include=fields)),
        )
        return after


def list_partners(ctx: Context, csp_id: int) -> PartnersPublic:
    with ctx.read() as session:
        return repo.list_partners(session=session, csp_id=csp_id)


def create_partner(ctx: Context, csp_id: int, partner_in: PartnerCreate) -> PartnerPublic:
    with ctx.write() as session:
        partner = repo.create_partner(session=session, csp_id=csp_id, partner_in=partner_in)
        record_write(
            session,
            ctx,
            "create",
            "partner",
            partner.id,
            detail={"csp_id": csp_id, "organisation": partner.organisation, "type": partner.type},
        )
        return partner
