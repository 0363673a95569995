"""The base map's data: its vector tiles, built by PostGIS (``ST_AsMVTGeom``,
``ST_AsMVT``) from the communes, the barriers and buildings layers' features and the
address table, and what the territory has of each base layer."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.repositories.base import geoframe
from geo.basemap import (
    ADDRESSES_ZOOM,
    BUFFER,
    BUILDINGS_ZOOM,
    EXTENT,
    MAIN_ROADS,
    MAX_STREET_LABELS,
    MINOR_ROADS_ZOOM,
    OSM_ATTRIBUTE_KEYS,
    OSM_SOURCE_PATTERN,
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


# The printed maps: every base layer clipped to the printed extent by PostGIS
# (ST_ClipByBox2D), simplified to about a pixel, capped (geo.basemap's MAX_PRINTED_*).

_PRINTED_LINES = """
WITH v AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS box)
SELECT f.category, ST_AsBinary(ST_Simplify(ST_ClipByBox2D(f.geom, v.box), :tolerance))
FROM layer_feature f JOIN layer l ON l.id = f.layer_id, v
WHERE l.kind = :kind AND f.geom && v.box
ORDER BY f.category = ANY(:first) DESC, ST_Length(f.geom) DESC
LIMIT :limit
"""

_PRINTED_BUILDINGS = """
WITH v AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS box)
SELECT ST_AsBinary(ST_SimplifyPreserveTopology(ST_ClipByBox2D(f.geom, v.box), :tolerance))
FROM layer_feature f JOIN layer l ON l.id = f.layer_id, v
WHERE l.kind = 'buildings' AND f.geom && v.box
ORDER BY ST_Area(f.geom) DESC
LIMIT :limit
"""

# Each named street once: its pieces inside the extent merged (ST_LineMerge), its longest
# stretch kept; the main and secondary roads first, then the longest.
_PRINTED_STREETS = """
WITH v AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS box),
named AS (
    SELECT coalesce(f.name, f.attributes->>'name') AS name,
           bool_or(f.category = ANY(:first)) AS main,
           ST_LineMerge(ST_Collect(ST_CollectionExtract(ST_Intersection(f.geom, v.box), 2))) AS geom
    FROM layer_feature f JOIN layer l ON l.id = f.layer_id, v
    WHERE l.kind = 'barriers' AND f.geom && v.box
      AND f.category <> ALL(:not_roads) AND (:every OR f.category = ANY(:classes))
      AND coalesce(f.name, f.attributes->>'name') IS NOT NULL
    GROUP BY 1
),
piece AS (
    SELECT DISTINCT ON (name) name, main, d.geom
    FROM named, ST_Dump(named.geom) d
    WHERE GeometryType(d.geom) = 'LINESTRING'
    ORDER BY name, ST_Length(d.geom::geography) DESC
)
SELECT name, ST_AsBinary(geom) FROM piece
ORDER BY main DESC, ST_Length(geom::geography) DESC
LIMIT :limit
"""


def _box(extent: tuple[float, float, float, float]) -> dict[str, float]:
    return dict(zip(("w", "s", "e", "n"), extent, strict=True))


def printed_lines(
    session: Session, extent: tuple[float, float, float, float], tolerance: float, limit: int
) -> gpd.GeoDataFrame:
    """The barriers layers' lines (``category``) clipped to ``extent`` (WGS84 bounds),
    simplified by ``tolerance`` degrees; at most ``limit``, the main roads first."""
    rows = session.execute(
        text(_PRINTED_LINES),
        {**_box(extent), "tolerance": tolerance, "limit": limit, "kind": "barriers",
         "first": list(MAIN_ROADS + SECONDARY_ROADS)},
    ).all()  # fmt: skip
    table = pd.DataFrame([(r[0],) for r in rows], columns=["category"])
    return _nonempty(geoframe(table, [r[1] for r in rows]))


def printed_links(session: Session, extent: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The declared links (ferries, bridges, tunnels: ``links`` layers) that meet
    ``extent``, clipped to it, with their ``name``."""
    rows = session.execute(
        text(
            """
            WITH v AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS box)
            SELECT f.name, ST_AsBinary(ST_ClipByBox2D(f.geom, v.box))
            FROM layer_feature f JOIN layer l ON l.id = f.layer_id, v
            WHERE l.kind = 'links' AND f.geom && v.box ORDER BY f.id
            """
        ),
        _box(extent),
    ).all()
    table = pd.DataFrame([(r[0],) for r in rows], columns=["name"])
    return _nonempty(geoframe(table, [r[1] for r in rows]))


def printed_buildings(
    session: Session, extent: tuple[float, float, float, float], tolerance: float, limit: int
) -> gpd.GeoDataFrame:
    """The buildings clipped to ``extent``, simplified by ``tolerance`` degrees (their
    topology kept); at most ``limit``, the largest first."""
    rows = session.execute(
        text(_PRINTED_BUILDINGS), {**_box(extent), "tolerance": tolerance, "limit": limit}
    ).all()
    return _nonempty(geoframe(pd.DataFrame(index=range(len(rows))), [r[0] for r in rows]))


def printed_streets(
    session: Session,
    extent: tuple[float, float, float, float],
    classes: tuple[str, ...] | None,
    limit: int,
) -> gpd.GeoDataFrame:
    """The named streets of ``extent`` (of these road ``classes``, every class when None):
    each ``name`` once with the longest stretch of its merged pieces inside the extent;
    the main and secondary roads first, then the longest; at most ``limit``."""
    rows = session.execute(
        text(_PRINTED_STREETS),
        {
            **_box(extent),
            "first": list(MAIN_ROADS + SECONDARY_ROADS),
            "not_roads": list(RAILWAY_CLASSES + WATER_CLASSES),
            "every": classes is None,
            "classes": list(classes or ()),
            "limit": limit,
        },
    ).all()
    table = pd.DataFrame([(r[0],) for r in rows], columns=["name"])
    return _nonempty(geoframe(table, [r[1] for r in rows]))


def _nonempty(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.empty:
        return frame
    keep = ~(frame.geometry.isna() | frame.geometry.is_empty)
    return frame[keep].reset_index(drop=True)


def counts_in(session: Session, extent: tuple[float, float, float, float]) -> dict[str, int]:
    """How many features of each printed base layer meet ``extent`` (WGS84 bounds)."""
    communes, water, roads, railways, buildings, links = session.execute(
        text(
            """
            WITH v AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS box),
            f AS (
                SELECT l.kind, f.category FROM layer_feature f JOIN layer l ON l.id = f.layer_id, v
                WHERE l.kind IN ('barriers', 'buildings', 'links') AND f.geom && v.box
                  AND ST_Intersects(f.geom, v.box)
            )
            SELECT (SELECT count(*) FROM commune c, v WHERE c.geom && v.box),
                   count(*) FILTER (WHERE kind = 'barriers' AND category = ANY(:water)),
                   count(*) FILTER (WHERE kind = 'barriers' AND category <> ALL(:not_roads)),
                   count(*) FILTER (WHERE kind = 'barriers' AND category = ANY(:railways)),
                   count(*) FILTER (WHERE kind = 'buildings'),
                   count(*) FILTER (WHERE kind = 'links')
            FROM f
            """
        ),
        {
            **_box(extent),
            "water": list(WATER_CLASSES),
            "railways": list(RAILWAY_CLASSES),
            "not_roads": list(RAILWAY_CLASSES + WATER_CLASSES),
        },
    ).one()
    return {"communes": communes, "water": water, "roads": roads, "railways": railways,
            "buildings": buildings, "links": links}  # fmt: skip


def openstreetmap_in(
    session: Session, extent: tuple[float, float, float, float], kinds: tuple[str, ...]
) -> bool:
    """Whether a layer of these ``kinds`` with features in ``extent`` comes from
    OpenStreetMap (:data:`geo.basemap.OSM_SOURCE_PATTERN`, :data:`OSM_ATTRIBUTE_KEYS`)."""
    return bool(
        session.execute(
            text(
                """
                WITH v AS (SELECT ST_MakeEnvelope(:w, :s, :e, :n, 4326) AS box)
                SELECT EXISTS (
                    SELECT 1 FROM layer l
                    WHERE l.kind = ANY(:kinds)
                      AND EXISTS (SELECT 1 FROM layer_feature f, v
                                  WHERE f.layer_id = l.id AND f.geom && v.box)
                      AND (lower(l.source) ~ :pattern
                           OR EXISTS (SELECT 1 FROM layer_feature f
                                      WHERE f.layer_id = l.id AND f.attributes ?| :keys))
                )
                """
            ),
            {**_box(extent), "kinds": list(kinds), "pattern": OSM_SOURCE_PATTERN,
             "keys": list(OSM_ATTRIBUTE_KEYS)},
        ).scalar_one()
    )  # fmt: skip
