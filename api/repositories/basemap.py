"""The base map's data: its vector tiles, built by PostGIS (``ST_AsMVTGeom``,
``ST_AsMVT``) from the communes, the barriers and buildings layers' features and the
address table, and what the territory has of each base layer."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.models import Layer, LayerFeature
from api.repositories.base import read_geoframe
from geo.basemap import (
    ADDRESSES_ZOOM,
    BUFFER,
    BUILDINGS_ZOOM,
    EXTENT,
    MAIN_ROADS,
    MAX_STREET_LABELS,
    MINOR_ROADS_ZOOM,
    RAILWAY_CLASSES,
    SECONDARY_ROADS,
    SECONDARY_ROADS_ZOOM,
    WATER_CLASSES,
)

_FEATURES = """
    SELECT coalesce(f.name, f.attributes->>'name') AS name, f.category AS class,
           f.bridge, f.tunnel,
           ST_AsMVTGeom(ST_Transform(f.geom, 3857), b.env, :extent, :buffer, true) AS geom
    FROM layer_feature f JOIN layer l ON l.id = f.layer_id, b
    WHERE l.kind = 'barriers' AND f.geom && b.box AND {condition}
"""

_TILE = f"""
WITH b AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS env,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS box
),
communes AS (
    SELECT c.code, c.name,
           ST_AsMVTGeom(ST_Transform(c.geom, 3857), b.env, :extent, :buffer, true) AS geom
    FROM commune c, b WHERE c.geom && b.box
),
roads AS ({
    _FEATURES.format(
        condition="f.category <> ALL(:not_roads) AND (:z >= :minor_zoom "
        "OR f.category = ANY(:main) OR (:z >= :secondary_zoom AND f.category = ANY(:secondary)))"
    )
}),
railways AS ({_FEATURES.format(condition="f.category = ANY(:railways)")}),
buildings AS (
    -- ST_AsMVTGeom snaps the outlines to the tile's grid (a few decimetres at zoom 15):
    -- simplified enough for a background.
    SELECT f.category AS class,
           ST_AsMVTGeom(ST_Transform(f.geom, 3857), b.env, :extent, :buffer, true) AS geom
    FROM layer_feature f JOIN layer l ON l.id = f.layer_id, b
    WHERE :z >= :buildings_zoom AND l.kind = 'buildings' AND f.geom && b.box
),
water AS ({_FEATURES.format(condition="f.category = ANY(:water)")}),
addresses AS (
    SELECT trim(a.number || ' ' || coalesce(a.suffix, '')) AS number, a.street,
           ST_AsMVTGeom(ST_Transform(a.geom, 3857), b.env, :extent, :buffer, true) AS geom
    FROM address a, b WHERE :z >= :addresses_zoom AND a.geom && b.box
)
SELECT
    coalesce((SELECT ST_AsMVT(t, 'communes', :extent, 'geom') FROM communes t
              WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(t, 'buildings', :extent, 'geom') FROM buildings t
                 WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(t, 'water', :extent, 'geom') FROM water t
                 WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(t, 'roads', :extent, 'geom') FROM roads t
                 WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(t, 'railways', :extent, 'geom') FROM railways t
                 WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(t, 'addresses', :extent, 'geom') FROM addresses t
                 WHERE geom IS NOT NULL), '')
"""


def tile(session: Session, z: int, x: int, y: int) -> bytes:
    """The base map's tile ``z/x/y``: one MVT layer per base layer that has features in it
    (empty bytes when none has), in the order they are drawn (buildings under the roads)."""
    params: dict[str, Any] = {
        "z": z,
        "x": x,
        "y": y,
        "margin": BUFFER / EXTENT,
        "extent": EXTENT,
        "buffer": BUFFER,
        "not_roads": list(RAILWAY_CLASSES + WATER_CLASSES),
        "railways": list(RAILWAY_CLASSES),
        "water": list(WATER_CLASSES),
        "main": list(MAIN_ROADS),
        "secondary": list(SECONDARY_ROADS),
        "minor_zoom": MINOR_ROADS_ZOOM,
        "secondary_zoom": SECONDARY_ROADS_ZOOM,
        "addresses_zoom": ADDRESSES_ZOOM,
        "buildings_zoom": BUILDINGS_ZOOM,
    }
    return bytes(session.execute(text(_TILE), params).scalar_one())


def lines_in(session: Session, extent: BaseGeometry) -> gpd.GeoDataFrame:
    """The barriers layers' lines (``category``) that meet ``extent`` (WGS84)."""
    envelope = func.ST_MakeEnvelope(*extent.bounds, 4326)
    stmt = (
        select(LayerFeature.category, func.ST_AsBinary(LayerFeature.geom))
        .join(Layer, Layer.id == LayerFeature.layer_id)
        .where(Layer.kind == "barriers", LayerFeature.geom.intersects(envelope))
    )
    return read_geoframe(session, stmt, ["category"])


def revision(session: Session) -> tuple[Any, ...]:
    """What changes whenever the base map's data change: the layers (their count and
    newest id: importing or deleting roads or buildings changes them), the communes (their
    count and newest row version) and the addresses (their newest id: an import, updating
    or replacing, inserts new rows)."""
    row = session.execute(
        text(
            "SELECT (SELECT count(*) FROM layer), (SELECT coalesce(max(id), 0) FROM layer), "
            "(SELECT count(*) FROM commune), "
            "(SELECT coalesce(max(xmin::text::bigint), 0) FROM commune), "
            "(SELECT coalesce(max(id), 0) FROM address)"
        )
    ).one()
    return tuple(row)


def counts(session: Session, csp_id: int | None) -> dict[str, int]:
    """How many features of each base layer the territory has (the CSP's, when given)."""
    where_commune = "" if csp_id is None else "WHERE c.code IN (SELECT commune_code FROM m)"
    where_feature = "" if csp_id is None else "AND ST_Intersects(f.geom, (SELECT geom FROM o))"
    where_address = "" if csp_id is None else "WHERE a.citycode IN (SELECT commune_code FROM m)"
    sql = f"""
    WITH m AS (SELECT commune_code FROM csp_commune WHERE csp_id = :csp),
         o AS (SELECT geom FROM csp WHERE id = :csp),
         f AS (
            SELECT f.category, f.geom FROM layer_feature f JOIN layer l ON l.id = f.layer_id
            WHERE l.kind = 'barriers'
         ),
         bf AS (
            SELECT f.geom FROM layer_feature f JOIN layer l ON l.id = f.layer_id
            WHERE l.kind = 'buildings'
         )
    SELECT
        (SELECT count(*) FROM commune c {where_commune}),
        (SELECT count(*) FROM f WHERE f.category = ANY(:water) {where_feature}),
        (SELECT count(*) FROM f WHERE f.category <> ALL(:not_roads) {where_feature}),
        (SELECT count(*) FROM f WHERE f.category = ANY(:railways) {where_feature}),
        (SELECT count(*) FROM bf f WHERE true {where_feature}),
        (SELECT count(*) FROM address a {where_address})
    """
    communes, water, roads, railways, buildings, addresses = session.execute(
        text(sql),
        {
            "csp": csp_id or 0,
            "water": list(WATER_CLASSES),
            "railways": list(RAILWAY_CLASSES),
            "not_roads": list(RAILWAY_CLASSES + WATER_CLASSES),
        },
    ).one()
    return {
        "communes": communes,
        "water": water,
        "roads": roads,
        "railways": railways,
        "buildings": buildings,
        "addresses": addresses,
    }


def commune_labels(session: Session) -> list[tuple[str, float, float]]:
    """Every commune's name and where to write it: the centre of the largest circle inside
    the commune (its pole of inaccessibility, PostGIS ``ST_MaximumInscribedCircle``, on its
    largest piece), so that the name lands inside it, never on a neighbour."""
    rows = session.execute(
        text(
            """
            WITH piece AS (
                SELECT DISTINCT ON (c.code) c.name, d.geom
                FROM commune c, ST_Dump(c.geom) d
                ORDER BY c.code, ST_Area(d.geom) DESC
            )
            SELECT name, ST_X(p), ST_Y(p)
            FROM (SELECT name, (ST_MaximumInscribedCircle(geom)).center AS p FROM piece) t
            """
        )
    ).all()
    return [(str(name), float(lon), float(lat)) for name, lon, lat in rows]


def street_labels(
    session: Session, box: tuple[float, float, float, float]
) -> list[tuple[str, float, float, float]]:
    """The named streets of the view ``box`` (WGS84), longest first: each name once, at the
    middle of its longest stretch inside the view, with that stretch's azimuth there
    (degrees clockwise from north, measured in Web Mercator as the map draws it)."""
    rows = session.execute(
        text(
            """
            WITH v AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS box),
            piece AS (
                SELECT coalesce(f.name, f.attributes->>'name') AS name,
                       (ST_Dump(ST_Intersection(f.geom, v.box))).geom AS geom
                FROM layer_feature f JOIN layer l ON l.id = f.layer_id, v
                WHERE l.kind = 'barriers' AND f.geom && v.box
                  AND f.category <> ALL(:not_roads)
                  AND coalesce(f.name, f.attributes->>'name') IS NOT NULL
            ),
            longest AS (
                SELECT DISTINCT ON (name) name, ST_Transform(geom, 3857) AS geom
                FROM piece WHERE GeometryType(geom) = 'LINESTRING'
                ORDER BY name, ST_Length(geom::geography) DESC
            )
            SELECT name, ST_X(mid), ST_Y(mid), degrees(ST_Azimuth(a, b))
            FROM (
                SELECT name, ST_Length(geom) AS len,
                       ST_Transform(ST_LineInterpolatePoint(geom, 0.5), 4326) AS mid,
                       ST_LineInterpolatePoint(geom, 0.45) AS a,
                       ST_LineInterpolatePoint(geom, 0.55) AS b
                FROM longest
            ) t
            ORDER BY len DESC
            LIMIT :limit
            """
        ),
        {
            "w": box[0],
            "s": box[1],
            "e": box[2],
            "n": box[3],
            "not_roads": list(RAILWAY_CLASSES + WATER_CLASSES),
            "limit": MAX_STREET_LABELS,
        },
    ).all()
    return [
        (str(name), float(lon), float(lat), float(azimuth or 0.0))
        for name, lon, lat, azimuth in rows
    ]
