"""GPOs (one per sector of the adopted plan, and thematic ones), their partners and
meetings."""

from __future__ import annotations

from api.repositories import gpos as repo
from api.schemas import (
    GpoCreate,
    GpoPublic,
    GposPublic,
    GpoUpdate,
    MeetingCreate,
    MeetingPublic,
    MeetingsPublic,
    PartnerCreate,
    PartnerPublic,
    PartnersPublic,
)
from api.services.context import Context


def list_gpos(ctx: Context, csp_id: int) -> GposPublic:
    with ctx.read() as session:
        return repo.list_gpos(session=session, csp_id=csp_id)


def get_gpo(ctx: Context, gpo_id: int) -> GpoPublic:
    with ctx.read() as session:
        return repo.get_gpo(session=session, gpo_id=gpo_id)


def create_thematic_gpo(ctx: Context, csp_id: int, gpo_in: GpoCreate) -> GpoPublic:
    with ctx.write() as session:
        gpo_id = repo.create_thematic_gpo(session=session, csp_id=csp_id, gpo_in=gpo_in)
        return repo.get_gpo(session=session, gpo_id=gpo_id)


def update_gpo(ctx: Context, gpo_id: int, gpo_in: GpoUpdate) -> GpoPublic:
    with ctx.write() as session:
        repo.update_gpo(session=session, gpo_id=gpo_id, gpo_in=gpo_in)
        return repo.get_gpo(session=session, gpo_id=gpo_id)


def list_meetings(ctx: Context, gpo_id: int) -> MeetingsPublic:
    with ctx.read() as session:
        return repo.list_meetings(session=session, gpo_id=gpo_id)


def add_meeting(ctx: Context, gpo_id: int, meeting_in: MeetingCreate) -> MeetingPublic:
    with ctx.write() as session:
        return repo.add_meeting(session=session, gpo_id=gpo_id, meeting_in=meeting_in)


def list_partners(ctx: Context, csp_id: int) -> PartnersPublic:
    with ctx.read() as session:
        return repo.list_partners(session=session, csp_id=csp_id)


def create_partner(ctx: Context, csp_id: int, partner_in: PartnerCreate) -> PartnerPublic:
    with ctx.write() as session:
        return repo.create_partner(session=session, csp_id=csp_id, partner_in=partner_in)
