"""The CQL2 text parser (:mod:`geo.cql2`) and the OGC API parameters (:mod:`geo.ogc`):
what they read, and the French messages naming the parameter of what they refuse."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from geo import cql2
from geo.cql2 import And, Between, Compare, Const, In, Intersects, IsNull, Like, Lit, Not, Or, Prop
from geo.errors import InvalidInputError
from geo.ogc import epsg_of, parse_bbox, parse_datetime, parse_sortby


def test_precedence_and_operators() -> None:
    tree = cql2.parse("a = 1 OR b <> 'x' AND NOT c IS NULL")
    assert tree == Or(
        (
            Compare("=", Prop("a"), Lit(1)),
            And((Compare("<>", Prop("b"), Lit("x")), Not(IsNull(Prop("c"))))),
        )
    )
    assert cql2.parse("(a=1 or a=2) and b=3") == And(
        (Or((Compare("=", Prop("a"), Lit(1)), Compare("=", Prop("a"), Lit(2)))),
         Compare("=", Prop("b"), Lit(3)))
    )  # fmt: skip
    assert cql2.parse("title NOT LIKE 'Tag%'") == Like(Prop("title"), "Tag%", negated=True)
    assert cql2.parse("n BETWEEN -1 AND 2.5") == Between(Prop("n"), Lit(-1), Lit(2.5))
    assert cql2.parse("s NOT IN ('a', 'l''b')") == In(Prop("s"), (Lit("a"), Lit("l'b")), True)
    assert cql2.parse("d >= DATE('2025-03-01')") == Compare(">=", Prop("d"), Lit(date(2025, 3, 1)))
    assert cql2.parse('"sector" = flag') == Compare("=", Prop("sector"), Prop("flag"))
    assert cql2.parse("TRUE") == Const(True)
    assert cql2.parse("b = false") == Compare("=", Prop("b"), Lit(False))
    assert cql2.properties_of(cql2.parse("a=1 and (b like 'x' or not c is null)")) == {
        "a",
        "b",
        "c",
    }


def test_spatial_literals() -> None:
    box = cql2.parse("S_INTERSECTS(geometry, BBOX(6.8, 47.6, 6.9, 47.7))")
    assert isinstance(box, Intersects) and box.geometry.equals(shapely.box(6.8, 47.6, 6.9, 47.7))
    polygon = cql2.parse("s_intersects(geometry, POLYGON((0 0, 1 0, 1 1, 0 0))) AND a = 1")
    assert isinstance(polygon, And) and isinstance(polygon.items[0], Intersects)
    assert polygon.items[0].geometry.area == 0.5
    point = cql2.parse("S_INTERSECTS(geometry, POINT(6.85 47.63))")
    assert isinstance(point, Intersects) and point.geometry.geom_type == "Point"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a = ", "position 5"),
        ("a == 1", "position 4"),
        ("a = 'open", "position 5 : caractère inattendu « ' »"),
        ("a LIKE 3", "motif"),
        ("a NOT = 1", "LIKE, BETWEEN ou IN"),
        ("S_INTERSECTS(geometry, BBOX(1, 2, 3))", "BBOX attend 4"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 0)))", "POLYGON mal formé"),
        ("S_INTERSECTS(geometry, POINT(1 2)", "« ) » attendu"),
        ("d > DATE('2025-13-01')", "date mal formée"),
        ("a = 1 b", "« b » inattendu"),
        ("", "filtre vide"),
    ],
)
def test_refusals_name_the_filter(text: str, where: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        cql2.parse(text)
    assert str(refused.value).startswith("filter : ") and where in str(refused.value)


def test_parameters() -> None:
    assert parse_bbox("1,2,10,3,4,20") == (1, 2, 3, 4)
    assert parse_datetime("2024-01-01T10:00:00Z/2024-02-01") == (date(2024, 1, 1), date(2024, 2, 1))
    assert parse_datetime("2024-05-02") == (date(2024, 5, 2), date(2024, 5, 2))
    assert parse_sortby("name, -reported_on") == [("name", True), ("reported_on", False)]
    assert epsg_of("<http://www.opengis.net/def/crs/EPSG/0/2154>") == 2154
    for call, parameter in (
        (lambda: parse_bbox("a,b,c,d"), "bbox"),
        (lambda: parse_bbox("10,0,0,1"), "bbox"),
        (lambda: parse_datetime("2024-02-01/2024-01-01"), "datetime"),
        (lambda: parse_datetime(".."), "datetime"),
        (lambda: epsg_of("EPSG:4326", "bbox-crs"), "bbox-crs"),
    ):
        with pytest.raises(InvalidInputError) as refused:
            call()
        assert refused.value.field == parameter, refused.value
