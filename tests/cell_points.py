"""Places the tests of the kept cell counts write problems at: the CSP's extent and a
vertex shared by several cells of its finest grid (a problem there counts once, in the
cell of lowest id)."""

from __future__ import annotations

from sqlalchemy import Connection, text


def extent_and_shared_vertex(
    conn: Connection, csp_id: int
) -> tuple[tuple[float, float, float, float], tuple[float, float]]:
    """The CSP's bounding box (x0, y0, x1, y1) and the first vertex of its resolution-9
    cell of lowest H3 index that is not clipped."""
    x0, y0, x1, y1 = conn.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM csp WHERE id = :csp) s"
        ),
        {"csp": csp_id},
    ).one()
    vx, vy = conn.execute(
        text(
            "SELECT ST_X(v), ST_Y(v) FROM (SELECT ST_PointN(ST_ExteriorRing("
            "ST_GeometryN(c.geom, 1)), 1) AS v FROM cell c JOIN grid g ON g.id = c.grid_id "
            "WHERE g.csp_id = :csp AND g.resolution = 9 AND NOT c.clipped "
            "ORDER BY c.h3 LIMIT 1) s"
        ),
        {"csp": csp_id},
    ).one()
    return (float(x0), float(y0), float(x1), float(y1)), (float(vx), float(vy))
