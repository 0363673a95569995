"""The problems as the problems page searches them: by GPO (its sectors, and its theme's
categories), sector, category, status, period and text, within the caller's perimeter;
a page of them with the count, or all of them for an export."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Select, String, Text, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.models import Csp, Gpo, Problem, ProblemPlace
from api.repositories.base import (
    GEOJSON_DECIMALS,
    among,
    problem_properties,
    require,
    scope_of,
    visible,
)
from api.schemas import (
    Feature,
    Geometry,
    ProblemCollection,
    ProblemExport,
    ProblemExportProperties,
)
from geo.accounts import Scope
from geo.errors import InvalidInputError
from geo.problems import CATEGORIES, STATUSES
from geo.study import ACCENTED, LIGATURES, PLAIN, ProblemSearch, folded


def _folded_column(column: Any) -> Any:
    """SQL: the text in lower case without French accents (:func:`geo.study.folded`)."""
    value = func.translate(func.coalesce(column, literal("", String)), ACCENTED, PLAIN)
    for ligature, letters in LIGATURES.items():
        value = func.replace(value, ligature, letters)
    return func.lower(value)


def _like_pattern(text: str) -> str:
    """A LIKE pattern finding ``text`` (folded) anywhere, its wildcards escaped."""
    escaped = folded(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _gpo_filter(session: Session, csp_id: int, gpo_id: int) -> tuple[list[int], list[str]]:
    """The sectors and the theme's categories (empty: all) of GPO ``gpo_id``, which must
    be in the caller's perimeter (else 404) and in the CSP (else 422 naming ``gpo``)."""
    gpo = require(session, Gpo, gpo_id)
    if gpo.csp_id != csp_id:
        raise InvalidInputError("gpo_outside_csp", field="gpo", gpo_id=gpo_id)
    sectors = [gpo.sector] if gpo.sector is not None else list(gpo.sectors or [])
    categories = list(gpo.categories or []) if gpo.kind == "thematic" else []
    return sectors, categories


def _searched(session: Session, csp_id: int, search: ProblemSearch, stmt: Select[Any]) -> Any:
    """``stmt`` (on ``Problem`` outer-joined to ``ProblemPlace``) limited to the CSP's
    problems the caller sees that match the search."""
    require(session, Csp, csp_id)
    scope = scope_of(session)
    stmt = stmt.where(Problem.csp_id == csp_id)
    if search.gpo_id is not None:
        sectors, categories = _gpo_filter(session, csp_id, search.gpo_id)
        stmt = stmt.where(ProblemPlace.sector.in_(sectors))
        if categories:
            stmt = stmt.where(Problem.category.in_(categories))
        # The problems of one of the caller's own GPOs are all visible to it (the rule of
        # base.visible_problem_ids): its perimeter adds only a join the planner misjudges.
        if scope.reads_problem_records and search.gpo_id in scope.gpo_ids:
            scope = Scope.everything()
    stmt = stmt.where(visible(Problem, scope))
    if search.sectors:
        stmt = stmt.where(ProblemPlace.sector.in_(search.sectors))
    if search.categories:
        stmt = stmt.where(Problem.category.in_(search.categories))
    if search.statuses:
        stmt = stmt.where(Problem.status.in_(search.statuses))
    if search.since is not None:
        stmt = stmt.where(Problem.reported_on >= search.since)
    if search.until is not None:
        stmt = stmt.where(Problem.reported_on <= search.until)
    # Every word of the text, in the title, the description or the address.
    for word in (search.text or "").split():
        pattern = _like_pattern(word)
        stmt = stmt.where(
            or_(
                *(
                    _folded_column(column).like(pattern, escape="\\")
                    for column in (Problem.title, Problem.description, Problem.address)
                )
            )
        )
    return stmt


def _newest_first(stmt: Select[Any]) -> Select[Any]:
    return stmt.order_by(Problem.reported_on.desc(), Problem.id.desc())


def count_problems(*, session: Session, csp_id: int, search: ProblemSearch) -> int:
    """How many of the CSP's problems the caller sees match the search."""
    stmt = _searched(
        session,
        csp_id,
        search,
        select(Problem.id).outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id),
    )
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def list_problems(
    *, session: Session, csp_id: int, search: ProblemSearch, limit: int, offset: int = 0
) -> ProblemCollection:
    """A page of the CSP's problems matching the search as GeoJSON (newest first), with
    how many match in all."""
    body = list_problems_json(
        session=session, csp_id=csp_id, search=search, limit=limit, offset=offset
    )
    return ProblemCollection.model_validate_json(body)


def _label(labels: Mapping[str, str], code: Any) -> Any:
    """SQL: the label of a code in ``labels``, or the code itself."""
    return func.coalesce(literal(dict(labels), JSONB).op("->>")(code), code)


def _feature() -> Any:
    """SQL: a problem's GeoJSON feature as text, written by PostgreSQL (5 000 features:
    tens of milliseconds, where building and serialising them in Python took about a
    second): the fields of :class:`ProblemProperties`."""
    properties = func.json_build_object(
        "id", Problem.id,
        "csp_id", Problem.csp_id,
        "category", Problem.category,
        "category_label", _label(CATEGORIES, Problem.category),
        "title", Problem.title,
        "address", Problem.address,
        "reported_on", Problem.reported_on,
        "priority", Problem.priority,
        "status", Problem.status,
        "status_label", _label(STATUSES, Problem.status),
        "status_on", Problem.status_on,
        "sector", ProblemPlace.sector,
        "gpo_id", ProblemPlace.gpo_id,
        "synthetic", Problem.synthetic,
    )  # fmt: skip
    feature = func.json_build_object(
        "type", "Feature",
        "id", Problem.id,
        "geometry", cast(func.ST_AsGeoJSON(Problem.geom, GEOJSON_DECIMALS), JSON),
        "properties", properties,
    )  # fmt: skip
    return cast(feature, Text)


def collection_ends(count: int) -> tuple[bytes, bytes]:
    """What a page's answer writes before its features (joined by commas) and after them,
    with how many match in all."""
    return b'{"type":"FeatureCollection","features":[', b'],"bbox":null,"count":%d}' % count


def feature_collection(features: Sequence[bytes], count: int) -> bytes:
    """The page's answer: its features' texts (UTF-8) and how many match in all."""
    head, tail = collection_ends(count)
    return head + b",".join(features) + tail


def list_problems_json(
    *, session: Session, csp_id: int, search: ProblemSearch, limit: int, offset: int = 0
) -> bytes:
    """:func:`list_problems` as JSON bytes, each feature written by PostgreSQL."""
    stmt = _searched(
        session,
        csp_id,
        search,
        select(_feature()).outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id),
    )
    features = session.scalars(_newest_first(stmt).limit(limit).offset(offset)).all()
    count = count_problems(session=session, csp_id=csp_id, search=search)
    return feature_collection([str(f).encode() for f in features], count)


#: A listed problem: its place in the list (newest first), its id and its feature's text
#: (UTF-8: a page is these joined, never encoded again).
RankedFeature = tuple[tuple[int, int], int, bytes]


def ranked_features(
    *,
    session: Session,
    csp_id: int,
    search: ProblemSearch,
    limit: int | None = None,
    ids: Collection[int] | None = None,
) -> list[RankedFeature]:
    """The first ``limit`` problems matching the search, newest first, or those of
    ``ids`` that match: each with its place in the list (the key sorting it first), its
    id and its feature's text (:func:`list_problems_json`'s)."""
    stmt = _searched(
        session,
        csp_id,
        search,
        select(Problem.reported_on, Problem.id, _feature()).outerjoin(
            ProblemPlace, ProblemPlace.problem_id == Problem.id
        ),
    )
    if ids is not None:
        stmt = stmt.where(among(Problem.id, ids))
    else:
        stmt = _newest_first(stmt).limit(limit)
    return [
        ((-reported_on.toordinal(), -int(i)), int(i), str(text).encode())
        for reported_on, i, text in session.execute(stmt)
    ]


def matching_ids(*, session: Session, csp_id: int, search: ProblemSearch) -> list[int]:
    """The ids of every problem matching the search (how many: the list's count)."""
    stmt = _searched(
        session,
        csp_id,
        search,
        select(Problem.id).outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id),
    )
    return [int(i) for i in session.scalars(stmt)]


def export_problems(
    *, session: Session, csp_id: int, search: ProblemSearch, limit: int
) -> ProblemExport:
    """The CSP's problems matching the search (newest first, at most ``limit``) with the
    name of their GPO and their anchor, for an export."""
    stmt = _searched(
        session,
        csp_id,
        search,
        select(
            Problem,
            ProblemPlace,
            Gpo.name,
            func.ST_X(Problem.anchor),
            func.ST_Y(Problem.anchor),
            func.ST_AsGeoJSON(Problem.geom, GEOJSON_DECIMALS),
        )
        .outerjoin(ProblemPlace, ProblemPlace.problem_id == Problem.id)
        .outerjoin(Gpo, Gpo.id == ProblemPlace.gpo_id),
    )
    rows = session.execute(_newest_first(stmt).limit(limit)).all()
    return ProblemExport(
        features=[
            Feature[ProblemExportProperties](
                id=p.id,
                geometry=Geometry.model_validate(json.loads(geojson)),
                properties=ProblemExportProperties(
                    **problem_properties(p, place),
                    gpo=gpo_name,
                    lon=round(float(lon), GEOJSON_DECIMALS),
                    lat=round(float(lat), GEOJSON_DECIMALS),
                ),
            )
            for p, place, gpo_name, lon, lat, geojson in rows
        ]
    )
