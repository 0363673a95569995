"""GeoJSON geometries received from users, checked once for every resource that takes
one (problems, safety-study sites)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import shapely
import shapely.geometry
from shapely.errors import GEOSException

from geo.errors import InvalidInputError


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
    geo.errors.InvalidInputError: site: coordinates (186.0, 47.0, 186.0, 47.0) are not WGS84 \
longitudes/latitudes
    """
    try:
        geom = shapely.force_2d(shapely.geometry.shape(dict(geojson)))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, GEOSException) as exc:
        raise InvalidInputError(f"{field}: not a GeoJSON geometry ({exc})") from None
    if geom.geom_type not in allowed:
        raise InvalidInputError(
            f"{field}: a {geom.geom_type} is not accepted; expected {', '.join(sorted(allowed))}"
        )
    if geom.is_empty:
        raise InvalidInputError(f"{field}: empty geometry")
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InvalidInputError(
            f"{field}: coordinates {tuple(round(b, 5) for b in geom.bounds)} are not WGS84 "
            "longitudes/latitudes"
        )
    if not geom.is_valid:
        raise InvalidInputError(
            f"{field}: invalid {geom.geom_type} ({shapely.is_valid_reason(geom)})"
        )
    return geom
