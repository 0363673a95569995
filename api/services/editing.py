"""Editing plans by hand: working copies, edits under optimistic concurrency (a change for
an older version is a 409 and changes nothing), locked sectors, re-optimising the unlocked
sectors, saving a working copy as a version, comparing and deleting plans.

The editor of a working copy (:class:`geo.editing.PlanEditor`) is kept in the context's
:class:`~api.editors.EditorCache` between edits: taken out while an edit uses it, put back
once the edit is committed, so that a failed edit never leaves a half-applied editor."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy.orm import Session

from api.editors import EditorCache
from api.models import Plan
from api.repositories import editing as repo
from api.repositories import jobs, plans
from api.repositories.base import require
from api.schemas import (
    ComparedCellProperties,
    EditorState,
    Feature,
    FeatureCollection,
    Geometry,
    JobPublic,
    PlanComparison,
    PlanEdit,
    PlanEditResult,
    PlanLocks,
    PlanSave,
    PlanSummary,
    ViolationPublic,
)
from api.services.audit_log import listed, record_write
from api.services.context import Context
from api.services.jobs import get_job
from api.services.plans import load_sector_plan, require_plan_grid
from geo.editing import PlanEditor, reoptimise, unlocked_sectors
from geo.errors import InvalidInputError, StateConflictError
from geo.messages import PLAN_STATUS_WORDS
from geo.plan import SectorPlan
from geo.sectorize import DesignParameters, Sectorizer, make_sectorizer
from geo.sectorize.atoms import small_communes
from geo.sectorize.base import Progress, no_progress


def _grid_words(plan: Plan) -> str:
    """A plan's grid in words: « CSP 1, H3 résolution 9 »."""
    units = "îlots" if plan.units == "blocks" else "H3"
    return f"CSP {plan.csp_id}, {units} résolution {plan.resolution}"


def start_editing(ctx: Context, plan_id: int) -> PlanSummary:
    """The working copy of a plan, to edit by hand: the plan itself if it is one, the
    existing working copy (shared by everyone editing the plan) or a new copy."""
    with ctx.write() as session:
        plan = require(session, Plan, plan_id)
        if plan.status != "editing":
            require_plan_grid(session, plan)
            copy = repo.working_copy_of(session=session, plan=plan)
            record_write(
                session, ctx, "start_editing", "plan", copy.id, detail={"from_plan": plan.id}
            )
            plan = copy
        return plans.summary_of(plan)


def _whole_communes(plan: Plan, editor_plan: SectorPlan) -> set[str]:
    """Communes the plan's parameters say must stay whole (engine proposals)."""
    params = plan.parameters or {}
    threshold = params.get("whole_commune_population")
    if params.get("method", "engine") not in ("engine", "exact") or threshold is None:
        return set()
    units = editor_plan.graph.units
    population = units.groupby("commune")["population"].sum() if "population" in units else {}
    return small_communes(editor_plan.graph, float(threshold), dict(population))


def _open_editor(session: Session, cache: EditorCache, plan: Plan) -> PlanEditor:
    """The editor of a working copy at its stored version (from the cache, else loaded);
    taken out of the cache: put it back once the change is committed."""
    editor = cache.take(plan.id, plan.version)
    if editor is None:
        sector_plan = load_sector_plan(session, plan)
        editor = PlanEditor(
            sector_plan,
            locked=plan.locked_sectors or [],
            tolerance=float((plan.parameters or {}).get("tolerance", 0.05)),
            whole=_whole_communes(plan, sector_plan),
        )
    return editor


def _state(editor: PlanEditor, plan: Plan) -> EditorState:
    units = editor.graph.units["unit"].to_numpy()
    return EditorState(
        version=plan.version,
        locked_sectors=sorted(editor.locked),
        metrics=editor.metrics().as_dict(),
        violations=[ViolationPublic(**v.as_dict()) for v in editor.violations()],
        detached=[str(units[i]) for i in editor.detached()],
    )


def read_editor(ctx: Context, plan_id: int) -> EditorState:
    """A working copy's live figures: metrics, violations and cells cut off from their
    sector's main piece."""
    with ctx.read() as session:
        plan = require(session, Plan, plan_id)
        if plan.status != "editing":
            raise StateConflictError(
                "plan_not_working_copy",
                plan_id=plan_id,
                status=PLAN_STATUS_WORDS.get(plan.status, plan.status),
            )
        editor = _open_editor(session, ctx.editors, plan)
        state = _state(editor, plan)
    ctx.editors.put(plan.id, plan.version, editor)
    return state


def _edit_detail(result: PlanEditResult) -> dict[str, object]:
    """What the audit trail keeps of an edit: the version, how many cells moved, which
    (at most :data:`~api.services.audit_log.MAX_LISTED_IDS`) and the sectors touched."""
    return {
        "version": result.version,
        "moved_count": len(result.moved),
        "moved": listed(result.moved),
        "sectors": result.sectors,
    }


def _edit(
    session: Session, cache: EditorCache, plan_id: int, edit: PlanEdit
) -> tuple[PlanEditResult, PlanEditor]:
    """Move cells in a working copy, in the caller's transaction; returns the new figures
    and the editor, to be put back in the cache once committed."""
    plan = repo.require_working_copy(session=session, plan_id=plan_id, version=edit.version)
    editor = _open_editor(session, cache, plan)
    try:
        positions = editor.positions(list(edit.assignments))
        done = editor.apply(dict(zip(positions, edit.assignments.values(), strict=True)))
    except InvalidInputError:
        cache.put(plan.id, plan.version, editor)  # a refused edit changes nothing
        raise
    units = editor.graph.units["unit"].to_numpy()
    moved = {str(units[p]): int(editor.assignment[p]) for p in done.previous}
    if moved:
        repo.store_moves(session=session, plan_id=plan.id, moved=moved)
        metrics = editor.metrics().as_dict()
        repo.store_sectors(
            session=session,
            plan_id=plan.id,
            sectors={
                s: (editor.workloads[s], metrics["sectors"][s], editor.sector_polygon(s))
                for s in done.sectors
            },
        )
        repo.store_figures(
            session=session,
            plan=plan,
            metrics=metrics,
            violations=[v.as_dict() for v in editor.violations()],
        )
    state = _state(editor, plan)
    result = PlanEditResult(
        **state.model_dump(),
        moved=moved,
        previous={str(units[p]): s for p, s in done.previous.items()},
        sectors=list(done.sectors),
    )
    return result, editor


def edit_plan(ctx: Context, plan_id: int, edit: PlanEdit) -> PlanEditResult:
    """Move cells to other sectors, all or nothing: an unknown cell or sector, a locked
    sector or a sector left empty is a 422; an out-of-date ``version`` a 409."""
    with ctx.write() as session:
        result, editor = _edit(session, ctx.editors, plan_id, edit)
        if result.moved:
            record_write(session, ctx, "edit", "plan", plan_id, detail=_edit_detail(result))
    ctx.editors.put(plan_id, result.version, editor)
    return result


def set_locks(ctx: Context, plan_id: int, locks: PlanLocks) -> EditorState:
    """Lock exactly these sectors of a working copy."""
    with ctx.write() as session:
        plan = repo.require_working_copy(session=session, plan_id=plan_id, version=locks.version)
        editor = _open_editor(session, ctx.editors, plan)
        before = list(plan.locked_sectors or [])
        editor.set_locked(locks.sectors)
        repo.store_locks(session=session, plan=plan, sectors=sorted(editor.locked))
        record_write(
            session,
            ctx,
            "lock",
            "plan",
            plan_id,
            changes={"locked_sectors": [before, sorted(editor.locked)]},
        )
        state = _state(editor, plan)
    ctx.editors.put(plan_id, state.version, editor)
    return state


def save_version(ctx: Context, plan_id: int, save: PlanSave) -> PlanSummary:
    """Save a working copy as a new version (a draft) with a comment."""
    with ctx.write() as session:
        plan = repo.require_working_copy(session=session, plan_id=plan_id, version=save.version)
        editor = _open_editor(session, ctx.editors, plan)
        if editor.pmedian_distance() is None:  # large sectors' p-median waits for the save
            repo.store_figures(
                session=session,
                plan=plan,
                metrics=editor.metrics(complete=True).as_dict(),
                violations=[v.as_dict() for v in editor.violations()],
            )
        ctx.editors.drop(plan_id)
        saved = repo.save_version(session=session, plan=plan, name=save.name, comment=save.comment)
        record_write(
            session,
            ctx,
            "save_version",
            "plan",
            saved.id,
            changes={"status": ["editing", saved.status]},
            detail={"name": saved.name, "comment": save.comment},
        )
        return plans.summary_of(saved)


def delete_plan(ctx: Context, plan_id: int, *, version: int | None = None) -> None:
    """Delete a draft, an archived plan or a working copy (discarding its edits)."""
    with ctx.write() as session:
        plan = require(session, Plan, plan_id)
        detail = {"csp_id": plan.csp_id, "name": plan.name, "status": plan.status}
        repo.delete_plan(session=session, plan_id=plan_id, version=version)
        record_write(session, ctx, "delete", "plan", plan_id, detail=detail)
        ctx.editors.drop(plan_id)


def compare_plans(ctx: Context, plan_id: int, other_id: int) -> PlanComparison:
    """Two plans of the same CSP and grid: both with their metrics, and the cells whose
    sector differs."""
    with ctx.read() as session:
        plan = require(session, Plan, plan_id)
        other = require(session, Plan, other_id)
        if (plan.csp_id, plan.units, plan.resolution) != (
            other.csp_id,
            other.units,
            other.resolution,
        ):
            raise InvalidInputError(
                "plans_not_comparable",
                field="with",
                other_id=other_id,
                plan_id=plan_id,
                other_grid=_grid_words(other),
                plan_grid=_grid_words(plan),
            )
        grid_id = require_plan_grid(session, plan)
        require_plan_grid(session, other)
        rows = repo.changed_cells(
            session=session, plan_id=plan_id, other_id=other_id, grid_id=grid_id
        )
        features = [
            Feature[ComparedCellProperties](
                id=h3,
                geometry=Geometry.model_validate(json.loads(geojson)),
                properties=ComparedCellProperties(
                    h3=h3, sector=sector, other_sector=other_sector, workload=round(load, 2)
                ),
            )
            for h3, sector, other_sector, load, geojson in rows.itertuples(index=False)
        ]
        return PlanComparison(
            plan=plans.get_plan(session=session, plan_id=plan_id),
            other=plans.get_plan(session=session, plan_id=other_id),
            changed_count=len(features),
            changed_workload=round(sum(f.properties.workload for f in features), 2),
            cells=FeatureCollection[ComparedCellProperties](features=features),
        )


# -- re-optimising the unlocked sectors -------------------------------------------------
def reoptimise_plan(
    ctx: Context, *, plan_id: int, version: int, progress: Progress = no_progress
) -> int:
    """Redraw the unlocked sectors of a working copy with the engine and the parameters
    of the plan it came from, and store the result as one edit (a new version)."""
    with ctx.read() as session:
        row = repo.require_working_copy(session=session, plan_id=plan_id, version=version)
        plan = load_sector_plan(session, row)
        locked = list(row.locked_sectors or [])
        design = DesignParameters.from_dict(row.parameters or {})
    # The unlocked sectors are shared out again by workload: the plan's own apportionment
    # (sectors_per_part) was for all of its sectors.
    base = replace(design, method="engine", target_workload=None, locked={}, sectors_per_part=())

    def make(k: int, seeds: list[str]) -> Sectorizer:
        return make_sectorizer(replace(base, k=k), seeds)

    redrawn = reoptimise(plan, locked, make, rng=base.rng(), progress=progress)
    units = plan.graph.units["unit"].astype(str).tolist()
    moves = {
        units[i]: int(s)
        for i, s in enumerate(redrawn.assignment.tolist())
        if s != plan.assignment[i]
    }
    with ctx.write() as session:
        detail: dict[str, object] = {"version": version, "moved_count": 0, "locked": locked}
        if moves:
            # a throwaway cache: the app's sees the new version and reloads
            result, _ = _edit(
                session, EditorCache(size=1), plan_id, PlanEdit(version=version, assignments=moves)
            )
            detail |= _edit_detail(result) | {"locked": locked}
        now = version + 1 if moves else version
        stored = repo.require_working_copy(session=session, plan_id=plan_id, version=now)
        repo.add_note(session=session, plan=stored, note=redrawn.notes[-1])
        record_write(session, ctx, "reoptimise", "plan", plan_id, detail=detail)
    return plan_id


def start_reoptimise(ctx: Context, plan_id: int, *, version: int) -> JobPublic:
    """Check that a working copy can be re-optimised, then run it as a job."""
    with ctx.write() as session:
        plan = repo.require_working_copy(session=session, plan_id=plan_id, version=version)
        unlocked_sectors(
            int((plan.metrics or {}).get("k", 0)), plan.locked_sectors or [], f"plan {plan_id}"
        )
        job_id = jobs.create_job(
            session=session,
            kind="reoptimise",
            csp_id=plan.csp_id,
            parameters={"plan_id": plan_id, "version": version},
        ).id
        ctx.job_runner().claim(job_id)  # before the commit: no process sees it unclaimed
    ctx.job_runner().submit(
        job_id=job_id,
        work=lambda progress: reoptimise_plan(
            ctx, plan_id=plan_id, version=version, progress=progress
        ),
    )
    return get_job(ctx, job_id)
