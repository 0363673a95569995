"""Benchmark: bulk import of 1 000 000 problems into PostGIS, and their re-assignment to
sectors after a plan change.

Run: .venv/bin/python -m bench.problems_bench [--count 1000000]

A throwaway PostGIS cluster holds the demo territory (Belfort CSP). One million synthetic
problems (:mod:`geo.synth`, life cycles off) are written to a CSV file (lon/lat columns),
then imported as a user's file is: read, every row checked, every position checked inside
the CSP, COPY into ``problem`` and ``problem_event``, placed in the sectors of the adopted
plan. Targets: import under 60 s; re-assignment of all problems after another plan is
adopted under 10 s.

Baselines, same run: the bare COPY of the same rows (no reading nor checking), and the
re-assignment as one plain ``UPDATE problem_place … FROM plan_sector WHERE
ST_Covers(sector, anchor)`` in PostGIS (ours tests the points with shapely on prepared
outlines, then rewrites the changed placements with COPY).
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text

from api import clock
from api.db import copy_frame, transaction
from api.schemas import PlanCreate
from api.services.context import Context
from api.services.demo import load_demo
from api.services.placement import assign_to_sectors
from api.services.plans import adopt_plan, load_unit_graph, propose_plan
from api.services.problems import import_problem_file
from bench.common import DEMO, throwaway_database
from geo.synth import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    with throwaway_database() as (_, factory, base):
        ctx = Context(factory)
        load_demo(ctx, demo_dir=DEMO, extras=False)
        csp_id = 1
        plans = [
            propose_plan(ctx, csp_id=csp_id, plan_in=PlanCreate(k=k, seed=0))[0] for k in (8, 6)
        ]
        adopt_plan(ctx, plans[0])
        with ctx.read() as session:
            cells = load_unit_graph(session, csp_id=csp_id, resolution=9).units

        end = clock.today()
        start = time.perf_counter()
        synthetic = generate(
            cells,
            start=end - timedelta(days=730),
            end=end,
            rng=np.random.default_rng(0),
            count=args.count,
            life_cycles=False,
        )
        problems = synthetic.problems
        anchors = shapely.get_coordinates(
            shapely.get_point(
                shapely.shortest_line(problems.geometry.values, problems.geometry.centroid.values),
                0,
            )
        )
        table = pd.DataFrame(
            {
                "category": problems["category"],
                "title": problems["title"],
                "reported_on": problems["reported_on"].astype(str),
                "lon": anchors[:, 0].round(6),
                "lat": anchors[:, 1].round(6),
                "priority": problems["priority"],
            }
        )
        path = base / "problems.csv"
        table.to_csv(path, index=False)
        print(
            f"{len(table):,} problems generated and written in {time.perf_counter() - start:.1f} s "
            f"({path.stat().st_size / 1e6:.0f} MB CSV)"
        )

        start = time.perf_counter()
        imported = import_problem_file(ctx, csp_id, path=path)
        ours_import = time.perf_counter() - start
        assert imported == len(table)

        with factory() as session:
            placed = session.scalar(
                text(
                    "SELECT count(*) FROM problem p JOIN problem_place pp "
                    "ON pp.problem_id = p.id WHERE NOT p.synthetic"
                )
            )
        print(f"placed in a sector: {placed:,} of {imported:,}")

        # baseline: the bare COPY of the same rows into a copy of the table
        points = shapely.points(anchors)
        ewkb = shapely.to_wkb(shapely.set_srid(points, 4326), hex=True, include_srid=True)
        raw = pd.DataFrame(
            {
                "csp_id": csp_id,
                "category": table["category"],
                "title": table["title"],
                "reported_on": table["reported_on"],
                "priority": table["priority"],
                "status": "signale",
                "status_on": table["reported_on"],
                "geom": ewkb,
                "anchor": ewkb,
            }
        ).astype(object)
        with transaction(factory) as session:
            session.execute(text("CREATE TABLE problem_copy (LIKE problem INCLUDING DEFAULTS)"))
            session.execute(
                text(
                    "ALTER TABLE problem_copy ALTER COLUMN id "
                    "SET DEFAULT nextval(pg_get_serial_sequence('problem', 'id'))"
                )
            )
        start = time.perf_counter()
        with transaction(factory) as session:
            copy_frame(session, "problem_copy", raw)
        bare_copy = time.perf_counter() - start

        # re-assignment after another plan is adopted
        start = time.perf_counter()
        adopt_plan(ctx, plans[1])
        ours_assign = time.perf_counter() - start
        start = time.perf_counter()
        with transaction(factory) as session:
            session.execute(
                text(
                    "UPDATE problem_place pp SET sector = s.sector FROM plan_sector s, problem p "
                    "WHERE p.id = pp.problem_id AND s.plan_id = :plan "
                    "AND ST_Covers(s.geom, p.anchor)"
                ),
                {"plan": plans[1]},
            )
        plain_assign = time.perf_counter() - start
        with factory() as session:
            counts = session.execute(
                text("SELECT sector, count(*) FROM problem_place GROUP BY sector ORDER BY sector")
            ).all()
        print("problems per sector after the change:", dict(counts))
        # our function again, timed alone (the adoption above also syncs GPOs)
        start = time.perf_counter()
        with transaction(factory) as session:
            assign_to_sectors(session, csp_id)
        ours_assign_only = time.perf_counter() - start

    n = f"{imported:,}"
    print(
        f"import of {n} problems from CSV (read, check, COPY, place): {ours_import:6.1f} s  "
        f"target < 60 s -> {'PASS' if ours_import < 60 else 'FAIL'}"
    )
    print(f"  baseline: bare COPY of the same rows, no checks:             {bare_copy:6.1f} s")
    print(
        f"re-assignment of all problems, adoption of another plan:     {ours_assign:6.1f} s  "
        f"target < 10 s -> {'PASS' if ours_assign < 10 else 'FAIL'}"
    )
    print(f"  placement check alone, nothing to change:                  {ours_assign_only:6.1f} s")
    print(f"  baseline: one UPDATE with ST_Covers on whole sectors:      {plain_assign:6.1f} s")


if __name__ == "__main__":
    main()
