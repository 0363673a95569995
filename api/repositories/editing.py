"""Working copies of plans as stored: copying a plan, locking a working copy at its
version, storing moved cells and changed sectors, the cells two plans disagree on,
deleting plans (see :mod:`api.services.editing` for the use cases).

A *working copy* is a plan of status ``editing`` derived from another plan (its parent);
planners editing the same plan share one working copy. Every change raises its
``version``; a change sent for an older version gets a 409 and changes nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from api.models import Cell, Plan, PlanCell, PlanSector
from api.repositories.base import GEOJSON_DECIMALS, multipolygon, require
from geo.errors import ConflictError, StateConflictError
from geo.messages import PLAN_STATUS_WORDS

#: What older working copies' names end with; a working copy now keeps its plan's name
#: (every list shows its status beside it), and the suffix is dropped at save.
_WORKING_SUFFIX = " (en cours de modification)"


def working_copy_of(*, session: Session, plan: Plan) -> Plan:
    """The working copy of a plan that is not one: the existing one, or a new one (copied
    cells and sectors). The caller commits."""
    plan_id = plan.id
    # Two planners starting at once must end up on the same working copy.
    session.execute(select(Plan.id).where(Plan.id == plan_id).with_for_update())
    existing = session.scalar(
        select(Plan).where(Plan.parent_id == plan_id, Plan.status == "editing")
    )
    if existing is not None:
        return existing
    copy = Plan(
        csp_id=plan.csp_id,
        resolution=plan.resolution,
        units=plan.units,
        name=plan.name,
        status="editing",
        origin="edit",
        parent_id=plan.id,
        parameters=plan.parameters,
        metrics=plan.metrics,
        notes=plan.notes,
        violations=plan.violations,
        locked_sectors=[],
    )
    session.add(copy)
    session.flush()
    sector_columns = ("sector", "name", "workload", "metrics", "seed_h3", "geom")
    session.execute(
        insert(PlanSector).from_select(
            ["plan_id", *sector_columns],
            select(literal(copy.id), *(getattr(PlanSector, c) for c in sector_columns)).where(
                PlanSector.plan_id == plan.id
            ),
        )
    )
    session.execute(
        insert(PlanCell).from_select(
            ["plan_id", "h3", "sector"],
            select(literal(copy.id), PlanCell.h3, PlanCell.sector).where(
                PlanCell.plan_id == plan.id
            ),
        )
    )
    session.flush()
    return copy


def require_working_copy(*, session: Session, plan_id: int, version: int) -> Plan:
    """The working copy, locked for this transaction, if it is still at ``version``."""
    plan = require(session, Plan, plan_id, lock=True)
    if plan.status != "editing":
        raise StateConflictError(
            "plan_not_working_copy",
            plan_id=plan_id,
            status=PLAN_STATUS_WORDS.get(plan.status, plan.status),
        )
    if version != plan.version:
        raise ConflictError(
            "plan_changed_redo",
            field="version",
            plan_id=plan_id,
            stored=plan.version,
            expected=version,
        )
    return plan


def store_moves(*, session: Session, plan_id: int, moved: dict[str, int]) -> None:
    """Store the new sector of the cells moved in a working copy."""
    session.execute(
        update(PlanCell), [{"plan_id": plan_id, "h3": h3, "sector": s} for h3, s in moved.items()]
    )


def store_sectors(
    *,
    session: Session,
    plan_id: int,
    sectors: dict[int, tuple[float, dict[str, Any], shapely.Geometry]],
) -> None:
    """Store the workload, figures and outline of the sectors of a plan that changed."""
    for s, (load, figures, outline) in sectors.items():
        session.execute(
            update(PlanSector)
            .where(PlanSector.plan_id == plan_id, PlanSector.sector == s)
            .values(
                workload=float(load),
                metrics=figures,
                geom=WKBElement(shapely.to_wkb(multipolygon(outline)), srid=4326),
            )
        )


def store_figures(
    *, session: Session, plan: Plan, metrics: dict[str, Any], violations: list[dict[str, Any]]
) -> None:
    """Store a working copy's new metrics and violations after an edit; raise its version."""
    plan.metrics = metrics
    plan.violations = violations
    plan.version += 1
    session.flush()


def store_locks(*, session: Session, plan: Plan, sectors: list[int]) -> None:
    """Lock exactly these sectors of a working copy; raise its version."""
    plan.locked_sectors = sectors
    plan.version += 1
    session.flush()


def add_note(*, session: Session, plan: Plan, note: str) -> None:
    plan.notes = [*(plan.notes or []), note]
    session.flush()


def save_version(*, session: Session, plan: Plan, name: str | None, comment: str | None) -> Plan:
    """A working copy becomes a new version: a draft with its comment and a note of how
    many cells changed sector since its parent. The caller commits."""
    notes = list(plan.notes or [])
    parent = session.get(Plan, plan.parent_id) if plan.parent_id is not None else None
    if parent is not None:
        changed = session.scalar(
            select(func.count()).select_from(_changed_cells(plan.id, parent.id).subquery())
        )
        notes.append(
            f"Version modifiée à la main à partir de « {parent.name} » : {changed} unité(s) "
            "changée(s) de secteur."
        )
        siblings = session.scalar(
            select(func.count()).where(Plan.parent_id == parent.id, Plan.status != "editing")
        )
        default_name = f"{parent.name} — v{(siblings or 0) + 2}"
    else:
        default_name = plan.name.removesuffix(_WORKING_SUFFIX)
    plan.name = (name or default_name)[:200]
    plan.comment = comment
    plan.notes = notes
    plan.status = "draft"
    plan.version += 1
    session.flush()
    return plan


def _changed_cells(plan_id: int, other_id: int) -> Any:
    mine, theirs = aliased(PlanCell), aliased(PlanCell)
    return (
        select(mine.h3, mine.sector, theirs.sector.label("other_sector"))
        .join(theirs, (theirs.h3 == mine.h3) & (theirs.plan_id == other_id))
        .where(mine.plan_id == plan_id, mine.sector != theirs.sector)
    )


def changed_cells(*, session: Session, plan_id: int, other_id: int, grid_id: int) -> pd.DataFrame:
    """The cells whose sector differs between two plans of one grid: ``h3``, ``sector``,
    ``other_sector``, ``workload`` and ``geojson`` (the cell's outline), by cell id."""
    changed = _changed_cells(plan_id, other_id).subquery()
    rows = session.execute(
        select(
            changed.c.h3,
            changed.c.sector,
            changed.c.other_sector,
            Cell.workload,
            func.ST_AsGeoJSON(Cell.geom, GEOJSON_DECIMALS),
        )
        .join(Cell, (Cell.h3 == changed.c.h3) & (Cell.grid_id == grid_id))
        .order_by(changed.c.h3)
    ).all()
    return pd.DataFrame(rows, columns=["h3", "sector", "other_sector", "workload", "geojson"])


def delete_plan(*, session: Session, plan_id: int, version: int | None = None) -> None:
    """Delete a draft, an archived plan or a working copy (discarding its edits); the
    adopted plan cannot be deleted. With ``version``, only if the plan is still at it
    (a working copy someone else has just changed is not thrown away)."""
    plan = require(session, Plan, plan_id, lock=True)
    if version is not None and version != plan.version:
        raise ConflictError(
            "plan_changed_reload",
            field="version",
            plan_id=plan_id,
            stored=plan.version,
            expected=version,
        )
    if plan.status == "adopted":
        raise StateConflictError("plan_adopted_not_deleted", plan_id=plan_id)
    session.delete(plan)
    session.flush()
