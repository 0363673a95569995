"""Every method and objective on territories never seen, each plan checked on the ground.

The territories are those of the test battery (``tests/geo/test_sector_battery.py``:
Belfort and Essonne communes, exclaves, a lake, an isthmus, an archipelago with and
without a ferry; H3 resolution 8, tolerance ±10 %) and a few harder ones built the same
way (:func:`harder`):

* ``essonne-all-k``: the Essonne's 194 communes, resolution 8 (about 2 400 units), k = 12,
  16, 20, tolerance ±5 %;
* ``islands-only-k``: six Belfort communes shrunk into islands 2 km apart, no mainland
  and no ferry (contiguity on the ground is impossible: the sectors may only hold whole
  islands joined by the plan's proximity links);
* ``huge-and-tiny-k``: Belfort (47 000 inhabitants) and the 19 small communes around it;
* ``belfort-filosofi``: the Belfort CSP with its Filosofi grid (the battery's territories
  have neither a population grid nor a QPV: their workload is the communes' population
  spread by area) and a fictitious QPV zone in Belfort that may not be split;
* ``no-population``: a CSP whose communes carry no population (a missing layer): every
  workload is 0.

Each territory runs every method x objective x whole communes on/off that means something:
``engine`` x {``boundary``, ``distance``, ``mix``} x {whole communes under 10 000
inhabitants, every commune splittable}; ``exact`` (its objective is always the p-median
distance) x whole on/off with ``--time-limit`` seconds (10 by default); ``communes`` (every
commune whole, no objective) once. Each run is a forked child, killed past its cap (the
exact time limit x 1.5 + 15 s, or 120 s), and its plan checked on the ground with
``tests/plan_checks.py``:

* ``cover``: no gap, no overlap;
* ``pieces``: each sector in one piece on the ground, but whole islands joined by a link
  the plan names; a fragment is a failure unless the plan flags it (a ``contiguity``
  violation);
* ``balance``: every sector within the tolerance, or the plan flags it (a ``balance``
  violation);
* a refusal must be a :class:`~geo.errors.PsqError` of the message catalogue (French, a
  stable code); any other exception is a failure (``error``: the Python traceback is
  printed), as is a child that outlives its cap (``timeout``) or a run past its time
  limit (``slow``).

The objective columns are the plan's p-median distance (m, :mod:`geo.pmedian`) and its
boundary length (km of open edges between sectors).

    python -m bench.battery_methods [--only NAME] [--methods engine,exact,communes]
                                    [--time-limit 10] [--battery-only | --harder-only]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import sys
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point

from geo.errors import PsqError
from geo.grid import PopulationGrid, cell_attributes, tessellate, workload
from geo.layers import prepare_layer
from geo.pmedian import pmedian_distance
from geo.sectorize import DesignParameters, make_sectorizer
from geo.unit_graph import UnitGraph
from tests.geo.test_sector_battery import BELFORT, CASES, CSP, ESSONNE, ROOT, _cluster
from tests.plan_checks import AREA_NOISE, check_partition

ENGINE_CAP_S = 120.0
#: A run may exceed its time limit by this share plus this many seconds (building the
#: instance and the warm start are inside the limit, the ground check is not).
SLOW_SHARE, SLOW_S = 1.5, 15.0


@dataclass
class Territory:
    name: str
    graph: UnitGraph
    territory: shapely.Geometry
    k: int
    tolerance: float
    source: str = "battery"


@dataclass
class Run:
    method: str
    objective: str
    whole: bool

    def params(self, t: Territory, time_limit: float) -> DesignParameters:
        return DesignParameters(
            method=self.method,  # type: ignore[arg-type]
            k=t.k,
            tolerance=t.tolerance,
            resolution=8,
            whole_commune_population=10_000 if self.whole else 0,
            objective=self.objective,  # type: ignore[arg-type]
            time_limit=time_limit,
        )


@dataclass
class Row:
    territory: str
    units: int
    k: int
    run: Run
    status: str = ""  # ok, flagged, refused, error, timeout, FAIL
    seconds: float = 0.0
    pmedian_m: float | None = None
    boundary_km: float | None = None
    max_dev: float | None = None
    detail: str = ""
    problems: list[str] = field(default_factory=list)


def runs(methods: Sequence[str]) -> list[Run]:
    out = []
    if "engine" in methods:
        out += [
            Run("engine", obj, whole)
            for obj in ("boundary", "distance", "mix")
            for whole in (True, False)
        ]
    if "exact" in methods:
        out += [Run("exact", "distance", whole) for whole in (True, False)]
    if "communes" in methods:
        out.append(Run("communes", "boundary", True))
    return out


# -- territories --------------------------------------------------------------------------


def _graph(
    communes: gpd.GeoDataFrame,
    territory: shapely.Geometry,
    ferries: Sequence[LineString] = (),
    grid: PopulationGrid | None = None,
) -> UnitGraph:
    declared = gpd.GeoDataFrame(
        {"name": [f"bac {i}" for i in range(len(ferries))]}, geometry=list(ferries), crs=4326
    )
    cells = cell_attributes(tessellate(territory, 8), communes, grid)
    cells["workload"] = workload(cells)
    return UnitGraph.from_cells(cells, declared=declared)


def battery() -> Iterator[Territory]:
    for name, case in sorted(CASES.items()):
        communes, territory = case["communes"], case["territory"]
        assert isinstance(communes, gpd.GeoDataFrame)
        assert isinstance(territory, shapely.Geometry)
        graph = _graph(communes, territory, case["ferries"])  # type: ignore[arg-type]
        yield Territory(name, graph, territory, int(case["k"]), 0.10)  # type: ignore[call-overload]


def _belfort_grid(territory: shapely.Geometry) -> PopulationGrid:
    raw = gpd.read_file(ROOT / "data" / "boundaries" / "filosofi2019_carreaux200m_belfort.geojson")
    layer = prepare_layer(raw, "population_grid", territory=territory, source="filosofi")
    assert layer.extent is not None
    return PopulationGrid(layer.features, layer.extent)


def harder() -> Iterator[Territory]:
    essonne = ESSONNE.reset_index(drop=True)
    whole = ESSONNE.union_all()
    graph = _graph(essonne, whole)
    for k in (12, 16, 20):
        yield Territory(f"essonne-all-{k}", graph, whole, k, 0.05, "harder")

    islands = CASES["islands-only"]  # the battery's, here with more sectors
    members, area = islands["communes"], islands["territory"]
    assert isinstance(members, gpd.GeoDataFrame) and isinstance(area, shapely.Geometry)
    graph = _graph(members, area)
    for k in (2, 4, 9):
        yield Territory(f"islands-only-{k}", graph, area, k, 0.10, "harder")

    codes = _cluster(BELFORT, "90010", 20)
    members = BELFORT.loc[codes].reset_index(drop=True)
    area = members.union_all()
    graph = _graph(members, area)
    for k in (3, 6):
        yield Territory(f"huge-and-tiny-{k}", graph, area, k, 0.10, "harder")

    members = BELFORT.loc[CSP].reset_index(drop=True)
    area = members.union_all()
    graph = _graph(members, area, grid=_belfort_grid(area))
    qpv = Point(6.855, 47.632).buffer(0.006)  # fictitious zone, in Belfort
    graph.units["zone"] = np.where(
        graph.units.geometry.representative_point().within(qpv), "QPV-FICTIF", None
    )
    for k in (4, 8):
        yield Territory(f"belfort-filosofi-{k}", graph, area, k, 0.10, "harder")

    members = BELFORT.loc[CSP].reset_index(drop=True).drop(columns="population")
    graph = _graph(members.assign(population=np.nan), area)
    yield Territory("no-population", graph, area, 4, 0.10, "harder")


# -- one run ------------------------------------------------------------------------------


def _french(message: str) -> bool:
    english = (" the ", " is ", " must ", " cannot ", " not ", "error", " of the ")
    lowered = f" {message.lower()} "
    return not any(word in lowered for word in english)


def measure(t: Territory, run: Run, time_limit: float) -> Row:
    """Solve and check (in the child)."""
    row = Row(t.name, t.graph.n, t.k, run)
    params = run.params(t, time_limit)
    start = time.monotonic()
    try:
        plan = make_sectorizer(params).solve(t.graph, rng=params.rng())
    except PsqError as exc:
        row.seconds = time.monotonic() - start
        row.status = "refused"
        row.detail = f"[{exc.code}] {exc}"
        if exc.code is None:
            row.problems.append("refusal not in the message catalogue")
        if not _french(str(exc)):
            row.problems.append("refusal looks English")
        return row
    except Exception:
        row.seconds = time.monotonic() - start
        row.status = "error"
        row.detail = traceback.format_exc()
        row.problems.append("Python exception")
        return row
    row.seconds = time.monotonic() - start
    graph = t.graph
    loads = np.bincount(plan.assignment, weights=graph.workload, minlength=plan.k)
    mean = loads.mean()
    row.max_dev = float(np.abs(loads / mean - 1).max()) if mean > 0 else 0.0
    row.pmedian_m = pmedian_distance(graph.centroids, graph.workload, plan.assignment, plan.k)
    e = graph.edges
    a, b = e["a"].to_numpy(int), e["b"].to_numpy(int)
    cut = (plan.assignment[a] != plan.assignment[b]) & ~e["blocked"].to_numpy(bool)
    row.boundary_km = float(e.loc[cut, "shared_m"].sum()) / 1000
    flagged = {v.constraint for v in plan.violations}
    if plan.k != t.k:
        row.problems.append(f"k = {plan.k}, asked {t.k}")
    ground = check_partition(plan, territory=t.territory)
    noise = AREA_NOISE * ground.territory_m2
    if ground.gap_m2 > noise or ground.overlap_m2 > noise:
        row.problems.append(f"gap {ground.gap_m2:.0f} m², overlap {ground.overlap_m2:.0f} m²")
    if ground.fragments and "contiguity" not in flagged:
        row.problems.append(f"unflagged fragments {ground.fragments}")
    if row.max_dev > t.tolerance + 1e-9 and "balance" not in flagged:
        row.problems.append(f"unflagged imbalance {row.max_dev:.3f}")
    english = [n for n in [*plan.notes, *(v.message for v in plan.violations)] if not _french(n)]
    if english:
        row.problems.append(f"English note {english[0]!r}")
    bits = []
    if ground.islands:
        bits.append(f"islands {sum(ground.islands.values())}")
    if ground.specks:
        bits.append(f"specks {sum(len(v) for v in ground.specks.values())}")
    if flagged:
        bits.append("flags " + "+".join(sorted(flagged)))
    if plan.bound is not None and run.method == "exact":
        gap = plan.bound.gap
        bits.append(
            "proven optimal"
            if gap is not None and gap <= 1e-4
            else ("no bound" if gap is None else f"gap {100 * gap:.1f} %")
        )
    row.detail = ", ".join(bits)
    row.status = "flagged" if flagged else "ok"
    return row


def _child(conn: Connection, t: Territory, run: Run, time_limit: float) -> None:
    warnings.simplefilter("ignore")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # HiGHS's banner, written by C on the child's stdout
    try:
        conn.send(measure(t, run, time_limit))
    finally:
        conn.close()


def capped(t: Territory, run: Run, time_limit: float) -> Row:
    cap = SLOW_SHARE * time_limit + SLOW_S if run.method == "exact" else ENGINE_CAP_S
    ctx = mp.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, t, run, time_limit), daemon=True)
    gc.collect()
    gc.freeze()
    start = time.monotonic()
    proc.start()
    gc.unfreeze()
    sender.close()
    row = Row(t.name, t.graph.n, t.k, run)
    try:
        if receiver.poll(cap + 60):  # the ground check may take a while on 2 400 units
            row = receiver.recv()
        else:
            row.status, row.seconds = "timeout", time.monotonic() - start
            row.problems.append(f"still running after {cap + 60:.0f} s")
    except EOFError:
        row.status = "error"
        row.problems.append(f"child died (exit code {proc.exitcode})")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receiver.close()
    if row.status not in ("timeout", "error") and row.seconds > cap:
        row.problems.append(f"slow: {row.seconds:.0f} s past a cap of {cap:.0f} s")
    return row


# -- the table ----------------------------------------------------------------------------


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def line(row: Row) -> str:
    r = row.run
    method = r.method if r.method != "engine" else f"engine {r.objective}"
    whole = "" if r.method == "communes" else ("whole" if r.whole else "split")
    status = row.status if not row.problems else f"**FAIL** ({'; '.join(row.problems)})"
    detail = row.detail.splitlines()[-1] if row.status == "error" else row.detail
    detail = detail if len(detail) <= 160 else detail[:159] + "…"
    return (
        f"| {row.territory} | {row.units} | {row.k} | {method} | {whole} | "
        f"{_num(row.pmedian_m, '.0f')} | {_num(row.boundary_km, '.1f')} | "
        f"{_num(None if row.max_dev is None else 100 * row.max_dev, '.1f')} | {status} | "
        f"{row.seconds:.1f} | {detail} |"
    )


HEADER = (
    "| territory | units | k | method | communes | p-median (m) | boundary (km) | "
    "max dev (%) | result | s | notes |\n|---|--:|--:|---|---|--:|--:|--:|---|--:|---|"
)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="territories whose name contains this")
    ap.add_argument("--methods", default="engine,exact,communes")
    ap.add_argument("--time-limit", type=float, default=10.0)
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--battery-only", action="store_true")
    group.add_argument("--harder-only", action="store_true")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    sources: list[Iterator[Territory]] = []
    if not args.harder_only:
        sources.append(battery())
    if not args.battery_only:
        sources.append(harder())
    plan = runs(args.methods.split(","))
    print(HEADER, flush=True)
    failures: list[Row] = []
    counts: dict[str, int] = {}
    started = time.monotonic()
    for source in sources:
        for t in source:
            if args.only and args.only not in t.name:
                continue
            for run in plan:
                row = capped(t, run, args.time_limit)
                print(line(row), flush=True)
                key = "FAIL" if row.problems else row.status
                counts[key] = counts.get(key, 0) + 1
                if row.problems:
                    failures.append(row)
    print(f"\n{sum(counts.values())} runs in {time.monotonic() - started:.0f} s: {counts}")
    for row in failures:
        print(f"\n## {row.territory} {row.run}: {'; '.join(row.problems)}\n{row.detail}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
