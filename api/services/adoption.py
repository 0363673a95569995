"""Adopting a sector plan: what it changes for each GPO (the preview a planner confirms),
then the adoption itself, one CSP at a time. Each new sector continues the GPO whose
current territory overlaps it most (:mod:`geo.adoption`), so that a GPO keeps its
meetings, partners and problems' history across plans."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from sqlalchemy.orm import Session

from api.models import Plan
from api.repositories import csp, gpos, plans
from api.repositories.base import adopted_plan_id, plan_sector_outlines, require
from api.schemas import (
    MIN_OVERRIDE_REASON,
    AdoptionPreview,
    AdoptionRetired,
    AdoptionSector,
    AdoptionThematic,
    PlanAdoption,
    PlanSummary,
    ViolationPublic,
)
from api.services.audit_log import record_write
from api.services.context import Context
from api.services.placement import assign_to_sectors
from geo.adoption import match_by_overlap, remap_sectors
from geo.crs import metric_crs
from geo.errors import InvalidInputError, PlanChangedError
from geo.geometry import BORDER_TOLERANCE_DEG
from geo.problems import place

#: A GPO (its id) or a GPO to be created for a new sector (``-1 - sector``).
Owner = int


@dataclass(frozen=True)
class Changes:
    """The preview and the matching it was made with (new sector -> GPO id)."""

    preview: AdoptionPreview
    continued: dict[int, int]


def _km2(m2: float) -> float:
    return round(max(m2, 0.0) / 1e6, 3)


def _metric_srid(session: Session, csp_id: int) -> int:
    """The EPSG code of the CSP's metric CRS (:func:`geo.crs.metric_crs`)."""
    outline = csp.csp_outline(session=session, csp_id=csp_id)
    epsg = metric_crs(gpd.GeoDataFrame(geometry=[outline], crs=4326)).to_epsg()
    assert epsg is not None
    return int(epsg)


def _moves(
    session: Session, plan: Plan, continued: dict[int, int]
) -> tuple[dict[Owner, int], dict[Owner, int], int]:
    """The CSP's open problems that change GPO: how many arrive in and leave each owner
    (a GPO id, or ``-1 - sector`` for a sector's new GPO), and their total. A problem is
    placed by its anchor as :mod:`api.services.placement` places it."""
    places = gpos.open_problem_places(session=session, csp_id=plan.csp_id)
    if not places:
        return {}, {}, 0
    xy = np.array([(x, y) for x, y, _ in places], dtype=float)
    outlines = plan_sector_outlines(session, plan.id)
    sectors = [(int(s), g) for s, g in zip(outlines["sector"], outlines.geometry, strict=True)]
    new_sector = place(xy, sectors, BORDER_TOLERANCE_DEG)
    arriving: dict[Owner, int] = {}
    leaving: dict[Owner, int] = {}
    moving = 0
    for (_, _, before), sector in zip(places, new_sector, strict=True):
        after = None if sector < 0 else continued.get(int(sector), -1 - int(sector))
        was = None if before < 0 else before
        if after == was:
            continue
        moving += 1
        if was is not None:
            leaving[was] = leaving.get(was, 0) + 1
        if after is not None:
            arriving[after] = arriving.get(after, 0) + 1
    return arriving, leaving, moving


def adoption_changes(session: Session, plan: Plan, adopted_id: int | None) -> Changes:
    """What adopting ``plan`` changes for each GPO of its CSP, ``adopted_id`` being the
    plan adopted now (None: none, every sector gets a new GPO). Areas are measured in
    PostGIS in the CSP's metric CRS."""
    srid = _metric_srid(session, plan.csp_id)
    new_sectors = plans.sector_areas(session=session, plan_id=plan.id, srid=srid)
    territories = (
        gpos.sector_gpo_territories(session=session, csp_id=plan.csp_id, plan_id=adopted_id)
        if adopted_id is not None
        else []
    )
    gpo_of_old = {sector: gpo_id for gpo_id, _, sector in territories}
    old_area: dict[int, float] = {}
    shared: dict[tuple[int, int], float] = {}
    if adopted_id is not None:
        old_area = {
            s: a for s, _, a in plans.sector_areas(session=session, plan_id=adopted_id, srid=srid)
        }
        for old, new, area in plans.sector_overlaps(
            session=session, old_plan_id=adopted_id, new_plan_id=plan.id, srid=srid
        ):
            if old in gpo_of_old:
                shared[gpo_of_old[old], new] = area
    continued = match_by_overlap((g, s, a) for (g, s), a in shared.items())
    arriving, leaving, moving = _moves(session, plan, continued)
    names = {gpo_id: name for gpo_id, name, _ in territories}
    sector_of = {gpo_id: sector for gpo_id, _, sector in territories}
    rows = []
    for sector, name, area in new_sectors:
        gpo_id = continued.get(sector)
        owner = gpo_id if gpo_id is not None else -1 - sector
        kept = shared.get((gpo_id, sector), 0.0) if gpo_id is not None else 0.0
        before = old_area.get(sector_of[gpo_id], 0.0) if gpo_id is not None else 0.0
        rows.append(
            AdoptionSector(
                sector=sector,
                name=name,
                gpo_id=gpo_id,
                gpo_name=names.get(gpo_id) if gpo_id is not None else None,
                new_gpo=gpo_id is None,
                previous_sector=sector_of.get(gpo_id) if gpo_id is not None else None,
                area_km2=_km2(area),
                kept_km2=_km2(kept),
                gained_km2=_km2(area - kept),
                lost_km2=_km2(before - kept),
                problems_in=arriving.get(owner, 0),
                problems_out=leaving.get(owner, 0),
            )
        )
    kept_gpos = set(continued.values())
    retired = [
        AdoptionRetired(
            gpo_id=gpo_id,
            gpo_name=name,
            previous_sector=sector,
            lost_km2=_km2(old_area.get(sector, 0.0)),
            problems_out=leaving.get(gpo_id, 0),
        )
        for gpo_id, name, sector in territories
        if gpo_id not in kept_gpos
    ]
    thematic = [
        AdoptionThematic(
            gpo_id=gpo_id,
            gpo_name=name,
            sectors_before=spanned,
            sectors_after=remap_sectors(spanned, gpo_of_old, continued),
        )
        for gpo_id, name, spanned in gpos.thematic_gpo_sectors(session=session, csp_id=plan.csp_id)
    ]
    violations = [ViolationPublic(**v) for v in plan.violations or []]
    preview = AdoptionPreview(
        plan_id=plan.id,
        csp_id=plan.csp_id,
        status=plan.status,
        adopted_plan_id=adopted_id,
        matching=(
            "Chaque secteur du plan continue le GPO dont le territoire actuel le recouvre le "
            f"plus (surfaces calculées dans EPSG:{srid}) ; appariement un à un, glouton par "
            "surface commune décroissante ; un secteur sans GPO en reçoit un nouveau."
        ),
        sectors=rows,
        retired=retired,
        thematic=thematic,
        problems_moving=moving,
        violations=violations,
        override_required=bool(violations),
    )
    return Changes(preview=preview, continued=continued)


def preview_adoption(ctx: Context, plan_id: int) -> AdoptionPreview:
    """What adopting the plan would change for each GPO of its CSP, now."""
    with ctx.read() as session:
        plan = require(session, Plan, plan_id)
        return adoption_changes(session, plan, adopted_plan_id(session, plan.csp_id)).preview


def _check_override(plan: Plan, adoption: PlanAdoption) -> str | None:
    """The reason that overrides the plan's violated constraints (None: none violated);
    a 422 naming ``override_reason`` when they are and it is missing or too short."""
    if not plan.violations:
        return None
    reason = (adoption.override_reason or "").strip()
    if len(reason) < MIN_OVERRIDE_REASON:
        constraints = ", ".join(sorted({str(v.get("constraint")) for v in plan.violations}))
        raise InvalidInputError(
            "adoption_override_reason",
            field="override_reason",
            count=len(plan.violations),
            constraints=constraints,
            limit=MIN_OVERRIDE_REASON,
        )
    return reason


def adopt_plan(ctx: Context, plan_id: int, adoption: PlanAdoption | None = None) -> PlanSummary:
    """Adopt a plan: the CSP's previously adopted plan is archived, each sector continues
    the GPO that held most of its territory (:func:`adoption_changes`), and every problem
    of the CSP is placed in the new sectors; one transaction, one adoption of a CSP at a
    time (its row is locked). ``adoption`` is the planner's confirmation: the adopted plan
    it expects (another one adopted since: :class:`PlanChangedError`, a 409) and the
    reason overriding violated constraints (required then). Without it (the demo loader),
    the plan is adopted as it is."""
    with ctx.write() as session:
        plan = require(session, Plan, plan_id)
        current = plans.lock_adoptions(session=session, csp_id=plan.csp_id)
        if adoption is not None and adoption.expected_adopted_plan_id != current:
            raise PlanChangedError(
                "adoption_plan_changed",
                field="expected_adopted_plan_id",
                current=str(current) if current is not None else "aucun",
                expected=str(adoption.expected_adopted_plan_id or "aucun"),
            )
        session.refresh(plan)
        before = plan.status
        reason = _check_override(plan, adoption) if adoption is not None else None
        adopted = plans.set_adopted(session=session, plan_id=plan_id)
        if adopted is not None:
            changes = adoption_changes(session, adopted, current)
            gpos.sync_sector_gpos(
                session=session,
                csp_id=adopted.csp_id,
                plan_id=adopted.id,
                continued=changes.continued,
            )
            assign_to_sectors(session, adopted.csp_id)
            preview = changes.preview
            record_write(
                session,
                ctx,
                "adopt",
                "plan",
                plan_id,
                changes={"status": [before, "adopted"]},
                detail={
                    "csp_id": adopted.csp_id,
                    "previous_plan_id": current,
                    "confirmed": adoption is not None,
                    "override_reason": reason,
                    "violations": [v.constraint for v in preview.violations],
                    "gpos_continued": {str(s): g for s, g in sorted(changes.continued.items())},
                    "gpos_created": sum(s.new_gpo for s in preview.sectors),
                    "gpos_retired": [r.gpo_id for r in preview.retired],
                    "problems_moving": preview.problems_moving,
                },
            )
        return plans.summary(session=session, plan_id=plan_id)
