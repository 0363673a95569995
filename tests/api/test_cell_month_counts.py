"""The problems per cell and month kept by the problems' writes (issues 22 and 21,
migration 0025): after random writes (new problems through the API, moves across cells,
new dates and categories, deletions, flags, a CSP change, several rows in one statement,
concurrent inserts in the same cells from two connections) the kept rows equal a count
of every problem again, and the OGC aggregate's last 12 months equal a count over
``problem`` for each of the three ways its window's first month is had; the window's
partial first month, kept with its snapshot, brought up to date by the problems written
since equals the same month read again whole."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.repositories import touches
from api.repositories.ogc import MASKED_BELOW, recent_counts
from api.repositories.ogc import recent as edges
from api.services.context import Context
from tests.cell_points import extent_and_shared_vertex
from tests.clock import TODAY

#: Each problem with the cell of each grid of its CSP that covers its anchor, the lowest
#: id when several do (a min over the covering cells, not the triggers' ORDER BY LIMIT).
PLACED = """
SELECT p.id, g.id AS grid_id, min(c.h3 COLLATE "C") AS h3, p.reported_on, p.synthetic
FROM problem p JOIN grid g ON g.csp_id = p.csp_id
JOIN cell c ON c.grid_id = g.id AND ST_Covers(c.geom, p.anchor)
GROUP BY p.id, g.id
"""
INSERT = (
    "INSERT INTO problem (csp_id, category, title, reported_on, status_on, geom, anchor) "
    "SELECT :csp, 'nuisances', 'Essai concurrent', d, d, pt, pt FROM ("
    "SELECT ST_SetSRID(ST_MakePoint(x, y), 4326) AS pt, d::date AS d "
    "FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[]), CAST(:ds AS date[])) "
    "AS v(x, y, d)) s"
)


def _recount(conn: Any) -> Counter[tuple[int, date, str, bool]]:
    rows = conn.execute(text(PLACED)).all()
    return Counter((g, on.replace(day=1), h3, bool(s)) for _, g, h3, on, s in rows)


def _kept(conn: Any) -> Counter[tuple[int, date, str, bool]]:
    kept: Counter[tuple[int, date, str, bool]] = Counter()
    for g, month, h3, n, s in conn.execute(
        text("SELECT grid_id, month, h3, problems, synthetic_problems FROM cell_month_count")
    ):
        kept[(g, month, h3, True)] += s
        kept[(g, month, h3, False)] += n - s
    return +kept  # the zeros left by deletions dropped


def _check(engine: Engine) -> Counter[tuple[int, date, str, bool]]:
    with engine.connect() as conn:
        counted = _recount(conn)
        assert _kept(conn) == counted
        # and the totals (migration 0024) are their sums over the months
        totals = Counter[tuple[int, str]]()
        for (g, _, h3, _), n in counted.items():
            totals[(g, h3)] += n
        kept_totals = Counter(
            {
                (g, h3): n
                for g, h3, n in conn.execute(text("SELECT grid_id, h3, problems FROM cell_count"))
            }
        )
        assert +kept_totals == totals
    return counted


def _concurrent_inserts(engine: Engine, csp_id: int, points: list[tuple[float, float]]) -> None:
    """Two connections insert problems in the same cells at once, in opposite orders,
    four times: neither waits for ever nor fails (the counters are locked in key order)."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def insert(order: list[tuple[float, float]], day: date) -> None:
        try:
            for round_ in range(4):
                barrier.wait(timeout=30)
                with engine.begin() as conn:
                    conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                    conn.execute(
                        text(INSERT),
                        {
                            "csp": csp_id,
                            "xs": [x for x, _ in order],
                            "ys": [y for _, y in order],
                            "ds": [
                                day - timedelta(days=40 * round_ + i) for i in range(len(order))
                            ],
                        },
                    )
        except BaseException as error:
            errors.append(error)
            barrier.abort()

    threads = [
        threading.Thread(target=insert, args=(points, TODAY)),
        threading.Thread(target=insert, args=(points[::-1], TODAY - timedelta(days=3))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def _expected_recent(engine: Engine, since: date) -> dict[tuple[int, str], int]:
    """The problems reported since ``since`` per cell of each CSP's finest H3 grid."""
    with engine.connect() as conn:
        finest = set(
            conn.scalars(
                text(
                    "SELECT DISTINCT ON (csp_id) id FROM grid WHERE units = 'h3' "
                    "ORDER BY csp_id, resolution DESC"
                )
            )
        )
        rows = conn.execute(text(PLACED)).all()
    counts = Counter((g, h3) for _, g, h3, on, _ in rows if g in finest and on >= since)
    return dict(counts)


def _check_page(client: TestClient, engine: Engine) -> None:
    """Every feature of the aggregate says the last 12 months and the total of a count
    over ``problem`` (masked under 3)."""
    since = TODAY - timedelta(days=365)
    assert since == date(2025, 6, 15)
    expected = _expected_recent(engine, since)
    totals = Counter[tuple[int, str]]()
    with engine.connect() as conn:
        for _, g, h3, _, _ in conn.execute(text(PLACED)).all():
            totals[(g, h3)] += 1
    page = client.get("/ogc/collections/problem-counts/items", params={"limit": 10000}).json()
    assert page["numberReturned"] == page["numberMatched"] > 100
    for feature in page["features"]:
        grid, h3 = feature["id"].split("-", 1)
        recent = expected.get((int(grid), h3), 0)
        total = totals[(int(grid), h3)]
        assert feature["properties"]["problems_12_months"] == (
            recent if recent >= MASKED_BELOW else None
        )
        assert feature["properties"]["problems"] == (total if total >= MASKED_BELOW else None)


def _held_edges(client: TestClient) -> list[edges.Edge]:
    ctx: Context = client.app.state.context  # type: ignore[attr-defined]
    keys = [k for k in ctx.ogc_indexes.held_keys() if isinstance(k, tuple) and k[0] == "edge"]
    return [ctx.ogc_indexes.held(k)[1] for k in keys]  # type: ignore[index]


def _edge_kept_under_writes(client: TestClient, engine: Engine, csp_id: int) -> None:
    """The edge held by the app (since the 15th: its 1st to 14th taken from the month)
    and one held here (since the 20th: its 20th to 30th added), brought up to date after
    writes in and out of their days, equal the same days read again whole."""
    since = date(2025, 6, 20)
    with Session(engine) as session:
        touches.one_snapshot(session)
        grids = edges.grids_of(session)
        held = edges.read_edge(
            session, touches.snapshot(session), (1, since, date(2025, 7, 1)), grids
        )
    assert edges.window(since)[1] == (1, since, date(2025, 7, 1))
    assert edges.window(date(2025, 6, 15))[1] == (-1, date(2025, 6, 1), date(2025, 6, 15))
    [app_held] = _held_edges(client)
    with engine.begin() as conn:
        first = dict(
            conn.execute(
                text(
                    "SELECT reported_on, min(id) FROM problem WHERE csp_id = :c "
                    "AND reported_on >= '2025-06-01' AND reported_on < '2025-07-01' "
                    "GROUP BY reported_on"
                ),
                {"c": csp_id},
            ).all()
        )
        early = [i for d, i in first.items() if d < date(2025, 6, 15)]
        late = [i for d, i in first.items() if d >= since]
        assert len(early) >= 3 and len(late) >= 2
        # out of the edge's days, into them, across cells, deleted, to another CSP
        for statement, values in (
            ("UPDATE problem SET reported_on = '2025-06-25' WHERE id = :i", {"i": early[0]}),
            ("UPDATE problem SET reported_on = '2025-06-03' WHERE id = :i", {"i": late[0]}),
            (
                "UPDATE problem SET anchor = (SELECT anchor FROM problem WHERE id = :o) "
                "WHERE id = :i",
                {"i": early[1], "o": late[1]},
            ),
            ("DELETE FROM problem WHERE id = :i", {"i": late[1]}),
            (
                "UPDATE problem SET csp_id = (SELECT id FROM csp WHERE code = 'ESSAI') "
                "WHERE id = :i",
                {"i": early[2]},
            ),
        ):
            conn.execute(text(statement), values)
    with Session(engine) as session:
        touches.one_snapshot(session)
        now = touches.snapshot(session)
        touched = touches.touched_since(
            session, csp_ids=[c for _, c in grids], snapshot=held.snapshot
        )
        assert touched is not None and len(touched) == 5
        updated = edges.updated_edge(session, held, touched, now)
        whole = edges.read_edge(session, now, held.days, grids)
        assert updated.placed == whole.placed and updated.placed != held.placed
        got = {(g, h3): n for g, h3, n in recent_counts(session, since, updated)}
        assert got == _expected_recent(engine, since)
    # the app's page: its edge brought up to date, not read again whole
    _check_page(client, engine)
    [app_now] = _held_edges(client)
    assert app_now.units is app_held.units and app_now.snapshot != app_held.snapshot
    assert app_now.placed != app_held.placed


def test_kept_months_equal_a_recount_after_random_writes(
    client: TestClient, csp_id: int, engine: Engine
) -> None:
    rng = random.Random(2122)
    with engine.begin() as conn:
        (x0, y0, x1, y1), vertex = extent_and_shared_vertex(conn, csp_id)
        # and the centres of three cells of the finest grid
        centres = [
            (float(x), float(y))
            for x, y in conn.execute(
                text(
                    "SELECT ST_X(ST_Centroid(c.geom)), ST_Y(ST_Centroid(c.geom)) FROM cell c "
                    "JOIN grid g ON g.id = c.grid_id WHERE g.csp_id = :csp "
                    "AND g.resolution = 9 AND NOT c.clipped ORDER BY c.h3 LIMIT 3"
                ),
                {"csp": csp_id},
            )
        ]
        # another CSP (fictitious, without grids) a problem is moved to and back from
        other = conn.scalar(
            text(
                "INSERT INTO csp (code, name, geom) SELECT 'ESSAI', 'CSP fictive d''essai', "
                "geom FROM csp WHERE id = :csp RETURNING id"
            ),
            {"csp": csp_id},
        )
    before = _check(engine)
    assert sum(before.values()) > 100  # the demo's problems, counted in several grids

    def point() -> tuple[float, float]:
        if rng.random() < 0.15:
            return vertex[0], vertex[1]
        return rng.uniform(x0, x1), rng.uniform(y0, y1)

    def day() -> date:
        if rng.random() < 0.3:  # the window's partial first month
            return date(2025, 6, 1) + timedelta(days=rng.randrange(0, 30))
        return TODAY - timedelta(days=rng.randrange(0, 900))

    moved_away: list[int] = []
    kinds = ["new", "move", "date", "category", "delete", "synthetic", "many", "csp"]
    for step in range(40):
        kind = kinds[step % len(kinds)] if step < len(kinds) else rng.choice(kinds)
        with engine.connect() as conn:
            ids = list(
                conn.scalars(text("SELECT id FROM problem WHERE csp_id = :c"), {"c": csp_id})
            )
        target = rng.choice(ids)
        if kind == "new":
            x, y = point()
            answer = client.post(
                f"/api/csp/{csp_id}/problems",
                json={
                    "category": "nuisances",
                    "title": f"Essai {step}",
                    "lon": x,
                    "lat": y,
                    "reported_on": day().isoformat(),
                },
            )
            assert answer.status_code in (201, 422), answer.text  # 422: outside the CSP
            continue
        if kind == "csp" and moved_away:
            statement, values = (
                "UPDATE problem SET csp_id = :c WHERE id = :id",
                {"c": csp_id, "id": moved_away.pop()},
            )
        else:
            if kind == "csp":
                moved_away.append(target)
            statement, values = {
                "move": (
                    "UPDATE problem SET anchor = ST_SetSRID(ST_MakePoint(:x, :y), 4326) "
                    "WHERE id = :id",
                    {"id": target, "x": point()[0], "y": point()[1]},
                ),
                "date": (
                    "UPDATE problem SET reported_on = :d WHERE id = :id",
                    {"id": target, "d": day()},
                ),
                "category": (
                    "UPDATE problem SET category = 'stupefiants' WHERE id = :id",
                    {"id": target},
                ),
                "delete": ("DELETE FROM problem WHERE id = :id", {"id": target}),
                "synthetic": (
                    "UPDATE problem SET synthetic = NOT synthetic WHERE id = :id",
                    {"id": target},
                ),
                # several rows in one statement: some moved, some re-dated, some both
                "many": (
                    "UPDATE problem SET anchor = CASE WHEN id % 2 = 0 "
                    "THEN ST_Translate(anchor, 0.002, -0.001) ELSE anchor END, "
                    "reported_on = CASE WHEN id % 3 = 0 THEN reported_on - 20 "
                    "ELSE reported_on END WHERE id % 7 = :r AND csp_id = :c",
                    {"r": step % 7, "c": csp_id},
                ),
                "csp": (
                    "UPDATE problem SET csp_id = :c WHERE id = :id",
                    {"c": other, "id": target},
                ),
            }[kind]
        with engine.begin() as conn:
            conn.execute(text(statement), values)
        if step % 8 == 7:
            _check(engine)
        if step in (15, 31):  # the app's edge brought up to date through these writes
            _check_page(client, engine)
    _concurrent_inserts(engine, csp_id, [*centres, (vertex[0], vertex[1])])
    after = _check(engine)
    assert after != before

    # The OGC aggregate's last 12 months: the window's first month whole (since the 1st),
    # its end counted from the problems (since the 20th), the whole month less its
    # beginning (since the 15th, the collection's own: TODAY - 365 days).
    with Session(engine) as session:
        for since in (date(2025, 6, 1), date(2025, 6, 20), date(2025, 6, 15)):
            got = {(g, h3): n for g, h3, n in recent_counts(session, since)}
            assert got == _expected_recent(engine, since), since
    _check_page(client, engine)
    _edge_kept_under_writes(client, engine, csp_id)

    # a grid built after these writes starts from every problem of the CSP, by month
    built = client.post(f"/api/csp/{csp_id}/grids", json={"resolution": 7})
    assert built.status_code in (200, 201), built.text
    counted = _check(engine)
    assert any(g == built.json()["id"] for g, *_ in counted)
