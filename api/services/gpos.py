"""GPOs (one per sector of the adopted plan, and thematic ones) and their partners."""

from __future__ import annotations

from datetime import date

from api.repositories import base
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
    """The CSP's active GPOs; their counts' tallies (over every open problem and action
    of the CSP: the costly part) are kept in the map cache until the problems or the
    open actions' statuses and due dates change (:data:`api.repositories.base.COUNTS`)."""
    with ctx.read() as session:

        def tallies(csp_ids: list[int], today: date, horizon_days: int) -> repo.FollowUpTallies:
            revision = sum(
                base.problem_revision(session=session, csp_id=c, topics=base.COUNTS)
                for c in csp_ids
            )
            kept: repo.FollowUpTallies = ctx.maps.get_or_compute(
                ("gpo tallies", tuple(csp_ids), today, horizon_days),
                revision,
                lambda: repo.follow_up_tallies(
                    session=session, csp_ids=csp_ids, today=today, horizon_days=horizon_days
                ),
            )
            return kept

        return repo.list_gpos(session=session, csp_id=csp_id, tallies=tallies)


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
