"""The anchor PostGIS stores (``anchor_of``) is the anchor :func:`geo.geometry.anchors`
defines, for every kind of geometry a problem or a safety-study site has."""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from api.repositories.problems import anchor_of
from geo.geometry import anchors
from geo.territory import read_communes
from tests.geo.conftest import DEMO


def _sql_anchor(conn: Connection, geom: shapely.Geometry) -> shapely.Geometry:
    site = func.ST_GeomFromWKB(shapely.to_wkb(geom), 4326)
    wkb = conn.scalar(select(func.ST_AsBinary(anchor_of(site))))
    assert wkb is not None
    return shapely.from_wkb(bytes(wkb))


def test_the_sql_anchor_is_the_geo_anchor(engine: Engine) -> None:
    u_shape = shapely.Polygon(
        [(6.84, 47.63), (6.87, 47.63), (6.87, 47.66), (6.86, 47.66), (6.86, 47.64),
         (6.85, 47.64), (6.85, 47.66), (6.84, 47.66)]
    )  # fmt: skip
    hand_made = [
        shapely.Point(6.8628, 47.6379),
        shapely.LineString([(6.85, 47.63), (6.86, 47.64), (6.88, 47.64)]),
        shapely.MultiLineString([[(6.85, 47.63), (6.86, 47.63)], [(6.87, 47.65), (6.88, 47.66)]]),
        shapely.box(6.85, 47.63, 6.87, 47.65),
        u_shape,  # its centroid lies outside: the anchor is on its boundary
        shapely.MultiPolygon([shapely.box(6.80, 47.60, 6.81, 47.61), u_shape]),
    ]
    communes = read_communes(DEMO / "communes_90.geojson").communes.geometry.to_numpy()[:20]
    geoms = np.array([*hand_made, *communes, *shapely.boundary(communes)], dtype=object)
    with engine.connect() as conn:
        stored = np.array([_sql_anchor(conn, g) for g in geoms], dtype=object)
    expected = anchors(geoms)
    distance = shapely.distance(stored, expected)
    assert (distance < 1e-9).all(), distance.max()
    assert not shapely.covers(u_shape, shapely.centroid(u_shape))
    assert shapely.get_type_id(expected).tolist() == [0] * len(geoms)
