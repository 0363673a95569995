"""Label points: inside their own polygon, where a centroid is not."""

from __future__ import annotations

import math

import shapely
from shapely.geometry import LineString

from geo.labels import LabelPlacer, along_line, label_lonlat, label_point, text_outline


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


def test_names_take_the_first_free_place() -> None:
    """The greedy placement of printed names (a 200 x 100 page): a box reserved first (a
    sector's name) pushes a name to its second position; a name past the page's edge or
    over a placed one finds no place."""
    placer = LabelPlacer(200, 100)
    placer.reserve(text_outline(100, 50, "Secteur 1", 11, bold=True))
    # The sector's box: y from 50 - (11 x 0.625 + 1.5) = 41.625 to 58.375. « Massy » at
    # 10 px is 5 x 10 x 0.64 = 32 px wide and 12.5 px high, 1.5 px around: at y 50 it
    # collides; at y 64 (from 56.25 to 71.75) too; at y 80 (from 72.25 to 87.75) it is free.
    spots = [(100, 50), (100, 64), (100, 80)]
    assert placer.place([text_outline(x, y, "Massy", 10) for x, y in spots]) == 2
    assert placer.place([text_outline(195, 20, "Massy", 10)]) is None  # past the edge
    assert placer.place([text_outline(100, 80, "Palaiseau", 10)]) is None  # over Massy
    # Turned by 90°, a street's name is as tall as it was wide: 3 x 10 x 0.64 + 2 x 1.5 =
    # 22.2 px tall, 12.5 + 3 = 15.5 px wide.
    turned = text_outline(20, 50, "Rue", 10, 90).bounds
    assert [round(v, 2) for v in turned] == [12.25, 38.9, 27.75, 61.1]


def test_a_name_along_a_line_is_never_upside_down() -> None:
    # A line drawn from right to left: the name still reads from left to right (0°); one
    # going down the page at 45° turns by 45° (clockwise on a y-down page).
    assert along_line(LineString([(100, 10), (0, 10)]), "Rue", 10)[0] == (50.0, 10.0, 0.0)
    x, y, angle = along_line(LineString([(0, 0), (100, 100)]), "Rue", 10)[0]
    assert (round(x, 6), round(y, 6), angle) == (50.0, 50.0, 45.0)
