"""Benchmark: server time of one hand edit of a sector plan plus its metrics update.

Run: .venv/bin/python -m bench.edit_bench [--edits 200]

Territory: the whole Territoire de Belfort (101 communes, about 610 km²) as one CSP, H3
resolution 9: about 6 500 cells, split into 12 sectors by the engine. A throwaway PostGIS
cluster is started for the run. Each edit moves 1 to 5 cells of a sector's border to a
neighbouring sector, as a planner's brush stroke does, and is sent as
``POST /api/plans/{id}/edits`` through the ASGI app in process (no network): the time is
the server's, the database write included. Target: median under 50 ms.

Baseline, same edits, same run: the metrics recomputed from scratch after each edit
(:func:`geo.metrics.score` on the dissolved sectors) instead of incrementally
(:class:`geo.editing.PlanEditor`), in process, without the database.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from fastapi.testclient import TestClient

from api.config import Settings
from api.models import Plan
from api.schemas import PlanCreate
from api.services.context import Context
from api.services.grid import build_grid
from api.services.plans import load_sector_plan, propose_plan
from api.services.territory import import_layer_file, import_territory
from bench.common import DEMO, bearer, throwaway_database
from geo.editing import PlanEditor
from geo.metrics import score
from geo.territory import read_communes
from psq.app import create_app


def strokes(
    plan_assignment: np.ndarray, a: np.ndarray, b: np.ndarray, n: int, seed: int
) -> list[dict[int, int]]:
    """``n`` brush strokes (position -> sector), each valid after the previous ones."""
    rng = np.random.default_rng(seed)
    assignment = plan_assignment.copy()
    out = []
    for _ in range(n):
        cut = np.flatnonzero(assignment[a] != assignment[b])
        edges = rng.choice(cut, size=int(rng.integers(1, 6)), replace=False)
        target = int(assignment[b[edges[0]]])
        source = int(assignment[a[edges[0]]])
        stroke = {int(a[e]): target for e in edges if assignment[a[e]] == source}
        counts = np.bincount(assignment, minlength=assignment.max() + 1)
        if counts[source] <= len(stroke):
            continue
        for u, t in stroke.items():
            assignment[u] = t
        out.append(stroke)
    return out


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"median {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   (n = {len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=200)
    args = parser.parse_args()

    with throwaway_database() as (url, factory, base):
        ctx = Context(factory)
        report = import_territory(
            ctx,
            layer=read_communes(DEMO / "communes_90.geojson"),
            csp_name="Territoire de Belfort",
            csp_code="tb",
            commune_codes=None,
        )
        import_layer_file(
            ctx,
            path=DEMO / "filosofi2019_carreaux200m_belfort.geojson",
            kind="population_grid",
            name="Filosofi",
        )
        grid = build_grid(ctx, csp_id=report.csp_id, resolution=9)
        plan_id, _ = propose_plan(ctx, csp_id=report.csp_id, plan_in=PlanCreate(k=12, seed=0))
        print(f"{grid.cell_count} cells, 12 sectors (plan {plan_id})")

        settings = Settings(database_url=url, var_dir=base / "var", demo_dir=DEMO)
        with TestClient(create_app(settings)) as client:
            client.headers.update(bearer(factory, "planificateur", csp_ids=[report.csp_id]))
            copy = client.post(f"/api/plans/{plan_id}/edit").json()
            with factory() as session:
                plan = load_sector_plan(session, session.get(Plan, copy["id"]))
            units = plan.graph.units["unit"].to_numpy()
            a = plan.graph.edges["a"].to_numpy(int)
            b = plan.graph.edges["b"].to_numpy(int)
            edits = strokes(plan.assignment, a, b, args.edits, seed=1)

            version = copy["version"]
            client.get(f"/api/plans/{copy['id']}/editor")  # loads the editor once
            server: list[float] = []
            for stroke in edits:
                body = {"version": version, "assignments": {units[u]: s for u, s in stroke.items()}}
                start = time.perf_counter()
                response = client.post(f"/api/plans/{copy['id']}/edits", json=body)
                server.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
                version = response.json()["version"]

        editor = PlanEditor(plan)
        incremental: list[float] = []
        full: list[float] = []
        assignment = plan.assignment.copy()
        for stroke in edits:
            start = time.perf_counter()
            editor.apply(stroke)
            editor.metrics()
            editor.violations()
            incremental.append(time.perf_counter() - start)
            for u, s in stroke.items():
                assignment[u] = s
            start = time.perf_counter()
            score(plan.with_assignment(assignment.copy()))
            full.append(time.perf_counter() - start)

    print(f"server, one edit + metrics (HTTP in process, PostGIS write): {summary(server)}")
    print(f"geo only, incremental metrics (PlanEditor):                  {summary(incremental)}")
    print(f"geo only, baseline: full re-score of the plan:                {summary(full)}")
    verdict = "PASS" if statistics.median(server) < 0.050 else "FAIL"
    print(f"target: server median under 50 ms -> {verdict}")


if __name__ == "__main__":
    main()
