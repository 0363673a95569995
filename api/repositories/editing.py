"""Editing plans by hand: working copies, edits under optimistic concurrency, locked
sectors, saving a working copy as a version, comparing and deleting plans.

A *working copy* is a plan of status ``editing`` derived from another plan (its parent);
planners editing the same plan share one working copy. Every change raises its
``version``; a change sent for an older version gets a 409 and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from api.editors import EditorCache
from api.models import Cell, Plan, PlanCell, PlanSector
from api.repositories.communes import GEOJSON_DECIMALS
from api.repositories.plans import (
    get_plan,
    load_sector_plan,
    multipolygon,
    require_plan,
    require_plan_grid,
)
from api.schemas import (
    ComparedCellProperties,
    EditorState,
    Feature,
    FeatureCollection,
    Geometry,
    PlanComparison,
    PlanEdit,
    PlanEditResult,
    PlanLocks,
    PlanSave,
    ViolationPublic,
)
from geo.editing import PlanEditor
from geo.errors import ConflictError, InvalidInputError, NotFoundError
from geo.plan import SectorPlan
from geo.sectorize.atoms import small_communes

_WORKING_SUFFIX = " (en cours de modification)"


def start_editing(*, session: Session, plan_id: int) -> Plan:
    """The working copy of a plan: the plan itself if it is one, the existing working
    copy of it, or a new one (copied cells and sectors). The caller commits."""
    plan = require_plan(session=session, plan_id=plan_id)
    if plan.status == "editing":
        return plan
    require_plan_grid(session=session, plan=plan)
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
        name=(plan.name[: 200 - len(_WORKING_SUFFIX)] + _WORKING_SUFFIX),
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
    plan = session.scalar(select(Plan).where(Plan.id == plan_id).with_for_update())
    if plan is None:
        raise NotFoundError(f"no plan with id {plan_id}")
    if plan.status != "editing":
        raise InvalidInputError(
            f"plan {plan_id} is {plan.status}, not a working copy: edit a working copy of it "
            f"(POST /api/plans/{plan_id}/edit)"
        )
    if version != plan.version:
        raise ConflictError(
            f"version: plan {plan_id} is at version {plan.version}, not {version}; someone "
            "else changed it meanwhile: reload it and redo your change"
        )
    return plan


def _whole_communes(plan: Plan, editor_plan: SectorPlan) -> set[str]:
    """Communes the plan's parameters say must stay whole (engine proposals)."""
    params = plan.parameters or {}
    threshold = params.get("whole_commune_population")
    if params.get("method", "engine") != "engine" or threshold is None:
        return set()
    units = editor_plan.graph.units
    population = units.groupby("commune")["population"].sum() if "population" in units else {}
    return small_communes(editor_plan.graph, float(threshold), dict(population))


def open_editor(*, session: Session, cache: EditorCache, plan: Plan) -> PlanEditor:
    """The editor of a working copy at its stored version (from the cache, else loaded);
    taken out of the cache: put it back once the change is committed."""
    editor = cache.take(plan.id, plan.version)
    if editor is None:
        sector_plan = load_sector_plan(session=session, plan=plan)
        editor = PlanEditor(
            sector_plan,
            locked=plan.locked_sectors or [],
            tolerance=float((plan.parameters or {}).get("tolerance", 0.05)),
            whole=_whole_communes(plan, sector_plan),
        )
    return editor


def editor_state(editor: PlanEditor, plan: Plan) -> EditorState:
    units = editor.graph.units["unit"].to_numpy()
    return EditorState(
        version=plan.version,
        locked_sectors=sorted(editor.locked),
        metrics=editor.metrics().as_dict(),
        violations=[ViolationPublic(**v.as_dict()) for v in editor.violations()],
        detached=[str(units[i]) for i in editor.detached()],
    )


def read_editor(*, session: Session, cache: EditorCache, plan_id: int) -> EditorState:
    """A working copy's live figures (metrics, violations, detached cells)."""
    plan = require_plan(session=session, plan_id=plan_id)
    if plan.status != "editing":
        raise InvalidInputError(f"plan {plan_id} is {plan.status}, not a working copy")
    editor = open_editor(session=session, cache=cache, plan=plan)
    state = editor_state(editor, plan)
    cache.put(plan.id, plan.version, editor)
    return state


def edit_plan(
    *, session: Session, cache: EditorCache, plan_id: int, edit: PlanEdit
) -> tuple[PlanEditResult, PlanEditor]:
    """Move cells to other sectors in a working copy; returns the new figures and the
    editor, to be put back in the cache once the caller has committed."""
    plan = require_working_copy(session=session, plan_id=plan_id, version=edit.version)
    editor = open_editor(session=session, cache=cache, plan=plan)
    try:
        positions = editor.positions(list(edit.assignments))
        done = editor.apply(dict(zip(positions, edit.assignments.values(), strict=True)))
    except InvalidInputError:
        cache.put(plan.id, plan.version, editor)  # a refused edit changes nothing
        raise
    units = editor.graph.units["unit"].to_numpy()
    moved = {str(units[p]): int(editor.assignment[p]) for p in done.previous}
    if moved:
        session.execute(
            update(PlanCell),
            [{"plan_id": plan.id, "h3": h3, "sector": s} for h3, s in moved.items()],
        )
        _store_figures(session=session, plan=plan, editor=editor, sectors=done.sectors)
    state = editor_state(editor, plan)
    result = PlanEditResult(
        **state.model_dump(),
        moved=moved,
        previous={str(units[p]): s for p, s in done.previous.items()},
        sectors=list(done.sectors),
    )
    return result, editor


def _store_figures(
    *, session: Session, plan: Plan, editor: PlanEditor, sectors: tuple[int, ...]
) -> None:
    """Store a working copy's new metrics, and the outline and figures of the sectors
    that changed; raise its version."""
    metrics = editor.metrics().as_dict()
    for s in sectors:
        session.execute(
            update(PlanSector)
            .where(PlanSector.plan_id == plan.id, PlanSector.sector == s)
            .values(
                workload=float(editor.workloads[s]),
                metrics=metrics["sectors"][s],
                geom=WKBElement(shapely.to_wkb(multipolygon(editor.sector_polygon(s))), srid=4326),
            )
        )
    plan.metrics = metrics
    plan.violations = [v.as_dict() for v in editor.violations()]
    plan.version += 1
    session.flush()


def set_locks(
    *, session: Session, cache: EditorCache, plan_id: int, locks: PlanLocks
) -> tuple[EditorState, PlanEditor]:
    """Lock exactly these sectors of a working copy."""
    plan = require_working_copy(session=session, plan_id=plan_id, version=locks.version)
    editor = open_editor(session=session, cache=cache, plan=plan)
    editor.set_locked(locks.sectors)
    plan.locked_sectors = sorted(editor.locked)
    plan.version += 1
    session.flush()
    return editor_state(editor, plan), editor


def save_version(*, session: Session, cache: EditorCache, plan_id: int, save: PlanSave) -> Plan:
    """A working copy becomes a new version: a draft with its comment and a note of how
    many cells changed sector since its parent. The caller commits."""
    plan = require_working_copy(session=session, plan_id=plan_id, version=save.version)
    cache.drop(plan_id)
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
    plan.name = (save.name or default_name)[:200]
    plan.comment = save.comment
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


def compare_plans(*, session: Session, plan_id: int, other_id: int) -> PlanComparison:
    """Two plans of the same CSP and grid: both with their metrics, and the cells whose
    sector differs."""
    plan = require_plan(session=session, plan_id=plan_id)
    other = require_plan(session=session, plan_id=other_id)
    if (plan.csp_id, plan.units, plan.resolution) != (
        other.csp_id,
        other.units,
        other.resolution,
    ):
        raise InvalidInputError(
            f"with: plan {other_id} (CSP {other.csp_id}, units {other.units}, resolution "
            f"{other.resolution}) cannot be compared with plan {plan_id} (CSP {plan.csp_id}, "
            f"units {plan.units}, resolution {plan.resolution}): compare plans of the same "
            f"CSP and grid"
        )
    grid_id = require_plan_grid(session=session, plan=plan)
    require_plan_grid(session=session, plan=other)
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
    features = [
        Feature[ComparedCellProperties](
            id=h3,
            geometry=Geometry.model_validate(json.loads(geojson)),
            properties=ComparedCellProperties(
                h3=h3, sector=sector, other_sector=other_sector, workload=round(load, 2)
            ),
        )
        for h3, sector, other_sector, load, geojson in rows
    ]
    return PlanComparison(
        plan=get_plan(session=session, plan_id=plan_id),
        other=get_plan(session=session, plan_id=other_id),
        changed_count=len(features),
        changed_workload=round(sum(f.properties.workload for f in features), 2),
        cells=FeatureCollection[ComparedCellProperties](features=features),
    )


def delete_plan(
    *, session: Session, cache: EditorCache, plan_id: int, version: int | None = None
) -> None:
    """Delete a draft, an archived plan or a working copy (discarding its edits); the
    adopted plan cannot be deleted. With ``version``, only if the plan is still at it
    (a working copy someone else has just changed is not thrown away)."""
    plan = session.scalar(select(Plan).where(Plan.id == plan_id).with_for_update())
    if plan is None:
        raise NotFoundError(f"no plan with id {plan_id}")
    if version is not None and version != plan.version:
        raise ConflictError(
            f"version: plan {plan_id} is at version {plan.version}, not {version}; someone "
            "else changed it meanwhile: reload it before deleting it"
        )
    if plan.status == "adopted":
        raise InvalidInputError(
            f"plan {plan_id} is the adopted plan of its CSP: adopt another plan before deleting it"
        )
    cache.drop(plan_id)
    session.delete(plan)
    session.flush()
