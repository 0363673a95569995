"""Phases 2 to 4 of :mod:`geo.sectorize.growth` on the atom graph: growth from the seeds,
balance, then shape (simulated annealing and a final descent).

A :class:`SectorSearch` is the mutable state of one run: the sector of each atom, the
sectors' loads and sizes, and the boundary bookkeeping that lets a move be tested and
applied locally. A move never empties a sector, never moves a fixed atom and never
disconnects the sector it leaves.

The shape phase minimises the objective of :mod:`geo.sectorize.objective`: the cut cost
alone (``share = 0``), or with the p-median distance to the sectors' median atoms, which
are located again after each pass (alternating location-allocation).
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import numpy as np

from geo.errors import InfeasibleDesignError
from geo.sectorize.atoms import Atoms, stays_connected
from geo.sectorize.base import Progress
from geo.sectorize.objective import TIE_BREAK, median_atoms

#: The annealing's starting temperature under a distance objective, in median move sizes.
HOT_DISTANCE = 0.1


class SectorSearch:
    """Mutable state of one run: sector of each atom, loads, boundary bookkeeping."""

    def __init__(
        self,
        atoms: Atoms,
        k: int,
        tolerance: float,
        fixed: np.ndarray,
        rng: np.random.Generator,
        share: float = 0.0,
    ) -> None:
        self.atoms = atoms
        self.share = share  # λ, the share of distance in the objective
        self.adj = atoms.adj
        self.cost = atoms.cost
        self.w = atoms.weight.tolist()
        self.xy = atoms.xy.tolist()  # Python floats: the annealing reads them one by one
        self.k = k
        self.rng = rng
        self.fixed = fixed.tolist()
        self.sector = list(self.fixed)
        self.target = float(atoms.weight.sum()) / k
        self.tolerance = tolerance
        self.lo = self.target * (1 - tolerance)
        self.hi = self.target * (1 + tolerance)
        self.load = [0.0] * k
        self.size = [0] * k

    # growth ------------------------------------------------------------------------

    def grow(self, seeds: list[int]) -> None:
        xy = self.atoms.xy
        heaps: list[list[tuple[float, int]]] = [[] for _ in range(self.k)]
        for s, atom in enumerate(seeds):
            self.sector[atom] = s
        for atom, s in enumerate(self.sector):
            if s >= 0:
                self.sector[atom] = -1
                self._take(atom, s)
        for s, atom in enumerate(seeds):
            self._join_locks(s, atom)
        centre = [xy[a] for a in seeds]

        def push(s: int, atom: int) -> None:
            for y in self.adj[atom]:
                if self.sector[y] < 0:
                    d = float(((xy[y] - centre[s]) ** 2).sum())
                    heapq.heappush(heaps[s], (d, y))

        for atom, s in enumerate(self.sector):
            if s >= 0:
                push(s, atom)
        # A sector does not take an atom that would lift it over the band while another
        # sector may still take it; what is left joins its lightest neighbouring sector.
        active = set(range(self.k))
        while active:
            s = min(active, key=lambda x: (self.load[x], x))
            heap = heaps[s]
            while heap and (
                self.sector[heap[0][1]] >= 0 or self.load[s] + self.w[heap[0][1]] > self.hi
            ):
                heapq.heappop(heap)
            if not heap:
                active.discard(s)
                continue
            _, atom = heapq.heappop(heap)
            self._take(atom, s)
            push(s, atom)
        self._assign_leftovers()
        orphans = [a for a, s in enumerate(self.sector) if s < 0]
        if orphans:  # only when the atom graph is disconnected (not after island links)
            raise InfeasibleDesignError("territory_disconnected", groups=len(orphans))
        self._init_boundary()

    def _join_locks(self, s: int, seed: int) -> None:
        """Claim for sector ``s`` a shortest path of free atoms from its seed to each of
        its other locked atoms, so that growth cannot wall a locked atom off."""
        targets = {a for a, f in enumerate(self.fixed) if f == s and a != seed}
        if not targets:
            return
        parent = {seed: seed}
        queue = deque([seed])
        while queue and targets - parent.keys():
            x = queue.popleft()
            for y in self.adj[x]:
                if y not in parent and self.sector[y] in (-1, s):
                    parent[y] = x
                    queue.append(y)
        for target in targets & parent.keys():
            x = parent[target]
            while x != seed and self.sector[x] < 0:
                self._take(x, s)
                x = parent[x]

    def _take(self, atom: int, s: int) -> None:
        self.sector[atom] = s
        self.load[s] += self.w[atom]
        self.size[s] += 1

    def _assign_leftovers(self) -> None:
        """Give each atom growth left free to its lightest neighbouring sector."""
        free = {a for a, s in enumerate(self.sector) if s < 0}
        while free:
            ready = sorted(
                (min(self.load[self.sector[y]] for y in self.adj[a] if self.sector[y] >= 0), a)
                for a in free
                if any(self.sector[y] >= 0 for y in self.adj[a])
            )
            if not ready:
                return
            for _, a in ready:
                around = {self.sector[y] for y in self.adj[a] if self.sector[y] >= 0}
                if around:
                    self._take(a, min(around, key=lambda t: (self.load[t], t)))
                    free.discard(a)

    def _init_boundary(self) -> None:
        self.external = [0] * self.atoms.n
        self.listed = [-1] * self.atoms.n  # the sector whose boundary set holds the atom
        self.boundary: list[set[int]] = [set() for _ in range(self.k)]
        self.movable: list[int] = []
        self.movable_pos: dict[int, int] = {}
        for x in range(self.atoms.n):
            self._refresh(x)

    def _refresh(self, x: int) -> None:
        sector = self.sector
        s = sector[x]
        self._relist(x, s, len([y for y in self.adj[x] if sector[y] != s]))

    def _relist(self, x: int, s: int, ext: int) -> None:
        """Record that atom ``x`` (in sector ``s``) has ``ext`` neighbours outside it."""
        self.external[x] = ext
        listed = self.listed[x]
        if listed >= 0 and (listed != s or not ext):
            self.boundary[listed].discard(x)
            self.listed[x] = -1
        if ext:
            self.boundary[s].add(x)
            self.listed[x] = s
        if ext and self.fixed[x] < 0:
            if x not in self.movable_pos:
                self.movable_pos[x] = len(self.movable)
                self.movable.append(x)
        elif x in self.movable_pos:
            i = self.movable_pos.pop(x)
            last = self.movable.pop()
            if last != x:
                self.movable[i] = last
                self.movable_pos[last] = i

    # moves -------------------------------------------------------------------------

    def _cut_delta(self, x: int, a: int, b: int) -> float:
        """Change of total cut cost when atom ``x`` moves from sector ``a`` to ``b``."""
        delta = 0.0
        sector = self.sector
        for y, c in zip(self.adj[x], self.cost[x], strict=True):
            sy = sector[y]
            if sy == a:
                delta += c
            elif sy == b:
                delta -= c
        return delta

    def start_objective(self) -> None:
        """Locate the centres and fix the scales ``C₀``, ``D₀`` of the objective on the
        current plan (see :mod:`geo.sectorize.objective`)."""
        w = self.atoms.weight
        self._wd = w if w.sum() > 0 else np.ones_like(w)
        self.wd = self._wd.tolist()
        self.centre = np.zeros(self.k, dtype=int)
        self._located: np.ndarray | None = None  # the plan when the centres were located
        self.locate()
        cut, dist = self.totals()
        self.c0, self.d0 = cut or 1.0, dist or 1.0
        lam = self.share
        self.cut_factor = max(1.0 - lam, TIE_BREAK) / self.c0
        self.dist_factor = lam / self.d0

    def totals(self) -> tuple[float, float]:
        """The plan's cut cost and p-median cost (to the current centres) on atoms."""
        sector = self.sector
        cut = sum(
            c
            for x, (row, crow) in enumerate(zip(self.adj, self.cost, strict=True))
            for y, c in zip(row, crow, strict=True)
            if sector[y] != sector[x]
        )
        dist = sum(self.wd[x] * self._dist(x, s) for x, s in enumerate(sector))
        return cut / 2, dist

    def value(self, c0: float, d0: float) -> float:
        """The objective ``(1 - λ)·C/c0 + λ·D/d0`` (the tie-break weight when λ = 1)."""
        self.locate()
        cut, dist = self.totals()
        return max(1.0 - self.share, TIE_BREAK) * cut / c0 + self.share * dist / d0

    def locate(self) -> bool:
        """Move each sector's centre to its median atom; True if one moved."""
        before = self.centre.copy()
        sector = np.asarray(self.sector)
        located, self._located = self._located, sector
        changed = None
        if located is not None:  # only the sectors whose members changed since
            moved = sector != located
            changed = np.union1d(sector[moved], located[moved]).tolist()
        self.centre = median_atoms(
            self.atoms.xy, self._wd, sector, self.k, before, self.atoms.distances, changed
        )
        self.cxy = [tuple(self.atoms.xy[c]) for c in self.centre]
        return bool((before != self.centre).any())

    def _dist(self, x: int, s: int) -> float:
        cx, cy = self.cxy[s]
        px, py = self.xy[x]
        return math.hypot(px - cx, py - cy)

    def _delta(self, x: int, a: int, b: int) -> float:
        """Change of the objective when atom ``x`` moves from sector ``a`` to ``b``: the
        cut cost alone when ``share`` is 0."""
        cut = self._cut_delta(x, a, b)
        if not self.share:
            return cut
        dist = self.wd[x] * (self._dist(x, b) - self._dist(x, a))
        return self.cut_factor * cut + self.dist_factor * dist

    def _keeps_connected(self, x: int, a: int) -> bool:
        """Does sector ``a`` stay connected without atom ``x``?"""
        return stays_connected(self.adj, self.sector, x, a, self.size[a])

    def _move(self, x: int, b: int) -> None:
        sector = self.sector
        a = sector[x]
        sector[x] = b
        self.load[a] -= self.w[x]
        self.load[b] += self.w[x]
        self.size[a] -= 1
        self.size[b] += 1
        # the neighbours' counts of outside neighbours change by one, and only theirs in
        # a or b: updated in place, in the order a full refresh of x then of its
        # neighbours would take (the movable list's order depends on it)
        around = self.adj[x]
        self._relist(x, b, len([y for y in around if sector[y] != b]))
        external, relist = self.external, self._relist
        for y in around:
            sy = sector[y]
            if sy == a:
                relist(y, a, external[y] + 1)
            elif sy == b:
                relist(y, b, external[y] - 1)

    def _in_band(self, s: int, load: float) -> bool:
        """Is ``load`` acceptable for sector ``s``: in the band, or no further from it
        than the sector's current load?"""
        if self.lo <= load <= self.hi:
            return True
        return _band_gap(load, self.lo, self.hi) <= _band_gap(self.load[s], self.lo, self.hi)

    # phases ------------------------------------------------------------------------

    def balance(self, kicks: int = 12) -> None:
        """Move atoms out of heavy and into light sectors until all are in the band.

        Greedy moves that lower the variance of the loads come first. When they stall
        with a sector still out of the band (a large atom no neighbour has room for),
        a *kick* moves such an atom anyway and lets the greedy moves pass the excess
        along; the kick is kept only if the total distance to the band went down.
        """
        self._greedy_balance()
        for _ in range(kicks):
            gap = self._total_gap()
            if gap == 0 or not self._kick(gap):
                return

    def repair(self, steps: int) -> None:
        """Simulated annealing on the total distance to the band, for when the greedy
        moves and kicks stall (lumpy atoms: whole communes): a single-atom move may make
        it worse for a while, so that excess passes along a chain of sectors (an
        ejection chain) to one with room. Stops at the band; keeps the best plan seen."""
        gap = best_gap = self._total_gap()
        if gap == 0 or not self.movable or self.k < 2:
            return
        best = (list(self.sector), list(self.load), list(self.size))
        temp = 0.5 * float(np.median(self.w)) + 1e-9 * (self.target + 1)
        cooling = 0.01 ** (1 / max(steps, 1))
        picks, targets, accept = (self.rng.random(steps).tolist() for _ in range(3))
        lo, hi = self.lo, self.hi
        sector, load, movable, adj, weight = self.sector, self.load, self.movable, self.adj, self.w
        size = self.size
        around: dict[int, list[int]] = {}  # an atom's neighbouring sectors, until a move
        for i in range(steps):
            temp *= cooling
            x = movable[int(picks[i] * len(movable))]
            a = sector[x]
            others = around.get(x)
            if others is None:
                others = around[x] = [sector[y] for y in adj[x] if sector[y] != a]
            b = others[int(targets[i] * len(others))]
            w, la, lb = weight[x], load[a], load[b]
            # _band_gap inlined (the same values): this loop runs 20 000 times a repair
            v = la - w
            g1 = lo - v if v < lo else (v - hi if v > hi else 0.0)
            v = lb + w
            g2 = lo - v if v < lo else (v - hi if v > hi else 0.0)
            g3 = lo - la if la < lo else (la - hi if la > hi else 0.0)
            g4 = lo - lb if lb < lo else (lb - hi if lb > hi else 0.0)
            delta = g1 + g2 - g3 - g4
            if delta > 0 and accept[i] >= math.exp(-delta / temp):
                continue
            if not stays_connected(adj, sector, x, a, size[a]):
                continue
            self._move(x, b)
            around.pop(x, None)
            for y in adj[x]:
                around.pop(y, None)
            gap += delta
            if gap < best_gap - 1e-9:
                best_gap = gap
                best = (list(self.sector), list(self.load), list(self.size))
                if best_gap <= 1e-9:
                    break
        self.sector, self.load, self.size = (list(v) for v in best)
        self._init_boundary()

    def in_band(self) -> bool:
        return self._total_gap() == 0

    def _total_gap(self) -> float:
        return sum(_band_gap(load, self.lo, self.hi) for load in self.load)

    def _kick(self, gap: float, tries: int = 8) -> bool:
        worst = max(range(self.k), key=lambda s: _band_gap(self.load[s], self.lo, self.hi))
        pairs = self._transfers(worst, shed=self.load[worst] > self.hi)
        # Largest atoms first: they are the ones greedy moves cannot place.
        pairs.sort(key=lambda p: (-self.w[p[0]], self._cut_delta(p[0], self.sector[p[0]], p[1])))
        saved = (list(self.sector), list(self.load), list(self.size))
        for x, b in pairs[:tries]:
            if not self._keeps_connected(x, self.sector[x]):
                continue
            self._move(x, b)
            self._greedy_balance()
            if self._total_gap() < gap - 1e-9:
                return True
            self.sector, self.load, self.size = (list(v) for v in saved)
            self._init_boundary()
        return False

    def _greedy_balance(self) -> None:
        inner = self.tolerance * 0.9
        lo, hi = self.target * (1 - inner), self.target * (1 + inner)
        t2 = self.target**2 or 1.0
        for _ in range(20 * self.atoms.n + 100):
            out = sorted(
                (s for s in range(self.k) if not lo <= self.load[s] <= hi),
                key=lambda s: -abs(self.load[s] - self.target),
            )
            if not out or not any(self._rebalance(s, t2) for s in out):
                return

    def _transfers(self, s: int, *, shed: bool) -> list[tuple[int, int]]:
        """Single-atom moves (atom, target sector) that take weight out of sector ``s``
        (``shed``) or bring weight into it; fixed atoms never move."""
        if shed:
            return [
                (x, b)
                for x in self.boundary[s]
                if self.fixed[x] < 0
                for b in {self.sector[y] for y in self.adj[x]} - {s}
            ]
        return sorted(
            {
                (y, s)
                for x in self.boundary[s]
                for y in self.adj[x]
                if self.sector[y] != s and self.fixed[y] < 0
            }
        )

    def _rebalance(self, s: int, t2: float) -> bool:
        """Apply the cheapest variance-reducing move that takes weight out of (heavy
        ``s``) or into (light ``s``) the sector; False if there is none."""
        heavy = self.load[s] > self.target
        candidates: list[tuple[float, int, int]] = []
        pairs = self._transfers(s, shed=heavy)
        for x, b in pairs:
            a = self.sector[x]
            w = self.w[x]
            gain = -(2 * w * (self.load[b] - self.load[a]) + 2 * w * w) / t2
            if gain <= 1e-12:
                continue
            candidates.append((self._cut_delta(x, a, b) / gain, x, b))
        candidates.sort()
        for _, x, b in candidates:
            if self._keeps_connected(x, self.sector[x]):
                self._move(x, b)
                return True
        return False

    def anneal(self, steps: int, report: Progress | None = None) -> None:
        """Simulated annealing on the cut cost, moves restricted to the band."""
        costs = [c for row in self.cost for c in row]
        if not costs or not self.movable or self.k < 2:
            return
        scale = float(np.median(costs)) if not self.share else self._delta_scale()
        if scale <= 0:  # every cut free (islands joined by links only): nothing to anneal
            return
        relocate = max(self.atoms.n, 1)  # steps between two locations of the centres
        # under a distance objective the starts and regrowths diversify: a cooler start
        # keeps borders smooth (and the contiguity checks local)
        temp, final = (0.5 if not self.share else HOT_DISTANCE) * scale, 0.01 * scale
        cooling = (final / temp) ** (1 / max(steps, 1))
        accept = self.rng.random(steps).tolist()
        picks = self.rng.random(steps).tolist()
        targets = self.rng.random(steps).tolist()
        every = max(steps // 20, 1)
        sector, adj, movable, load = self.sector, self.adj, self.movable, self.load
        # _in_band, _delta and _keeps_connected inlined (the same operations): this loop
        # runs tens of thousands of steps a start
        lo, hi, weight, size, cost, xy = self.lo, self.hi, self.w, self.size, self.cost, self.xy
        share = self.share
        if share:
            cxy, wd, cut_factor, dist_factor = self.cxy, self.wd, self.cut_factor, self.dist_factor
        around: dict[int, list[int]] = {}  # an atom's neighbouring sectors, until a move
        for i in range(steps):
            if report is not None and i % every == 0:
                report(i / steps, "shape")
            temp *= cooling
            if share and i % relocate == relocate - 1:
                self.locate()
                cxy = self.cxy
            if not movable:
                break
            x = movable[int(picks[i] * len(movable))]
            a = sector[x]
            others = around.get(x)
            if others is None:
                others = around[x] = [sector[y] for y in adj[x] if sector[y] != a]
            b = others[int(targets[i] * len(others))]
            w = weight[x]
            v = load[a] - w
            if not (lo <= v <= hi or _band_gap(v, lo, hi) <= _band_gap(load[a], lo, hi)):
                continue
            v = load[b] + w
            if not (lo <= v <= hi or _band_gap(v, lo, hi) <= _band_gap(load[b], lo, hi)):
                continue
            delta = 0.0
            for y, c in zip(adj[x], cost[x], strict=False):  # aligned lists
                sy = sector[y]
                if sy == a:
                    delta += c
                elif sy == b:
                    delta -= c
            if share:
                px, py = xy[x]
                cx, cy = cxy[b]
                there = math.hypot(px - cx, py - cy)
                cx, cy = cxy[a]
                dist = wd[x] * (there - math.hypot(px - cx, py - cy))
                delta = cut_factor * delta + dist_factor * dist
            if delta > 0 and accept[i] >= math.exp(-delta / temp):
                continue
            if stays_connected(adj, sector, x, a, size[a]):
                self._move(x, b)
                around.pop(x, None)
                for y in adj[x]:
                    around.pop(y, None)

    def _delta_scale(self) -> float:
        """The median size of a move's change of the objective, over the boundary
        atoms' moves to their first neighbouring sector (the annealing's temperature)."""
        sizes = []
        for x in self.movable[:2000]:
            a = self.sector[x]
            b = next(self.sector[y] for y in self.adj[x] if self.sector[y] != a)
            sizes.append(abs(self._delta(x, a, b)))
        scale = float(np.median(sizes)) if sizes else 0.0
        return scale if scale > 0 else 1e-9

    def descend(self, swaps: bool = False) -> None:
        """Take improving moves until none is left (bounded passes); under a distance
        objective, the centres are located again after each pass, and with ``swaps``
        two atoms may also trade sectors (what single moves cannot do when each would
        take a sector out of the band: large atoms, whole communes)."""
        for _ in range(50):
            improved = self._descent_pass()
            if swaps:
                improved = self._swap_pass() or improved
            if self.share:
                improved = self.locate() or improved
            if not improved:
                return

    def _swap_pass(self) -> bool:
        """Improving swaps of a boundary atom ``x`` of ``a`` and an atom ``y`` of a
        neighbouring sector ``b`` that borders ``a``, both sectors staying connected and
        in the band (Kernighan-Lin-like, one pair at a time)."""
        improved = False
        sector, w = self.sector, self.w
        for x in list(self.movable):
            a = sector[x]
            if self.fixed[x] >= 0 or not self.external[x]:
                continue
            for b in {sector[y] for y in self.adj[x]} - {a}:
                if sector[x] != a:
                    break
                candidates = [
                    y
                    for y in self.boundary[b]
                    if self.fixed[y] < 0 and y != x and any(sector[z] == a for z in self.adj[y])
                ]
                for y in candidates:
                    la = self.load[a] - w[x] + w[y]
                    lb = self.load[b] + w[x] - w[y]
                    if not (self._in_band(a, la) and self._in_band(b, lb)):
                        continue
                    dx = self._delta(x, a, b)
                    if not self._keeps_connected(x, a):
                        break
                    self._move(x, b)
                    if (
                        sector[y] == b
                        and any(sector[z] == a for z in self.adj[y])
                        and dx + self._delta(y, b, a) < -1e-9
                        and self._keeps_connected(y, b)
                    ):
                        self._move(y, a)
                        improved = True
                        break
                    self._move(x, a)
        return improved

    def _descent_pass(self) -> bool:
        """One pass of best-improving moves over the boundary atoms."""
        improved = False
        for x in list(self.movable):
            a = self.sector[x]
            if self.fixed[x] >= 0 or not self.external[x]:
                continue
            w = self.w[x]
            best, best_b = -1e-9, -1
            for b in {self.sector[y] for y in self.adj[x]} - {a}:
                if not (self._in_band(a, self.load[a] - w) and self._in_band(b, self.load[b] + w)):
                    continue
                delta = self._delta(x, a, b)
                if delta < best:
                    best, best_b = delta, b
            if best_b >= 0 and self._keeps_connected(x, a):
                self._move(x, best_b)
                improved = True
        return improved


def _band_gap(load: float, lo: float, hi: float) -> float:
    return max(lo - load, load - hi, 0.0)
