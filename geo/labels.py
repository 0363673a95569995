"""Where a polygon's label goes: its pole of inaccessibility (:func:`shapely.ops.polylabel`),
the point inside it farthest from its edges, so that a label always lands inside its own
polygon and as far as possible from its neighbours' (a centroid can fall outside a
crescent-shaped sector, or in the next one)."""

from __future__ import annotations

import math

import shapely
import shapely.affinity
from shapely.geometry import LineString, Point, Polygon
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


# Names on a printed map (the base map's commune and street names), in the SVG's pixels
# (x to the right, y down): each name's box is a rectangle around its text, turned with
# it; a name is written only where its box lies inside the frame and meets no box taken
# before it (a greedy placement: what is placed first wins, the sectors' names first).

#: A character's advance in DejaVu Sans (the sheets' font), as a share of the font size:
#: its mean advance is about 0.6 em; bold a little wider. Taken on the generous side.
CHAR_EM, BOLD_CHAR_EM = 0.64, 0.72


def text_outline(
    x: float,
    y: float,
    text: str,
    size: float,
    angle: float = 0.0,
    *,
    bold: bool = False,
    pad: float = 1.5,
) -> Polygon:
    """The box of ``text`` written at ``size`` pixels centred on ``(x, y)`` and turned by
    ``angle`` degrees (clockwise on the page, as SVG's ``rotate``), ``pad`` pixels around.

    >>> text_outline(100, 50, "Massy", 10).bounds
    (82.5, 42.25, 117.5, 57.75)
    """
    half_w = len(text) * size * (BOLD_CHAR_EM if bold else CHAR_EM) / 2 + pad
    half_h = size * 0.625 + pad
    outline = shapely.box(x - half_w, y - half_h, x + half_w, y + half_h)
    # shapely turns counter-clockwise in y-up axes: clockwise on a y-down page, as SVG does.
    return outline if not angle else shapely.affinity.rotate(outline, angle, origin=(x, y))


def upright_angle(dx: float, dy: float) -> float:
    """The angle (degrees, clockwise on a y-down page, in ``(-90, 90]``) that writes a
    name along the direction ``(dx, dy)`` without turning it upside down.

    >>> upright_angle(1, 0), upright_angle(-1, 0), upright_angle(0, 1), upright_angle(-1, -1)
    (0.0, 0.0, 90.0, 45.0)
    """
    angle = math.degrees(math.atan2(dy, dx))
    if angle > 90:
        angle -= 180
    elif angle <= -90:
        angle += 180
    return angle + 0.0


def along_line(
    line: LineString, text: str, size: float, fractions: tuple[float, ...] = (0.5, 0.3, 0.7)
) -> list[tuple[float, float, float]]:
    """Where a name may go along ``line`` (pixels): ``(x, y, angle)`` at each fraction of
    its length, turned along the chord that the text would span there."""
    length = line.length
    if length == 0:
        return []
    half = min(len(text) * size * CHAR_EM / 2, length / 2)
    out = []
    for fraction in fractions:
        at = fraction * length
        a = line.interpolate(max(0.0, at - half))
        b = line.interpolate(min(length, at + half))
        middle = line.interpolate(at)
        angle = upright_angle(b.x - a.x, b.y - a.y) if a.distance(b) > 0 else 0.0
        out.append((middle.x, middle.y, round(angle, 1)))
    return out


class LabelPlacer:
    """The greedy placement of names on a ``width`` by ``height`` page: boxes reserved
    first (the sectors' names), then each name at the first of its positions whose box
    is inside the page and meets no box taken."""

    def __init__(self, width: float, height: float) -> None:
        self.frame = shapely.box(0, 0, width, height)
        self.taken: list[Polygon] = []

    def reserve(self, outline: Polygon) -> None:
        self.taken.append(outline)

    def place(self, outlines: list[Polygon]) -> int | None:
        """The index of the first of ``outlines`` that fits (then taken), or None."""
        for i, outline in enumerate(outlines):
            if not self.frame.contains(outline):
                continue
            if self.taken and shapely.intersects(outline, self.taken).any():
                continue
            self.taken.append(outline)
            return i
        return None
