"""The methods of the sector-design benchmark (:mod:`bench.sector_bench`), each run on the
same :class:`~geo.plan.UnitGraph` in a forked child under a wall-clock cap
(:func:`run_capped`):

* **ours**: :class:`geo.sectorize.RegionGrowth` (``k``, ``tolerance``);
* **GerryChain**: ``recursive_tree_part`` seed plan, then ReCom steps;
* **spopt**: ``Skater``, ``RegionKMeansHeuristic`` and ``MaxPHeuristic`` on a libpysal
  ``W`` built from the unit graph's open edges and island links;
* **whole communes**: :class:`geo.sectorize.WholeCommunes` (the no-split baseline).

Each returns an :class:`Outcome`: a sector label per unit, and what to say about the run.
GerryChain and spopt come with the ``bench`` extra and are imported by the method itself.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import random
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection

import geopandas as gpd
import numpy as np

from geo.errors import InfeasibleDesignError
from geo.plan import UnitGraph
from geo.sectorize import RegionGrowth, WholeCommunes

RECOM_STEPS = 100
#: Spanning trees GerryChain draws before giving up one bipartition (its default is
#: 100 000, about 200 s on Belfort res 9): on failure the seed plan restarts, the ReCom
#: step picks another pair of districts.
GC_ATTEMPTS = 2_000


@dataclass
class Outcome:
    """What a method returns: a sector label per unit, and what to say about the run."""

    labels: np.ndarray
    notes: tuple[str, ...] = ()
    info: str = ""
    seed_labels: np.ndarray | None = None  # GerryChain's seed plan, before ReCom


def _child(conn: Connection, fn: Callable[[], Outcome]) -> None:
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    try:
        out = fn()
        conn.send(("ok", out, time.perf_counter() - start))
    except InfeasibleDesignError as exc:
        conn.send(("n/a", str(exc), time.perf_counter() - start))
    except Exception as exc:
        detail = traceback.format_exception_only(exc)[-1].strip()
        conn.send(("error", detail, time.perf_counter() - start))
    finally:
        conn.close()


def run_capped(fn: Callable[[], Outcome], cap: float) -> tuple[str, Outcome | str | None, float]:
    """Run ``fn`` in a forked child; kill it after ``cap`` seconds.

    Returns ``(status, outcome or message, seconds)``; status is ``ok``, ``n/a`` (an
    infeasible request), ``error`` or ``timeout``.
    """
    ctx = mp.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, fn), daemon=True)
    # Frozen objects are never scanned by the child's garbage collector, so that it does
    # not touch (and copy) the parent's whole heap on its first full collection.
    gc.collect()
    gc.freeze()
    start = time.perf_counter()
    proc.start()
    gc.unfreeze()
    sender.close()
    try:
        if receiver.poll(cap):
            status, payload, seconds = receiver.recv()
        else:
            status, payload, seconds = "timeout", None, time.perf_counter() - start
    except EOFError:
        status, payload = "error", f"child died (exit code {proc.exitcode})"
        seconds = time.perf_counter() - start
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receiver.close()
    return status, payload, seconds


def relabel(labels: np.ndarray) -> np.ndarray:
    """Sector indices ``0 … k-1`` in order of first label value."""
    return np.unique(np.asarray(labels), return_inverse=True)[1].astype(int)


# -- the methods -------------------------------------------------------------------------


def ours(graph: UnitGraph, k: int, tolerance: float, seed: int) -> Outcome:
    plan = RegionGrowth(k, tolerance=tolerance).solve(graph, rng=np.random.default_rng(seed))
    info = f"{len(plan.violations)} violation(s)" if plan.violations else ""
    return Outcome(plan.assignment, notes=plan.notes, info=info)


def whole_communes(graph: UnitGraph, k: int, tolerance: float, seed: int) -> Outcome:
    plan = WholeCommunes(k, tolerance=tolerance).solve(graph, rng=np.random.default_rng(seed))
    return Outcome(plan.assignment, notes=plan.notes)


def edge_list(graph: UnitGraph, *, links: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Endpoints of the unit graph's open edges, with or without the island links."""
    e = graph.open_edges if links else graph.edges.loc[~graph.edges["blocked"]]
    return e["a"].to_numpy(int), e["b"].to_numpy(int)


def gerrychain(
    graph: UnitGraph,
    k: int,
    tolerance: float,
    seed: int,
    *,
    steps: int = RECOM_STEPS,
    links: bool = True,
) -> Outcome:
    """``recursive_tree_part`` seed plan (restarted when a bipartition fails), then
    ``steps`` accepted ReCom steps with the same ε; the last state is kept. The warnings
    GerryChain emits are counted in ``info``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _gerrychain(graph, k, tolerance, seed, steps=steps, links=links)
    kinds = sorted({w.category.__name__ for w in caught})
    out.info += f"; {len(caught)} warning(s): {', '.join(kinds)}" if caught else "; no warning"
    return out


def _gerrychain(
    graph: UnitGraph, k: int, tolerance: float, seed: int, *, steps: int, links: bool
) -> Outcome:
    import networkx as nx
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.accept import always_accept
    from gerrychain.constraints import within_percent_of_ideal_population
    from gerrychain.partition.initial_partition_generators import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.proposals.tree_proposals import MetagraphError
    from gerrychain.tree import bipartition_tree
    from gerrychain.tree.bipartition_tree import PopulationBalanceError
    from gerrychain.updaters import Tally

    nxg: nx.Graph = nx.Graph()
    nxg.add_nodes_from((i, {"workload": float(w), "idx": i}) for i, w in enumerate(graph.workload))
    a, b = edge_list(graph, links=links)
    nxg.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    gc_graph = Graph.from_networkx(nxg)
    target = float(graph.workload.sum()) / k
    rng = random.Random(seed)

    seed_split = partial(bipartition_tree, max_attempts=GC_ATTEMPTS)
    restarts = 0
    while True:
        try:
            assignment = recursive_tree_part(
                gc_graph, list(range(k)), target, "workload", tolerance,
                bipartition_tree_fn=seed_split, rng=rng,
            )  # fmt: skip
            break
        except (RuntimeError, PopulationBalanceError):
            restarts += 1

    partition = Partition(
        gc_graph, assignment, updaters={"workload": Tally("workload", alias="workload")}
    )
    proposal = partial(
        recom,
        pop_col="workload",
        pop_target=target,
        epsilon=tolerance,
        bipartition_tree_fn=partial(
            bipartition_tree, max_attempts=GC_ATTEMPTS, allow_pair_reselection=True
        ),
    )
    chain = MarkovChain(
        proposal,
        [within_percent_of_ideal_population(partition, tolerance, "workload")],
        always_accept,
        partition,
        total_steps=steps + 1,  # the first state is the seed plan
        rng=rng,
    )
    state, done, stuck = partition, -1, ""
    try:
        for step in chain:
            state, done = step, done + 1
    except MetagraphError:
        stuck = ", then stuck (no district pair could be split)"
    labels = np.empty(graph.n, dtype=int)
    for node, part in state.assignment.items():
        labels[state.graph.node_data(node)["idx"]] = part
    info = f"{done} ReCom steps{stuck}"
    if restarts:
        info = f"seed plan restarted {restarts}x; {info}"
    seed_plan = np.array([assignment[i] for i in range(graph.n)], dtype=int)
    return Outcome(labels, info=info, seed_labels=seed_plan)


def _spopt_inputs(graph: UnitGraph) -> tuple[gpd.GeoDataFrame, object]:
    """Units with centroid coordinates (km) and workload, and a libpysal ``W`` over the
    unit graph's open edges and island links."""
    from libpysal.weights import W

    a, b = edge_list(graph)
    neighbours: dict[int, list[int]] = {i: [] for i in range(graph.n)}
    for x, y in zip(np.r_[a, b].tolist(), np.r_[b, a].tolist(), strict=True):
        neighbours[x].append(y)
    w = W({i: sorted(set(v)) for i, v in neighbours.items()}, silence_warnings=True)
    xy = graph.centroids / 1000.0
    gdf = gpd.GeoDataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "workload": graph.workload},
        geometry=graph.metric.geometry.to_numpy(),
        crs=graph.metric.crs,
    )
    return gdf, w


def _checked(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if (labels < 0).any():
        raise RuntimeError(f"{int((labels < 0).sum())} unit(s) left without a region")
    return labels


def skater(graph: UnitGraph, k: int, _tolerance: float, _seed: int) -> Outcome:
    from spopt.region import Skater

    gdf, w = _spopt_inputs(graph)
    model = Skater(gdf, w, ["x", "y"], n_clusters=k, islands="increase")
    model.solve()
    return Outcome(_checked(model.labels_))


def region_kmeans(graph: UnitGraph, k: int, _tolerance: float, seed: int) -> Outcome:
    from spopt.region import RegionKMeansHeuristic

    gdf, w = _spopt_inputs(graph)
    model = RegionKMeansHeuristic(gdf[["x", "y"]].to_numpy(), k, w, seed=seed)
    model.solve()
    return Outcome(_checked(model.labels_))


def maxp(graph: UnitGraph, k: int, tolerance: float, seed: int) -> Outcome:
    from spopt.region import MaxPHeuristic

    gdf, w = _spopt_inputs(graph)
    threshold = float(graph.workload.sum()) / k * (1 - tolerance)
    np.random.seed(seed)  # MaxP draws from numpy's global generator
    model = MaxPHeuristic(gdf, w, ["x", "y"], "workload", threshold, top_n=2)
    model.solve()
    return Outcome(_checked(model.labels_), info=f"{model.p} regions")


Method = Callable[[UnitGraph, int, float, int], Outcome]
RUNNERS: dict[str, Method] = {
    "ours": ours,
    "GerryChain": gerrychain,
    "Skater": skater,
    "RegionKMeans": region_kmeans,
    "MaxP": maxp,
    "whole communes": whole_communes,
}
