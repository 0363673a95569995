"""Where a polygon's label goes: its pole of inaccessibility (:func:`shapely.ops.polylabel`),
the point inside it farthest from its edges, so that a label always lands inside its own
polygon and as far as possible from its neighbours' (a centroid can fall outside a
crescent-shaped sector, or in the next one)."""

from __future__ import annotations

import shapely
from shapely.geometry import Point, Polygon
from shapely.ops import polylabel

#: The search stops when the pole is known to within this share of the polygon's larger
#: side: a label is a few tens of pixels wide, finer is wasted work.
LABEL_PRECISION = 0.005


def label_point(geom: shapely.Geometry) -> Point | None:
    """The label point of a polygon or multipolygon (its largest part's pole of
    inaccessibility); a point stays itself, a line gives its midpoint; None when empty."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "Point":
        return Point(geom.x, geom.y)
    if geom.geom_type in ("LineString", "MultiLineString"):
        return Point(shapely.line_interpolate_point(geom, 0.5, normalized=True).coords[0])
    parts = [p for p in getattr(geom, "geoms", [geom]) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        return geom.representative_point()
    part = max(parts, key=lambda p: p.area)
    x0, y0, x1, y1 = part.bounds
    tolerance = max(x1 - x0, y1 - y0) * LABEL_PRECISION or 1e-9
    point = polylabel(part, tolerance=tolerance)
    return point if part.contains(point) else part.representative_point()


def label_lonlat(geom: shapely.Geometry, decimals: int = 6) -> list[float] | None:
    """:func:`label_point` as ``[lon, lat]`` rounded for GeoJSON (None when empty)."""
    point = label_point(geom)
    return None if point is None else [round(point.x, decimals), round(point.y, decimals)]
