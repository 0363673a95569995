"""CSP (circonscriptions de sécurité publique): summaries and outlines."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import RowMapping, func, select
from sqlalchemy.orm import Session

from api.models import Commune, Csp, csp_commune
from api.repositories.communes import GEOJSON_DECIMALS
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
    rows = session.execute(select(*_summary_columns()).order_by(Csp.name)).mappings().all()
    data = [_public(row) for row in rows]
    return CspsPublic(data=data, count=len(data))


def get_csp(*, session: Session, csp_id: int) -> FeatureCollection[CspProperties]:
    """The CSP outline as a one-feature collection; :class:`NotFoundError` if unknown."""
    row = (
        session.execute(
            select(
                *_summary_columns(), func.ST_AsGeoJSON(Csp.geom, GEOJSON_DECIMALS).label("geojson")
            ).where(Csp.id == csp_id)
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFoundError(f"no CSP with id {csp_id}")
    summary = _public(row)
    properties = CspProperties(**summary.model_dump(), commune_codes=sorted(row["commune_codes"]))
    feature = Feature[CspProperties](
        id=summary.id,
        geometry=Geometry.model_validate(json.loads(row["geojson"])),
        properties=properties,
    )
    return FeatureCollection[CspProperties](features=[feature], bbox=summary.bbox)


def require_csp(*, session: Session, csp_id: int) -> None:
    """Raise :class:`NotFoundError` unless the CSP exists."""
    if session.get(Csp, csp_id) is None:
        raise NotFoundError(f"no CSP with id {csp_id}")
