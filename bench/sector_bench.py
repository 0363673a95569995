"""Benchmark: our sector-design engine beside public balanced-partition methods.

Run: .venv/bin/python -m bench.sector_bench            (full run, writes bench/RESULTS.md)
     .venv/bin/python -m bench.sector_bench --quick    (synthetic territory, k = 8 only)

Optional dependencies (the ``bench`` extra): gerrychain, spopt (and through them
networkx, libpysal).

Cases (:mod:`bench.sector_cases`): the Belfort CSP at H3 res 9 and 10 (as in
``tests/geo/conftest.py``), and a synthetic territory of about 5 000 res-9 units
(:func:`~bench.sector_cases.synthetic_graph`: 30 Voronoi communes, gaussian towns over a
rural floor, a river and a motorway with a few crossings, and one small island 600 m
offshore). For each case and k = 4, 8, 12, every method (:mod:`bench.sector_methods`)
works on the SAME :class:`~geo.plan.UnitGraph` (units, workloads, open edges + island
links), with the same tolerance (±5 %), and its output becomes a
:class:`~geo.plan.SectorPlan` scored by the same :mod:`geo.metrics`:

* **ours**: :class:`geo.sectorize.RegionGrowth` (``k``, ``tolerance``).
* **GerryChain**: ``recursive_tree_part`` seed plan, then ReCom steps (``recom`` with the
  same ε, constraint ``within_percent_of_ideal_population``), last state kept. The graph
  is the unit graph's open edges plus island links (GerryChain needs a connected graph;
  see :func:`island_check` for what it does without the links).
* **spopt**: ``Skater``, ``RegionKMeansHeuristic`` and ``MaxPHeuristic`` on a libpysal
  ``W`` built from the same open edges and island links, with the unit centroids (km) as
  attributes (these methods minimise attribute heterogeneity: with coordinates, that is
  compactness). MaxP's threshold on workload is ``mean x (1 - tolerance)``, so that it
  aims at k regions; the number it makes is reported.
* **whole communes**: :class:`geo.sectorize.WholeCommunes` (the no-split baseline).

Every method runs in a forked child process with a wall-clock cap (``--time-cap``); its
runtime is measured inside the child around the method alone (building its graph or
weights from the unit graph included; the unit graph itself is shared and not timed).
spopt methods are not rerun at a slower k once they hit the cap (see ``SLOWER_WITH_K``).

Then: our engine over several seeds (``--seeds``), what GerryChain and ours do with the
island (:func:`island_check`), and the issue's target on 5 000 units, k = 8, checked
from the figures (:func:`target_check`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from bench.sector_cases import ISLAND, belfort_graph, synthetic_graph
from bench.sector_methods import (
    GC_ATTEMPTS,
    RECOM_STEPS,
    RUNNERS,
    Outcome,
    edge_list,
    gerrychain,
    ours,
    relabel,
    run_capped,
)
from geo.plan import SectorPlan, UnitGraph

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"

KS = (4, 8, 12)
TOLERANCE = 0.05
SEED = 0
TIME_CAP = 60.0

#: spopt methods are slow (quadratic or worse in the number of units), and their runtime
#: moves with k in one direction: Skater makes k - 1 cuts, each scanning every tree edge
#: (slower as k grows); RegionKMeans and MaxP grow all regions at once (faster as k grows:
#: on Belfort res 9, RegionKMeans 18 s at k = 4 and 12 s at k = 12, MaxP over 300 s at
#: k = 4 and 46 s at k = 12). Each runs its k from fastest to slowest, and once it hits the
#: time cap on a case it is not rerun at the slower k (``--no-skip`` runs them all).
SLOWER_WITH_K = {"Skater": True, "RegionKMeans": False, "MaxP": False}
METHODS = ("ours", "GerryChain", "Skater", "RegionKMeans", "MaxP", "whole communes")
TARGET_CASE = "synthetic ~5 000"
TARGET_K = 8


# -- running the methods ------------------------------------------------------------------


@dataclass
class Result:
    case: str
    k: int
    method: str
    seconds: float | None = None
    plan: SectorPlan | None = None
    status: str = "ok"  # ok, timeout, error, n/a
    info: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def run(case: str, graph: UnitGraph, k: int, method: str, *, cap: float, seed: int) -> Result:
    fn = RUNNERS[method]
    status, payload, seconds = run_capped(lambda: fn(graph, k, TOLERANCE, seed), cap)
    result = Result(case, k, method, seconds=seconds, status=status)
    if status == "ok":
        assert isinstance(payload, Outcome)
        result.plan = SectorPlan(graph=graph, assignment=relabel(payload.labels))
        result.info, result.notes = payload.info, payload.notes
        if result.plan.k != k and method != "MaxP":
            result.info = f"{result.plan.k} sectors; {result.info}".rstrip("; ")
    elif status == "timeout":
        result.info = f"did not finish in {cap:.0f} s"
    elif status == "n/a":
        communes = graph.units["commune"].nunique()
        result.info = (
            f"n/a (only {communes} communes)" if "groups of units" in str(payload) else str(payload)
        )
    else:
        result.info = f"error: {payload}"
    return result


def seed_row(name: str, graph: UnitGraph, k: int, seeds: int, cap: float) -> str:
    """Our engine over seeds ``0 … seeds-1``: how many plans are valid, the worst figures."""
    plans: dict[int, SectorPlan] = {}
    times: list[float] = []
    failed = []
    for seed in range(seeds):
        status, payload, seconds = run_capped(partial(ours, graph, k, TOLERANCE, seed), cap)
        if status == "ok":
            assert isinstance(payload, Outcome)
            plans[seed] = SectorPlan(graph=graph, assignment=relabel(payload.labels))
            times.append(seconds)
        else:
            failed.append(f"seed {seed}: {status}")
    bad = [
        seed
        for seed, p in plans.items()
        if not (p.metrics.max_deviation <= TOLERANCE + 1e-9 and p.metrics.contiguous and p.k == k)
    ]
    dev = max((p.metrics.max_deviation for p in plans.values()), default=float("nan"))
    pp = min((p.metrics.mean_polsby_popper for p in plans.values()), default=float("nan"))
    note = f" (invalid: seed {', '.join(map(str, bad))})" if bad else ""
    note += f" ({'; '.join(failed)})" if failed else ""
    return (
        f"| {name} | {k} | {len(plans) - len(bad)}/{seeds}{note} | {dev:.1%} | {pp:.3f} "
        f"| {np.median(times) if times else float('nan'):.2f} "
        f"| {max(times, default=float('nan')):.2f} |"
    )


# -- islands -----------------------------------------------------------------------------


def _pieces(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected pieces of each sector over the edges ``a``-``b``."""
    inside = labels[a] == labels[b]
    n = len(labels)
    m = coo_matrix((np.ones(int(inside.sum())), (a[inside], b[inside])), shape=(n, n))
    _, comp = connected_components(m, directed=False)
    pairs = np.unique(np.column_stack([labels, comp]), axis=0)
    return np.bincount(pairs[:, 0], minlength=int(labels.max()) + 1)


def island_check(graph: UnitGraph, k: int, cap: float, seed: int) -> list[str]:
    """What ours and GerryChain do with the island: ours on the unit graph (the island is
    linked to its nearest mainland unit), GerryChain on the adjacency alone (no link)."""
    a, b = edge_list(graph, links=False)
    island = np.flatnonzero(graph.units["commune"].to_numpy() == ISLAND)
    ids = graph.units["unit"].to_numpy()
    links = "; ".join(
        f"{ids[int(r.a)]} → {ids[int(r.b)]}, {r.distance_m:.0f} m" for r in graph.links.itertuples()
    )
    lines = [
        f"The synthetic adjacency graph has {len(graph.links) + 1} components: the mainland "
        f"and an island of {len(island)} units (commune {ISLAND}). `UnitGraph.build` links "
        f"each minor component to its nearest mainland unit ({links}); the tables give "
        "every method these open edges plus the link, i.e. one connected graph."
    ]
    status, payload, seconds = run_capped(lambda: ours(graph, k, TOLERANCE, seed), cap)
    if status == "ok":
        assert isinstance(payload, Outcome)
        plan = SectorPlan(graph=graph, assignment=relabel(payload.labels))
        sectors = sorted(set(plan.assignment[island].tolist()))
        mainland = int(plan.assignment[int(graph.links["b"].iloc[0])])
        lines.append(
            f"Ours (k = {k}, {seconds:.2f} s): max deviation {plan.metrics.max_deviation:.1%}, "
            f"contiguous {plan.metrics.contiguous}; the island is in sector(s) {sectors}, "
            f"the nearest mainland unit in sector {mainland}. Plan notes: "
            + ("; ".join(f"“{n}”" for n in payload.notes) or "none")
            + "."
        )
    else:
        lines.append(f"Ours (k = {k}): {status}: {payload}")

    fn = partial(gerrychain, graph, k, TOLERANCE, seed, links=False)
    status, payload, seconds = run_capped(fn, cap)
    what = f"GerryChain on the adjacency edges alone, no link (k = {k}"
    if status == "ok":
        assert isinstance(payload, Outcome)
        labels = relabel(payload.labels)
        plan = SectorPlan(graph=graph, assignment=labels)
        pieces = _pieces(labels, a, b)
        sectors = sorted(set(labels[island].tolist()))
        broken = [s for s in range(plan.k) if pieces[s] > 1]
        assert payload.seed_labels is not None
        seed_broken = int((_pieces(relabel(payload.seed_labels), a, b) > 1).sum())
        lines.append(
            f"{what}, {seconds:.1f} s): no exception; it returns a plan ({payload.info}),"
            f" max deviation {plan.metrics.max_deviation:.1%}. The island is in sector(s) "
            f"{sectors}; sector(s) {broken} are in several pieces over the adjacency it was "
            f"given: a district made of the island and unconnected mainland units "
            f"({seed_broken} such district(s) already in the recursive_tree_part seed plan); "
            f"contiguous even through the island link: {plan.metrics.contiguous}."
        )
    elif status == "timeout":
        lines.append(f"{what}): did not finish in {cap:.0f} s.")
    else:
        lines.append(f"{what}): fails: {payload}")
    return lines


# -- report ------------------------------------------------------------------------------


HEADER = (
    "| case | k | method | runtime (s) | max deviation | mean Polsby-Popper | contiguous "
    "| communes split | barrier edges inside | sectors | note |"
)
RULE = "|---|--:|---|--:|--:|--:|:-:|--:|--:|--:|---|"


def row(r: Result) -> str:
    if r.plan is None:
        secs = "—"
        if r.seconds is not None and r.status in ("timeout", "error"):
            secs = f"> {r.seconds:.0f}" if r.status == "timeout" else f"{r.seconds:.2f}"
        return f"| {r.case} | {r.k} | {r.method} | {secs} | — | — | — | — | — | — | {r.info} |"
    m = r.plan.metrics
    return (
        f"| {r.case} | {r.k} | {r.method} | {r.seconds:.2f} | {m.max_deviation:.1%} "
        f"| {m.mean_polsby_popper:.3f} | {'yes' if m.contiguous else 'NO'} "
        f"| {m.communes_split} | {m.barrier_edges_inside} | {r.plan.k} | {r.info} |"
    )


def balanced(r: Result, tolerance: float = TOLERANCE) -> bool:
    return (
        r.plan is not None
        and r.plan.metrics.max_deviation <= tolerance + 1e-9
        and r.plan.metrics.contiguous
        and r.plan.k == r.k
    )


def target_check(results: Sequence[Result]) -> list[str]:
    """The issue's target on 5 000 units, k = 8, computed from the figures."""
    here = [r for r in results if r.case == TARGET_CASE and r.k == TARGET_K]
    mine = next((r for r in here if r.method == "ours"), None)
    if mine is None or mine.plan is None:
        return [f"Target ({TARGET_CASE}, k = {TARGET_K}): ours has no plan ({mine and mine.info})."]
    m = mine.plan.metrics
    base = [r for r in here if r.method != "ours" and balanced(r)]
    best = (
        max(base, key=lambda r: r.plan.metrics.mean_polsby_popper if r.plan else 0.0)
        if base
        else None
    )
    mark = {True: "PASS", False: "FAIL"}
    seconds = mine.seconds or 0.0
    lines = [
        f"Target check ({TARGET_CASE} = {mine.plan.graph.n} units, k = {TARGET_K}, "
        f"tolerance ±{TOLERANCE:.0%}), computed from the table above; a baseline counts when "
        "it made k contiguous sectors within the tolerance:",
        "",
        f"* runtime under 3 s: {mark[seconds < 3.0]} ({seconds:.2f} s)",
        f"* balance within ±{TOLERANCE:.0%}: {mark[m.max_deviation <= TOLERANCE + 1e-9]} "
        f"({m.max_deviation:.2%})",
        f"* contiguous: {mark[m.contiguous]}",
    ]
    if best is None or best.plan is None:
        lines.append(
            "* compactness and speed against the best baseline reaching the same balance: "
            "n/a (no baseline made a contiguous plan of k sectors within the tolerance)"
        )
    else:
        pp = best.plan.metrics.mean_polsby_popper
        ratio = (best.seconds or 0.0) / seconds if seconds > 0 else float("inf")
        lines += [
            f"* mean Polsby-Popper ≥ best balanced baseline ({best.method}, {pp:.3f}): "
            f"{mark[m.mean_polsby_popper >= pp]} ({m.mean_polsby_popper:.3f})",
            f"* at least 5x faster than {best.method} ({best.seconds:.2f} s): "
            f"{mark[ratio >= 5]} ({ratio:.1f}x)",
        ]
    return lines


def versions() -> str:
    names = ("shapely", "geopandas", "h3", "numpy", "scipy", "gerrychain", "spopt", "libpysal")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


# -- main --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="synthetic territory, k = 8 only")
    parser.add_argument("--time-cap", type=float, default=TIME_CAP, help="seconds per method")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--ks", type=int, nargs="+", default=None, help="numbers of sectors")
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=METHODS, metavar="METHOD"
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="also run ours over this many seeds (1: no)"
    )
    parser.add_argument(
        "--no-skip",
        action="store_true",
        help="run a spopt method at every k even after it hit the time cap at a smaller k",
    )
    parser.add_argument(
        "--output", type=Path, default=None, help=f"Markdown file (full run: {RESULTS})"
    )
    args = parser.parse_args(argv)
    ks = tuple(args.ks) if args.ks else ((TARGET_K,) if args.quick else KS)
    output = args.output or (None if args.quick else RESULTS)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {msg}", file=sys.stderr, flush=True)

    log("building unit graphs")
    synth, _ = synthetic_graph()
    cases: list[tuple[str, UnitGraph]] = []
    if not args.quick:
        cases += [("Belfort res 9", belfort_graph(9)), ("Belfort res 10", belfort_graph(10))]
    cases.append((TARGET_CASE, synth))
    for _, graph in cases:  # warm the graph's caches so that no method pays for them
        _ = graph.centroids, graph.open_edges, graph.csr, graph.metric

    out = [
        "# Sector design benchmark",
        "",
        f"Run {dt.date.today().isoformat()} on {machine()}, with `.venv/bin/python -m "
        f"bench.sector_bench{' --quick' if args.quick else ''}` (seed {args.seed}, time cap "
        f"{args.time_cap:.0f} s per method).",
        f"Versions: {versions()}.",
        "",
        f"Same units, workloads and tolerance (±{TOLERANCE:.0%}) for every method; every "
        "output is scored by `geo.metrics` as a `SectorPlan` on the same `UnitGraph`. "
        f"GerryChain: `recursive_tree_part` seed plan then {RECOM_STEPS} accepted ReCom steps "
        "(same ε, `within_percent_of_ideal_population`), last state kept. spopt: unit centroids "
        "(km) as attributes, `W` from the unit graph's open edges + island links; MaxP threshold "
        "= mean workload x (1 - tolerance). Runtimes are one run each, measured in a forked "
        "child around the method only. Max deviation is |L_s - mean| / mean over the sectors "
        "the method made. Belfort has no barrier layer in the repository, so its barrier "
        "column is 0; the synthetic territory has a river and a motorway.",
        "",
        f"GerryChain gives up a bipartition after {GC_ATTEMPTS} spanning trees (its default, "
        "100 000, took about 200 s to fail on Belfort res 9, k = 8): the seed plan then "
        "restarts and a ReCom step picks another pair of districts; restarts are counted in "
        "the note. spopt methods run their k from fastest to slowest (Skater ascending, "
        "RegionKMeans and MaxP descending, as measured on Belfort res 9) and are not rerun "
        "on a case at the slower k once they hit the cap"
        + (" (here `--no-skip`: all run)." if args.no_skip else "."),
        "",
    ]
    results: list[Result] = []
    for name, graph in cases:
        comps = len(graph.links) + 1
        out += [
            f"## {name}: {graph.n} units, {len(graph.open_edges)} open edges, "
            f"{graph.units['commune'].nunique()} communes, {comps} component(s), "
            f"total workload {graph.workload.sum():.0f}",
            "",
            HEADER,
            RULE,
        ]
        print("\n" + "\n".join(out[-4:]), flush=True)
        done: dict[tuple[int, str], Result] = {}
        for method in args.methods:
            order = sorted(ks, reverse=not SLOWER_WITH_K.get(method, True))
            capped_at: int | None = None
            for k in order:
                if capped_at is not None and not args.no_skip:
                    r = Result(name, k, method, status="skipped")
                    r.info = f"not run: did not finish in {args.time_cap:.0f} s at k = {capped_at}"
                else:
                    log(f"{name}, k = {k}: {method}")
                    r = run(name, graph, k, method, cap=args.time_cap, seed=args.seed)
                    if r.status == "timeout" and method in SLOWER_WITH_K:
                        capped_at = k
                done[k, method] = r
        for k in ks:
            for method in args.methods:
                results.append(done[k, method])
                out.append(row(done[k, method]))
                print(out[-1], flush=True)
        out.append("")

    if "ours" in args.methods and args.seeds > 1:
        first = len(out)
        out += [
            f"## Our engine over seeds 0 … {args.seeds - 1}",
            "",
            "| case | k | valid plans | worst max deviation | worst mean Polsby-Popper "
            "| runtime median (s) | runtime max (s) |",
            "|---|--:|--:|--:|--:|--:|--:|",
        ]
        for name, graph in cases:
            for k in ks:
                log(f"{name}, k = {k}: ours over {args.seeds} seeds")
                out.append(seed_row(name, graph, k, args.seeds, args.time_cap))
        out += ["", "A valid plan: k contiguous sectors within the tolerance.", ""]
        print("\n" + "\n".join(out[first:]), flush=True)

    if "ours" in args.methods and "GerryChain" in args.methods:
        log("islands")
        island = island_check(synth, TARGET_K, args.time_cap, args.seed)
        first = len(out)
        out += ["## Islands", "", *(f"* {line}" for line in island), ""]
        print("\n" + "\n".join(out[first:]), flush=True)

    check = target_check(results)
    out += ["## Target", "", *check, ""]
    print("\n" + "\n".join(check), flush=True)
    log("done")
    if output is not None:
        output.write_text("\n".join(out))
        print(f"\nwritten to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
