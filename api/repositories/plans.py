"""Sector plans as stored: the units and adjacency of a CSP's grid as the engine reads
them, plans with their sectors and cells, their summaries, adoption."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry
from geoalchemy2 import WKBElement
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, aliased

from api.models import Cell, CellEdge, Csp, Grid, Layer, LayerFeature, Plan, PlanCell, PlanSector
from api.repositories.base import (
    GEOJSON_DECIMALS,
    geoframe,
    multipolygon,
    read_geoframe,
    require,
    scope_of,
    visible,
)
from api.schemas import (
    Feature,
    FeatureCollection,
    Geometry,
    PlanPublic,
    PlansPublic,
    PlanSummary,
    SectorProperties,
    ViolationPublic,
)
from geo.errors import StateConflictError
from geo.labels import label_lonlat
from geo.layers import QPV_CODE, LayerKind
from geo.plan import SectorPlan

CELL_VARIABLES = ("population", "households", "poor_households", "social_housing")


def unit_rows(*, session: Session, grid_id: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The grid's units (``unit``, ``commune``, the cell variables, ``workload``,
    ``component``, by unit id) and their stored adjacency (``a``, ``b`` unit ids,
    ``shared_m``, ``barrier``, ``blocked``)."""
    units = read_geoframe(
        session,
        select(
            Cell.h3,
            Cell.commune_code,
            *(getattr(Cell, v) for v in CELL_VARIABLES),
            Cell.workload,
            Cell.component,
            func.ST_AsBinary(Cell.geom),
        )
        .where(Cell.grid_id == grid_id)
        .order_by(Cell.h3),
        ["unit", "commune", *CELL_VARIABLES, "workload", "component"],
    )
    edges = pd.DataFrame(
        session.execute(
            select(CellEdge.a, CellEdge.b, CellEdge.shared_m, CellEdge.barrier, CellEdge.blocked)
            .where(CellEdge.grid_id == grid_id)
            .order_by(CellEdge.a, CellEdge.b)
        ).all(),
        columns=["a", "b", "shared_m", "barrier", "blocked"],
    )
    return units, edges


def qpv_of_cells(*, session: Session, grid_id: int) -> dict[str, str]:
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


def store_plan(
    *,
    session: Session,
    csp_id: int,
    resolution: int,
    plan: SectorPlan,
    layer: gpd.GeoDataFrame,
    name: str,
    origin: str,
    parameters: Mapping[str, Any],
    comment: str | None = None,
    units: str = "h3",
) -> Plan:
    """Store a plan as a new draft with its sectors (``layer``: one polygon per sector,
    :func:`geo.metrics.sector_layer`), cells and metrics."""
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


def stored_assignment(
    *, session: Session, plan_id: int
) -> tuple[dict[str, int], list[tuple[str, str | None]]]:
    """A stored plan's sector of each unit, and (name, seed unit) of each sector in order."""
    cells = dict(
        session.execute(
            select(PlanCell.h3, PlanCell.sector).where(PlanCell.plan_id == plan_id)
        ).all()
    )
    sectors = session.execute(
        select(PlanSector.name, PlanSector.seed_h3)
        .where(PlanSector.plan_id == plan_id)
        .order_by(PlanSector.sector)
    ).all()
    return cells, [(name, seed) for name, seed in sectors]


def cell_match(*, session: Session, plan_id: int, grid_id: int) -> tuple[int, int, int]:
    """How many cells the plan has, how many of them are cells of the grid, and how many
    cells the grid has."""
    plan_count = session.scalar(
        select(func.count()).select_from(PlanCell).where(PlanCell.plan_id == plan_id)
    )
    matched = session.scalar(
        select(func.count())
        .select_from(PlanCell)
        .join(Cell, (Cell.h3 == PlanCell.h3) & (Cell.grid_id == grid_id))
        .where(PlanCell.plan_id == plan_id)
    )
    cells = session.scalar(select(Grid.cell_count).where(Grid.id == grid_id))
    return int(plan_count or 0), int(matched or 0), int(cells or 0)


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


def summary(*, session: Session, plan_id: int) -> PlanSummary:
    """A plan's summary as stored now (read again from the database)."""
    plan = require(session, Plan, plan_id)
    session.refresh(plan)
    return summary_of(plan)


def summary_of(plan: Plan) -> PlanSummary:
    return PlanSummary(**plan_summary(plan))


def list_plans(*, session: Session, csp_id: int) -> PlansPublic:
    """The CSP's plans: the adopted one first, then working copies, drafts, archived,
    newest first."""
    require(session, Csp, csp_id)
    rank = {"adopted": 0, "editing": 1, "draft": 2, "archived": 3}
    plans = session.scalars(
        select(Plan).where(Plan.csp_id == csp_id, visible(Plan, scope_of(session)))
    ).all()
    ordered = sorted(plans, key=lambda p: (rank.get(p.status, 3), -p.id))
    data = [summary_of(p) for p in ordered]
    return PlansPublic(data=data, count=len(data))


def _lineage_length(session: Session, plan_id: int) -> int:
    """How many plans the line ending at ``plan_id`` holds (itself, its parent, …)."""
    line = (
        select(Plan.id, Plan.parent_id, literal(1).label("depth"))
        .where(Plan.id == plan_id)
        .cte("line", recursive=True)
    )
    parent = aliased(Plan)
    line = line.union_all(
        select(parent.id, parent.parent_id, (line.c.depth + 1).label("depth"))
        .join(line, parent.id == line.c.parent_id)
        .where(line.c.depth < 1000)
    )
    return int(session.execute(select(func.max(line.c.depth))).scalar_one() or 1)


def get_plan(*, session: Session, plan_id: int) -> PlanPublic:
    """A plan with its sectors as GeoJSON, its metrics, notes and violations."""
    plan = require(session, Plan, plan_id)
    rows = session.execute(
        select(PlanSector, func.ST_AsGeoJSON(PlanSector.geom, GEOJSON_DECIMALS))
        .where(PlanSector.plan_id == plan_id)
        .order_by(PlanSector.sector)
    ).all()
    features = []
    for s, geojson in rows:
        geometry = json.loads(geojson)
        features.append(
            Feature[SectorProperties](
                id=s.sector,
                geometry=Geometry.model_validate(geometry),
                properties=SectorProperties(
                    sector=s.sector,
                    name=s.name,
                    workload=round(s.workload, 2),
                    metrics=s.metrics,
                    label_point=label_lonlat(shapely.geometry.shape(geometry)),
                ),
            )
        )
    sectors = FeatureCollection[SectorProperties](features=features)
    return PlanPublic(
        **plan_summary(plan),
        saved_version=_lineage_length(session, plan_id),
        metrics=plan.metrics,
        notes=plan.notes,
        violations=[ViolationPublic(**v) for v in plan.violations],
        sectors=sectors,
    )


def plan_sector_layer(*, session: Session, plan_id: int) -> tuple[Plan, gpd.GeoDataFrame]:
    """The plan and its stored sectors, one feature each with its figures (EPSG:4326):
    what exports hold."""
    plan = require(session, Plan, plan_id)
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
    return plan, geoframe(table, [wkb for _, wkb in rows])


def plan_cell_rows(*, session: Session, plan_id: int, grid_id: int) -> pd.DataFrame:
    """The plan's cells (``h3``, ``sector``, ``commune``, ``workload``, the cell
    variables, and ``geojson``: the cell's outline) on the grid, by cell id."""
    rows = session.execute(
        select(
            PlanCell.h3,
            PlanCell.sector,
            Cell.commune_code,
            Cell.workload,
            *(getattr(Cell, v) for v in CELL_VARIABLES),
            func.ST_AsGeoJSON(Cell.geom, GEOJSON_DECIMALS),
        )
        .join(Cell, (Cell.h3 == PlanCell.h3) & (Cell.grid_id == grid_id))
        .where(PlanCell.plan_id == plan_id)
        .order_by(PlanCell.h3)
    ).all()
    return pd.DataFrame(
        rows, columns=["h3", "sector", "commune", "workload", *CELL_VARIABLES, "geojson"]
    )


def set_adopted(*, session: Session, plan_id: int) -> Plan | None:
    """Adopt the plan, archiving the CSP's adopted one; returns the plan when its status
    changed, None when it was adopted already. Adoptions of a CSP wait for one another."""
    plan = require(session, Plan, plan_id)
    # One adoption at a time per CSP: concurrent ones wait here instead of colliding on
    # the unique index of adopted plans.
    session.execute(select(Csp.id).where(Csp.id == plan.csp_id).with_for_update())
    session.refresh(plan)
    if plan.status == "editing":
        raise StateConflictError("plan_being_edited", plan_id=plan_id)
    if plan.status == "adopted":
        return None
    session.execute(
        update(Plan)
        .where(Plan.csp_id == plan.csp_id, Plan.status == "adopted")
        .values(status="archived", version=Plan.version + 1)
    )
    session.flush()  # the partial unique index allows one adopted plan per CSP
    plan.status = "adopted"
    plan.version += 1
    session.flush()
    return plan


def grid_cell_count(*, session: Session, grid_id: int) -> int:
    return int(session.scalar(select(Grid.cell_count).where(Grid.id == grid_id)) or 0)


def known_cells(*, session: Session, grid_id: int, cells: Sequence[str]) -> set[str]:
    """Those of ``cells`` that are units of the grid."""
    return set(
        session.scalars(select(Cell.h3).where(Cell.grid_id == grid_id, Cell.h3.in_(list(cells))))
    )


def lock_adoptions(*, session: Session, csp_id: int) -> int | None:
    """Lock the CSP's row until the transaction ends, so that its adoptions run one at a
    time, and return the id of its adopted plan as it is then (None: none)."""
    session.execute(select(Csp.id).where(Csp.id == csp_id).with_for_update())
    return session.scalar(select(Plan.id).where(Plan.csp_id == csp_id, Plan.status == "adopted"))


def sector_areas(*, session: Session, plan_id: int, srid: int) -> list[tuple[int, str, float]]:
    """The plan's sectors: (sector, name, area in m² measured in the metric CRS ``srid``)."""
    area = func.ST_Area(func.ST_Transform(PlanSector.geom, srid))
    rows = session.execute(
        select(PlanSector.sector, PlanSector.name, area)
        .where(PlanSector.plan_id == plan_id)
        .order_by(PlanSector.sector)
    ).all()
    return [(int(s), str(n), float(a or 0.0)) for s, n, a in rows]


def sector_overlaps(
    *, session: Session, old_plan_id: int, new_plan_id: int, srid: int
) -> list[tuple[int, int, float]]:
    """The area (m², in the metric CRS ``srid``) each sector of ``old_plan_id`` shares with
    each sector of ``new_plan_id`` it meets: (old sector, new sector, area)."""
    old, new = aliased(PlanSector), aliased(PlanSector)
    shared = func.ST_Area(
        func.ST_Intersection(func.ST_Transform(old.geom, srid), func.ST_Transform(new.geom, srid))
    )
    rows = session.execute(
        select(old.sector, new.sector, shared)
        .join(new, func.ST_Intersects(old.geom, new.geom))
        .where(old.plan_id == old_plan_id, new.plan_id == new_plan_id)
        .order_by(old.sector, new.sector)
    ).all()
    return [(int(a), int(b), float(area or 0.0)) for a, b, area in rows]
