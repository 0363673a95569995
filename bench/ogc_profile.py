"""Profile of the OGC API's pages of problems: each step's time in the app and the plan of
each query PostgreSQL runs (EXPLAIN (ANALYZE, BUFFERS)).

Run: .venv/bin/python -m bench.ogc_profile [--count 200000] [--keep DIR]

``--keep DIR``: the database kept by ``bench.ogc_bench --keep DIR`` (filled once).

The database is the one of :mod:`bench.ogc_bench` (the demo territory and ``--count``
fictitious problems). For each page (no filter, bbox, bbox and datetime, CQL2 on the
category, sortby, a deep offset, the keyset ``after``, Lambert-93), the service's answer is
timed step by step (the source and its conditions, ``numberMatched`` counted then read back,
the page written by PostgreSQL, the links and the body), then every statement the page ran
is explained with its own parameters. Then the aggregate collection ``problem-counts`` as
a ``commune`` account reads it (the commune of most cells in the CSP): the whole answer
(first with ``numberMatched`` counted, then read back), and, for comparison, the join of
its cells with every problem that each page ran before (issue 21's second round).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from api import clock
from api.repositories import ogc as repo
from api.services import ogc
from api.services.context import Context
from api.services.demo import load_demo
from bench.common import DEMO, throwaway_database
from bench.ogc_bench import NEW_PROBLEM, fill, kept_database
from geo import cql2
from geo.accounts import Actor, Scope
from geo.ogc import LAMBERT93, epsg_of, parse_bbox, parse_datetime, parse_sortby


def _pages(count: int) -> dict[str, ogc.ItemsQuery]:
    since = (clock.today() - timedelta(days=180)).isoformat()
    box = "6.80,47.60,6.87,47.66"
    deep = min(500_000, count // 2)
    return {
        "no filter": ogc.ItemsQuery(limit=1000),
        "bbox": ogc.ItemsQuery(limit=1000, bbox=box),
        "bbox + datetime": ogc.ItemsQuery(limit=1000, bbox=box, datetime=f"{since}/.."),
        "CQL2 category": ogc.ItemsQuery(
            limit=1000, filter=f"category = 'rassemblements' AND reported_on >= DATE('{since}')"
        ),
        "sortby=-reported_on": ogc.ItemsQuery(limit=1000, sortby="-reported_on"),
        f"offset {deep:,}": ogc.ItemsQuery(limit=1000, offset=deep),
        f"after (keyset, rank {deep:,})": ogc.ItemsQuery(limit=1000, offset=deep, after=deep),
        "crs EPSG:2154": ogc.ItemsQuery(limit=1000, crs=LAMBERT93),
    }


def _steps(ctx: Context, q: ogc.ItemsQuery) -> dict[str, float]:
    """The service's steps (as :func:`api.services.ogc.items`), each timed in ms."""
    times: dict[str, float] = {}
    start = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal start
        now = time.perf_counter()
        times[name] = (now - start) * 1000
        start = now

    with ctx.read() as session:
        lap("session")
        source = repo.problems(session)
        box = parse_bbox(q.bbox) if q.bbox else None
        dates = parse_datetime(q.datetime) if q.datetime else None
        node = cql2.parse(q.filter) if q.filter else None
        sort = parse_sortby(q.sortby) if q.sortby else []
        where = repo.conditions(
            source, bbox=box, bbox_srid=4326, dates=dates, node=node, filter_srid=4326
        )
        lap("source + conditions")
        repo.count(session, source, where)
        lap("numberMatched (counted)")
        repo.problems_revision(session)
        lap("revision (count read back)")
        found = repo.page(
            session,
            source,
            where,
            names=list(source.types),
            sort=sort,
            limit=q.limit,
            offset=q.offset,
            srid=epsg_of(q.crs),
            after=q.after,
        )
        lap("page (SQL)")
    lap("commit")
    answer = ogc.items(ctx, "http://x/ogc", "problems", q, [("limit", str(q.limit))])
    lap("whole answer (count cached)")
    times["body kB"] = len(answer.body) / 1000
    times["features"] = found.returned
    return times


#: The aggregate as every page of ``problem-counts`` computed it before: each cell of the
#: finest H3 grid joined with every problem of its CSP.
JOINED = """
SELECT c.h3, count(p.id), count(p.id) FILTER (WHERE p.reported_on >= :since)
FROM cell c JOIN grid g ON g.id = c.grid_id
LEFT JOIN problem p ON p.csp_id = g.csp_id AND ST_Covers(c.geom, p.anchor)
WHERE g.id = :grid AND c.commune_code = :commune
GROUP BY c.grid_id, c.h3
"""


def _after_writes(ctx: Context, factory: Any, commune: str, q: Any, rounds: int = 20) -> None:
    """The aggregate's page right after each of ``rounds`` new problems (one committed
    INSERT at a cell's centre of the commune, reported today): the whole answer, and the
    time of each statement it ran (per page on average, the costliest first)."""
    engine = factory.kw["bind"]
    spent: dict[str, list[float]] = {}
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_c: Any, _cur: Any, stmt: str, *_: Any) -> None:
        head = " ".join(stmt.split())[:110]
        spent.setdefault(head, []).append((time.perf_counter() - started.pop()) * 1000)

    whole = []
    for i in range(rounds):
        with factory.begin() as session:
            session.execute(
                NEW_PROBLEM,
                {"today": clock.today(), "code": commune, "i": i % 50},
            )
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            start = time.perf_counter()
            ogc.items(ctx, "http://x/ogc", "problem-counts", q, [])
            whole.append((time.perf_counter() - start) * 1000)
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
    whole.sort()
    print(
        f"   after each of {rounds} new problems: p50 {whole[len(whole) // 2]:.0f} ms, "
        f"max {whole[-1]:.0f} ms in the process; its statements (ms per page / max):"
    )
    for head, times in sorted(spent.items(), key=lambda kv: -sum(kv[1]))[:8]:
        print(f"     {sum(times) / rounds:6.1f} {max(times):6.1f}  {head}")


def _commune_aggregate(factory: Any) -> None:
    with factory() as session:
        commune = session.scalar(
            text(
                "SELECT commune_code FROM cell JOIN grid ON grid.id = cell.grid_id "
                "WHERE grid.csp_id = 1 GROUP BY commune_code ORDER BY count(*) DESC LIMIT 1"
            )
        )
        grid = session.scalar(
            text(
                "SELECT id FROM grid WHERE csp_id = 1 AND units = 'h3' "
                "ORDER BY resolution DESC LIMIT 1"
            )
        )
    scope = Scope(role="commune", commune_codes=frozenset([commune]))
    q = ogc.ItemsQuery(limit=1000)
    timed = []
    for _ in range(3):
        ctx = Context(factory).acting(Actor.cli("bench"), scope=scope)  # empty caches
        start = time.perf_counter()
        answer = ogc.items(ctx, "http://x/ogc", "problem-counts", q, [])
        timed.append((time.perf_counter() - start) * 1000)
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        ogc.items(ctx, "http://x/ogc", "problem-counts", q, [])
        warm.append((time.perf_counter() - start) * 1000)
    cells = json.loads(answer.body)["numberReturned"]
    print(
        f"\n== problem-counts, commune {commune} ({cells} cells): counted "
        f"{min(timed):.0f}-{max(timed):.0f} ms, count read back "
        f"{min(warm):.0f}-{max(warm):.0f} ms"
    )
    _after_writes(ctx, factory, commune, q)
    since = clock.today() - timedelta(days=365)
    with factory() as session:
        joined = []
        for _ in range(3):
            start = time.perf_counter()
            session.execute(text(JOINED), {"since": since, "grid": grid, "commune": commune})
            joined.append((time.perf_counter() - start) * 1000)
    print(f"   before: the join of its cells and the problems {min(joined):.0f} ms")
    with factory() as session:
        q_source = "EXPLAIN (ANALYZE, BUFFERS) " + JOINED
        for line in session.execute(
            text(q_source), {"since": since, "grid": grid, "commune": commune}
        ).scalars():
            print("   " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="the folder of bench.ogc_bench --keep")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.keep:
            _, factory = stack.enter_context(kept_database(args.keep))
        else:
            _, factory, _base = stack.enter_context(throwaway_database())
            load_demo(Context(factory), demo_dir=DEMO, adopt=False)
            fill(factory, args.count)
        _commune_aggregate(factory)
        ctx = Context(factory)
        engine = factory.kw["bind"]
        for name, q in _pages(args.count).items():
            _steps(ctx, q)  # warm: the caches, the plans
            statements: list[tuple[str, Any]] = []

            def record(_c: Any, _cur: Any, stmt: str, params: Any, _x: Any, _m: Any) -> None:
                statements.append((stmt, params))  # noqa: B023

            event.listen(engine, "before_cursor_execute", record)
            try:
                times = _steps(ctx, q)
            finally:
                event.remove(engine, "before_cursor_execute", record)
            print(f"\n== {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))
            with engine.connect() as conn:
                for stmt, params in statements:
                    if not stmt.lstrip().upper().startswith("SELECT") or "problem" not in stmt:
                        continue
                    if "string_agg" not in stmt and "count(" not in stmt:
                        continue
                    # As the app runs them: a page without parallel workers, a count with.
                    if "string_agg" in stmt:
                        conn.execute(text("SET max_parallel_workers_per_gather = 0"))
                    else:
                        conn.execute(text("RESET max_parallel_workers_per_gather"))
                    plan = conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + stmt, params
                    ).scalars()
                    print("  " + "\n  ".join(plan))


if __name__ == "__main__":
    main()
