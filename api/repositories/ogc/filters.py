"""CQL2 filters (:mod:`geo.cql2`), ``bbox`` and ``datetime`` as SQL conditions on a
collection's source (:class:`Source`: a subquery with ``id``, properties and ``geom``), and
the reads on a source: how many match, a page of features written as GeoJSON by PostgreSQL
(one text per page), one feature."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import shapely
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Float,
    Select,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from geo import cql2
from geo.errors import InvalidInputError
from geo.ogc import DECIMALS


@dataclass(frozen=True)
class Source:
    """A collection's rows as SQL: ``table`` has ``id``, the properties and ``geom``.
    ``types`` gives each property's type (all queryable and sortable); ``outputs`` are
    shown but not queryable; ``temporal`` is the property ``datetime`` filters on."""

    table: Subquery
    types: dict[str, str]
    geometry: str  # the GeoJSON geometry type, or "Geometry" when mixed
    temporal: str | None = None
    outputs: tuple[str, ...] = ()
    integer_ids: bool = False
    extent_from: Select[Any] | None = field(default=None, compare=False)


# -- filters -------------------------------------------------------------------------------
def _envelope(box: Sequence[float], srid: int) -> Any:
    envelope = func.ST_MakeEnvelope(*box, srid)
    return envelope if srid == 4326 else func.ST_Transform(envelope, 4326)


def _geometry(geom: shapely.Geometry, srid: int) -> Any:
    value = func.ST_GeomFromWKB(literal(shapely.to_wkb(geom)), srid)
    return value if srid == 4326 else func.ST_Transform(value, 4326)


_SPATIAL = ("geometry", "geom")


def _value(source: Source, name: str, lit: cql2.Lit) -> Any:
    """A literal compared with property ``name``, checked against its type."""
    kind, value = source.types[name], lit.value
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int | float) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "date": isinstance(value, date),
    }[kind]
    if kind == "date" and isinstance(value, str):
        try:
            value, ok = date.fromisoformat(value), True
        except ValueError:
            ok = False
    if not ok:
        expected = {
            "string": "un texte entre apostrophes",
            "integer": "un nombre",
            "number": "un nombre",
            "boolean": "TRUE ou FALSE",
            "date": "une date, DATE('AAAA-MM-JJ')",
        }[kind]
        raise InvalidInputError(
            "cql_property_type", field="filter", name=name, expected=expected, value=str(value)
        )
    if isinstance(value, datetime):
        value = value.date()
    return literal(value, type_=_SQL_TYPES[kind]())


_SQL_TYPES: dict[str, Callable[[], Any]] = {
    "string": String,
    "integer": Float,
    "number": Float,
    "boolean": Boolean,
    "date": Date,
}


def _column(source: Source, prop: cql2.Prop) -> Any:
    if prop.name not in source.types:
        known = ", ".join(source.types)
        raise InvalidInputError("cql_property_unknown", field="filter", name=prop.name, known=known)
    return source.table.c[prop.name]


def _operand(source: Source, node: cql2.Prop | cql2.Lit, other: cql2.Prop | cql2.Lit) -> Any:
    if isinstance(node, cql2.Prop):
        return _column(source, node)
    if isinstance(other, cql2.Prop):
        _column(source, other)
        return _value(source, other.name, node)
    return literal(node.value)


def compile_filter(node: cql2.Node, source: Source, srid: int = 4326) -> ColumnElement[bool]:
    """A CQL2 syntax tree as a condition on ``source`` (literal geometries in ``srid``)."""
    c = source.table.c
    if isinstance(node, cql2.And):
        return and_(*(compile_filter(n, source, srid) for n in node.items))
    if isinstance(node, cql2.Or):
        return or_(*(compile_filter(n, source, srid) for n in node.items))
    if isinstance(node, cql2.Not):
        return not_(compile_filter(node.item, source, srid))
    if isinstance(node, cql2.Const):
        return true() if node.value else false()
    if isinstance(node, cql2.Intersects):
        if node.item.name not in _SPATIAL:
            raise InvalidInputError("cql_intersects_geometry", field="filter", name=node.item.name)
        return func.ST_Intersects(c.geom, _geometry(node.geometry, srid))
    if isinstance(node, cql2.Compare):
        left, right = node.left, node.right
        if isinstance(left, cql2.Prop) and isinstance(right, cql2.Prop):
            kinds = {source.types.get(left.name), source.types.get(right.name)}
            _column(source, left), _column(source, right)
            if len(kinds - {"integer", "number"} if kinds <= {"integer", "number"} else kinds) > 1:
                raise InvalidInputError(
                    "cql_types_differ", field="filter", left=left.name, right=right.name
                )
        a, b = _operand(source, left, right), _operand(source, right, left)
        return {
            "=": a == b,
            "<>": a != b,
            "<": a < b,
            ">": a > b,
            "<=": a <= b,
            ">=": a >= b,
        }[node.op]
    column = _column(source, node.item)
    condition: ColumnElement[bool]
    if isinstance(node, cql2.IsNull):
        return column.is_not(None) if node.negated else column.is_(None)
    if isinstance(node, cql2.Like):
        if source.types[node.item.name] != "string":
            raise InvalidInputError("cql_like_text", field="filter", name=node.item.name)
        condition = column.like(node.pattern)
    elif isinstance(node, cql2.Between):
        condition = column.between(
            _value(source, node.item.name, node.low), _value(source, node.item.name, node.high)
        )
    else:
        assert isinstance(node, cql2.In)
        condition = column.in_([_value(source, node.item.name, v) for v in node.values])
    return not_(condition) if node.negated else condition


def conditions(
    source: Source,
    *,
    bbox: Sequence[float] | None = None,
    bbox_srid: int = 4326,
    dates: tuple[date | None, date | None] | None = None,
    node: cql2.Node | None = None,
    filter_srid: int = 4326,
) -> list[ColumnElement[bool]]:
    """The conditions of a request's ``bbox``, ``datetime`` and ``filter`` on ``source``."""
    out: list[ColumnElement[bool]] = []
    c = source.table.c
    if bbox is not None:
        out.append(func.ST_Intersects(c.geom, _envelope(bbox, bbox_srid)))
    if dates is not None and source.temporal is not None:
        first, last = dates
        if first is not None:
            out.append(c[source.temporal] >= first)
        if last is not None:
            out.append(c[source.temporal] <= last)
    if node is not None:
        out.append(compile_filter(node, source, filter_srid))
    return out


# -- reading ------------------------------------------------------------------------------
def count(session: Session, source: Source, where: Sequence[ColumnElement[bool]]) -> int:
    return int(session.scalar(select(func.count()).select_from(source.table).where(*where)) or 0)


def id_marks(
    session: Session, source: Source, where: Sequence[ColumnElement[bool]], stride: int
) -> list[int]:
    """The ids at ranks ``stride``, ``2 * stride``… (counted from 1) of the rows meeting
    ``where`` in id order: a sparse index turning a deep ``offset`` into a keyset start
    (one pass over the ids, read once per filter)."""
    c = source.table.c
    numbered = (
        select(c.id.label("mark"), func.row_number().over(order_by=c.id).label("rank"))
        .where(*where)
        .subquery("numbered")
    )
    stmt = select(numbered.c.mark).where(numbered.c.rank % stride == 0).order_by(numbered.c.rank)
    return [int(i) for i in session.scalars(stmt)]


def _feature_json(source: Source, names: Sequence[str], srid: int) -> Any:
    """A feature as GeoJSON text, put together as text: the geometry's GeoJSON (PostGIS)
    is not parsed again into a JSON value (every geometry column is NOT NULL)."""
    c = source.table.c
    geom = c.geom if srid == 4326 else func.ST_Transform(c.geom, srid)
    pairs: list[Any] = []
    for name in names:
        pairs += [literal(name), c[name]]
    return func.concat(
        '{"type":"Feature","id":',
        cast(func.to_json(c.id), String),
        ',"geometry":',
        func.ST_AsGeoJSON(geom, DECIMALS[srid]),
        ',"properties":',
        cast(func.json_build_object(*pairs), String),
        "}",
    )


@dataclass(frozen=True)
class FeaturePage:
    """A page of features: their GeoJSON texts joined by commas, how many, and the id of
    the last one when the page is in id order (the next page starts after it)."""

    features: str
    returned: int
    last_id: Any


def page(
    session: Session,
    source: Source,
    where: Sequence[ColumnElement[bool]],
    *,
    names: Sequence[str],
    sort: Sequence[tuple[str, bool]],
    limit: int,
    offset: int,
    srid: int,
    after: int | None = None,
    skip: int = 0,
) -> FeaturePage:
    """One page of features, sorted by ``sort`` then by id, written as one text by
    PostgreSQL (``string_agg``: no Python object per feature).

    ``after`` (keyset paging, for a page in id order only) starts the page after that id,
    read from the primary key, instead of skipping ``offset`` rows (then ``skip`` rows
    after it are skipped: a deep offset translated by :func:`id_marks`). Past the first page of
    a collection whose ids are its table's keys, the page's ids are chosen first (narrow
    rows) and only they are written as GeoJSON: PostgreSQL would otherwise build the JSON
    of every row the offset skips."""
    # A page stops after ``limit`` rows: parallel workers would cost more to start (tens
    # of ms on a busy machine) than they save (the spatial filters' inflated costs make the
    # planner want them). Counts keep them.
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    c = source.table.c
    order = [c[name].asc() if up else c[name].desc() for name, up in sort]
    sorted_by = [c[name].label(f"sort_{name}") for name, _ in sort]
    feature = _feature_json(source, names, srid).label("feature")
    if after is not None or (offset > 0 and source.integer_ids):
        chosen = select(c.id.label("page_id")).where(*where)
        if after is not None:
            chosen = chosen.where(c.id > after).order_by(c.id).offset(skip).limit(limit)
        else:
            chosen = chosen.order_by(*order, c.id).limit(limit).offset(offset)
        ids = chosen.subquery("page")
        rows = (
            select(c.id.label("fid"), feature, *sorted_by)
            .select_from(source.table.join(ids, ids.c.page_id == c.id))
            .subquery("rows")
        )
    else:
        rows = (
            select(c.id.label("fid"), feature, *sorted_by)
            .where(*where)
            .order_by(*order, c.id)
            .limit(limit)
            .offset(offset)
            .subquery("rows")
        )
    r = rows.c
    keys = [r[f"sort_{name}"].asc() if up else r[f"sort_{name}"].desc() for name, up in sort]
    stmt = select(
        func.string_agg(r.feature, aggregate_order_by(literal(","), *keys, r.fid)),
        func.count(),
        func.max(r.fid) if not sort and source.integer_ids else null(),
    ).select_from(rows)
    features, returned, last_id = session.execute(stmt).one()
    return FeaturePage(features or "", int(returned), last_id)


def item(
    session: Session, source: Source, feature_id: str, *, names: Sequence[str], srid: int
) -> str | None:
    """One feature by its id, as GeoJSON text; None when there is none (in the perimeter)."""
    key: Any = feature_id
    if source.integer_ids:
        if not feature_id.isdigit() or len(feature_id) > 18:
            return None
        key = int(feature_id)
    stmt = select(_feature_json(source, names, srid)).where(source.table.c.id == key)
    return session.scalar(stmt)
