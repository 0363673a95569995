"""Benchmark: pages of 1 000 features of the OGC API (``/ogc``) on a large problems table.

Run: .venv/bin/python -m bench.ogc_bench [--count 1000000] [--requests 100] [--keep DIR]
[--trace DIR] [--only NAME]

``--keep DIR`` keeps the cluster (and its problems) in ``DIR`` and reuses it at the next
run with the same ``--count``: filling 1 000 000 problems takes minutes, and a before /
after comparison should read the same table.

A throwaway PostGIS cluster holds the demo territory (Belfort CSP, no plan) and
``--count`` fictitious problems written with COPY (random points inside the CSP, random
categories and days over two years). The app is served by ``psq serve`` on loopback and
Apache Bench (4 concurrent clients) asks, as the direction (bearer token):

- the first page of 1 000 problems, a page deep in the table (offset 500 000 or the
  middle) asked by its offset and as its ``next`` link gives it (``after``: keyset), a
  page filtered with CQL2 (category and period), a page in a bbox (and a period), a page
  sorted newest first, a page in Lambert-93;
- as a ``commune`` account (the commune of most cells in the CSP), the aggregate collection
  ``problem-counts`` (problems per cell of the finest H3 grid), first page;
- beside them, in the same run: ``GET /api/health`` (the app's cheapest answer).

``--trace DIR`` writes the app's JSON log lines (an access line per request: its duration,
the collector's pauses during it, ``gc_ms`` and ``gc_full``) and PostgreSQL's log of the
statements over 100 ms, checkpoints and autovacuum runs, then lists the slow requests
with what ran beside them. ``--only NAME`` measures the rows whose name contains NAME.

Target: p95 of a page of 1 000 features under 200 ms. ``numberMatched`` is counted once
per (collection, filter, perimeter) and kept a minute (and until the problems change):
the first request of each pays the count (``cold``), the others read it back.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2 as httpx
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select, text

from api import clock
from api.cluster import LocalCluster, free_port
from api.db import copy_frame, make_engine, make_session_factory, migrate, transaction
from api.models import Account
from api.schemas import AccountCreate
from api.services import accounts
from api.services.context import Context
from api.services.demo import load_demo
from bench.common import DEMO, served_app, throwaway_database
from bench.hotspots_bench import ensure_ab, load
from geo.accounts import Actor
from geo.ogc import LAMBERT93
from geo.problems import CATEGORIES


def fill(factory, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` fictitious problems inside the CSP, by COPY (after the demo's own)."""
    rng = np.random.default_rng(0)
    with factory() as session:
        first = int(session.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM problem")))
        outline = shapely.from_wkb(
            bytes(session.scalar(text("SELECT ST_AsBinary(geom) FROM csp WHERE id = 1")))
        )
    minx, miny, maxx, maxy = outline.bounds
    xs, ys = np.empty(0), np.empty(0)
    while len(xs) < count:
        x = rng.uniform(minx, maxx, count)
        y = rng.uniform(miny, maxy, count)
        inside = shapely.contains_xy(outline, x, y)
        xs, ys = np.concatenate([xs, x[inside]]), np.concatenate([ys, y[inside]])
    xs, ys = xs[:count], ys[:count]
    points = shapely.set_srid(shapely.points(xs, ys), 4326)
    ewkb = shapely.to_wkb(points, hex=True, include_srid=True)
    today = clock.today()
    days = pd.to_datetime(today) - pd.to_timedelta(rng.integers(0, 730, count), unit="D")
    categories = np.array(list(CATEGORIES))[rng.integers(0, len(CATEGORIES), count)]
    frame = pd.DataFrame(
        {
            "id": np.arange(first, first + count),
            "csp_id": 1,
            "category": categories,
            "title": [f"Problématique fictive {i}" for i in range(1, count + 1)],
            "reported_on": days.date,
            "priority": "normale",
            "status": "signale",
            "status_on": days.date,
            "synthetic": True,
            "geom": ewkb,
            "anchor": ewkb,
        }
    )
    with transaction(factory) as session:
        copy_frame(session, "problem", frame)
    # As autovacuum leaves a table after a bulk load: its visibility map set (index-only
    # scans) and its statistics.
    engine = factory.kw["bind"]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE problem"))


@contextlib.contextmanager
def kept_database(folder: Path) -> Iterator[tuple[str, Any]]:
    """The cluster kept in ``folder`` (created at the first run), started for this run and
    stopped after it: its URL and a session factory."""
    cluster = LocalCluster(folder / "pg", port=free_port(), database="bench", durable=False)
    url = cluster.start()
    try:
        start = time.perf_counter()
        migrate(url)
        print(f"migrations checked or applied in {time.perf_counter() - start:.1f} s")
        engine = make_engine(url)
        try:
            yield url, make_session_factory(engine)
        finally:
            engine.dispose()
    finally:
        cluster.stop()


def token_of(factory, role: str, **bindings: Any) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The bearer header of an account of this role and bindings (created at the first
    run, then found again by its e-mail, which names the bindings)."""
    named = "-".join(str(v) for values in bindings.values() for v in values)
    email = f"{role}{'-' + named if named else ''}@bench.example"
    ctx = Context(factory).acting(Actor.cli("bench"))
    with factory() as session:
        account_id = session.scalar(select(Account.id).where(Account.email == email))
    if account_id is None:
        account_id = accounts.create_account(
            ctx, AccountCreate(email=email, role=role, password="banc d'essai 2026", **bindings)
        ).id
    return {"Authorization": f"Bearer {accounts.create_token(ctx, account_id, 'bench').token}"}


def quantiles(times: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max of request times in ms (nearest rank)."""
    times = sorted(times)
    return {
        "p50": times[len(times) // 2],
        "p95": times[min(len(times) - 1, int(len(times) * 0.95))],
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "max": times[-1],
    }


def sequential(url: str, requests: int, headers: dict[str, str]) -> dict[str, float]:
    """One client asking ``requests`` times in a row (as QGIS pages): p50 and p95 in ms."""
    times = []
    with httpx.Client(headers=headers, timeout=120) as client:
        for _ in range(requests):
            start = time.perf_counter()
            client.get(url).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return quantiles(times)


#: What PostgreSQL logs during a traced run (``--trace``).
TRACED_SETTINGS = {
    "log_min_duration_statement": "100",
    "log_checkpoints": "on",
    "log_autovacuum_min_duration": "0",
    "log_lock_waits": "on",
}


def trace_postgres(factory) -> None:  # type: ignore[no-untyped-def]
    engine = factory.kw["bind"]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name, value in TRACED_SETTINGS.items():
            conn.execute(text(f"ALTER SYSTEM SET {name} = '{value}'"))
        conn.execute(text("SELECT pg_reload_conf()"))


def slow_requests(log: Path, over_ms: float) -> None:
    """The access lines of ``log`` slower than ``over_ms``, with the collector's pauses
    during each, and the share of the requests that met a pass over the oldest
    generation."""
    lines = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("logger") == "psq.access":
                lines.append(entry)
    pages = [e for e in lines if e["path"].endswith("/items")]
    slow = [e for e in pages if e["duration_ms"] > over_ms]
    full = [e for e in pages if e.get("gc_full")]
    print(f"\n{len(pages)} OGC pages served, {len(slow)} over {over_ms:.0f} ms:")
    for e in slow:
        print(
            f"  {e['time']} {e['duration_ms']:7.1f} ms  gc {e.get('gc_ms')} ms"
            f" (full passes: {e.get('gc_full')})  {e['request_id'][:8]}"
        )
    if pages and pages[0].get("gc_ms") is not None:
        durations = sorted(e["duration_ms"] for e in full) or [0.0]
        median = durations[len(durations) // 2]
        print(
            f"  pages during a full collection: {len(full)} (median {median:.0f} ms);"
            f" longest collector time in one page: {max(e['gc_ms'] for e in pages):.0f} ms"
        )


#: A fictitious problem reported today at the centre of the ``:i``-th cell (of 50) of the
#: commune ``:code`` (CSP 1): a write that moves the commune's aggregate.
NEW_PROBLEM = text(
    "INSERT INTO problem (csp_id, category, title, reported_on, status_on, "
    "synthetic, geom, anchor) SELECT 1, 'nuisances', 'Problématique fictive', "
    ":today, :today, true, pt, pt FROM (SELECT ST_Centroid(geom) AS pt "
    "FROM cell WHERE commune_code = :code ORDER BY grid_id, h3 "
    "OFFSET :i LIMIT 1) s"
)


def after_writes(  # type: ignore[no-untyped-def]
    factory, url: str, commune: str, headers: dict[str, str], requests: int
) -> dict[str, float]:
    """One client asking ``url`` ``requests`` times, each right after a new problem (one
    committed INSERT at a cell's centre of ``commune``, reported today): what the first
    page after a change of the problems costs (p50, p95, max in ms)."""
    times = []
    with transaction(factory) as session:  # the fill wrote its ids itself (COPY)
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('problem', 'id'), max(id)) FROM problem")
        )
    with httpx.Client(headers=headers, timeout=120) as client:
        for i in range(requests):
            with transaction(factory) as session:
                session.execute(
                    NEW_PROBLEM,
                    {"today": clock.today(), "code": commune, "i": i % 50},
                )
            start = time.perf_counter()
            client.get(url).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return quantiles(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="keep the database in this folder, reuse it")
    parser.add_argument("--trace", type=Path, help="write the app's and PostgreSQL's logs here")
    parser.add_argument("--only", help="measure only the rows whose name contains this")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.keep:
            url, factory = stack.enter_context(kept_database(args.keep))
        else:
            url, factory, _ = stack.enter_context(throwaway_database())
        with factory() as session:
            loaded = session.scalar(text("SELECT count(*) FROM problem WHERE synthetic"))
        if not loaded:
            load_demo(Context(factory), demo_dir=DEMO, adopt=False)
            start = time.perf_counter()
            fill(factory, args.count)
            took = time.perf_counter() - start
            print(f"{args.count:,} fictitious problems written by COPY in {took:.1f} s")
        else:
            print(f"reusing {args.keep}: {loaded:,} fictitious problems")
        if args.trace:
            args.trace.mkdir(parents=True, exist_ok=True)
            trace_postgres(factory)
        headers = token_of(factory, "admin")
        with factory() as session:
            commune = session.scalar(
                text(
                    "SELECT commune_code FROM cell JOIN grid ON grid.id = cell.grid_id "
                    "WHERE grid.csp_id = 1 GROUP BY commune_code ORDER BY count(*) DESC LIMIT 1"
                )
            )
        commune_headers = token_of(factory, "commune", commune_codes=[commune])
        app_log = args.trace / "app.jsonl" if args.trace else None
        with served_app(url, log=app_log) as base:
            ab = ensure_ab()
            since = (clock.today() - timedelta(days=180)).isoformat()
            cql = quote(f"category = 'rassemblements' AND reported_on >= DATE('{since}')")
            items = f"{base}/ogc/collections/problems/items?limit=1000"
            deep = min(500_000, args.count // 2)
            # The page a client reaches by following ``next`` links that deep: where the
            # server links it with ``after`` (keyset), the id it starts after; an older
            # server ignores ``after`` and skips ``offset`` rows.
            with factory() as session:
                before_deep = session.scalar(
                    text("SELECT id FROM problem ORDER BY id OFFSET :n LIMIT 1"), {"n": deep - 1}
                )
            pages = {
                "first page": items,
                f"offset {deep:,}": f"{items}&offset={deep}",
                f"next link at {deep:,} (after=id)": f"{items}&offset={deep}&after={before_deep}",
                "CQL2 filter (category, period)": f"{items}&filter={cql}",
                "bbox (a quarter of the CSP)": f"{items}&bbox=6.80,47.60,6.87,47.66",
                "sortby=-reported_on": f"{items}&sortby=-reported_on",
                "bbox + datetime (6 months)": (
                    f"{items}&bbox=6.80,47.60,6.87,47.66&datetime={since}/.."
                ),
                "EPSG:2154 (crs)": f"{items}&crs={quote(LAMBERT93)}",
            }
            counts = f"{base}/ogc/collections/problem-counts/items?limit=1000"
            print(f"\n{args.requests} requests each, 4 concurrent clients (ab), loopback:")
            print(
                f"  {'page of 1 000 features':34} {'cold':>7} {'p50':>7} {'p95':>7} {'p99':>7}"
                f" {'max':>7}   one client: {'p50':>7} {'p95':>7} {'max':>7}"
            )
            worst = 0.0
            asked = [(name, page, headers) for name, page in pages.items()]
            asked.append((f"commune {commune}: problem-counts", counts, commune_headers))
            if args.only:
                asked = [row for row in asked if args.only in row[0]]
            for name, page, who in asked:
                start = time.perf_counter()
                response = httpx.get(page, headers=who, timeout=120)
                cold = (time.perf_counter() - start) * 1000
                response.raise_for_status()
                body = response.json()
                p = load(ab, page, args.requests, who)
                one = sequential(page, args.requests, who)
                worst = max(worst, p["p95"])
                print(
                    f"  {name:34} {cold:5.0f}ms {p['p50']:5.0f}ms {p['p95']:5.0f}ms"
                    f" {p['p99']:5.0f}ms {p['max']:5.0f}ms"
                    f"               {one['p50']:5.0f}ms {one['p95']:5.0f}ms {one['max']:5.0f}ms"
                    f"  ({body['numberReturned']} of {body['numberMatched']:,})",
                    flush=True,
                )
            after = after_writes(factory, counts, commune, commune_headers, args.requests)
            print(
                f"  {'the same, each after a new problem':34} {'':7} {'':7} {'':7}"
                f"               {after['p50']:5.0f}ms {after['p95']:5.0f}ms"
                f"  (max {after['max']:.0f} ms)"
            )
            verdict = "PASS" if worst < 200 else "FAIL"
            print(f"worst p95: {worst:.0f} ms   target < 200 ms -> {verdict}")
            health = load(ab, f"{base}/api/health", args.requests, {})
            uptime = Path("/proc/loadavg").read_text().split()[:3]
            print(f"  load average during the run: {' '.join(uptime)} ({os.cpu_count()} cores)")
            print(
                f"  baseline: GET /api/health: p50 {health['p50']:.0f} ms, "
                f"p95 {health['p95']:.0f} ms"
            )
        if app_log is not None:
            slow_requests(app_log, 300)


if __name__ == "__main__":
    main()
