"""CSP (circonscriptions de sécurité publique): summaries and outlines."""

from __future__ import annotations

import json
from typing import Any

import shapely
from sqlalchemy import RowMapping, func, or_, select
from sqlalchemy.orm import Session

from api.models import Commune, Csp, csp_commune
from api.repositories.base import GEOJSON_DECIMALS, read_geometry, require, scope_of, visible
from api.schemas import CspProperties, CspPublic, CspsPublic, Feature, FeatureCollection, Geometry
from geo.errors import NotFoundError


def _summary_columns() -> list[Any]:
    members = (
        select(
            func.count(Commune.code).label("commune_count"),
            func.sum(Commune.population).label("population"),
            func.array_agg(func.distinct(Commune.code)).label("commune_codes"),
        )
        .join(csp_commune, csp_commune.c.commune_code == Commune.code)
        .where(csp_commune.c.csp_id == Csp.id)
        .lateral("members")
    )
    return [
        Csp.id,
        Csp.code,
        Csp.name,
        members.c.commune_count,
        members.c.population,
        (func.ST_Area(func.Geography(Csp.geom)) / 1e6).label("area_km2"),
        func.ST_XMin(Csp.geom).label("xmin"),
        func.ST_YMin(Csp.geom).label("ymin"),
        func.ST_XMax(Csp.geom).label("xmax"),
        func.ST_YMax(Csp.geom).label("ymax"),
        members.c.commune_codes,
    ]


def _public(row: RowMapping) -> CspPublic:
    return CspPublic(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        commune_count=row["commune_count"],
        population=row["population"],
        area_km2=round(float(row["area_km2"]), 3),
        bbox=(row["xmin"], row["ymin"], row["xmax"], row["ymax"]),
    )


def list_csps(*, session: Session) -> CspsPublic:
    stmt = select(*_summary_columns()).where(visible(Csp, scope_of(session)))
    rows = session.execute(stmt.order_by(Csp.name)).mappings().all()
    data = [_public(row) for row in rows]
    return CspsPublic(data=data, count=len(data))


def get_csp(*, session: Session, csp_id: int) -> FeatureCollection[CspProperties]:
    """The CSP outline as a one-feature collection; :class:`NotFoundError` if unknown."""
    row = (
        session.execute(
            select(
                *_summary_columns(), func.ST_AsGeoJSON(Csp.geom, GEOJSON_DECIMALS).label("geojson")
            ).where(Csp.id == csp_id, visible(Csp, scope_of(session)))
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFoundError("not_found_by_id", what="CSP", row_id=csp_id)
    summary = _public(row)
    properties = CspProperties(**summary.model_dump(), commune_codes=sorted(row["commune_codes"]))
    feature = Feature[CspProperties](
        id=summary.id,
        geometry=Geometry.model_validate(json.loads(row["geojson"])),
        properties=properties,
    )
    return FeatureCollection[CspProperties](features=[feature], bbox=summary.bbox)


def find_csp_id(*, session: Session, name_or_code: str) -> int | None:
    """The id of the CSP with this id, code or name."""
    ident = int(name_or_code) if name_or_code.isdigit() and len(name_or_code) < 10 else -1
    found = session.scalar(
        select(Csp.id).where(
            or_(Csp.id == ident, Csp.code == name_or_code, Csp.name == name_or_code)
        )
    )
    return None if found is None else int(found)


def csp_outline(*, session: Session, csp_id: int) -> shapely.Geometry:
    """The CSP's outline (the union of its communes); :class:`NotFoundError` if unknown."""
    require(session, Csp, csp_id)
    outline = read_geometry(session, select(func.ST_AsBinary(Csp.geom)).where(Csp.id == csp_id))
    assert outline is not None
    return outline


def any_csp(*, session: Session) -> bool:
    """Whether the database holds a CSP (an empty one gets the demo)."""
    return session.scalar(select(Csp.id).limit(1)) is not None
