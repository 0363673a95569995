"""Label points: inside their own polygon, where a centroid is not."""

from __future__ import annotations

import math

import shapely

from geo.labels import label_lonlat, label_point


def test_a_crescent_is_labelled_inside_itself() -> None:
    # A "C": the 10 x 10 square less its right middle (x > 2, 2 < y < 8). Its centroid
    # (x = 53/13 = 4.08, y = 5) falls in the notch. The widest circle inside sits in a
    # corner of the "C", touching its two outer sides and the notch's corner (2, 8): at
    # (d, 10 - d) with sqrt(2)·(2 - d) = d, d = 4 - 2·sqrt(2) = 1.1716 (or its mirror at
    # the bottom); polylabel finds it within 0.05 (LABEL_PRECISION of the 10-wide box).
    crescent = shapely.box(0, 0, 10, 10).difference(shapely.box(2, 2, 10, 8))
    assert not crescent.contains(crescent.centroid)
    point = label_point(crescent)
    assert point is not None and crescent.contains(point)
    d = 4 - 2 * math.sqrt(2)
    assert abs(crescent.boundary.distance(point) - d) < 0.05
    assert abs(point.x - d) < 0.05 and min(abs(point.y - d), abs(point.y - (10 - d))) < 0.05


def test_a_multipolygon_is_labelled_in_its_largest_part() -> None:
    parts = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 9, 9)])
    # the larger square's pole is its centre (7, 7)
    assert label_lonlat(parts, decimals=3) == [7.0, 7.0]
    assert label_point(shapely.Point(2, 3)) == shapely.Point(2, 3)
    assert label_point(shapely.Polygon()) is None
