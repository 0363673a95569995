"""Geometries received from users (problems, safety-study sites, seeds), the same rules
for every resource that takes one:

* :func:`checked_geometry`: a GeoJSON geometry checked once (type, emptiness, WGS84
  ranges, validity);
* :func:`anchors` (:func:`anchor` for one geometry): the point that stands for a
  geometry, which places a problem in a sector or a grid cell;
* :func:`outside_territory` (:func:`check_inside_territory` for one geometry): the
  geometries that do not lie inside a territory (a CSP, a commune), each named with a hint
  when latitude and longitude look swapped.

Geometries and territories are in WGS84 (EPSG:4326).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.geometry
from shapely.errors import ShapelyError

from geo.crs import WGS84, metric_crs
from geo.errors import InvalidInputError, InvalidValueError
from geo.messages import render

#: How far (degrees, about 1 m) a position may lie outside its territory and still count
#: as inside: positions rounded to 5 or 6 decimals stay in.
BORDER_TOLERANCE_DEG = 1e-5
#: The geometry types of GeoJSON (RFC 7946) that carry ``coordinates``.
GEOJSON_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)


def checked_geometry(
    geojson: Mapping[str, Any], field: str, allowed: Collection[str]
) -> shapely.Geometry:
    """A WGS84 geometry from GeoJSON: of an ``allowed`` type, not empty, valid, with
    longitudes/latitudes in range; heights are dropped. Errors name ``field``.

    Examples
    --------
    >>> checked_geometry({"type": "Point", "coordinates": [6.86, 47.64, 310]}, "site", {"Point"})
    <POINT (6.86 47.64)>
    >>> checked_geometry({"type": "Point", "coordinates": [186, 47]}, "site", {"Point"})
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: Site : coordonnées (186.0, 47.0, 186.0, 47.0) hors des \
longitudes et latitudes possibles (WGS84, degrés)
    >>> checked_geometry({"type": "Foo", "coordinates": []}, "site", {"Point"})
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: Site : type de géométrie GeoJSON inconnu ou non \
accepté « Foo » ; attendu : Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon
    """
    kind = geojson.get("type")
    if kind not in GEOJSON_TYPES:
        raise InvalidInputError(
            "geometry_type_unknown", field=field, kind=kind, expected=GEOJSON_TYPES
        )
    try:
        geom = shapely.force_2d(shapely.geometry.shape(dict(geojson)))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, ShapelyError) as exc:
        raise InvalidInputError(
            "geometry_unreadable", field=field, reason=unreadable_reason(str(kind), exc)
        ) from None
    if geom.geom_type not in allowed:
        raise InvalidInputError(
            "geometry_type_not_accepted",
            field=field,
            kind=geom.geom_type,
            expected=sorted(allowed),
        )
    if geom.is_empty:
        raise InvalidInputError("geometry_empty", field=field)
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InvalidInputError(
            "geometry_not_wgs84",
            field=field,
            bounds=str(tuple(round(b, 5) for b in geom.bounds)),
        )
    if not geom.is_valid:
        raise InvalidInputError(
            "geometry_invalid",
            field=field,
            kind=geom.geom_type,
            reason=validity_reason(geom),
        )
    return geom


#: What the libraries say of GeoJSON coordinates they cannot read, in French: shapely's
#: and GEOS's messages start with these words (any other says the shape expected).
_UNREADABLE = {
    "A linearring requires at least 4 coordinates": (
        "un contour de polygone compte au moins 4 positions, la dernière égale à la première"
    ),
    "IllegalArgumentException: point array must contain 0 or >1 elements": (
        "une ligne compte au moins 2 positions"
    ),
    "LinearRing": "un contour de polygone compte au moins 4 positions",
}
#: The shape of the coordinates of each GeoJSON type, said when they do not have it.
_SHAPES = {
    "Point": "une position [longitude, latitude]",
    "MultiPoint": "une liste de positions [longitude, latitude]",
    "LineString": "une liste d'au moins 2 positions [longitude, latitude]",
    "MultiLineString": "une liste de lignes, chacune une liste de positions",
    "Polygon": "une liste de contours, chacun une liste de positions [longitude, latitude]",
    "MultiPolygon": "une liste de polygones, chacun une liste de contours de positions",
}


def unreadable_reason(kind: str, exc: BaseException) -> str:
    """Why GeoJSON coordinates could not be read, in French, never the library's own
    words (English, and about arrays and dimensions).

    >>> unreadable_reason("Polygon", ValueError("A linearring requires at least 4 coordinates."))
    'un contour de polygone compte au moins 4 positions, la dernière égale à la première'
    >>> unreadable_reason("Point", TypeError("float() argument must be a string"))
    "les coordonnées d'un « Point » sont une position [longitude, latitude] en nombres"
    """
    said = str(exc)
    for start, reason in _UNREADABLE.items():
        if said.startswith(start):
            return reason
    return f"les coordonnées d'un « {kind} » sont {_SHAPES.get(kind, 'des positions')} en nombres"


#: GEOS's reasons a geometry is not valid (:func:`shapely.is_valid_reason`), in French.
_INVALID = {
    "Self-intersection": "son contour se recoupe",
    "Ring Self-intersection": "un contour se touche lui-même",
    "Hole lies outside shell": "un trou sort du contour extérieur",
    "Too few points in geometry component": "trop peu de positions distinctes",
    "Interior is disconnected": "son intérieur est coupé en morceaux",
    "Nested shells": "des polygones sont imbriqués",
    "Nested holes": "des trous sont imbriqués",
    "Duplicate Rings": "un contour est en double",
    "Invalid Coordinate": "une coordonnée n'est pas un nombre fini",
    "Ring is not closed": "un contour n'est pas fermé",
    "Invalid Number of Points in LinearRing": "un contour a trop peu de positions",
}
_REASON = re.compile(r"^(?P<what>[^\[]+?)\s*(?:\[(?P<x>\S+) (?P<y>\S+)\])?$")


def validity_reason(geom: shapely.Geometry) -> str:
    """Why a geometry is not valid, in French, with where when GEOS says it.

    >>> validity_reason(shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]))
    'son contour se recoupe près de [1, 1]'
    """
    said = str(shapely.is_valid_reason(geom))
    found = _REASON.match(said)
    what = found.group("what") if found else said
    reason = _INVALID.get(what, "contour non conforme")
    if found and found.group("x") is not None:
        reason += f" près de [{found.group('x')}, {found.group('y')}]"
    return reason


def anchors(geoms: np.ndarray) -> np.ndarray:
    """The anchor of each geometry: the point that stands for it. A point is its own
    anchor; a line or a polygon has its point nearest its centroid (a polygon's centroid
    when the centroid lies inside it, else a point of its boundary).

    It places a problem in a sector (:func:`geo.problems.place`) and in a grid cell, and
    a safety-study site on the map. This is the definition: the ``anchor`` columns that
    the database stores hold the same points.

    Examples
    --------
    >>> from shapely.geometry import LineString, Point, Polygon
    >>> ring = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)]  # a U
    >>> anchors(np.array([Point(1, 2), LineString([(0, 0), (2, 0)]), Polygon(ring)])).tolist()
    [<POINT (1 2)>, <POINT (1 0)>, <POINT (1.5 1)>]
    """
    out = np.array(geoms, dtype=object, copy=True)
    shaped = shapely.get_type_id(out) != 0
    if shaped.any():
        lines = shapely.shortest_line(out[shaped], shapely.centroid(out[shaped]))
        out[shaped] = shapely.get_point(lines, 0)
    return out


def anchor(geom: shapely.Geometry) -> shapely.Point:
    """The anchor of one geometry (see :func:`anchors`).

    >>> anchor(shapely.box(6.85, 47.63, 6.87, 47.65))
    <POINT (6.86 47.64)>
    """
    return anchors(np.array([geom], dtype=object))[0]


def outside_territory(
    geoms: np.ndarray,
    territory: shapely.Geometry,
    *,
    territory_name: str,
    tolerance_deg: float = 0.0,
    tolerance_m: float = 0.0,
) -> dict[int, str]:
    """The geometries of ``geoms`` that do not lie inside ``territory`` (WGS84), by
    position, each with the sentence that says so: ``[lon, lat] (lon, lat) lies outside
    <territory_name>``, the position being the geometry's point on surface, followed by
    `` — latitude and longitude swapped?`` when swapping them would put it inside.

    A geometry lies inside when the territory covers it (its boundary included), or when
    it lies within a tolerance of it: ``tolerance_deg`` degrees (a point within that
    distance, in degrees, of the territory), or ``tolerance_m`` metres (measured in the
    territory's metric CRS, :func:`geo.crs.metric_crs`); a line or polygon must then lie
    in the territory grown by the tolerance. Give at most one of them.

    Examples
    --------
    >>> square = shapely.box(6.8, 47.6, 6.9, 47.7)
    >>> points = shapely.points([(6.85, 47.65), (6.90001, 47.65), (47.65, 6.85)])
    >>> outside_territory(points, square, territory_name="CSP 1", tolerance_deg=1e-5)
    {2: 'le lieu [47.65, 6.85] (longitude, latitude) est hors de CSP 1 ; la latitude et la \
longitude sont-elles inversées ?'}
    >>> list(outside_territory(points, square, territory_name="CSP 1"))
    [1, 2]
    >>> list(outside_territory(points, square, territory_name="CSP 1", tolerance_m=1.0))
    [2]
    """
    if tolerance_deg < 0 or tolerance_m < 0 or (tolerance_deg > 0 and tolerance_m > 0):
        raise InvalidValueError(
            "tolerance_one_of_degrees_or_metres", degrees=tolerance_deg, metres=tolerance_m
        )
    geoms = np.asarray(geoms, dtype=object)
    inside = _inside(geoms, territory, tolerance_deg, tolerance_m)
    outside = np.flatnonzero(~inside)
    if not len(outside):
        return {}
    swapped = shapely.transform(geoms[outside], lambda xy: xy[:, ::-1])
    would_fit = _inside(swapped, territory, tolerance_deg, tolerance_m)
    where = shapely.get_coordinates(shapely.point_on_surface(geoms[outside]))
    return {
        int(i): render(
            "outside_territory_swapped" if fits else "outside_territory",
            lon=str(round(float(x), 6)),
            lat=str(round(float(y), 6)),
            territory=territory_name,
        )
        for i, (x, y), fits in zip(outside, where, would_fit, strict=True)
    }


def check_inside_territory(
    geom: shapely.Geometry,
    territory: shapely.Geometry,
    *,
    field: str,
    territory_name: str,
    tolerance_deg: float = 0.0,
    tolerance_m: float = 0.0,
) -> None:
    """Raise :class:`~geo.errors.InvalidInputError` naming ``field`` unless ``geom`` lies
    inside ``territory`` (see :func:`outside_territory` for the rule and the tolerances).

    Examples
    --------
    >>> square = shapely.box(6.8, 47.6, 6.9, 47.7)
    >>> check_inside_territory(shapely.Point(6.85, 47.65), square, field="seeds",
    ...                        territory_name="CSP 1")
    >>> check_inside_territory(shapely.Point(2.35, 48.85), square, field="seeds",
    ...                        territory_name="CSP 1")
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: Points d'ancrage des secteurs : le lieu [2.35, 48.85] \
(longitude, latitude) est hors de CSP 1 ; placez-le à l'intérieur
    """
    outside = outside_territory(
        np.array([geom], dtype=object),
        territory,
        territory_name=territory_name,
        tolerance_deg=tolerance_deg,
        tolerance_m=tolerance_m,
    )
    if outside:
        # The catalogue's sentence, rendered by outside_territory: its code and values.
        x, y = shapely.get_coordinates(shapely.point_on_surface(geom))[0]
        swapped = outside[0] != render(
            "outside_territory",
            lon=str(round(float(x), 6)),
            lat=str(round(float(y), 6)),
            territory=territory_name,
        )
        raise InvalidInputError(
            "outside_territory_swapped" if swapped else "outside_territory",
            field=field,
            lon=str(round(float(x), 6)),
            lat=str(round(float(y), 6)),
            territory=territory_name,
        )


def _inside(
    geoms: np.ndarray, territory: shapely.Geometry, tolerance_deg: float, tolerance_m: float
) -> np.ndarray:
    """Whether ``territory`` covers each geometry, or holds it within the tolerance."""
    shapely.prepare(territory)
    inside = shapely.covers(territory, geoms)
    rest = np.flatnonzero(~inside)
    if not len(rest) or not (tolerance_deg > 0 or tolerance_m > 0):
        return inside
    if tolerance_deg > 0:
        inside[rest] = _within(geoms[rest], territory, tolerance_deg)
        return inside
    crs = metric_crs(gpd.GeoDataFrame(geometry=[territory], crs=WGS84))
    metric_territory = gpd.GeoSeries([territory], crs=WGS84).to_crs(crs).iloc[0]
    metric = gpd.GeoSeries(geoms[rest], crs=WGS84).to_crs(crs).to_numpy()
    inside[rest] = _within(metric, metric_territory, tolerance_m)
    return inside


def _within(geoms: np.ndarray, territory: shapely.Geometry, distance: float) -> np.ndarray:
    """Whether each geometry lies in ``territory`` grown by ``distance`` (same units): a
    point at most ``distance`` away, a line or polygon inside the buffer."""
    points = shapely.get_type_id(geoms) == 0
    out = np.zeros(len(geoms), dtype=bool)
    out[points] = shapely.dwithin(territory, geoms[points], distance)
    if (~points).any():
        out[~points] = shapely.covered_by(geoms[~points], shapely.buffer(territory, distance))
    return out


#: The dimension of each geometry type a layer or a plan stores.
_DIMENSION = {
    "Point": 0,
    "MultiPoint": 0,
    "LineString": 1,
    "MultiLineString": 1,
    "LinearRing": 1,
    "Polygon": 2,
    "MultiPolygon": 2,
}


def _parts_of_dimension(geom: shapely.Geometry, dimension: int) -> shapely.Geometry:
    """The parts of ``geom`` of ``dimension`` (0 points, 1 lines, 2 polygons), as one
    (multi-)geometry; empty when it has none."""
    parts = [
        p
        for p in shapely.get_parts(geom)
        for p in (shapely.get_parts(p) if p.geom_type == "GeometryCollection" else [p])
        if not p.is_empty and _DIMENSION.get(p.geom_type) == dimension
    ]
    if not parts:
        return shapely.GeometryCollection()
    if dimension == 2:
        merged = shapely.union_all(parts)
    elif dimension == 1:
        merged = shapely.line_merge(
            shapely.MultiLineString([g for p in parts for g in shapely.get_parts(p)])
        )
    else:
        merged = shapely.MultiPoint([g for p in parts for g in shapely.get_parts(p)])
    return merged


def repaired_geometries(
    geoms: np.ndarray, *, labels: list[str] | None = None, field: str = "geometry"
) -> tuple[np.ndarray, dict[int, str]]:
    """Valid geometries, the invalid ones repaired, or :class:`~geo.errors.InvalidInputError`
    naming each one that cannot be.

    The rule: an invalid geometry (:func:`shapely.is_valid` false) is rebuilt with
    :func:`shapely.make_valid`, which keeps every vertex and all the area it encloses (a
    self-intersecting "bow-tie" ring becomes its two triangles), and only the parts of
    the geometry's own dimension are kept (polygons of a polygon, lines of a line): what
    is dropped is of a lower dimension (a collapsed spike, a zero-width sliver), so no
    area (no length) is lost. When the repair leaves nothing of that dimension (a
    polygon whose rings enclose no area, a line of one repeated point), the geometry
    cannot be stored: refused, naming it (``labels[i]``, else ``feature i+1``) and the
    reason (:func:`shapely.is_valid_reason`).

    Returns the geometries (repaired ones replaced) and, by position, the reason each
    repaired one was invalid.

    Examples
    --------
    >>> bow_tie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> fixed, repaired = repaired_geometries(np.array([bow_tie, shapely.box(0, 0, 1, 1)]))
    >>> fixed[0].geom_type, round(fixed[0].area, 3), fixed[1].area, repaired
    ('MultiPolygon', 2.0, 1.0, {0: 'son contour se recoupe près de [1, 1]'})
    >>> repaired_geometries(np.array([shapely.Polygon([(0, 0), (1, 1), (2, 2)])]))
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: Emplacement sur la carte : géométrie invalide \
irréparable — feature 1 (son contour se recoupe près de [1, 1]) : la réparation ne laisse \
aucune surface
    """
    geoms = np.array(geoms, dtype=object, copy=True)
    invalid = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_missing(geoms))
    repaired: dict[int, str] = {}
    refused: list[str] = []
    for i in invalid:
        geom = geoms[i]
        reason = validity_reason(geom)
        dimension = _DIMENSION.get(geom.geom_type, 2)
        fixed = _parts_of_dimension(shapely.make_valid(geom), dimension)
        name = labels[i] if labels is not None else f"feature {i + 1}"
        if fixed.is_empty or not fixed.is_valid:
            what = {2: "aucune surface", 1: "aucune ligne", 0: "aucun point"}[dimension]
            refused.append(f"{name} ({reason}) : la réparation ne laisse {what}")
            continue
        geoms[i] = fixed
        repaired[int(i)] = reason
    if refused:
        shown = "; ".join(refused[:10]) + (
            f" … (+{len(refused) - 10})" if len(refused) > 10 else ""
        )
        raise InvalidInputError("geometry_unrepairable", field=field, shown=shown)
    return geoms, repaired
