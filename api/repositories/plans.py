"""Sector plans: the unit graph of a CSP's grid, storing plans, reading them back, adopting."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from api.models import Cell, CellEdge, Csp, Grid, Layer, LayerFeature, Plan, PlanCell, PlanSector
from api.repositories.communes import GEOJSON_DECIMALS
from api.repositories.csp import require_csp
from api.repositories.gpos import sync_sector_gpos
from api.repositories.grid import problem_counts, require_grid
from api.repositories.problems import assign_to_sectors, csp_outline
from api.schemas import (
    Feature,
    FeatureCollection,
    Geometry,
    PlanCellProperties,
    PlanCreate,
    PlanPublic,
    PlansPublic,
    PlanSummary,
    SectorProperties,
    ViolationPublic,
)
from geo.errors import InfeasibleDesignError, InvalidInputError, NotFoundError
from geo.geometry import check_inside_territory
from geo.grid import PROBLEMS, WORKLOAD_VARIABLES, Adjacency, workload
from geo.layers import QPV_CODE, LayerKind
from geo.metrics import sector_layer
from geo.plan import SectorPlan, UnitGraph

_CELL_VARIABLES = ("population", "households", "poor_households", "social_housing")


def load_unit_graph(
    *,
    session: Session,
    csp_id: int,
    resolution: int,
    units: str = "h3",
    weights: Mapping[str, float] | None = None,
) -> UnitGraph:
    """The CSP's cells (or blocks: ``units``) and stored adjacency as a
    :class:`geo.plan.UnitGraph`; the workload
    is recomputed from the cells' variables when ``weights`` are given. When they name
    ``problems``, the units get a ``problems`` column: the CSP's recorded problems per
    cell, counted now (see :func:`api.repositories.grid.problem_counts`)."""
    if weights is not None and (unknown := sorted(set(weights) - set(WORKLOAD_VARIABLES))):
        raise InvalidInputError(
            f"weights: unknown variable(s) {', '.join(unknown)}; "
            f"available: {', '.join(WORKLOAD_VARIABLES)}"
        )
    grid_id = require_grid(session=session, csp_id=csp_id, resolution=resolution, units=units)
    rows = session.execute(
        select(
            Cell.h3,
            Cell.commune_code,
            Cell.population,
            Cell.households,
            Cell.poor_households,
            Cell.social_housing,
            Cell.workload,
            Cell.component,
            func.ST_AsBinary(Cell.geom),
        )
        .where(Cell.grid_id == grid_id)
        .order_by(Cell.h3)
    ).all()
    columns = ["unit", "commune", *_CELL_VARIABLES, "workload", "component"]
    table = pd.DataFrame([r[:-1] for r in rows], columns=columns)
    frame = gpd.GeoDataFrame(
        table, geometry=shapely.from_wkb([bytes(r[-1]) for r in rows]), crs=4326
    )
    if weights is not None and PROBLEMS in weights:
        counts = problem_counts(session=session, csp_id=csp_id, grid_id=grid_id)[PROBLEMS]
        frame[PROBLEMS] = frame["unit"].map(counts).fillna(0).to_numpy(dtype=float)
    if weights is not None:
        frame["workload"] = workload(frame, weights)
    frame["zone"] = frame["unit"].map(_qpv_of_cells(session, grid_id))
    position = pd.Series(np.arange(len(frame)), index=frame["unit"])
    edges = pd.DataFrame(
        session.execute(
            select(CellEdge.a, CellEdge.b, CellEdge.shared_m, CellEdge.barrier, CellEdge.blocked)
            .where(CellEdge.grid_id == grid_id)
            .order_by(CellEdge.a, CellEdge.b)
        ).all(),
        columns=["a", "b", "shared_m", "barrier", "blocked"],
    )
    edges["a"] = position.reindex(edges["a"]).to_numpy()
    edges["b"] = position.reindex(edges["b"]).to_numpy()
    edges["blocked"] = edges["blocked"].astype(bool)
    graph = Adjacency(edges=edges, component=frame["component"].to_numpy(dtype=int))
    return UnitGraph.build(frame.drop(columns="component"), graph)


def _qpv_of_cells(session: Session, grid_id: int) -> dict[str, str]:
    """Cell → code of the QPV outline (a ``zones`` feature with a QPV code) holding more
    than half of the cell's area; such cells are never split by sector design."""
    shared = func.ST_Area(func.ST_Intersection(Cell.geom, LayerFeature.geom))
    rows = session.execute(
        select(Cell.h3, LayerFeature.code)
        .ext(distinct_on(Cell.h3))
        .join(LayerFeature, func.ST_Intersects(Cell.geom, LayerFeature.geom))
        .join(Layer, Layer.id == LayerFeature.layer_id)
        .where(
            Cell.grid_id == grid_id,
            Layer.kind == LayerKind.ZONES.value,
            LayerFeature.code.op("~")(QPV_CODE),
            shared > 0.5 * func.ST_Area(Cell.geom),
        )
        .order_by(Cell.h3, shared.desc())
    ).all()
    return {h3: str(code) for h3, code in rows}


def seed_points(
    *, session: Session, csp_id: int, types: Sequence[str]
) -> list[tuple[float, float]]:
    """Positions (lon, lat) of the point-layer features of these types inside the CSP,
    ordered by layer then feature (so that sector numbers are stable)."""
    if not types:
        return []
    outline = select(Csp.geom).where(Csp.id == csp_id).scalar_subquery()
    rows = session.execute(
        select(func.ST_X(LayerFeature.geom), func.ST_Y(LayerFeature.geom))
        .join(Layer, Layer.id == LayerFeature.layer_id)
        .where(
            Layer.kind == LayerKind.POINTS.value,
            func.lower(LayerFeature.category).in_([t.lower() for t in types]),
            func.ST_Intersects(LayerFeature.geom, outline),
        )
        .order_by(Layer.id, LayerFeature.id)
    ).all()
    return [(float(x), float(y)) for x, y in rows]


def multipolygon(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon(
        [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    )


def save_plan(
    *,
    session: Session,
    csp_id: int,
    resolution: int,
    plan: SectorPlan,
    name: str,
    origin: str,
    parameters: Mapping[str, Any],
    comment: str | None = None,
    units: str = "h3",
) -> Plan:
    """Store a plan as a new draft with its sectors, cells and metrics."""
    metrics = plan.metrics.as_dict()
    row = Plan(
        csp_id=csp_id,
        resolution=resolution,
        units=units,
        name=name,
        status="draft",
        origin=origin,
        comment=comment,
        parameters=dict(parameters),
        metrics=metrics,
        notes=list(plan.notes),
        violations=[v.as_dict() for v in plan.violations],
    )
    session.add(row)
    session.flush()
    layer = sector_layer(plan)
    units = plan.graph.units["unit"].tolist()
    session.execute(
        insert(PlanSector),
        [
            {
                "plan_id": row.id,
                "sector": int(s.sector),
                "name": s.name,
                "workload": float(s.workload),
                "metrics": sector,
                "seed_h3": units[seed] if seed >= 0 else None,
                "geom": WKBElement(shapely.to_wkb(multipolygon(s.geometry)), srid=4326),
            }
            for s, sector, seed in zip(
                layer.itertuples(), metrics["sectors"], plan.seed_units.tolist(), strict=True
            )
        ],
    )
    session.execute(
        insert(PlanCell),
        [
            {"plan_id": row.id, "h3": unit, "sector": int(sector)}
            for unit, sector in zip(units, plan.assignment.tolist(), strict=True)
        ],
    )
    session.flush()
    return row


def load_sector_plan(*, session: Session, plan: Plan) -> SectorPlan:
    """A stored plan as a :class:`SectorPlan` on the CSP's current grid, with the workload
    weights it was made with."""
    graph = load_unit_graph(
        session=session,
        csp_id=plan.csp_id,
        resolution=plan.resolution,
        units=plan.units,
        weights=(plan.parameters or {}).get("weights"),
    )
    stored = dict(
        session.execute(
            select(PlanCell.h3, PlanCell.sector).where(PlanCell.plan_id == plan.id)
        ).all()
    )
    units = graph.units["unit"]
    missing = units[~units.isin(stored.keys())]
    if len(missing):
        raise InvalidInputError(
            f"plan {plan.id} has no sector for {len(missing)} cell(s) of the current grid "
            f"(e.g. {missing.iloc[0]}): the grid was rebuilt after the plan was made"
        )
    sectors = session.execute(
        select(PlanSector.name, PlanSector.seed_h3)
        .where(PlanSector.plan_id == plan.id)
        .order_by(PlanSector.sector)
    ).all()
    position = {u: i for i, u in enumerate(units)}
    return SectorPlan(
        graph=graph,
        assignment=np.array([stored[u] for u in units], dtype=int),
        names=tuple(name for name, _ in sectors),
        seeds=np.array([position.get(seed, -1) if seed else -1 for _, seed in sectors]),
        notes=tuple(plan.notes or ()),
    )


def require_plan_grid(*, session: Session, plan: Plan) -> int:
    """The id of the grid the plan's cells belong to; raises when the CSP's grid was
    rebuilt since the plan was made (its cells are no longer the grid's)."""
    grid_id = require_grid(
        session=session, csp_id=plan.csp_id, resolution=plan.resolution, units=plan.units
    )
    plan_count = session.scalar(
        select(func.count()).select_from(PlanCell).where(PlanCell.plan_id == plan.id)
    )
    matched = session.scalar(
        select(func.count())
        .select_from(PlanCell)
        .join(Cell, (Cell.h3 == PlanCell.h3) & (Cell.grid_id == grid_id))
        .where(PlanCell.plan_id == plan.id)
    )
    cells = session.scalar(select(Grid.cell_count).where(Grid.id == grid_id))
    if not plan_count == matched == cells:
        raise InvalidInputError(
            f"plan {plan.id} was made on an earlier grid of CSP {plan.csp_id} (units "
            f"{plan.units}, resolution {plan.resolution}): {matched} of its {plan_count} "
            f"cells are in the current grid of {cells} cells; make a new proposal or import "
            f"it again"
        )
    return grid_id


def require_plan(*, session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError(f"no plan with id {plan_id}")
    return plan


def plan_summary(plan: Plan) -> dict[str, Any]:
    m = plan.metrics or {}
    return {
        "id": plan.id,
        "csp_id": plan.csp_id,
        "name": plan.name,
        "status": plan.status,
        "origin": plan.origin,
        "resolution": plan.resolution,
        "units": plan.units,
        "version": plan.version,
        "parent_id": plan.parent_id,
        "locked_sectors": plan.locked_sectors or [],
        "comment": plan.comment,
        "created_at": plan.created_at,
        "parameters": plan.parameters,
        "k": int(m.get("k", 0)),
        "max_deviation": m.get("max_deviation"),
        "mean_polsby_popper": m.get("mean_polsby_popper"),
        "communes_split": m.get("communes_split"),
        "violation_count": len(plan.violations or []),
    }


def list_plans(*, session: Session, csp_id: int) -> PlansPublic:
    """The CSP's plans: the adopted one first, then working copies, drafts, archived,
    newest first."""
    require_csp(session=session, csp_id=csp_id)
    rank = {"adopted": 0, "editing": 1, "draft": 2, "archived": 3}
    plans = session.scalars(select(Plan).where(Plan.csp_id == csp_id)).all()
    ordered = sorted(plans, key=lambda p: (rank.get(p.status, 3), -p.id))
    data = [PlanSummary(**plan_summary(p)) for p in ordered]
    return PlansPublic(data=data, count=len(data))


def get_plan(*, session: Session, plan_id: int) -> PlanPublic:
    """A plan with its sectors as GeoJSON, its metrics, notes and violations."""
    plan = require_plan(session=session, plan_id=plan_id)
    rows = session.execute(
        select(PlanSector, func.ST_AsGeoJSON(PlanSector.geom, GEOJSON_DECIMALS))
        .where(PlanSector.plan_id == plan_id)
        .order_by(PlanSector.sector)
    ).all()
    sectors = FeatureCollection[SectorProperties](
        features=[
            Feature[SectorProperties](
                id=s.sector,
                geometry=Geometry.model_validate(json.loads(geojson)),
                properties=SectorProperties(
                    sector=s.sector, name=s.name, workload=round(s.workload, 2), metrics=s.metrics
                ),
            )
            for s, geojson in rows
        ]
    )
    return PlanPublic(
        **plan_summary(plan),
        metrics=plan.metrics,
        notes=plan.notes,
        violations=[ViolationPublic(**v) for v in plan.violations],
        sectors=sectors,
    )


def plan_sector_layer(*, session: Session, plan_id: int) -> tuple[Plan, gpd.GeoDataFrame]:
    """The plan and its stored sectors, one feature each with its figures (EPSG:4326):
    what exports hold."""
    plan = require_plan(session=session, plan_id=plan_id)
    rows = session.execute(
        select(PlanSector, func.ST_AsBinary(PlanSector.geom))
        .where(PlanSector.plan_id == plan_id)
        .order_by(PlanSector.sector)
    ).all()
    table = pd.DataFrame(
        [
            {
                "sector": s.sector,
                "name": s.name,
                "workload": round(s.workload, 2),
                **{
                    k: v
                    for k, v in (s.metrics or {}).items()
                    if k not in ("sector", "name", "workload")
                },
            }
            for s, _ in rows
        ]
    )
    geoms = shapely.from_wkb([bytes(wkb) for _, wkb in rows])
    return plan, gpd.GeoDataFrame(table, geometry=geoms, crs=4326)


def plan_cells(*, session: Session, plan_id: int) -> FeatureCollection[PlanCellProperties]:
    """The plan's cells with their sector and their workload under the plan's weights
    (recorded problems counted now), as GeoJSON."""
    plan = require_plan(session=session, plan_id=plan_id)
    grid_id = require_grid(
        session=session, csp_id=plan.csp_id, resolution=plan.resolution, units=plan.units
    )
    rows = session.execute(
        select(
            PlanCell.h3,
            PlanCell.sector,
            Cell.commune_code,
            Cell.workload,
            *(getattr(Cell, v) for v in _CELL_VARIABLES),
            func.ST_AsGeoJSON(Cell.geom, GEOJSON_DECIMALS),
        )
        .join(Cell, (Cell.h3 == PlanCell.h3) & (Cell.grid_id == grid_id))
        .where(PlanCell.plan_id == plan_id)
        .order_by(PlanCell.h3)
    ).all()
    table = pd.DataFrame(
        [r[:-1] for r in rows], columns=["h3", "sector", "commune", "workload", *_CELL_VARIABLES]
    )
    weights = (plan.parameters or {}).get("weights")
    if weights:
        if PROBLEMS in weights:
            counts = problem_counts(session=session, csp_id=plan.csp_id, grid_id=grid_id)
            table[PROBLEMS] = table["h3"].map(counts[PROBLEMS]).fillna(0).to_numpy(dtype=float)
        table["workload"] = workload(table, weights)
    return FeatureCollection[PlanCellProperties](
        features=[
            Feature[PlanCellProperties](
                id=h3,
                geometry=Geometry.model_validate(json.loads(row[-1])),
                properties=PlanCellProperties(
                    h3=h3, sector=sector, commune=commune, workload=round(load, 2)
                ),
            )
            for (h3, sector, commune, load), row in zip(
                table[["h3", "sector", "commune", "workload"]].itertuples(index=False),
                rows,
                strict=True,
            )
        ]
    )


def adopt_plan(*, session: Session, plan_id: int) -> PlanSummary:
    """Adopt a plan; the CSP's previously adopted plan is archived, the GPOs follow the new
    sectors and the problems are placed in them. The caller commits."""
    plan = require_plan(session=session, plan_id=plan_id)
    # One adoption at a time per CSP: concurrent ones wait here instead of colliding on
    # the unique index of adopted plans.
    session.execute(select(Csp.id).where(Csp.id == plan.csp_id).with_for_update())
    session.refresh(plan)
    if plan.status == "editing":
        raise InvalidInputError(
            f"plan {plan_id} is a working copy being edited; save it as a version first"
        )
    if plan.status != "adopted":
        session.execute(
            update(Plan)
            .where(Plan.csp_id == plan.csp_id, Plan.status == "adopted")
            .values(status="archived", version=Plan.version + 1)
        )
        session.flush()  # the partial unique index allows one adopted plan per CSP
        plan.status = "adopted"
        plan.version += 1
        session.flush()
        # Its sectors' GPOs, and every problem of the CSP placed in its sectors.
        sync_sector_gpos(session=session, csp_id=plan.csp_id, plan_id=plan.id)
        assign_to_sectors(session, plan.csp_id)
    session.refresh(plan)
    return PlanSummary(**plan_summary(plan))


def check_proposal(*, session: Session, csp_id: int, plan_in: PlanCreate) -> None:
    """What can be checked before a proposal runs, so that the request fails at once with
    a clear 4xx: the grid exists, k fits the cells, locked cells and seeds are the CSP's.
    What only the engine can tell (communes too heavy to stay whole…) fails the job."""
    grid_id = require_grid(
        session=session, csp_id=csp_id, resolution=plan_in.resolution, units=plan_in.units
    )
    cells = session.scalar(select(Grid.cell_count).where(Grid.id == grid_id)) or 0
    if plan_in.k is not None and plan_in.k > cells:
        raise InfeasibleDesignError(
            f"k: {plan_in.k} sectors is more than the {cells} cells of the grid "
            f"(units {plan_in.units}, resolution {plan_in.resolution})"
        )
    if plan_in.k is not None and len(plan_in.seeds) > plan_in.k:
        raise InfeasibleDesignError(f"seeds: {len(plan_in.seeds)} seeds for k = {plan_in.k}")
    if plan_in.locked:
        known = set(
            session.scalars(
                select(Cell.h3).where(Cell.grid_id == grid_id, Cell.h3.in_(list(plan_in.locked)))
            )
        )
        unknown = sorted(set(plan_in.locked) - known)
        if unknown:
            raise InvalidInputError(
                f"locked: cell(s) {', '.join(unknown[:10])} are not cells of CSP {csp_id} "
                f"at resolution {plan_in.resolution} (units {plan_in.units})"
            )
        k = plan_in.k
        bad = {h: s for h, s in plan_in.locked.items() if s < 0 or (k is not None and s >= k)}
        if bad:
            h, s = next(iter(bad.items()))
            raise InvalidInputError(
                f"locked: cell {h} is locked to sector {s}, not in 0 … {(k or 1) - 1}"
            )
    if plan_in.seeds:
        outline = csp_outline(session, csp_id)
        for lon, lat in plan_in.seeds:
            check_inside_territory(
                shapely.Point(lon, lat), outline, field="seeds", territory_name=f"CSP {csp_id}"
            )
