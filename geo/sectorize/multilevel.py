"""The engine on a large city: coarsen the atom graph, design on it, refine back.

Above :data:`LARGE_ATOMS` atoms (a city of tens of thousands of H3 cells at resolution 10,
or of street blocks), the pure-Python phases of :class:`~geo.sectorize.RegionGrowth`
(balance, annealing) grow too slow: 50 000 units took over 20 minutes. The engine then
works in the multilevel scheme of graph partitioning (Hendrickson & Leland 1995, Karypis
& Kumar 1998, METIS):

1. **Coarsening** (:func:`coarsen`). Atoms are grouped into *aggregates* by square bins
   of the plane, never across a commune, the bins split in four (a quadtree) while an
   aggregate would weigh more than :data:`HEAVY_SHARE` of the balance band, and each bin
   cut into its connected pieces in the atom graph: every aggregate is connected, its
   workload is the sum of its atoms' and its cut costs the sum of the atoms' edges
   between aggregates. A fixed atom (seed, locked unit) is an aggregate of its own.
   Levels are added, each about :data:`LEVEL_RATIO` times smaller, until about
   :data:`TOP_PER_SECTOR` aggregates per sector are left (at least :data:`TOP_MIN`).
2. **Design** on the coarsest level by the unchanged engine (seeds, growth, balance,
   shape). A contiguous plan of connected aggregates projects to a contiguous plan of
   atoms with the same loads: balance is kept exactly.
3. **Refinement** (:class:`Refinement`), from level to level down to the atoms: boundary
   moves on the finer graph, chosen in vectorised passes (numpy: every boundary atom's
   change of objective towards each neighbouring sector at once) and applied one by one,
   each checked again against the loads and the contiguity of the sector it leaves. First
   the balance (moves that lower the variance of the loads, cheapest cut per unit of
   variance first) while a sector is out of the band, then descent passes on the
   planner's objective (boundary, distance to the sectors' median atoms, or the mix) that
   keep every sector in the band.

Contiguity stays exact: an atom leaves a sector only when its neighbours in that sector
stay connected, tested among those neighbours first, then by a search through the sector
bounded to :data:`REACH` atoms; beyond it the move is refused, never assumed safe.

Below the threshold the engine runs as before, bit for bit: stored plans and the tests
pinned on them keep their figures. :data:`LARGE_ATOMS` is 5 000 atoms: every territory the
app's tests and benchmarks designed so far stays under it (the Belfort CSP at resolution 10:
4 273 units; the synthetic benchmark territory: 696 atoms; the Essonne's 194 communes at
resolution 9, small communes whole: 4 067 atoms), and there the direct engine takes a few
seconds of CPU, while its cost grows faster than the atoms above it (50 000 atoms: over 20
minutes; the multilevel path: 2 s of CPU).

References
----------
* Hendrickson, B., Leland, R. (1995). A multilevel algorithm for partitioning graphs.
  *Supercomputing '95*.
* Karypis, G., Kumar, V. (1998). A fast and high quality multilevel scheme for
  partitioning irregular graphs. *SIAM Journal on Scientific Computing* 20(1), 359-392.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.sectorize.atoms import Atoms, stays_connected
from geo.sectorize.objective import TIE_BREAK, median_atoms
from geo.unit_graph import UnitGraph

#: Territories of more atoms than this are designed by the multilevel path.
LARGE_ATOMS = 5_000
#: Aggregates per sector on the coarsest level, and the fewest aggregates there.
TOP_PER_SECTOR = 15
TOP_MIN = 400
#: How many times fewer aggregates each level has than the one below it.
LEVEL_RATIO = 6.0
#: Annealing steps per aggregate of the coarsest level (the direct path takes 40 per atom:
#: on aggregates, moves are coarse and cheap, and more of them straighten the borders).
TOP_STEPS_PER_ATOM = 200
#: An aggregate weighs at most this share of the band's width (2·tolerance·mean), unless
#: it is a single atom: the coarse plan's balance stays reachable.
HEAVY_SHARE = 0.5
#: The most atoms the contiguity test of a move visits before refusing the move.
REACH = 600
#: Candidates for a sector's median atom when the centres are located again after a pass.
NEAR_CENTRE = 32
#: The most passes of the balance and of the descent on each level (under a distance
#: objective, each pass locates the centres again: fewer passes).
BALANCE_ROUNDS = 200
DESCENT_PASSES = 40
DISTANCE_PASSES = 8


@dataclass(frozen=True)
class Edges:
    """An atom graph's directed edges (both ways) and their cut costs, as arrays."""

    src: np.ndarray
    dst: np.ndarray
    cost: np.ndarray

    @classmethod
    def of(cls, atoms: Atoms) -> Edges:
        degree = np.fromiter((len(row) for row in atoms.adj), dtype=np.int64, count=atoms.n)
        src = np.repeat(np.arange(atoms.n), degree)
        total = int(degree.sum())
        dst = np.fromiter((y for row in atoms.adj for y in row), dtype=np.int64, count=total)
        cost = np.fromiter((c for row in atoms.cost for c in row), dtype=float, count=total)
        return cls(src, dst, cost)


@dataclass(frozen=True)
class Level:
    """One coarsening step: ``group[i]`` is the aggregate (in ``coarse``) of atom ``i`` of
    ``fine`` (whose edges are ``edges``); ``fixed`` the fixed sector of each aggregate
    (-1: free)."""

    fine: Atoms
    fine_fixed: np.ndarray
    edges: Edges
    group: np.ndarray
    coarse: Atoms
    fixed: np.ndarray


@dataclass(frozen=True)
class Hierarchy:
    """The levels from the atoms (first) to the coarsest aggregates (last)."""

    levels: tuple[Level, ...]

    @property
    def top(self) -> Atoms:
        return self.levels[-1].coarse

    @property
    def top_fixed(self) -> np.ndarray:
        return self.levels[-1].fixed

    def steps(self, share: float) -> int:
        """The annealing steps of the design on the coarsest level: more than the
        direct path's under the boundary objective; as many under a distance objective
        (``share`` > 0), whose multi-start shape phase shares them out."""
        return (TOP_STEPS_PER_ATOM if not share else 40) * self.top.n

    def refine(
        self, sector: np.ndarray, k: int, tolerance: float, share: float
    ) -> tuple[Atoms, np.ndarray]:
        """Project the coarsest plan ``sector`` down, level by level, refining it on each;
        the atoms and the sector of each."""
        for level in reversed(self.levels):
            fine_sector = np.asarray(sector, dtype=int)[level.group]
            run = Refinement(
                level.fine, fine_sector, k, tolerance, level.fine_fixed, share, level.edges
            )
            run.balance()
            run.descend()
            sector = run.sector
        return self.levels[0].fine, np.asarray(sector, dtype=int)


def hierarchy(
    graph: UnitGraph,
    atoms: Atoms,
    fixed: np.ndarray,
    k: int,
    tolerance: float,
    large_atoms: int = LARGE_ATOMS,
) -> Hierarchy | None:
    """The coarsening levels of ``atoms`` when they are more than ``large_atoms``, else
    ``None`` (the engine then works on the atoms directly)."""
    if atoms.n <= large_atoms or k < 2:
        return None
    commune = _atom_communes(graph, atoms)
    area = float(graph.metric.geometry.area.sum())
    target = float(atoms.weight.sum()) / k
    heavy = max(HEAVY_SHARE * 2 * tolerance * target, 1e-12)
    top = max(TOP_PER_SECTOR * k, TOP_MIN)
    levels: list[Level] = []
    current, current_fixed, edges = atoms, fixed, Edges.of(atoms)
    while current.n > top:
        ratio = min(LEVEL_RATIO, current.n / top)
        group = coarsen(current, edges, commune, current_fixed, area, ratio, heavy)
        count = int(group.max()) + 1
        if count >= 0.9 * current.n:  # nothing left to group (heavy or fixed atoms)
            break
        coarse, coarse_edges = aggregate(current, edges, group)
        coarse_fixed = np.full(count, -1, dtype=int)
        free = current_fixed < 0
        coarse_fixed[group[~free]] = current_fixed[~free]
        levels.append(Level(current, current_fixed, edges, group, coarse, coarse_fixed))
        commune = _first(group, commune, count)
        current, current_fixed, edges = coarse, coarse_fixed, coarse_edges
    return Hierarchy(tuple(levels)) if levels else None


def _atom_communes(graph: UnitGraph, atoms: Atoms) -> np.ndarray:
    """An integer code of each atom's commune (of its first unit; -1 without one)."""
    codes, _ = pd.factorize(graph.units["commune"], use_na_sentinel=True)
    return _first(atoms.of, np.asarray(codes, dtype=np.int64), atoms.n)


def _first(group: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """``values`` of the first member of each group."""
    out = np.full(count, -1, dtype=np.int64)
    order = np.arange(len(group))[::-1]
    out[group[order]] = values[order]
    return out


def coarsen(
    atoms: Atoms,
    edges: Edges,
    commune: np.ndarray,
    fixed: np.ndarray,
    area: float,
    ratio: float,
    heavy: float,
) -> np.ndarray:
    """The aggregate of each atom (numbered from 0): square bins of about ``ratio`` atoms
    within a commune, split in four while heavier than ``heavy``, each cut into its
    connected pieces; a fixed atom alone.

    ``area`` is the territory's area (m²), which sets the bins' side.
    """
    n = atoms.n
    xy = atoms.xy - atoms.xy.min(axis=0)
    side = math.sqrt(ratio * area / max(n, 1))
    depth = np.zeros(n, dtype=np.int64)
    own = np.where(fixed >= 0, -2 - np.arange(n), commune)  # fixed atoms: a bin each
    for _ in range(8):
        inverse = _bins(xy, side, depth, own)
        weight = np.bincount(inverse, weights=atoms.weight)
        size = np.bincount(inverse)
        split = (weight[inverse] > heavy) & (size[inverse] > 1)
        if not split.any():
            break
        depth[split] += 1
    bin_of = _bins(xy, side, depth, own)
    src, dst, cost = edges.src, edges.dst, edges.cost
    group = _components(n, src, dst, bin_of[src] == bin_of[dst])
    # a small piece (a bin's corner cut off by its commune or the bin's edge) joins the
    # piece of its commune it shares most boundary with, within the weight limit
    size = np.bincount(group)
    weight = np.bincount(group, weights=atoms.weight)
    g_src, g_dst = group[src], group[dst]
    join = (
        (g_src != g_dst)
        & (size[g_src] < ratio / 2)
        & (own[src] == own[dst])
        & (weight[g_src] + weight[g_dst] <= heavy)
    )
    if join.any():
        best = pd.DataFrame({"g": g_src[join], "h": g_dst[join], "c": cost[join]})
        best = best.groupby(["g", "h"], sort=True)["c"].sum().reset_index()
        best = best.sort_values(["g", "c"], ascending=[True, False], kind="stable")
        best = best.drop_duplicates("g")
        groups = int(group.max()) + 1
        merged = _components(
            groups, best["g"].to_numpy(), best["h"].to_numpy(), np.ones(len(best), dtype=bool)
        )
        group = merged[group]
    # number the aggregates by their first atom, so that the order is the atoms' own
    _, first = np.unique(group, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[group]


def _components(n: int, a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The connected component of each of ``n`` nodes over the edges ``a[keep]``,
    ``b[keep]``."""
    m = coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n))
    return np.asarray(connected_components(m, directed=False)[1], dtype=np.int64)


def _bins(xy: np.ndarray, side: float, depth: np.ndarray, own: np.ndarray) -> np.ndarray:
    """The bin of each atom (numbered from 0): its square of side ``side / 2**depth``
    within ``own`` (its commune, or itself)."""
    cell = side / (2.0**depth)
    bx = np.floor(xy[:, 0] / cell).astype(np.int64)
    by = np.floor(xy[:, 1] / cell).astype(np.int64)
    frame = pd.DataFrame({"own": own, "depth": depth, "bx": bx, "by": by})
    return frame.groupby(["own", "depth", "bx", "by"], sort=False).ngroup().to_numpy()


def aggregate(atoms: Atoms, edges: Edges, group: np.ndarray) -> tuple[Atoms, Edges]:
    """The atoms of the coarser level ``group`` defines: summed workloads, weighted
    centroids, summed cut costs between aggregates; ``of`` maps the units to them."""
    count = int(group.max()) + 1
    weight = np.bincount(group, weights=atoms.weight, minlength=count)
    w = atoms.weight + 1e-9 * (float(atoms.weight.mean()) + 1.0)
    norm = np.bincount(group, weights=w, minlength=count)
    xy = np.column_stack(
        [np.bincount(group, weights=w * atoms.xy[:, i], minlength=count) / norm for i in (0, 1)]
    )
    a, b = group[edges.src], group[edges.dst]
    keep = a != b
    pairs = pd.DataFrame({"a": a[keep], "b": b[keep], "c": edges.cost[keep]})
    summed = pairs.groupby(["a", "b"], sort=True)["c"].sum()
    src = summed.index.get_level_values(0).to_numpy(np.int64)
    dst = summed.index.get_level_values(1).to_numpy(np.int64)
    cost = summed.to_numpy(float)
    bounds = np.searchsorted(src, np.arange(count + 1)).tolist()
    ys, cs = dst.tolist(), cost.tolist()
    adj = [ys[i:j] for i, j in pairwise(bounds)]
    costs = [cs[i:j] for i, j in pairwise(bounds)]
    size = np.bincount(group, minlength=count)
    label: list[str | None] = [None] * count
    for i in np.flatnonzero(size[group] == 1).tolist():
        label[int(group[i])] = atoms.label[i]
    coarse = Atoms(
        of=group[atoms.of],
        weight=weight,
        xy=xy,
        label=label,
        adj=adj,
        cost=costs,
        notes=atoms.notes,
    )
    return coarse, Edges(src, dst, cost)


class Refinement:
    """Boundary moves on one level's atoms from a contiguous plan ``sector`` (see the
    module docstring): :meth:`balance`, then :meth:`descend`."""

    def __init__(
        self,
        atoms: Atoms,
        sector: np.ndarray,
        k: int,
        tolerance: float,
        fixed: np.ndarray,
        share: float = 0.0,
        edges: Edges | None = None,
    ) -> None:
        self.atoms = atoms
        self.adj = atoms.adj
        self.k = k
        self.sector = np.asarray(sector, dtype=np.int64).copy()
        self.fixed = np.asarray(fixed)
        self.w = atoms.weight.astype(float)
        self.load = np.bincount(self.sector, weights=self.w, minlength=k)
        self.size = np.bincount(self.sector, minlength=k)
        self.target = float(self.w.sum()) / k
        self.tolerance = tolerance
        self.lo = self.target * (1 - tolerance)
        self.hi = self.target * (1 + tolerance)
        edges = edges or Edges.of(atoms)
        self.src, self.dst, self.cost = edges.src, edges.dst, edges.cost
        self.share = share
        self.wd = self.w if self.w.sum() > 0 else np.ones_like(self.w)
        self.centre = np.zeros(k, dtype=int)
        self.located = False
        self.cut_factor, self.dist_factor = 1.0, 0.0
        if share:
            self.locate()
            cut, dist = self.totals()
            self.cut_factor = max(1.0 - share, TIE_BREAK) / (cut or 1.0)
            self.dist_factor = share / (dist or 1.0)

    # measures ----------------------------------------------------------------------

    def locate(self) -> bool:
        """Each sector's centre at its median atom (on the first call, as
        :func:`~geo.sectorize.objective.median_atoms` finds it; then among the
        :data:`NEAR_CENTRE` members nearest the current centre, where a pass of boundary
        moves can take it); True if one moved."""
        before = self.centre.copy()
        if not self.located:
            self.centre = median_atoms(self.atoms.xy, self.wd, self.sector, self.k, before)
            self.located = True
            return True
        xy, order = self.atoms.xy, np.argsort(self.sector, kind="stable")
        bounds = np.searchsorted(self.sector[order], np.arange(self.k + 1))
        for s in range(self.k):
            members = order[bounds[s] : bounds[s + 1]]
            if not len(members):
                continue
            pts = xy[members]
            near = np.argsort(((pts - xy[before[s]]) ** 2).sum(1), kind="stable")[:NEAR_CENTRE]
            d = np.linalg.norm(pts[near][:, None, :] - pts[None, :, :], axis=2)
            sums = d @ self.wd[members]
            self.centre[s] = int(members[near[int(np.argmin(sums))]])
        return bool((before != self.centre).any())

    def totals(self) -> tuple[float, float]:
        """The cut cost and the p-median cost (to the current centres) of the plan."""
        cut = float(self.cost[self.sector[self.src] != self.sector[self.dst]].sum()) / 2
        d = np.linalg.norm(self.atoms.xy - self.atoms.xy[self.centre[self.sector]], axis=1)
        return cut, float((self.wd * d).sum())

    def gaps(self) -> np.ndarray:
        """Each sector's distance to the band (0 inside)."""
        return np.maximum(np.maximum(self.lo - self.load, self.load - self.hi), 0.0)

    def _moves(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every boundary move ``(atom, to sector)`` of a free atom, with its change of
        the objective (the cut cost's alone when ``share`` is 0)."""
        sector, k = self.sector, self.k
        s_src, s_dst = sector[self.src], sector[self.dst]
        # cost from each boundary atom to each sector it touches (its own included)
        boundary = np.zeros(self.atoms.n, dtype=bool)
        boundary[self.src[s_src != s_dst]] = True
        keep = boundary[self.src] & (self.fixed[self.src] < 0)
        key = self.src[keep] * k + s_dst[keep]
        keys, inverse = np.unique(key, return_inverse=True)
        touch = np.bincount(inverse.ravel(), weights=self.cost[keep])
        atom, to = keys // k, keys % k
        own = to == sector[atom]
        inside = np.zeros(self.atoms.n)
        inside[atom[own]] = touch[own]
        atom, to, touch = atom[~own], to[~own], touch[~own]
        delta = inside[atom] - touch
        if self.share:
            xy = self.atoms.xy
            here = np.linalg.norm(xy[atom] - xy[self.centre[sector[atom]]], axis=1)
            there = np.linalg.norm(xy[atom] - xy[self.centre[to]], axis=1)
            delta = self.cut_factor * delta + self.dist_factor * self.wd[atom] * (there - here)
        return atom, to, delta

    # moves -------------------------------------------------------------------------

    def keeps_connected(self, x: int, a: int) -> bool:
        """Does sector ``a`` stay connected without atom ``x``, answered within
        :data:`REACH` atoms (a move whose answer lies farther is refused)?"""
        return stays_connected(self.adj, self.sector, x, a, int(self.size[a]), REACH)

    def _move(self, x: int, b: int) -> None:
        a = int(self.sector[x])
        w = self.w[x]
        self.sector[x] = b
        self.load[a] -= w
        self.load[b] += w
        self.size[a] -= 1
        self.size[b] += 1

    def _acceptable(self, s: int, load: float) -> bool:
        """In the band, or no further from it than the sector's current load."""
        if self.lo <= load <= self.hi:
            return True
        return _gap(load, self.lo, self.hi) <= _gap(float(self.load[s]), self.lo, self.hi)

    # phases ------------------------------------------------------------------------

    def balance(self) -> None:
        """While a sector is out of the band: moves that lower the variance of the loads
        and involve a sector out of the inner band (90 % of the tolerance), the least cut
        per unit of variance removed first."""
        inner = 0.9 * self.tolerance
        lo, hi = self.target * (1 - inner), self.target * (1 + inner)
        for _ in range(BALANCE_ROUNDS):
            if not self.gaps().any():
                return
            atom, to, delta = self._moves()
            frm = self.sector[atom]
            w = self.w[atom]
            la, lb = self.load[frm], self.load[to]
            gain = 2 * w * (la - lb) - 2 * w * w  # variance removed (times the count)
            useful = (gain > 1e-12) & ((la > hi) | (lb < lo))
            if not useful.any():
                return
            order = np.argsort(delta[useful] / gain[useful], kind="stable")
            if not self._apply(atom[useful][order], to[useful][order], self._lowers):
                return

    def _lowers(self, x: int, a: int, b: int) -> bool:
        w = self.w[x]
        inner = 0.9 * self.tolerance
        la, lb = float(self.load[a]), float(self.load[b])
        out = la > self.target * (1 + inner) or lb < self.target * (1 - inner)
        return out and la - lb > w

    def descend(self) -> None:
        """Passes of improving moves that keep every sector in the band (or no further
        from it); under a distance objective the centres are located again after each."""
        for _ in range(DISTANCE_PASSES if self.share else DESCENT_PASSES):
            atom, to, delta = self._moves()
            better = delta < -1e-12
            order = np.argsort(delta[better], kind="stable")
            moved = self._apply(atom[better][order], to[better][order], self._fits)
            located = self.locate() if self.share else False
            if not moved and not located:
                return

    def _fits(self, x: int, a: int, b: int) -> bool:
        w = self.w[x]
        return self._acceptable(a, float(self.load[a]) - w) and self._acceptable(
            b, float(self.load[b]) + w
        )

    def _apply(
        self, atoms: np.ndarray, to: np.ndarray, allowed: Callable[[int, int, int], bool]
    ) -> bool:
        """Apply the listed moves in order, skipping an atom whose neighbourhood already
        changed in this pass (its figure is stale) and any move ``allowed`` refuses or
        that would disconnect the sector it leaves."""
        stale = np.zeros(self.atoms.n, dtype=bool)
        moved = False
        sector = self.sector
        for x, b in zip(atoms.tolist(), to.tolist(), strict=True):
            if stale[x]:
                continue
            a = int(sector[x])
            if a == b or not allowed(x, a, b) or not self.keeps_connected(x, a):
                continue
            self._move(x, b)
            stale[x] = True
            stale[self.adj[x]] = True
            moved = True
        return moved


def _gap(load: float, lo: float, hi: float) -> float:
    return max(lo - load, load - hi, 0.0)
