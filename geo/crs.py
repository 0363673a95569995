"""Coordinate reference systems used throughout the project.

Storage and the web use WGS84 (EPSG:4326). Every metric computation (areas, lengths,
distances, kernel bandwidths) is done in a projected CRS in metres: Lambert-93
(EPSG:2154) for metropolitan France and Corsica, and the local UTM zone elsewhere
(overseas départements), since Lambert-93 is only defined over metropolitan France.
"""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

WGS84 = 4326
LAMBERT93 = 2154

# Area of use of Lambert-93 (EPSG:2154), in degrees: metropolitan France and Corsica.
_LAMBERT93_BOUNDS = (-9.86, 41.15, 10.38, 51.56)


def metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """Return the projected CRS in metres in which to measure ``gdf``.

    Lambert-93 when the layer lies inside its area of use, else the UTM zone that
    ``geopandas`` estimates for the layer (e.g. for La Réunion or Guyane).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> metric_crs(gpd.GeoDataFrame(geometry=[Point(6.86, 47.64)], crs=4326)).to_epsg()
    2154
    >>> metric_crs(gpd.GeoDataFrame(geometry=[Point(55.45, -20.9)], crs=4326)).to_epsg()
    32740
    """
    bounds = gdf.to_crs(WGS84).total_bounds
    min_x, min_y, max_x, max_y = _LAMBERT93_BOUNDS
    if bounds[0] >= min_x and bounds[1] >= min_y and bounds[2] <= max_x and bounds[3] <= max_y:
        return CRS.from_epsg(LAMBERT93)
    return gdf.to_crs(WGS84).estimate_utm_crs()
