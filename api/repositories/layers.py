"""Layers: import (all or nothing), listing per CSP, features as GeoJSON, QPV lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from api.models import Commune, CommuneQpv, Csp, Layer, LayerFeature, csp_commune
from api.repositories.base import (
    GEOJSON_DECIMALS,
    geoframe,
    read_geoframe,
    read_geometry,
    require,
)
from api.schemas import (
    BBox,
    Feature,
    FeatureCollection,
    Geometry,
    LayerFeatureProperties,
    LayerPublic,
)
from geo.errors import InvalidInputError, NotFoundError, UnknownCommunesError
from geo.layers import Layer as GeoLayer
from geo.layers import LayerKind


def territory(*, session: Session) -> BaseGeometry:
    """Union of every commune in the database: what layers are checked against."""
    union = read_geometry(session, select(func.ST_AsBinary(func.ST_Union(Commune.geom))))
    if union is None:
        raise InvalidInputError("territory_missing")
    return union


def _wkb(geoms: Any) -> list[WKBElement]:
    return [WKBElement(w, srid=4326) for w in shapely.to_wkb(geoms)]


def create_layer(*, session: Session, name: str, source: str, layer: GeoLayer) -> Layer:
    """Store a validated layer and its features; ``name`` must be new."""
    name = name.strip()
    if not name:
        raise InvalidInputError("name_required", field="name")
    if session.scalar(select(Layer.id).where(Layer.name == name)) is not None:
        raise InvalidInputError("layer_name_taken", field="name", name=name)
    row = Layer(
        name=name,
        kind=layer.kind.value,
        source=source,
        source_crs=layer.source_crs,
        feature_count=len(layer.features),
        warnings=list(layer.warnings),
        extent=from_shape(layer.extent, srid=4326) if layer.extent is not None else None,
    )
    session.add(row)
    session.flush()
    f = layer.features
    value_columns = [
        c for c in ("population", "households", "poor_households", "social_housing") if c in f
    ]
    category = {"barriers": "class", "buildings": "class", "points": "type"}.get(layer.kind.value)
    rows = [
        {
            "layer_id": row.id,
            "code": f["code"].iloc[i] if "code" in f else None,
            "name": None
            if "name" not in f or pd.isna(f["name"].iloc[i])
            else str(f["name"].iloc[i]),
            "category": f[category].iloc[i] if category else None,
            "bridge": bool(f["bridge"].iloc[i]) if "bridge" in f else False,
            "tunnel": bool(f["tunnel"].iloc[i]) if "tunnel" in f else False,
            "values": {c: float(f[c].iloc[i]) for c in value_columns},
            "attributes": f["attributes"].iloc[i],
            "geom": geom,
        }
        for i, geom in enumerate(_wkb(f.geometry.to_numpy()))
    ]
    if rows:
        session.execute(insert(LayerFeature), rows)
    return row


def delete_layer(*, session: Session, layer_id: int) -> None:
    if session.execute(delete(Layer).where(Layer.id == layer_id)).rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError("not_found_by_id", what="couche", row_id=layer_id)


def list_layers(*, session: Session, csp_id: int) -> list[LayerPublic]:
    """Layers with at least one feature in the CSP, with how many."""
    csp_geom = select(Csp.geom).where(Csp.id == csp_id).scalar_subquery()
    in_csp = (
        select(LayerFeature.layer_id, func.count().label("n"))
        .where(func.ST_Intersects(LayerFeature.geom, csp_geom))
        .group_by(LayerFeature.layer_id)
        .subquery()
    )
    rows = session.execute(
        select(Layer, in_csp.c.n)
        .join(in_csp, in_csp.c.layer_id == Layer.id)
        .order_by(Layer.kind, Layer.name)
    ).all()
    return [layer_public(layer, features_in_csp=n) for layer, n in rows]


def layer_public(layer: Layer, *, features_in_csp: int | None = None) -> LayerPublic:
    return LayerPublic(
        id=layer.id,
        name=layer.name,
        kind=LayerKind(layer.kind),
        source=layer.source,
        source_crs=layer.source_crs,
        feature_count=layer.feature_count,
        features_in_csp=features_in_csp,
        warnings=layer.warnings,
        created_at=layer.created_at,
    )


def layer_features(
    *, session: Session, layer_id: int, bbox: BBox | None = None
) -> FeatureCollection[LayerFeatureProperties]:
    require(session, Layer, layer_id)
    stmt = (
        select(
            LayerFeature.id,
            LayerFeature.code,
            LayerFeature.name,
            LayerFeature.category,
            LayerFeature.bridge,
            LayerFeature.tunnel,
            LayerFeature.values,
            func.ST_AsGeoJSON(LayerFeature.geom, GEOJSON_DECIMALS),
        )
        .where(LayerFeature.layer_id == layer_id)
        .order_by(LayerFeature.id)
    )
    if bbox is not None:
        stmt = stmt.where(func.ST_Intersects(LayerFeature.geom, func.ST_MakeEnvelope(*bbox, 4326)))
    features = [
        Feature[LayerFeatureProperties](
            id=fid,
            geometry=Geometry.model_validate(json.loads(geojson)),
            properties=LayerFeatureProperties(
                code=code, name=name, category=category, bridge=bridge, tunnel=tunnel, values=values
            ),
        )
        for fid, code, name, category, bridge, tunnel, values, geojson in session.execute(stmt)
    ]
    return FeatureCollection[LayerFeatureProperties](features=features)


@dataclass(frozen=True)
class GridSource:
    """The population grid features that cover a CSP, and the grid's extent."""

    squares: gpd.GeoDataFrame
    extent: BaseGeometry
    layer_id: int


def latest_population_grid(*, session: Session, csp_id: int) -> GridSource | None:
    """The most recent population grid layer that intersects the CSP, if any."""
    csp_geom = select(Csp.geom).where(Csp.id == csp_id).scalar_subquery()
    layer = session.scalars(
        select(Layer)
        .where(Layer.kind == LayerKind.POPULATION_GRID.value)
        .where(
            select(LayerFeature.id)
            .where(
                LayerFeature.layer_id == Layer.id, func.ST_Intersects(LayerFeature.geom, csp_geom)
            )
            .exists()
        )
        .order_by(Layer.created_at.desc(), Layer.id.desc())
        .limit(1)
    ).first()
    if layer is None or layer.extent is None:
        return None
    rows = session.execute(
        select(LayerFeature.values, func.ST_AsBinary(LayerFeature.geom)).where(
            LayerFeature.layer_id == layer.id, func.ST_Intersects(LayerFeature.geom, csp_geom)
        )
    ).all()
    squares = geoframe(pd.DataFrame([v for v, _ in rows]).fillna(0.0), [g for _, g in rows])
    return GridSource(squares=squares, extent=to_shape(layer.extent), layer_id=layer.id)


def barrier_lines(*, session: Session, csp_id: int, margin_m: float) -> gpd.GeoDataFrame:
    """Barrier-layer lines within ``margin_m`` of the CSP (crossings just outside count)."""
    csp_geom = select(Csp.geom).where(Csp.id == csp_id).scalar_subquery()
    return read_geoframe(
        session,
        select(
            LayerFeature.category,
            LayerFeature.bridge,
            LayerFeature.tunnel,
            func.ST_AsBinary(LayerFeature.geom),
        )
        .join(Layer, Layer.id == LayerFeature.layer_id)
        .where(Layer.kind == LayerKind.BARRIERS.value)
        .where(
            func.ST_DWithin(func.Geography(LayerFeature.geom), func.Geography(csp_geom), margin_m)
        ),
        ["class", "bridge", "tunnel"],
    )


def link_lines(*, session: Session, csp_id: int, margin_m: float) -> gpd.GeoDataFrame:
    """Lines of the ``links`` layers (ferries, private bridges, tunnels) within
    ``margin_m`` of the CSP, with their ``name``."""
    csp_geom = select(Csp.geom).where(Csp.id == csp_id).scalar_subquery()
    return read_geoframe(
        session,
        select(LayerFeature.name, func.ST_AsBinary(LayerFeature.geom))
        .join(Layer, Layer.id == LayerFeature.layer_id)
        .where(Layer.kind == LayerKind.LINKS.value)
        .where(
            func.ST_DWithin(func.Geography(LayerFeature.geom), func.Geography(csp_geom), margin_m)
        ),
        ["name"],
    )


def replace_qpv_list(*, session: Session, rows: list[tuple[str, str, str]]) -> int:
    """Record QPVs per commune (commune code, QPV code, QPV name), replacing those communes'."""
    codes = {c for c, _, _ in rows}
    known = set(session.scalars(select(Commune.code).where(Commune.code.in_(codes))))
    if unknown := codes - known:
        raise UnknownCommunesError(unknown)
    session.execute(delete(CommuneQpv).where(CommuneQpv.commune_code.in_(codes)))
    unique = {(c, q): n for c, q, n in rows}
    session.execute(
        insert(CommuneQpv),
        [{"commune_code": c, "qpv_code": q, "qpv_name": n} for (c, q), n in unique.items()],
    )
    return len(unique)


def qpv_by_commune(*, session: Session, csp_id: int) -> dict[str, list[str]]:
    """The names of the QPVs of each commune of the CSP, from the QPV lists."""
    qpv: dict[str, list[str]] = {}
    rows = session.execute(
        select(CommuneQpv.commune_code, CommuneQpv.qpv_name)
        .join(csp_commune, csp_commune.c.commune_code == CommuneQpv.commune_code)
        .where(csp_commune.c.csp_id == csp_id)
        .order_by(CommuneQpv.commune_code, CommuneQpv.qpv_name)
    )
    for code, name in rows:
        qpv.setdefault(code, []).append(name)
    return qpv


def camera_points(
    *, session: Session, outline: BaseGeometry, camera_words: Sequence[str]
) -> list[tuple[float, float, str]]:
    """(lon, lat, label) of the points-layer features inside ``outline`` whose type names
    a camera (one of ``camera_words``, lower-case)."""
    inside = func.ST_GeomFromWKB(outline.wkb, 4326)
    is_camera = func.lower(func.coalesce(LayerFeature.category, "")).op("~")("|".join(camera_words))
    rows = session.execute(
        select(
            func.ST_X(LayerFeature.geom),
            func.ST_Y(LayerFeature.geom),
            func.coalesce(LayerFeature.name, LayerFeature.category),
        )
        .join(Layer, Layer.id == LayerFeature.layer_id)
        .where(Layer.kind == LayerKind.POINTS.value, is_camera)
        .where(func.ST_Intersects(LayerFeature.geom, inside))
        .order_by(LayerFeature.id)
    ).all()
    return [(float(x), float(y), str(label)) for x, y, label in rows]


def layers_signature(*, session: Session) -> tuple[int, int]:
    """How many layers there are and the newest id: it changes when a layer is added or
    removed."""
    count, last = session.execute(select(func.count(), func.max(Layer.id))).one()
    return int(count), int(last or 0)
