"""What every repository shares: the caller's perimeter as SQL (:func:`scope_of`,
:func:`visible`), the GeoJSON precision, the lookup of a row by id within that
perimeter, the decoding of query rows whose last column is a geometry (WKB) into a
GeoDataFrame, the two reads of the adopted plan that several aggregates need (its
id, its sectors' outlines), and a problem's listed fields.

Repositories import this module and never one another."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
import shapely
from geoalchemy2 import WKBElement
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    any_,
    false,
    func,
    inspect,
    literal,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from api.models import (
    Account,
    Action,
    ApiToken,
    AuditRequest,
    Commune,
    Convention,
    CsiContract,
    Csp,
    Gpo,
    Intervention,
    Job,
    Layer,
    Meeting,
    Partner,
    Plan,
    PlanSector,
    Problem,
    ProblemPlace,
    Referent,
    csp_commune,
)
from api.schemas import ActionPublic
from geo.accounts import Scope
from geo.errors import ConflictError, NotFoundError
from geo.problems import (
    ACTION_STATUSES,
    ACTION_TYPES,
    CATEGORIES,
    STATUSES,
    action_overdue,
    theme_categories,
)

#: Decimals of the coordinates in GeoJSON answers: about 0.1 m.
GEOJSON_DECIMALS = 6


def problem_properties(p: Problem, place: ProblemPlace | None) -> dict[str, Any]:
    """The fields of :class:`api.schemas.ProblemProperties` of a problem and its placement
    (the problems' repository and the problems page's search both answer them)."""
    return {
        "id": p.id,
        "csp_id": p.csp_id,
        "category": p.category,
        "category_label": CATEGORIES.get(p.category, p.category),
        "title": p.title,
        "address": p.address,
        "reported_on": p.reported_on,
        "priority": p.priority,
        "status": p.status,
        "status_label": STATUSES.get(p.status, p.status),
        "status_on": p.status_on,
        "sector": place.sector if place is not None else None,
        "gpo_id": place.gpo_id if place is not None else None,
        "synthetic": p.synthetic,
    }


M = TypeVar("M")

#: How a "not found" message names each kind of row.
NAMES: dict[type[Any], str] = {
    Account: "compte",
    Action: "action",
    ApiToken: "jeton d'accès",
    AuditRequest: "demande d'étude de sûreté",
    Convention: "convention",
    CsiContract: "contrat de sécurité intégrée",
    Csp: "CSP",
    Gpo: "GPO",
    Intervention: "intervention",
    Job: "tâche",
    Layer: "couche",
    Meeting: "réunion",
    Partner: "partenaire",
    Plan: "plan",
    Problem: "problématique",
    Referent: "référent",
}


# -- the caller's perimeter ----------------------------------------------------------------
def scope_of(session: Session) -> Scope:
    """The perimeter of whoever the session works for (``session.info["scope"]``, set by
    :meth:`api.services.context.Context.read` and ``write``); no limit when unset."""
    scope = session.info.get("scope")
    return scope if isinstance(scope, Scope) else Scope.everything()


def visible_problem_ids(scope: Scope) -> Select[Any]:
    """The ids of the problems placed in the GPOs of a GPO-bound caller: a sector GPO's
    sector, or one of the sectors a thematic GPO spans, of the thematic GPO's categories
    when it names some (a transport operator in the « Transports » GPO reads the
    transport problems of its sectors, not the others)."""
    return (
        select(ProblemPlace.problem_id)
        .join(
            Gpo,
            and_(
                Gpo.csp_id == ProblemPlace.csp_id,
                or_(
                    Gpo.sector == ProblemPlace.sector,
                    Gpo.sectors.op("@>")(func.to_jsonb(ProblemPlace.sector).cast(JSONB)),
                ),
            ),
        )
        .join(Problem, Problem.id == ProblemPlace.problem_id)
        .where(
            Gpo.id.in_(scope.gpo_ids),
            or_(
                Gpo.kind != "thematic",
                func.jsonb_array_length(Gpo.categories) == 0,
                Gpo.categories.op("@>")(func.to_jsonb(Problem.category).cast(JSONB)),
            ),
        )
    )


def among(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column = ANY(array)``: the same rows as ``column.in_(values)``, sent as one array
    parameter instead of one parameter per value (the driver's parsing of a query with
    500 parameters cost more than the query itself)."""
    return column == any_(literal(list(values), ARRAY(column.type)))


def gpo_sectors(gpo: Gpo) -> list[int]:
    """The sectors of the adopted plan a GPO deals with: its own, or those a thematic GPO
    spans."""
    if gpo.kind == "sector":
        return [gpo.sector] if gpo.sector is not None else []
    return list(gpo.sectors or [])


def gpo_problems(gpo: Gpo) -> ColumnElement[bool]:
    """The condition on ``Problem`` of the problems a GPO deals with: those placed in its
    sector (or in one of the sectors a thematic GPO spans) and, for a thematic GPO with
    categories, of those categories."""
    condition: ColumnElement[bool] = Problem.id.in_(
        select(ProblemPlace.problem_id).where(
            ProblemPlace.csp_id == gpo.csp_id, ProblemPlace.sector.in_(gpo_sectors(gpo))
        )
    )
    if (categories := theme_categories(gpo.kind, gpo.categories or [])) is not None:
        condition = and_(condition, Problem.category.in_(categories))
    return condition


def visible(model: type[Any], scope: Scope) -> ColumnElement[bool]:
    """The SQL condition on the rows of ``model`` that a caller of ``scope`` may read:

    - no limit for the direction, the CLI and the app's own work;
    - a CSP, and what belongs to one (plans, grids, layers, partners, référents, jobs),
      within the caller's CSPs;
    - a plan: a ``chef`` or ``partenaire`` sees only the adopted plans of its CSPs;
    - a GPO: a ``chef`` or ``partenaire`` sees only its own, the others those of their
      CSPs;
    - a problem (and its actions): only a GPO-bound caller reads records, those placed in
      its GPOs; the other roles read aggregates, never a record;
    - a commune: a ``commune`` account sees its own, the others those of their CSPs;
    - a safety-study request, a convention de participation citoyenne, an intervention:
      a ``commune`` sees its communes' ones, the others those of their CSPs.
    """
    if scope.unlimited:
        return true()
    if model is Csp:
        return Csp.id.in_(scope.csp_ids)
    if model is Plan and scope.gpo_bound:
        return and_(Plan.csp_id.in_(scope.csp_ids), Plan.status == "adopted")
    if model is Gpo and scope.gpo_bound:
        return Gpo.id.in_(scope.gpo_ids)
    if model is Problem:
        return (
            Problem.id.in_(visible_problem_ids(scope)) if scope.reads_problem_records else false()
        )
    if model is Action:
        return (
            Action.problem_id.in_(visible_problem_ids(scope))
            if scope.reads_problem_records
            else false()
        )
    if model is Meeting:
        return Meeting.gpo_id.in_(select(Gpo.id).where(visible(Gpo, scope)))
    if model is Commune:
        if scope.commune_bound:
            return Commune.code.in_(scope.commune_codes)
        return Commune.code.in_(
            select(csp_commune.c.commune_code).where(csp_commune.c.csp_id.in_(scope.csp_ids))
        )
    if model is AuditRequest and scope.commune_bound:
        return AuditRequest.commune_code.in_(scope.commune_codes)
    if model in (Convention, Intervention) and scope.commune_bound:
        return model.commune_code.in_(scope.commune_codes)
    if model is CsiContract and scope.commune_bound:
        return CsiContract.commune_codes.op("?|")(
            literal(sorted(scope.commune_codes), ARRAY(String()))
        )
    csp_id = getattr(model, "csp_id", None)
    if csp_id is not None:
        return csp_id.in_(scope.csp_ids)
    return true()


def outside_perimeter(session: Session, model: type[Any], key: int | str) -> bool:
    """Whether the row of ``model`` with this primary key exists but lies outside the
    session's perimeter (what a write there answers with a 403)."""
    (column,) = inspect(model).primary_key
    inside = session.scalar(select(visible(model, scope_of(session))).where(column == key))
    return inside is False


def require(session: Session, model: type[M], row_id: int, *, lock: bool = False) -> M:
    """The row of ``model`` with this id (locked for update when ``lock``), or
    :class:`NotFoundError` naming it, also when it lies outside the session's perimeter
    (:func:`visible`): existence does not leak."""
    scope = scope_of(session)
    if scope.unlimited:
        row = session.get(model, row_id, with_for_update=lock)
    else:
        stmt = select(model).where(model.id == row_id, visible(model, scope))  # type: ignore[attr-defined]
        row = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFoundError(
            "not_found_by_id", what=NAMES.get(model, model.__name__.lower()), row_id=row_id
        )
    return row


def check_version(row: Any, expected: int | None, what: str) -> None:
    """Optimistic concurrency: raise :class:`ConflictError` when the client read ``row``
    at another ``version`` than the stored one (someone changed it since); then raise
    the row's version, which the caller's flush writes. ``expected`` None: no check."""
    if expected is not None and expected != row.version:
        raise ConflictError(
            "stale_version", field="version", what=what, stored=row.version, expected=expected
        )
    row.version += 1


def action_public(a: Action, partner_names: Mapping[int, str], today: date) -> ActionPublic:
    """An action as the API shows it (``partner_names``: organisations by partner id)."""
    return ActionPublic(
        id=a.id,
        type=a.type,
        type_label=ACTION_TYPES.get(a.type, a.type),
        lead_partner_id=a.lead_partner_id,
        lead_partner=partner_names.get(a.lead_partner_id) if a.lead_partner_id else None,
        start_on=a.start_on,
        due_on=a.due_on,
        status=a.status,
        status_label=ACTION_STATUSES.get(a.status, a.status),
        overdue=action_overdue(a.status, a.due_on, today),
        note=a.note,
        version=a.version,
    )


def geoframe(table: pd.DataFrame, wkbs: Sequence[Any], crs: int = 4326) -> gpd.GeoDataFrame:
    """``table`` with the geometries decoded from ``wkbs`` (one per row, as PostGIS'
    ``ST_AsBinary`` returns them)."""
    geometry = shapely.from_wkb([bytes(w) for w in wkbs]) if len(wkbs) else []
    return gpd.GeoDataFrame(table, geometry=geometry, crs=crs)


def read_geoframe(
    session: Session, stmt: Select[Any], columns: Sequence[str], crs: int = 4326
) -> gpd.GeoDataFrame:
    """The rows of ``stmt``, whose last column is ``ST_AsBinary`` of a geometry, as a
    GeoDataFrame with these ``columns`` (one per column before the geometry)."""
    rows = session.execute(stmt).all()
    table = pd.DataFrame([tuple(r[:-1]) for r in rows], columns=list(columns))
    return geoframe(table, [r[-1] for r in rows], crs)


def read_geometry(session: Session, stmt: Select[Any]) -> shapely.Geometry | None:
    """The one geometry (``ST_AsBinary``) that ``stmt`` selects, or None without a row."""
    wkb = session.scalar(stmt)
    return None if wkb is None else shapely.from_wkb(bytes(wkb))


def multipolygon(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of ``geom`` as one valid MultiPolygon (what sector columns store):
    an outline that reprojection or rounding left invalid is repaired (``make_valid``,
    its polygons kept), so that no invalid sector is stored."""
    out = _as_multipolygon(geom)
    if not out.is_valid:
        out = _as_multipolygon(shapely.union_all(shapely.get_parts(shapely.make_valid(out))))
    return out


def _as_multipolygon(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon(
        [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    )


def adopted_plan_id(session: Session, csp_id: int) -> int | None:
    """The id of the CSP's adopted plan, if any (the plan its GPOs and problems follow)."""
    return session.scalar(select(Plan.id).where(Plan.csp_id == csp_id, Plan.status == "adopted"))


def wkb_element(geom: shapely.Geometry) -> WKBElement:
    """A shapely geometry as a WGS84 column value."""
    return WKBElement(shapely.to_wkb(geom), srid=4326)


def plan_sector_outlines(
    session: Session, plan_id: int, sectors: Sequence[int] | None = None
) -> gpd.GeoDataFrame:
    """The outlines of a plan's sectors (all, or these), with their ``sector`` index."""
    stmt = select(PlanSector.sector, func.ST_AsBinary(PlanSector.geom)).where(
        PlanSector.plan_id == plan_id
    )
    if sectors is not None:
        stmt = stmt.where(PlanSector.sector.in_(list(sectors)))
    return read_geoframe(session, stmt, ["sector"])


#: What the maps read (problems, placements, GPOs' areas); the lists add ``follow_up``.
MAPS: tuple[str, ...] = ("problems",)
LISTS: tuple[str, ...] = ("problems", "follow_up")
#: What the GPOs' counts read: the problems and, of the actions, which are open and when
#: they are due (``counts``, migration 0021: a comment on an action leaves them).
COUNTS: tuple[str, ...] = ("problems", "counts")
#: What the GPOs' list reads: the GPOs and their partners (``problems``: every write of
#: a GPO, and of its partners, which raises its version, moves it), the open problems
#: (``problems``), which actions are open and when they are due (``counts``) and the
#: meetings (``meetings``: the last closed one, the next planned one). Not ``follow_up``:
#: an action step, a comment leave it (:func:`api.services.gpos.list_gpos_json`).
GPO_LIST: tuple[str, ...] = ("problems", "counts", "meetings")
#: What a GPO's meetings list reads (migration 0024): its meetings, partners and
#: decisions, the problems' titles and the GPOs (``problems``), and who closed a meeting
#: (``accounts``, of every CSP).
MEETINGS: tuple[str, ...] = ("meetings", "problems", "accounts")
#: Of those, what a GPO's meetings list reads but the problems: when only ``problems``
#: moved, the list is kept unless a problem it names was written
#: (:func:`api.services.meetings.list_meetings_json`).
MEETINGS_OWN: tuple[str, ...] = ("meetings", "accounts")


def problem_revision(
    *, session: Session, csp_id: int | None, topics: tuple[str, ...] = MAPS
) -> int:
    """The revision of a CSP's problems for these topics (migration 0019): rises with
    every committed write that can change them, in this CSP or in every CSP. ``csp_id``
    None: of every CSP's problems."""
    # Written once (most cached answers ask it at every request: building the statement
    # and its cache key cost more CPU than running it); the topics as one array.
    if csp_id is None:
        value = session.scalar(_REVISION_ALL, {"topics": list(topics)})
    else:
        value = session.scalar(_REVISION_OF_CSP, {"topics": list(topics), "csp": csp_id})
    return int(value or 0)


_REVISION_ALL = text("SELECT coalesce(sum(n), 0) FROM problem_revision WHERE topic = ANY(:topics)")
_REVISION_OF_CSP = text(
    "SELECT coalesce(sum(n), 0) FROM problem_revision "
    "WHERE topic = ANY(:topics) AND csp_id IN (0, :csp)"
)
