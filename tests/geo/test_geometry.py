"""The rules every geometry received from users follows: its anchor, and whether it lies
inside a territory (with the hint when latitude and longitude look swapped)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.crs import LAMBERT93, WGS84
from geo.errors import InvalidInputError, InvalidValueError
from geo.geometry import (
    BORDER_TOLERANCE_DEG,
    anchor,
    anchors,
    check_inside_territory,
    outside_territory,
)
from geo.problem_files import RowErrorsError, check_inside

SQUARE = shapely.box(6.8, 47.6, 6.9, 47.7)
SWAP_HINT = " ; la latitude et la longitude sont-elles inversées ?"
INSIDE_HINT = " ; placez-le à l'intérieur"


def _wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs=LAMBERT93).to_crs(WGS84).iloc[0]


def test_anchors_of_every_kind() -> None:
    u_shape = shapely.Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    point = shapely.Point(1, 2)
    geoms = np.array(
        [
            point,
            shapely.LineString([(0, 0), (2, 0)]),
            shapely.box(0, 0, 2, 2),
            u_shape,  # centroid (1.5, ~1.2) outside: the nearest point of the U
        ],
        dtype=object,
    )
    found = anchors(geoms)
    assert [(p.x, p.y) for p in found] == [(1, 2), (1, 0), (1, 1), (1.5, 1)]
    assert geoms[0] is point  # the input is not changed
    assert anchor(u_shape) == found[3]
    assert anchors(np.array([], dtype=object)).shape == (0,)


def test_a_point_on_the_border_or_within_the_tolerance_in_degrees_is_inside() -> None:
    points = shapely.points(
        [(6.9, 47.65), (6.9 + 0.9 * BORDER_TOLERANCE_DEG, 47.65), (6.9 + 2e-5, 47.65)]
    )
    assert list(outside_territory(points, SQUARE, territory_name="CSP 1")) == [1, 2]
    assert outside_territory(
        points, SQUARE, territory_name="CSP 1", tolerance_deg=BORDER_TOLERANCE_DEG
    ) == {2: "le lieu [6.90002, 47.65] (longitude, latitude) est hors de CSP 1" + INSIDE_HINT}


def test_the_hint_says_when_swapping_would_put_it_inside() -> None:
    points = shapely.points([(47.65, 6.85), (2.35, 48.85)])
    assert outside_territory(points, SQUARE, territory_name="CSP 1") == {
        0: "le lieu [47.65, 6.85] (longitude, latitude) est hors de CSP 1" + SWAP_HINT,
        1: "le lieu [2.35, 48.85] (longitude, latitude) est hors de CSP 1" + INSIDE_HINT,
    }
    swapped_square = shapely.box(47.6, 6.8, 47.7, 6.9)
    message = outside_territory(
        np.array([swapped_square], dtype=object), SQUARE, territory_name="CSP 1"
    )[0]
    assert message.endswith(SWAP_HINT) and message.startswith("le lieu [47.65, 6.85] ")


def test_a_tolerance_in_metres_grows_the_territory() -> None:
    # A commune 1 km wide (Lambert-93, Belfort), and sites just east of its eastern edge.
    east = 991_000
    commune = _wgs84(shapely.box(east - 1_000, 6_730_000, east, 6_731_000))
    sites = np.array(
        [
            _wgs84(shapely.Point(east + 24, 6_730_500)),
            _wgs84(shapely.Point(east + 26, 6_730_500)),
            _wgs84(shapely.box(east - 100, 6_730_400, east + 20, 6_730_600)),  # a perimeter
            _wgs84(shapely.box(east - 100, 6_730_400, east + 30, 6_730_600)),
        ],
        dtype=object,
    )
    outside = outside_territory(sites, commune, territory_name="commune 90010", tolerance_m=25)
    assert list(outside) == [1, 3]
    assert list(outside_territory(sites, commune, territory_name="commune 90010")) == [0, 1, 2, 3]


def test_check_inside_territory_names_the_field() -> None:
    check_inside_territory(shapely.Point(6.85, 47.65), SQUARE, field="site", territory_name="x")
    with pytest.raises(InvalidInputError) as raised:
        check_inside_territory(
            shapely.Point(47.65, 6.85), SQUARE, field="seeds", territory_name="CSP 3"
        )
    assert (
        str(raised.value) == "Points d'ancrage des secteurs : le lieu [47.65, 6.85] (longitude, "
        "latitude) est hors de CSP 3" + SWAP_HINT
    )
    assert (raised.value.code, raised.value.field) == ("outside_territory_swapped", "seeds")


def test_one_tolerance_at_most() -> None:
    with pytest.raises(InvalidValueError, match="pas les deux"):
        outside_territory(
            shapely.points([(0, 0)]), SQUARE, territory_name="x", tolerance_deg=1e-5, tolerance_m=1
        )


def test_a_problem_file_names_every_row_outside() -> None:
    frame = gpd.GeoDataFrame(
        {"row": [1, 2, 3]},
        geometry=[
            shapely.Point(6.85, 47.65),
            shapely.Point(47.65, 6.85),
            shapely.LineString([(7.0, 47.65), (7.1, 47.65)]),  # its anchor is outside
        ],
        crs=WGS84,
    )
    check_inside(frame.iloc[[0]], SQUARE, "CSP 1")
    with pytest.raises(RowErrorsError) as raised:
        check_inside(frame, SQUARE, "CSP 1")
    assert [e.as_dict() for e in raised.value.errors] == [
        {"row": 2, "column": "geometry",
         "reason": "le lieu [47.65, 6.85] (longitude, latitude) est hors de CSP 1" + SWAP_HINT},
        {"row": 3, "column": "geometry",
         "reason": "le lieu [7.05, 47.65] (longitude, latitude) est hors de CSP 1" + INSIDE_HINT},
    ]  # fmt: skip
