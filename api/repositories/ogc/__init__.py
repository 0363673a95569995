"""The collections of the OGC API - Features (``/ogc``) as SQL: each collection is a
*source*, a subquery with an ``id``, its properties and a ``geom`` (WGS84), limited to
the caller's perimeter (:func:`api.repositories.base.visible`); on it, the CQL2 filters
(:mod:`geo.cql2`) become SQL conditions, and a page of features is written as GeoJSON by
PostgreSQL itself (``json_build_object``), one text per feature, so that a page of 1 000
features costs one query and no Python object per feature."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    select,
    true,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from api.models import (
    AuditRequest,
    Cell,
    CellCount,
    Commune,
    Csp,
    Grid,
    Layer,
    LayerFeature,
    Plan,
    PlanSector,
    Problem,
    ProblemPlace,
    csp_commune,
)
from api.repositories.base import problem_revision, read_geoframe, require, scope_of, visible
from api.repositories.ogc.filters import FeaturePage as FeaturePage
from api.repositories.ogc.filters import Source
from api.repositories.ogc.filters import conditions as conditions
from api.repositories.ogc.filters import count as count
from api.repositories.ogc.filters import id_marks as id_marks
from api.repositories.ogc.filters import item as item
from api.repositories.ogc.filters import page as page
from api.repositories.ogc.recent import cells as _cells
from api.repositories.ogc.recent import recent_counts as recent_counts
from geo.audits import KINDS as REQUEST_KINDS
from geo.audits import STATUSES as REQUEST_STATUSES
from geo.problems import CATEGORIES, STATUSES

#: The JSON Schema type of each property type.
SCHEMA_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
}
#: Under this many, aggregated problems are not said (a count of 1 or 2 points at people).
MASKED_BELOW = 3


def _labels(codes: dict[str, str] | Any, column: Any) -> Any:
    return case(dict(codes), value=column, else_=column)


def communes(session: Session) -> Source:
    stmt = select(
        Commune.code.label("id"),
        Commune.code.label("code"),
        Commune.name.label("name"),
        Commune.population.label("population"),
        Commune.geom.label("geom"),
    ).where(visible(Commune, scope_of(session)))
    types = {"code": "string", "name": "string", "population": "integer"}
    return Source(stmt.subquery("communes"), types, "MultiPolygon")


def csps(session: Session) -> Source:
    stmt = select(
        Csp.id.label("id"),
        Csp.code.label("code"),
        Csp.name.label("name"),
        Csp.geom.label("geom"),
    ).where(visible(Csp, scope_of(session)))
    types = {"code": "string", "name": "string"}
    return Source(stmt.subquery("csp"), types, "MultiPolygon", integer_ids=True)


def _sectors(condition: ColumnElement[bool], *, per_plan: bool) -> Source:
    identifier = (
        PlanSector.sector if per_plan else func.concat(PlanSector.plan_id, "-", PlanSector.sector)
    )
    stmt = (
        select(
            identifier.label("id"),
            Plan.csp_id.label("csp_id"),
            PlanSector.plan_id.label("plan_id"),
            PlanSector.sector.label("sector"),
            (PlanSector.sector + 1).label("number"),
            PlanSector.name.label("name"),
            PlanSector.workload.label("workload"),
            PlanSector.geom.label("geom"),
        )
        .join(Plan, Plan.id == PlanSector.plan_id)
        .where(condition)
    )
    types = {
        "csp_id": "integer",
        "plan_id": "integer",
        "sector": "integer",
        "number": "integer",
        "name": "string",
        "workload": "number",
    }
    return Source(stmt.subquery("sectors"), types, "MultiPolygon", integer_ids=per_plan)


def adopted_sectors(session: Session) -> Source:
    """The sectors of every adopted plan the caller sees (``id``: ``<plan>-<sector>``)."""
    return _sectors(
        and_(Plan.status == "adopted", visible(Plan, scope_of(session))), per_plan=False
    )


def plan_sectors(session: Session, plan_id: int) -> Source:
    """The sectors of one plan (404 outside the perimeter; ``id``: the sector index)."""
    require(session, Plan, plan_id)
    return _sectors(PlanSector.plan_id == plan_id, per_plan=True)


def grid_cells(session: Session, grid_id: int) -> Source:
    """The units of one grid with their variables."""
    require(session, Grid, grid_id)
    poverty = case(
        (Cell.households > 0, func.round(cast(Cell.poor_households / Cell.households, Numeric), 4)),
        else_=None,
    )
    stmt = select(
        Cell.h3.label("id"),
        Cell.h3.label("h3"),
        Cell.commune_code.label("commune"),
        Cell.clipped.label("clipped"),
        Cell.area_m2.label("area_m2"),
        Cell.population.label("population"),
        Cell.households.label("households"),
        Cell.poor_households.label("poor_households"),
        Cell.social_housing.label("social_housing"),
        cast(poverty, Float).label("poverty_rate"),
        Cell.workload.label("workload"),
        Cell.source.label("source"),
        Cell.component.label("component"),
        Cell.geom.label("geom"),
    ).where(Cell.grid_id == grid_id)
    types = {
        "h3": "string",
        "commune": "string",
        "clipped": "boolean",
        "area_m2": "number",
        "population": "number",
        "households": "number",
        "poor_households": "number",
        "social_housing": "number",
        "poverty_rate": "number",
        "workload": "number",
        "source": "string",
        "component": "integer",
    }
    return Source(stmt.subquery("cells"), types, "MultiPolygon")


def layer_features(session: Session, layer_id: int) -> Source:
    """The features of one imported layer; their ``values`` (a population grid's
    variables) are shown, not queryable."""
    require(session, Layer, layer_id)
    stmt = select(
        LayerFeature.id.label("id"),
        LayerFeature.code.label("code"),
        LayerFeature.name.label("name"),
        LayerFeature.category.label("category"),
        LayerFeature.bridge.label("bridge"),
        LayerFeature.tunnel.label("tunnel"),
        LayerFeature.values.label("values"),
        LayerFeature.geom.label("geom"),
    ).where(LayerFeature.layer_id == layer_id)
    types = {
        "code": "string",
        "name": "string",
        "category": "string",
        "bridge": "boolean",
        "tunnel": "boolean",
    }
    return Source(
        stmt.subquery("features"), types, "Geometry", outputs=("values",), integer_ids=True
    )


def problems(session: Session) -> Source:
    """The problem records the caller reads (none but for the direction, a chef or a
    partner: :func:`visible`), with their place in the adopted plan."""
    scope = scope_of(session)
    stmt = (
        select(
            Problem.id.label("id"),
            Problem.csp_id.label("csp_id"),
            Problem.category.label("category"),
            _labels(CATEGORIES, Problem.category).label("category_label"),
            Problem.title.label("title"),
            Problem.address.label("address"),
            Problem.reported_on.label("reported_on"),
            Problem.priority.label("priority"),
            Problem.status.label("status"),
            _labels(STATUSES, Problem.status).label("status_label"),
            Problem.status_on.label("status_on"),
            ProblemPlace.sector.label("sector"),
            ProblemPlace.gpo_id.label("gpo_id"),
            Problem.synthetic.label("synthetic"),
            Problem.geom.label("geom"),
        )
        .outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id)
        .where(visible(Problem, scope))
    )
    types = {
        "csp_id": "integer",
        "category": "string",
        "category_label": "string",
        "title": "string",
        "address": "string",
        "reported_on": "date",
        "priority": "string",
        "status": "string",
        "status_label": "string",
        "status_on": "date",
        "sector": "integer",
        "gpo_id": "integer",
        "synthetic": "boolean",
    }
    extent = select(func.ST_Extent(Csp.geom)).where(
        Csp.id.in_(select(Problem.csp_id).where(visible(Problem, scope)).distinct())
        if not scope.unlimited
        else true()
    )
    return Source(
        stmt.subquery("problems"),
        types,
        "Geometry",
        temporal="reported_on",
        integer_ids=True,
        extent_from=extent,
    )


def _rows(name: str, columns: Sequence[tuple[str, Any]], rows: Sequence[Sequence[Any]]) -> Any:
    """These rows as a table in FROM (``unnest`` of one array per column: a parameter per
    column however many rows)."""
    arrays = [
        cast(literal([r[i] for r in rows], ARRAY(kind)), ARRAY(kind))
        for i, (_, kind) in enumerate(columns)
    ]
    derived = func.unnest(*arrays).table_valued(*(column(c, kind) for c, kind in columns))
    return derived.render_derived(name=name)


def problem_counts(
    session: Session, since: date, recent: Sequence[tuple[int, str, int]] | None = None
) -> Source:
    """Problems counted per unit of each CSP's finest H3 grid (all: read from
    ``cell_count``, kept by the problems' writes; since ``since``: ``recent``, from
    :func:`recent_counts` when not given), counts under :data:`MASKED_BELOW` masked: the
    aggregate a commune (or a planner) may read, never a record. A ``commune`` account
    reads its communes' units only."""
    cells = _cells(session)
    if recent is None:
        recent = recent_counts(session, since)
    r = _rows("r", [("grid_id", Integer), ("h3", String), ("n", Integer)], recent)
    total = func.coalesce(CellCount.problems, 0)
    latest = func.coalesce(r.c.n, 0)
    stmt = (
        select(
            func.concat(cells.c.grid_id, "-", cells.c.h3).label("id"),
            cells.c.csp_id.label("csp_id"),
            cells.c.h3.label("h3"),
            cells.c.commune_code.label("commune"),
            case((total >= MASKED_BELOW, total), else_=None).label("problems"),
            case((latest >= MASKED_BELOW, latest), else_=None).label("problems_12_months"),
            cells.c.geom.label("geom"),
        )
        .select_from(cells)
        .outerjoin(
            CellCount, and_(CellCount.grid_id == cells.c.grid_id, CellCount.h3 == cells.c.h3)
        )
        .outerjoin(r, and_(r.c.grid_id == cells.c.grid_id, r.c.h3 == cells.c.h3))
    )
    types = {
        "csp_id": "integer",
        "h3": "string",
        "commune": "string",
        "problems": "integer",
        "problems_12_months": "integer",
    }
    return Source(stmt.subquery("problem_counts"), types, "MultiPolygon")


def study_requests(session: Session) -> Source:
    """The safety-study requests the caller sees (a commune: its own), without their
    contacts."""
    stmt = select(
        AuditRequest.id.label("id"),
        AuditRequest.csp_id.label("csp_id"),
        AuditRequest.commune_code.label("commune"),
        AuditRequest.kind.label("kind"),
        _labels(REQUEST_KINDS, AuditRequest.kind).label("kind_label"),
        AuditRequest.site_name.label("site_name"),
        AuditRequest.address.label("address"),
        AuditRequest.status.label("status"),
        _labels(REQUEST_STATUSES, AuditRequest.status).label("status_label"),
        AuditRequest.requested_on.label("requested_on"),
        AuditRequest.status_on.label("status_on"),
        AuditRequest.planned_on.label("planned_on"),
        AuditRequest.synthetic.label("synthetic"),
        AuditRequest.geom.label("geom"),
    ).where(visible(AuditRequest, scope_of(session)))
    types = {
        "csp_id": "integer",
        "commune": "string",
        "kind": "string",
        "kind_label": "string",
        "site_name": "string",
        "address": "string",
        "status": "string",
        "status_label": "string",
        "requested_on": "date",
        "status_on": "date",
        "planned_on": "date",
        "synthetic": "boolean",
    }
    return Source(
        stmt.subquery("study_requests"),
        types,
        "Geometry",
        temporal="requested_on",
        integer_ids=True,
    )


# -- reading -------------------------------------------------------------------------------
def extent(session: Session, source: Source) -> tuple[float, float, float, float] | None:
    """The collection's bounding box in WGS84 (its CSPs' outlines for the problems)."""
    stmt = source.extent_from
    if stmt is None:
        stmt = select(func.ST_Extent(source.table.c.geom))
    box = session.scalar(select(func.ST_AsText(stmt.scalar_subquery())))
    if box is None:
        return None
    envelope = shapely.from_wkt(box)
    if envelope.is_empty:
        return None
    minx, miny, maxx, maxy = envelope.bounds
    return (minx, miny, maxx, maxy)


def interval(session: Session, source: Source) -> tuple[date | None, date | None]:
    """The first and last dates of the collection's temporal property."""
    if source.temporal is None:
        return None, None
    column = source.table.c[source.temporal]
    first, last = session.execute(select(func.min(column), func.max(column))).one()
    return first, last


def problems_revision(session: Session) -> int:
    """A number that changes whenever a problem is recorded, changed or removed."""
    return problem_revision(session=session, csp_id=None)


# -- the collections of plans, grids and layers ---------------------------------------------
_STATUS_WORDS = {"adopted": "adopté", "draft": "projet", "archived": "archivé"}


def plan_titles(session: Session, plan_id: int | None = None) -> list[tuple[int, str]]:
    """The plans the caller sees (but working copies), as (id, title)."""
    stmt = (
        select(Plan.id, Plan.name, Plan.status, Csp.name)
        .join(Csp, Csp.id == Plan.csp_id)
        .where(visible(Plan, scope_of(session)), Plan.status != "editing")
        .order_by(Plan.id)
    )
    if plan_id is not None:
        stmt = stmt.where(Plan.id == plan_id)
    return [
        (i, f"Secteurs du plan « {name} » ({_STATUS_WORDS.get(status, status)}, {csp})")
        for i, name, status, csp in session.execute(stmt)
    ]


def grid_titles(session: Session, grid_id: int | None = None) -> list[tuple[int, str]]:
    """The grids the caller sees, as (id, title)."""
    stmt = (
        select(Grid.id, Grid.units, Grid.resolution, Csp.name)
        .join(Csp, Csp.id == Grid.csp_id)
        .where(visible(Grid, scope_of(session)))
        .order_by(Grid.id)
    )
    if grid_id is not None:
        stmt = stmt.where(Grid.id == grid_id)
    units = {"h3": "mailles H3", "blocks": "îlots"}
    return [
        (i, f"Carroyage {csp} : {units.get(u, u)}, résolution {r}")
        for i, u, r, csp in session.execute(stmt)
    ]


def layer_titles(session: Session, layer_id: int | None = None) -> list[tuple[int, str]]:
    """The imported layers, as (id, title)."""
    stmt = select(Layer.id, Layer.name, Layer.kind).order_by(Layer.id)
    if layer_id is not None:
        stmt = stmt.where(Layer.id == layer_id)
    return [(i, f"Couche « {name} » ({kind})") for i, name, kind in session.execute(stmt)]


# -- whole layers (the QGIS project export) ------------------------------------------------
def frame(
    session: Session, source: Source, where: Sequence[ColumnElement[bool]]
) -> gpd.GeoDataFrame:
    """The rows of ``source`` meeting ``where`` as a GeoDataFrame (WGS84), by id."""
    c = source.table.c
    names = list(source.types)
    stmt = (
        select(c.id, *(c[n] for n in names), func.ST_AsBinary(c.geom)).where(*where).order_by(c.id)
    )
    return read_geoframe(session, stmt, ["id", *names])


def of_csp(source: Source, csp_id: int) -> ColumnElement[bool]:
    """The condition of a source's rows belonging to a CSP (its communes for ``communes``)."""
    c = source.table.c
    if "csp_id" in c:
        return c.csp_id == csp_id
    return c.id.in_(select(csp_commune.c.commune_code).where(csp_commune.c.csp_id == csp_id))


def require_csp(session: Session, csp_id: int) -> Csp:
    return require(session, Csp, csp_id)


# -- suggested camera sites ---------------------------------------------------------------
def camera_sites(commune_code: str, rows: Sequence[tuple[Any, ...]]) -> Source:
    """Suggested camera sites of a commune (computed by the coverage service): rows of
    (rank, kind, problems, gain_share, cumulative_share, lon, lat), as a source."""
    columns = (
        column("rank", Integer),
        column("kind", String),
        column("problems", Integer),
        column("gain_share", Float),
        column("cumulative_share", Float),
        column("lon", Float),
        column("lat", Float),
    )
    data = list(rows) or [(0, "", None, 0.0, 0.0, 0.0, 0.0)]
    sites = values(*columns, name="sites").data(data)
    stmt = select(
        sites.c.rank.label("id"),
        literal(commune_code).label("commune"),
        sites.c.rank.label("rank"),
        sites.c.kind.label("kind"),
        sites.c.problems.label("problems"),
        sites.c.gain_share.label("gain_share"),
        sites.c.cumulative_share.label("cumulative_share"),
        func.ST_SetSRID(func.ST_MakePoint(sites.c.lon, sites.c.lat), 4326).label("geom"),
    ).where(true() if rows else false())
    types = {
        "commune": "string",
        "rank": "integer",
        "kind": "string",
        "problems": "integer",
        "gain_share": "number",
        "cumulative_share": "number",
    }
    extent = select(func.ST_Extent(Commune.geom)).where(Commune.code == commune_code)
    return Source(
        stmt.subquery("camera_sites"), types, "Point", integer_ids=True, extent_from=extent
    )


def commune_titles(session: Session, code: str | None = None) -> list[tuple[str, str]]:
    """The communes of a ``commune`` account (others: the one asked), as (code, title)."""
    scope = scope_of(session)
    stmt = select(Commune.code, Commune.name).where(visible(Commune, scope)).order_by(Commune.code)
    if code is not None:
        stmt = stmt.where(Commune.code == code)
    elif not scope.commune_bound:
        return []
    return [(c, f"Sites de caméras suggérés : {name}") for c, name in session.execute(stmt)]
