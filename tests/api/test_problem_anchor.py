"""The anchor stored with a problem or a safety-study site is the anchor
:func:`geo.geometry.anchors` defines, whatever the kind of geometry (the app computes it
once, in Python, for a problem recorded one at a time, a bulk import and a study site)."""

from __future__ import annotations

import numpy as np
import shapely
import shapely.affinity
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from api.schemas import AuditRequestCreate, ProblemCreate
from api.services.audits import file_request
from api.services.context import Context
from api.services.problems import create_problem
from geo.geometry import anchors

U_SHAPE = shapely.Polygon(
    [(6.84, 47.63), (6.87, 47.63), (6.87, 47.66), (6.86, 47.66), (6.86, 47.64),
     (6.85, 47.64), (6.85, 47.66), (6.84, 47.66)]
)  # fmt: skip
#: A U-shaped site well inside the commune of Belfort.
SMALL_U = shapely.affinity.scale(U_SHAPE, 0.1, 0.1, origin="centroid")
SHAPES = [
    shapely.Point(6.8628, 47.6379),
    shapely.LineString([(6.85, 47.63), (6.86, 47.64), (6.88, 47.64)]),
    shapely.MultiLineString([[(6.85, 47.63), (6.86, 47.63)], [(6.87, 47.65), (6.88, 47.66)]]),
    shapely.box(6.85, 47.63, 6.87, 47.65),
    U_SHAPE,  # its centroid lies outside: the anchor is on its boundary
    shapely.MultiPolygon([shapely.box(6.855, 47.625, 6.858, 47.628), U_SHAPE]),
]


def test_the_stored_anchor_is_the_geo_anchor(demo: sessionmaker[Session]) -> None:
    ctx = Context(demo)
    with demo() as session:
        csp_id = int(session.scalar(text("SELECT id FROM csp")))
    ids = [
        create_problem(
            ctx,
            csp_id,
            ProblemCreate(
                category="rassemblements",
                title=f"Forme {i}",
                geometry=shapely.geometry.mapping(shape),
            ),
        ).id
        for i, shape in enumerate(SHAPES)
    ]
    with demo() as session:
        rows = dict(
            session.execute(
                text("SELECT id, ST_AsBinary(anchor) FROM problem WHERE id = ANY(:ids)"),
                {"ids": ids},
            ).all()
        )
    stored = np.array([shapely.from_wkb(bytes(rows[i])) for i in ids], dtype=object)
    expected = anchors(np.array(SHAPES, dtype=object))
    assert (shapely.distance(stored, expected) == 0).all()
    assert not shapely.covers(U_SHAPE, shapely.centroid(U_SHAPE))
    assert shapely.covers(U_SHAPE.boundary.buffer(1e-9), expected[4])
    assert shapely.get_type_id(expected).tolist() == [0] * len(SHAPES)


def test_a_study_site_is_anchored_the_same_way(demo: sessionmaker[Session]) -> None:
    request = file_request(
        Context(demo),
        AuditRequestCreate(
            commune_code="90010",
            kind="espace_public",
            site=shapely.geometry.mapping(SMALL_U),
            need="Un square fréquenté la nuit.",
            contact_name="Mairie",
            contact_email="securite@mairie.example",
        ),
    )
    with demo() as session:
        wkb = session.scalar(
            text("SELECT ST_AsBinary(anchor) FROM audit_request WHERE id = :id"),
            {"id": request.id},
        )
    assert shapely.from_wkb(bytes(wkb)).equals(anchors(np.array([SMALL_U], dtype=object))[0])
