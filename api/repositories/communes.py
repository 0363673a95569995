"""Communes as GeoJSON features."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import Commune, csp_commune
from api.repositories.base import GEOJSON_DECIMALS, scope_of, visible
from api.schemas import BBox, CommuneProperties, Feature, FeatureCollection, Geometry


def list_communes(
    *, session: Session, csp_id: int | None = None, bbox: BBox | None = None
) -> FeatureCollection[CommuneProperties]:
    """Communes, optionally those of one CSP and/or those intersecting a WGS84 bbox."""
    membership = csp_commune.alias("membership")
    stmt = (
        select(
            Commune.code,
            Commune.name,
            Commune.population,
            Commune.epci_code,
            Commune.epci_name,
            func.ST_AsGeoJSON(Commune.geom, GEOJSON_DECIMALS),
            select(func.array_agg(membership.c.csp_id))
            .where(membership.c.commune_code == Commune.code)
            .scalar_subquery(),
        )
        .where(visible(Commune, scope_of(session)))
        .order_by(Commune.code)
    )
    if csp_id is not None:
        stmt = stmt.join(csp_commune, csp_commune.c.commune_code == Commune.code).where(
            csp_commune.c.csp_id == csp_id
        )
    if bbox is not None:
        envelope = func.ST_MakeEnvelope(*bbox, 4326)
        stmt = stmt.where(func.ST_Intersects(Commune.geom, envelope))
    features = [
        Feature[CommuneProperties](
            id=code,
            geometry=Geometry.model_validate(json.loads(geometry)),
            properties=CommuneProperties(
                code=code,
                name=name,
                population=population,
                csp_ids=sorted(ids or []),
                epci_code=epci_code,
                epci_name=epci_name,
            ),
        )
        for code, name, population, epci_code, epci_name, geometry, ids in session.execute(stmt)
    ]
    return FeatureCollection[CommuneProperties](features=features)


def commune_names(*, session: Session, codes: list[str]) -> dict[str, str]:
    """INSEE code → name of the communes among ``codes`` (unknown codes left out)."""
    rows = session.execute(select(Commune.code, Commune.name).where(Commune.code.in_(codes)))
    return {str(code): str(name) for code, name in rows}
