"""Benchmark: every map endpoint at its extreme parameters (issue 22), computed cold, this
tree against a baseline commit, alternating in the same run.

Run: .venv/bin/python -m bench.maps_extremes [--count 100000] [--keep DIR]
[--baseline COMMIT] [--rounds 2] [--only "NAME;NAME"]

The database is :mod:`bench.load_bench`'s (the demo territory as shipped, Belfort CSP of
57 km², and ``--count`` synthetic problems over two years), kept in ``--keep DIR`` when
given. Each round runs one process per tree (the baseline's files from ``git archive``,
then this tree's), both on the same cluster; each process times every case in turn,
**cold**: a new context (no map held) and the process's kept cell sets, weights and
hexagons forgotten, the libraries already imported (the baseline imported esda at its
first map: about 2 s more once per process). A case calls the service the route calls
(:mod:`api.services.cartography`) and asks for the bytes the route serves; it says the
process's CPU seconds (``time.process_time``: this process alone, PostgreSQL's reading
aside), the wall seconds, the answer's size, or the refusal (a 422) and its code.

The last case, ``synthetic 60 000 cells``, is the map of the largest area the default
budget admits at resolution 11 (``PSQ_MAX_MAP_CELLS``): a square of 119 km² near Belfort
(about 59 000 cells) with 200 000 random problems, from the points (no database) to the
hot spots' bytes.
Target: no request over about 2 s of CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# -- one process: the cases, timed ------------------------------------------------------
def _forget() -> None:
    """Forget what the process keeps between requests (the cold state of each case)."""
    for name in ("api.services.area_maps", "geo.hotspots", "geo.density", "geo.grid"):
        module = sys.modules.get(name)
        for value in vars(module).values() if module else ():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
        heads = getattr(module, "_HEADS", None)
        if isinstance(heads, dict):
            heads.clear()


def _cases(factory: Any) -> dict[str, Callable[[], bytes]]:
    from api import clock
    from api.services import cartography
    from api.services.context import Context
    from geo.study import ProblemFilter

    today = clock.today()
    ten = ProblemFilter.checked(today - timedelta(days=3659), today, today=today)
    first = ProblemFilter.checked(today - timedelta(days=3659), today - timedelta(days=1830),
                                  today=today)  # fmt: skip
    second = ProblemFilter.checked(today - timedelta(days=1829), today, today=today)

    def maps(what: str, res: int, gpo: int | None = None, bandwidth: float | None = None,
             **budgets: int):  # type: ignore[no-untyped-def]  # fmt: skip
        def run() -> bytes:
            ctx = Context(factory)
            for name, value in budgets.items():  # the baseline has no such budget
                setattr(ctx, name, value)
            found = cartography.area_maps(
                ctx, 1, gpo_id=gpo, where=ten, res=res, bandwidth=bandwidth
            )
            return bytes(getattr(found, what))

        return run

    def comparison(res: int, periods: tuple[Any, Any] | None = None) -> Callable[[], bytes]:
        before, after = periods or (None, None)
        if before is None:
            from geo.study import recent_periods

            before, after = recent_periods(today)
        return lambda: cartography.comparison_json(
            Context(factory), 1, gpo_id=None, before=before, after=after, res=res
        )

    return {
        "hotspots, CSP, res 9, 10 years": maps("hotspots_json", 9),
        "hotspots, CSP, res 10, 10 years": maps("hotspots_json", 10),
        "hotspots, CSP, res 11, 10 years": maps("hotspots_json", 11),
        "hotspots, GPO 1, res 11, 10 years": maps("hotspots_json", 11, gpo=1),
        "hotspots, CSP, res 11, PSQ_MAX_MAP_CELLS=20000": maps(
            "hotspots_json", 11, map_cell_budget=20_000
        ),
        "heat, CSP, 10 years": maps("heat_json", 9),
        "heat, CSP, 10 years, bandwidth 50 m": maps("heat_json", 9, bandwidth=50.0),
        "heat, CSP, 10 years, bandwidth 100 m": maps("heat_json", 9, bandwidth=100.0),
        "heat, CSP, bandwidth 50 m, PSQ_MAX_HEAT_CELLS=500000": maps(
            "heat_json", 9, bandwidth=50.0, heat_cell_budget=500_000
        ),
        "comparison, CSP, res 9, 90 days": comparison(9),
        "comparison, CSP, res 11, 2 x 5 years": comparison(11, (first, second)),
        "trend, CSP, 10 years": lambda: cartography.trend_json(
            Context(factory), 1, gpo_id=None, where=ten
        ),
        "commune cells, Belfort": lambda: cartography.commune_hotspots_json(
            Context(factory), "90010"
        ),
        "synthetic 60 000 cells, res 11": _synthetic,
    }


def _synthetic() -> bytes:
    """The hot spots of a 119 km² square at resolution 11 with 200 000 problems, from
    their points (what a request does once they are read)."""
    import numpy as np
    import pandas as pd
    import shapely

    from api import clock
    from api.services import area_maps
    from geo.hotspots import metric_crs_of, study_cells
    from geo.study import ProblemFilter, StudyArea

    # 0.098° of latitude: 10.9 km; 0.145° of longitude at 47.6°N: 10.9 km
    low, high = (6.75, 47.55), (6.75 + 0.145, 47.55 + 0.098)
    outline = shapely.box(*low, *high)
    rng = np.random.default_rng(22)
    n = 200_000
    centres = rng.uniform(low, high, (60, 2))
    around = centres[rng.integers(0, 60, n // 2)] + rng.normal(0, 0.004, (n // 2, 2))
    spread = rng.uniform(low, high, (n - n // 2, 2))
    lonlat = np.vstack([around, spread])
    today = clock.today()
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "lon": lonlat[:, 0],
            "lat": lonlat[:, 1],
            "category": "incivilites",
            "status": "nouvelle",
            "reported_on": [str(today)] * n,
            "synthetic": True,
        }
    )
    area = StudyArea(csp_id=1, name="carré", outline=outline)
    where = ProblemFilter.checked(None, None, today=today)
    checks = getattr(area_maps, "check_map_cells", None)
    if checks is not None:
        checks(area, 11, 60_000)
    crs = metric_crs_of(outline)
    cells = study_cells(outline, 11)
    points = area_maps.AreaPoints(
        "", shapely.to_wkb(outline), cells, crs, **area_maps._arrays(frame, 11, crs, cells)
    )
    found = area_maps.maps_of(points, area=area, where=where, res=11, bandwidth=None, revision=0)
    return bytes(found.hotspots_json)


def measure(url: str, only: set[str]) -> None:
    """Each case timed cold, one JSON line each on stdout."""
    import esda  # noqa: F401  (imported before the timings: the baseline's first map's)
    import libpysal  # noqa: F401

    from api.db import make_engine, make_session_factory
    from geo.errors import PsqError

    factory = make_session_factory(make_engine(url))
    for name, case in _cases(factory).items():
        if only and name not in only:
            continue
        _forget()
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            body = case()
            outcome: dict[str, Any] = {"bytes": len(body), "sha1": hashlib.sha1(body).hexdigest()}
        except PsqError as error:
            outcome = {"refused": getattr(error, "code", type(error).__name__)}
        outcome.update(case=name, cpu=time.process_time() - cpu, wall=time.perf_counter() - wall)
        print(json.dumps(outcome), flush=True)


# -- the run: both trees, alternating -------------------------------------------------
@contextlib.contextmanager
def _database(keep: Path | None, count: int) -> Iterator[str]:
    from sqlalchemy import text

    from bench.common import throwaway_database
    from bench.load_bench import prepare
    from bench.ogc_bench import kept_database

    with contextlib.ExitStack() as stack:
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            url, factory = stack.enter_context(kept_database(keep))
        else:
            url, factory, _ = stack.enter_context(throwaway_database())
        with factory() as session:
            loaded = session.scalar(text("SELECT count(*) FROM problem WHERE synthetic"))
        if not loaded:
            prepare(factory, count)
        yield url


def _run_tree(tree: Path, url: str, only: str) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", url, "--only", only],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _cell(rows: list[dict[str, Any]]) -> str:
    if "refused" in rows[0]:
        cpu = statistics.median(r["cpu"] for r in rows)
        return f"422 {rows[0]['refused']} ({cpu * 1000:.0f} ms)"
    cpu = statistics.median(r["cpu"] for r in rows)
    wall = statistics.median(r["wall"] for r in rows)
    return f"{cpu:.2f} / {wall:.2f} ({rows[0]['bytes'] / 1e6:.2f} MB)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--baseline", default="main")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(";") if name.strip()}
    if args.measure:
        measure(args.measure, only)
        return
    from bench.common import source_tree

    with _database(args.keep, args.count) as url, source_tree(args.baseline) as base:
        trees = {f"baseline {args.baseline}": base, "this tree": ROOT}
        results: dict[str, dict[str, list[dict[str, Any]]]] = {t: {} for t in trees}
        for n in range(args.rounds):
            for label, tree in trees.items():
                load = os.getloadavg()[0]
                print(f"round {n + 1}, {label} (load {load:.1f})", flush=True)
                for row in _run_tree(tree, url, args.only):
                    results[label].setdefault(row["case"], []).append(row)
        labels = list(trees)
        print(f"\nCPU / wall seconds, median of {args.rounds} cold runs (answer's size):")
        print(f"| case | {' | '.join(labels)} | same bytes |")
        print(f"|---|{'---|' * len(labels)}---|")
        for case in results[labels[-1]]:
            cells = [_cell(results[t][case]) if case in results[t] else "—" for t in labels]
            digests = {r.get("sha1") for t in labels for r in results[t].get(case, [])}
            same = "yes" if len(digests) == 1 and None not in digests else "—"
            print(f"| {case} | {' | '.join(cells)} | {same} |")


if __name__ == "__main__":
    main()
