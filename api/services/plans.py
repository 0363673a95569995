"""Sector plans: proposals by the engine (jobs), imports of existing sector layers, reading
them, exports, adoption (the GPOs and the problems follow the adopted sectors)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy.orm import Session

from api.models import Csp, Plan
from api.repositories import communes, csp, jobs, layers, plans
from api.repositories import grid as grids
from api.repositories.base import require
from api.schemas import (
    AdoptionPreview,
    Feature,
    FeatureCollection,
    Geometry,
    JobPublic,
    PlanAdoption,
    PlanCellProperties,
    PlanCreate,
    PlanPublic,
    PlansPublic,
    PlanSummary,
    Units,
)
from api.services import adoption as adoption_service
from api.services import jobs as jobs_service
from api.services.audit_log import record_access, record_write
from api.services.context import Context
from geo.errors import InfeasibleDesignError, InvalidInputError, PsqError
from geo.export import FORMATS, write_layer
from geo.geometry import check_inside_territory
from geo.grid import PROBLEMS, WORKLOAD_VARIABLES, Adjacency, workload
from geo.messages import french
from geo.metrics import french_number, sector_layer
from geo.parts import LINK_SNAP_M
from geo.plan import SectorPlan, UnitGraph, plan_from_polygons
from geo.qgis_styles import sector_style
from geo.sectorize import DesignParameters, make_sectorizer
from geo.sectorize.base import Progress, no_progress
from geo.sectorize.bound import check_exact_size
from geo.sectorize.proposal_bound import proposal_bound

#: The default name of a proposal, by method.
PROPOSAL_LABELS = {
    "engine": "Proposition",
    "communes": "Découpage par communes entières",
    "exact": "Proposition exacte",
}


# -- the engine's inputs ----------------------------------------------------------------
def load_unit_graph(
    session: Session,
    *,
    csp_id: int,
    resolution: int,
    units: str = "h3",
    weights: Mapping[str, float] | None = None,
) -> UnitGraph:
    """The CSP's cells (or blocks: ``units``) and stored adjacency as a
    :class:`geo.plan.UnitGraph`; the workload is recomputed from the cells' variables
    when ``weights`` are given. When they name ``problems``, the units get a ``problems``
    column: the CSP's recorded problems per cell, counted now (see
    :func:`api.repositories.grid.problem_counts`)."""
    if weights is not None and (unknown := sorted(set(weights) - set(WORKLOAD_VARIABLES))):
        raise InvalidInputError(
            "unknown_workload_variables",
            field="weights",
            unknown=unknown,
            available=list(WORKLOAD_VARIABLES),
        )
    grid_id = grids.require_grid(session=session, csp_id=csp_id, resolution=resolution, units=units)
    frame, edges = plans.unit_rows(session=session, grid_id=grid_id)
    if weights is not None:
        _reweigh(session, frame, "unit", csp_id=csp_id, grid_id=grid_id, weights=weights)
    frame["zone"] = frame["unit"].map(plans.qpv_of_cells(session=session, grid_id=grid_id))
    position = pd.Series(np.arange(len(frame)), index=frame["unit"])
    edges["a"] = position.reindex(edges["a"]).to_numpy()
    edges["b"] = position.reindex(edges["b"]).to_numpy()
    edges["blocked"] = edges["blocked"].astype(bool)
    graph = Adjacency(edges=edges, component=frame["component"].to_numpy(dtype=int))
    declared = layers.link_lines(session=session, csp_id=csp_id, margin_m=LINK_SNAP_M)
    return UnitGraph.build(frame.drop(columns="component"), graph, declared)


def _reweigh(
    session: Session,
    frame: pd.DataFrame,
    unit_column: str,
    *,
    csp_id: int,
    grid_id: int,
    weights: Mapping[str, float],
) -> None:
    """Recompute the ``workload`` of the grid's units in ``frame`` under ``weights``;
    when they name ``problems``, the units get a ``problems`` column first: the CSP's
    recorded problems per unit, counted now."""
    if PROBLEMS in weights:
        counts = grids.problem_counts(session=session, csp_id=csp_id, grid_id=grid_id)[PROBLEMS]
        frame[PROBLEMS] = frame[unit_column].map(counts).fillna(0).to_numpy(dtype=float)
    frame["workload"] = workload(frame, weights)


def require_plan_grid(session: Session, plan: Plan) -> int:
    """The id of the grid the plan's cells belong to; raises when the CSP's grid was
    rebuilt since the plan was made (its cells are no longer the grid's)."""
    grid_id = grids.require_grid(
        session=session, csp_id=plan.csp_id, resolution=plan.resolution, units=plan.units
    )
    plan_count, matched, cells = plans.cell_match(session=session, plan_id=plan.id, grid_id=grid_id)
    if not plan_count == matched == cells:
        raise InvalidInputError(
            "plan_on_earlier_grid",
            plan_id=plan.id,
            resolution=plan.resolution,
            matched=matched,
            plan_cells=plan_count,
            cells=cells,
        )
    return grid_id


def load_sector_plan(session: Session, plan: Plan) -> SectorPlan:
    """A stored plan as a :class:`SectorPlan` on the CSP's current grid, with the workload
    weights it was made with."""
    graph = load_unit_graph(
        session,
        csp_id=plan.csp_id,
        resolution=plan.resolution,
        units=plan.units,
        weights=(plan.parameters or {}).get("weights"),
    )
    stored, sectors = plans.stored_assignment(session=session, plan_id=plan.id)
    units = graph.units["unit"]
    missing = units[~units.isin(stored.keys())]
    if len(missing):
        raise InvalidInputError(
            "plan_cells_missing", plan_id=plan.id, missing=len(missing), example=missing.iloc[0]
        )
    position = {u: i for i, u in enumerate(units)}
    return SectorPlan(
        graph=graph,
        assignment=np.array([stored[u] for u in units], dtype=int),
        names=tuple(name for name, _ in sectors),
        seeds=np.array([position.get(seed, -1) if seed else -1 for _, seed in sectors]),
        notes=tuple(plan.notes or ()),
    )


def store_plan(
    session: Session,
    *,
    csp_id: int,
    resolution: int,
    units: str,
    plan: SectorPlan,
    name: str,
    origin: str,
    parameters: Mapping[str, Any],
    comment: str | None = None,
) -> Plan:
    """Store a plan as a new draft with its sectors' outlines and figures."""
    return plans.store_plan(
        session=session,
        csp_id=csp_id,
        resolution=resolution,
        units=units,
        plan=plan,
        layer=sector_layer(plan),
        name=name,
        origin=origin,
        parameters=parameters,
        comment=comment,
    )


# -- proposals --------------------------------------------------------------------------
def check_proposal(
    session: Session, *, csp_id: int, params: DesignParameters, budget: int | None = None
) -> None:
    """What can be checked before a proposal runs, so that it fails at once with a clear
    4xx: the grid exists, k fits the cells, the work (cells times k) fits the ``budget``,
    locked cells and seeds are the CSP's. What only the engine can tell (communes too
    heavy to stay whole…) fails the job."""
    grid_id = grids.require_grid(
        session=session, csp_id=csp_id, resolution=params.resolution, units=params.units
    )
    cells = plans.grid_cell_count(session=session, grid_id=grid_id)
    if params.k is not None and params.k > cells:
        raise InfeasibleDesignError(
            "more_sectors_than_cells",
            field="k",
            k=params.k,
            cells=cells,
            resolution=params.resolution,
        )
    if budget is not None and params.k is not None and cells * params.k > budget:
        raise InvalidInputError(
            "proposal_over_budget",
            field="k",
            k=params.k,
            cells=french_number(cells),
            work=french_number(cells * params.k),
            budget=french_number(budget),
        )
    if params.method == "exact":
        check_exact_size(cells)
    if params.k is not None and len(params.seeds) > params.k:
        raise InfeasibleDesignError(
            "more_seeds_than_sectors", field="seeds", seeds=len(params.seeds), k=params.k
        )
    if params.locked:
        known = plans.known_cells(session=session, grid_id=grid_id, cells=list(params.locked))
        unknown = sorted(set(params.locked) - known)
        if unknown:
            raise InvalidInputError(
                "locked_cells_unknown",
                field="locked",
                cells=unknown,
                resolution=params.resolution,
            )
        k = params.k
        bad = {h: s for h, s in params.locked.items() if s < 0 or (k is not None and s >= k)}
        if bad:
            h, s = next(iter(bad.items()))
            raise InvalidInputError(
                "locked_sector_out_of_range", field="locked", cell=h, sector=s, last=(k or 1) - 1
            )
    if params.seeds:
        outline = csp.csp_outline(session=session, csp_id=csp_id)
        for lon, lat in params.seeds:
            check_inside_territory(
                shapely.Point(lon, lat), outline, field="seeds", territory_name=f"CSP {csp_id}"
            )


def propose_plan(
    ctx: Context, *, csp_id: int, plan_in: PlanCreate, progress: Progress = no_progress
) -> tuple[int, SectorPlan]:
    """Check the request, run the proposal on the CSP's grid and store it as a draft (its
    parameters with it); returns its id and the plan."""
    params = plan_in.design()
    with ctx.read() as session:
        check_proposal(session, csp_id=csp_id, params=params, budget=ctx.proposal_budget)
        graph = load_unit_graph(
            session,
            csp_id=csp_id,
            resolution=params.resolution,
            units=params.units,
            weights=params.weights,
        )
        points = [
            *params.seeds,
            *plans.seed_points(session=session, csp_id=csp_id, types=params.seed_point_types),
        ]
    seeds = graph.locate(points)
    try:
        plan = make_sectorizer(params, seeds).solve(graph, rng=params.rng(), progress=progress)
    except PsqError as exc:
        raise _communes_named(ctx, exc) from exc
    if plan.bound is None and params.method == "engine":
        plan = replace(
            plan,
            bound=proposal_bound(
                plan,
                tolerance=params.tolerance,
                whole_commune_population=params.whole_commune_population,
                budget_s=ctx.bound_budget_s,
            ),
        )
    label = PROPOSAL_LABELS[params.method]
    with ctx.write() as session:
        row = store_plan(
            session,
            csp_id=csp_id,
            resolution=params.resolution,
            units=params.units,
            plan=plan,
            name=plan_in.name or f"{label} — {plan.k} secteurs",
            origin="communes" if params.method == "communes" else "engine",
            parameters=params.to_dict()
            | {"seed_units": seeds}
            | _problems_counted(graph)
            | _bound(plan),
        )
        record_write(
            session,
            ctx,
            "create",
            "plan",
            row.id,
            detail={
                "csp_id": csp_id,
                "origin": row.origin,
                "name": row.name,
                "parameters": plan_in.model_dump(mode="json"),
            },
        )
        return row.id, plan


def _communes_named(ctx: Context, exc: PsqError) -> PsqError:
    """The error with its communes named (« Belfort (90010), charge 5 666 ») when the
    domain named them by INSEE code (``codes``, ``communes`` of its values)."""
    codes, loads = exc.values.get("codes"), exc.values.get("loads")
    if not isinstance(codes, list) or not isinstance(loads, list):
        return exc
    with ctx.read() as session:
        names = communes.commune_names(session=session, codes=[str(c) for c in codes])
    named = [
        f"{names[c]} ({c}, charge {french(w)})" if c in names else f"{c} (charge {french(w)})"
        for c, w in zip(codes, loads, strict=True)
    ]
    return exc.with_values(communes=named)


def _bound(plan: SectorPlan) -> dict[str, Any]:
    """The plan's proven distance from the best possible (:mod:`geo.plan_bound`), kept
    with its parameters."""
    return {} if plan.bound is None else {"bound": plan.bound.to_dict()}


def _problems_counted(graph: UnitGraph) -> dict[str, int]:
    """How many recorded problems a proposal weighted (they change after it), if any."""
    if PROBLEMS not in graph.units:
        return {}
    return {"problems_counted": int(graph.units[PROBLEMS].sum())}


def start_proposal(ctx: Context, *, csp_id: int, plan_in: PlanCreate) -> JobPublic:
    """Check a proposal request at once, then run it as a job; returns the job to poll."""
    with ctx.write() as session:
        check_proposal(session, csp_id=csp_id, params=plan_in.design(), budget=ctx.proposal_budget)
        job_id = jobs.create_job(
            session=session,
            kind="sectorize",
            csp_id=csp_id,
            parameters=plan_in.model_dump(mode="json"),
        ).id
        ctx.job_runner().claim(job_id)  # before the commit: no process sees it unclaimed
    ctx.job_runner().submit(
        job_id=job_id,
        work=lambda progress: propose_plan(ctx, csp_id=csp_id, plan_in=plan_in, progress=progress)[
            0
        ],
    )
    return jobs_service.get_job(ctx, job_id)


def score_sector_layer(
    ctx: Context,
    *,
    csp_id: int,
    sectors: gpd.GeoDataFrame,
    resolution: int,
    name: str,
    source: str,
    save: bool = True,
    units: Units = "h3",
) -> tuple[int | None, SectorPlan]:
    """Turn an existing sector layer into a plan on the CSP's cells, score it, and store it
    (as a draft of origin ``import``) unless ``save`` is false."""
    with ctx.read() as session:
        graph = load_unit_graph(session, csp_id=csp_id, resolution=resolution, units=units)
    plan = plan_from_polygons(graph, sectors)
    if not save:
        return None, plan
    with ctx.write() as session:
        row = store_plan(
            session,
            csp_id=csp_id,
            resolution=resolution,
            units=units,
            plan=plan,
            name=name,
            origin="import",
            parameters={"source": source},
        )
        record_write(
            session,
            ctx,
            "import",
            "plan",
            row.id,
            detail={
                "csp_id": csp_id,
                "name": name,
                "source": source,
                "resolution": resolution,
                "units": units,
                "sectors": plan.k,
            },
        )
        return row.id, plan


def import_plan(
    ctx: Context,
    *,
    csp_id: int,
    sectors: gpd.GeoDataFrame,
    resolution: int,
    units: Units,
    name: str,
    source: str,
) -> PlanPublic:
    """Import an existing sector layer, scored, as a draft."""
    plan_id, _ = score_sector_layer(
        ctx,
        csp_id=csp_id,
        sectors=sectors,
        resolution=resolution,
        units=units,
        name=name,
        source=source,
    )
    assert plan_id is not None
    return get_plan(ctx, plan_id)


# -- reading ----------------------------------------------------------------------------
def list_plans(ctx: Context, csp_id: int) -> PlansPublic:
    with ctx.read() as session:
        return plans.list_plans(session=session, csp_id=csp_id)


def get_plan(ctx: Context, plan_id: int) -> PlanPublic:
    with ctx.read() as session:
        return plans.get_plan(session=session, plan_id=plan_id)


@dataclass(frozen=True)
class PlanSheet:
    """What a plan's printed A4 sheet shows: the plan, its sectors with their figures,
    the CSP's communes and the CSP's name (read together, in one session)."""

    plan: PlanPublic
    sectors: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    csp_name: str
    #: INSEE code → name of the CSP's communes.
    commune_names: dict[str, str]


def plan_sheet(ctx: Context, plan_id: int, *, printed: str | None = None) -> PlanSheet:
    """The sheet's data; ``printed`` (``pdf``, ``png``) when it is downloaded as a file,
    which the audit trail records as an export."""
    with ctx.read() as session:
        plan = plans.get_plan(session=session, plan_id=plan_id)
        _, sectors = plans.plan_sector_layer(session=session, plan_id=plan_id)
        commune_outlines = grids.csp_communes(session=session, csp_id=plan.csp_id)
        names = communes.commune_names(
            session=session, codes=[str(c) for c in commune_outlines["code"]]
        )
        csp_name = require(session, Csp, plan.csp_id).name
    if printed is not None:
        record_access(ctx, "export", "plan", plan_id, detail={"format": printed, "sheet": "A4"})
    return PlanSheet(
        plan=plan,
        sectors=sectors,
        communes=commune_outlines,
        csp_name=csp_name,
        commune_names=names,
    )


def plan_cells(ctx: Context, plan_id: int) -> FeatureCollection[PlanCellProperties]:
    """The plan's cells with their sector and their workload under the plan's weights
    (recorded problems counted now), as GeoJSON."""
    with ctx.read() as session:
        plan = require(session, Plan, plan_id)
        grid_id = grids.require_grid(
            session=session, csp_id=plan.csp_id, resolution=plan.resolution, units=plan.units
        )
        table = plans.plan_cell_rows(session=session, plan_id=plan_id, grid_id=grid_id)
        weights = (plan.parameters or {}).get("weights")
        if weights:
            _reweigh(session, table, "h3", csp_id=plan.csp_id, grid_id=grid_id, weights=weights)
    return FeatureCollection[PlanCellProperties](
        features=[
            Feature[PlanCellProperties](
                id=h3,
                geometry=Geometry.model_validate(json.loads(geojson)),
                properties=PlanCellProperties(
                    h3=h3, sector=sector, commune=commune, workload=round(load, 2)
                ),
            )
            for h3, sector, commune, load, geojson in table[
                ["h3", "sector", "commune", "workload", "geojson"]
            ].itertuples(index=False)
        ]
    )


def export_plan(ctx: Context, plan_id: int, *, fmt: str, crs: int) -> tuple[bytes, str, str]:
    """The plan's sectors with their figures as a file (GeoJSON, GeoPackage or zipped
    Shapefile) in EPSG:4326 or 2154: its content, file name and media type."""
    with ctx.read() as session:
        plan, layer = plans.plan_sector_layer(session=session, plan_id=plan_id)
    vector = FORMATS[fmt]
    stem = f"secteurs_plan{plan.id}_v{plan.version}_epsg{crs}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{stem}{vector.suffix}"
        style = sector_style(list(zip(layer["sector"], layer["name"], strict=True)))
        write_layer(layer, path, vector, crs, style=style)
        content = path.read_bytes()
    record_access(ctx, "export", "plan", plan_id, detail={"format": fmt, "crs": crs})
    return content, path.name, vector.media_type


# -- adoption ---------------------------------------------------------------------------
def adopt_plan(ctx: Context, plan_id: int, adoption: PlanAdoption | None = None) -> PlanSummary:
    """Adopt a plan (see :func:`api.services.adoption.adopt_plan`): the GPOs follow their
    territory into the new sectors and the problems are placed in them."""
    return adoption_service.adopt_plan(ctx, plan_id, adoption)


def preview_adoption(ctx: Context, plan_id: int) -> AdoptionPreview:
    """What adopting the plan would change for each GPO (see
    :func:`api.services.adoption.preview_adoption`)."""
    return adoption_service.preview_adoption(ctx, plan_id)
