"""Atoms: groups of units that sector design must keep together.

A commune under the population threshold is never split, nor a zone that must stay
whole (a QPV outline), nor an island too small to hold a sector: their units are fused
into one *atom*, and the search works on the graph of atoms. A commune made of several
disconnected pieces yields one atom per piece (it cannot be kept whole contiguously),
and :attr:`Atoms.notes` says so. Notes are shown to planners as they are: in French.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.sectorize.objective import pairwise_distances
from geo.unit_graph import UnitGraph

#: The most atoms whose pairwise distances are kept (:attr:`Atoms.distances`, 8·n² bytes).
DISTANCE_ATOMS = 1_500


@dataclass(frozen=True)
class Atoms:
    """``of[i]`` is the atom of unit ``i``; atoms are numbered ``0 … n-1``.

    ``weight``, ``xy`` (workload-weighted centroid, metres) and ``label`` (the commune or
    zone that made the atom whole, or ``None`` for a single free unit) per atom; the atom
    graph as adjacency lists ``adj`` with cut costs ``cost`` aligned to them.
    """

    of: np.ndarray
    weight: np.ndarray
    xy: np.ndarray
    label: list[str | None]
    adj: list[list[int]]
    cost: list[list[float]]
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.weight)

    @cached_property
    def distances(self) -> np.ndarray | None:
        """The atoms' pairwise distances (metres), computed once for every search on these
        atoms (locating the sectors' median atoms reads them); None above
        :data:`DISTANCE_ATOMS` atoms."""
        return pairwise_distances(self.xy) if self.n <= DISTANCE_ATOMS else None


@dataclass(frozen=True)
class CutCosts:
    """Weights of the cost of cutting an edge of shared length ``len`` metres:
    ``len · (compactness + cohesion·[same commune] - barrier·[barrier on the edge])``, at
    least ``0.05·len``. Cutting along a barrier is cheap, through a commune dear."""

    compactness: float = 1.0
    commune_cohesion: float = 1.0
    barrier: float = 0.5

    def of_edges(self, graph: UnitGraph) -> np.ndarray:
        e = graph.open_edges
        communes = graph.units["commune"].to_numpy()
        a, b = e["a"].to_numpy(int), e["b"].to_numpy(int)
        same = (communes[a] == communes[b]) & pd.notna(communes[a])
        length = e["shared_m"].to_numpy(float)
        factor = (
            self.compactness
            + self.commune_cohesion * same
            - self.barrier * e["barrier"].notna().to_numpy()
        )
        return length * np.maximum(factor, 0.05)


def build_atoms(
    graph: UnitGraph,
    *,
    whole_communes: set[str],
    costs: CutCosts,
    island_limit: float,
) -> Atoms:
    """Fuse units into atoms.

    Units are fused along open edges when they share a commune of ``whole_communes`` or
    a non-null ``zone``; a minor component (island, enclave) whose workload is at most
    ``island_limit`` is fused with the atom of its nearest mainland unit, when the
    component on the link's other side weighs more than ``island_limit`` (two small
    islands linked to each other stay apart, joined by their link like any neighbours).
    """
    n = graph.n
    e = graph.edges.loc[~graph.edges["blocked"]]
    a, b = e["a"].to_numpy(int), e["b"].to_numpy(int)
    communes = graph.units["commune"].to_numpy()
    fuse = np.isin(communes[a], list(whole_communes)) & (communes[a] == communes[b])
    if "zone" in graph.units.columns:
        zones = graph.units["zone"].to_numpy()
        fuse |= pd.notna(zones[a]) & (zones[a] == zones[b])
    fa, fb = list(a[fuse]), list(b[fuse])

    notes: list[str] = []
    component = connected_components(_matrix(n, a, b), directed=False)[1]
    unit_id = graph.units["unit"].to_numpy()
    for link in graph.links.itertuples():
        a, b = int(link.a), int(link.b)
        side_a = np.flatnonzero(component == component[a])
        side_b = np.flatnonzero(component == component[b])
        if float(graph.workload[side_b].sum()) < float(graph.workload[side_a].sum()):
            a, b, side_a, side_b = b, a, side_b, side_a
        island = side_a
        load = float(graph.workload[island].sum())
        # Only to a part that can hold a sector: between two small islands (an
        # archipelago with no mainland), fusing along every link made one atom of all.
        mainland = float(graph.workload[side_b].sum()) > island_limit
        names = sorted({str(c) for c in communes[island] if pd.notna(c)})
        where = f"commune(s) {', '.join(names[:8])}{' …' if len(names) > 8 else ''}"
        where = where if names else "hors commune"
        name = getattr(link, "name", None)
        how = (
            f"par la liaison déclarée « {name} » ({link.distance_m:.0f} m)"
            if isinstance(name, str)
            else f"à l'unité la plus proche, {unit_id[b]}, à {link.distance_m:.0f} m"
        )
        if load <= island_limit and mainland:
            fa += [a] * (len(island) + 1)
            fb += [*island.tolist(), b]
            notes.append(
                f"île de {len(island)} unité(s) ({where}, charge {load:.0f}) rattachée "
                f"au secteur voisin {how}"
            )
        else:
            notes.append(
                f"partie séparée de {len(island)} unité(s) ({where}, charge {load:.0f}) "
                f"reliée {how}"
            )
    _, of = connected_components(
        _matrix(n, np.array(fa, dtype=int), np.array(fb, dtype=int)), directed=False
    )

    pieces = (
        pd.DataFrame({"commune": communes, "atom": of})
        .loc[lambda d: d["commune"].isin(whole_communes)]
        .groupby("commune")["atom"]
        .nunique()
    )
    for commune, count in pieces[pieces > 1].items():
        notes.append(
            f"la commune {commune} est en {count} morceaux disjoints : chacun reste entier"
        )

    weight = np.bincount(of, weights=graph.workload, minlength=of.max() + 1)
    area = graph.metric.geometry.area.to_numpy()
    w = graph.workload + 1e-9 * area  # workload-weighted; area breaks ties of empty units
    xy = np.column_stack(
        [
            np.bincount(of, weights=w * graph.centroids[:, i]) / np.bincount(of, weights=w)
            for i in (0, 1)
        ]
    )
    sizes = np.bincount(of)
    label: list[str | None] = [None] * len(weight)
    zone = graph.units["zone"].to_numpy() if "zone" in graph.units.columns else None
    for unit, atom in enumerate(of):
        if sizes[atom] > 1 and label[atom] is None:
            label[atom] = (
                str(zone[unit])
                if zone is not None and pd.notna(zone[unit])
                else str(communes[unit])
            )

    adj, cost = _atom_adjacency(graph, of, costs.of_edges(graph), len(weight))
    return Atoms(of=of, weight=weight, xy=xy, label=label, adj=adj, cost=cost, notes=tuple(notes))


def _matrix(n: int, a: np.ndarray, b: np.ndarray) -> coo_matrix:
    return coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))


def _atom_adjacency(
    graph: UnitGraph, of: np.ndarray, edge_cost: np.ndarray, n_atoms: int
) -> tuple[list[list[int]], list[list[float]]]:
    e = graph.open_edges
    a, b = of[e["a"].to_numpy(int)], of[e["b"].to_numpy(int)]
    keep = a != b
    pairs = pd.DataFrame(
        {
            "x": np.r_[a[keep], b[keep]],
            "y": np.r_[b[keep], a[keep]],
            "c": np.r_[edge_cost[keep], edge_cost[keep]],
        }
    )
    summed = pairs.groupby(["x", "y"], sort=True)["c"].sum().reset_index()
    if not n_atoms:
        return [], []
    # rows sorted by atom: cut them where the atom changes (a Python loop over the pairs
    # took seconds on a city of 50 000 units)
    bounds = np.searchsorted(summed["x"].to_numpy(np.int64), np.arange(n_atoms + 1)).tolist()
    ys, cs = summed["y"].to_numpy(np.int64).tolist(), summed["c"].to_numpy(float).tolist()
    adj = [ys[i:j] for i, j in pairwise(bounds)]
    cost = [cs[i:j] for i, j in pairwise(bounds)]
    return adj, cost


def small_communes(graph: UnitGraph, threshold: float, population: Mapping[str, float]) -> set[str]:
    """Communes of the graph whose population is under ``threshold`` (all of them for an
    infinite threshold; a commune of unknown population is never taken as small)."""
    present = set(graph.units["commune"].dropna().astype(str))
    if math.isinf(threshold):
        return present
    return {c for c in present if c in population and population[c] < threshold}


def stays_connected(
    adj: Sequence[Sequence[int]],
    sector: Sequence[int] | np.ndarray,
    x: int,
    a: int,
    size: int,
    reach: int | None = None,
) -> bool:
    """Does sector ``a`` (``size`` atoms, ``x`` among them) stay connected without atom
    ``x``? First its neighbours in ``a`` are joined among themselves (the usual, cheap
    answer), then through the sector, nearest first. With ``reach``, at most that many
    atoms are visited: an answer lying farther is a no, never assumed safe."""
    if size <= 1:
        return False
    around = [y for y in adj[x] if sector[y] == a]
    if len(around) <= 1:
        return bool(around)
    targets = set(around)
    seen = {around[0]}
    stack = [around[0]]
    while stack:  # among the neighbours of x first
        y = stack.pop()
        for z in adj[y]:
            if z in targets and z not in seen:
                seen.add(z)
                stack.append(z)
    missing = len(targets) - len(seen)
    if not missing:
        return True
    if reach is None and not _sides_meet(adj, sector, x, a, seen, targets - seen):
        return False
    queue = deque(seen)
    seen.add(x)
    while queue and (reach is None or len(seen) < reach):  # then through the sector
        y = queue.popleft()
        for z in adj[y]:
            if z not in seen and sector[z] == a:
                seen.add(z)
                queue.append(z)
                if z in targets:
                    missing -= 1
                    if not missing:
                        return True
    return False


def _sides_meet(
    adj: Sequence[Sequence[int]],
    sector: Sequence[int] | np.ndarray,
    x: int,
    a: int,
    one: set[int],
    other: set[int],
) -> bool:
    """Do the atoms of sector ``a`` reached from ``one`` and from ``other`` (without
    ``x``) meet? Both searches advance in turn, so a side that closes without meeting
    the other (the usual answer where ``x`` joins two arcs of its sector: a pinch) is
    found in about twice the atoms of the smaller side, not in the larger side's."""
    seen_one, seen_other = one | {x}, other | {x}
    queue_one, queue_other = deque(one), deque(other)
    while queue_one and queue_other:
        for z in adj[queue_one.popleft()]:
            if z not in seen_one and sector[z] == a:
                if z in seen_other:
                    return True
                seen_one.add(z)
                queue_one.append(z)
        for z in adj[queue_other.popleft()]:
            if z not in seen_other and sector[z] == a:
                if z in seen_one:
                    return True
                seen_other.add(z)
                queue_other.append(z)
    return False


def pieces(members: np.ndarray, adj: list[list[int]]) -> list[set[int]]:
    """The connected pieces of a sector (its ``members``) over the atom graph ``adj``."""
    left = set(members.tolist())
    pieces = []
    while left:
        start = left.pop()
        piece = {start}
        queue = deque([start])
        while queue:
            y = queue.popleft()
            for z in adj[y]:
                if z in left:
                    left.discard(z)
                    piece.add(z)
                    queue.append(z)
        pieces.append(piece)
    return pieces
