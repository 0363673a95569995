"""Seeded balanced region growing, then a contiguity-preserving local search.

The engine behind the proposals of PSQ Secteurs. It works on *atoms* (see
:mod:`geo.sectorize.atoms`): single units, or the units of a small commune, a QPV or a
small island fused so that they are never split.

1. **Seeds.** Fixed seeds (police stations, bureaux de police) and locked units anchor
   their sectors; the other sectors get the atoms nearest to the centres of a
   workload-weighted k-means (k-means++ start, Lloyd iterations with the anchored centres
   pinned).
2. **Growth.** Sectors grow together over the barrier-aware graph, the lightest sector
   with a free neighbouring atom taking the one nearest its seed: the balanced
   multi-source growth of D'Amico et al. (2002) and Camacho-Collados, Liberatore &
   Angulo (2015), who design police districts the same way before improving them.
3. **Balance.** Boundary atoms move from a sector out of the tolerance band towards
   lighter neighbours (or into a light sector from heavier ones), choosing the move with
   the least added boundary cost per unit of variance removed, until every sector is
   within the band or no move helps.
4. **Shape.** Simulated annealing of single boundary moves that keep every sector in the
   band: the objective is the total cut cost of :class:`~geo.sectorize.atoms.CutCosts`
   (boundary length, more where a commune is cut, less along a barrier), a proxy for
   compactness; a final descent takes every remaining improving move.

A move never empties a sector, never moves a fixed atom and never disconnects the
sector it leaves (a local test on the neighbours of the atom, then a bounded search).
Spanning-tree recombination (ReCom; DeFord, Duchin & Solomon 2021) explores the space of
balanced plans more widely; :mod:`bench` compares this engine with it on the same units.

References
----------
* D'Amico, S. J., Wang, S.-J., Batta, R., Rump, C. M. (2002). A simulated annealing
  approach to police district design. *Computers & Operations Research* 29(6), 667-684.
* Camacho-Collados, M., Liberatore, F., Angulo, J. M. (2015). A multi-criteria Police
  Districting Problem for the efficient and effective design of patrol sector.
  *European Journal of Operational Research* 246(2), 674-684.
* DeFord, D., Duchin, M., Solomon, J. (2021). Recombination: A family of Markov chains
  for redistricting. *Harvard Data Science Review* 3(1).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from geo.errors import InfeasibleDesignError, InvalidInputError
from geo.metrics import violations
from geo.plan import SectorPlan, sector_names
from geo.sectorize.atoms import Atoms, CutCosts, build_atoms, small_communes
from geo.sectorize.base import Progress, Sectorizer, no_progress
from geo.unit_graph import UnitGraph

#: Communes below this population are never split (the PSQ doctrine groups small
#: communes and splits large cities).
DEFAULT_WHOLE_COMMUNE_POPULATION = 10_000.0
DEFAULT_TOLERANCE = 0.05


class RegionGrowth(Sectorizer):
    """Balanced, contiguous, compact sectors (see the module docstring).

    Parameters
    ----------
    k
        Number of sectors; or give ``target_workload`` and ``k`` is the total workload
        divided by it, rounded (at least 1).
    tolerance
        Allowed relative deviation of each sector's workload from the mean (0.05: ±5 %).
    whole_commune_population
        Communes with fewer inhabitants are never split; ``math.inf``: no commune split.
    commune_population
        Population per commune code; by default the sum of the units' ``population``
        column (if any).
    seeds
        Unit ids: sector ``i`` contains ``seeds[i]`` (e.g. the unit of a commissariat).
    locked
        Unit id → sector index: kept in that sector.
    costs
        Weights of the cut cost (compactness, commune cohesion, barriers).
    steps
        Annealing steps; default ``40 x`` the number of atoms.
    restarts
        New seeds are drawn up to this many times when the balance phase misses the band.
    oversized
        ``"error"``: an atom heavier than the band's upper bound makes the request
        infeasible; ``"report"``: the plan is made and lists the violation (the
        whole-communes baseline does this).
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        target_workload: float | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        whole_commune_population: float = DEFAULT_WHOLE_COMMUNE_POPULATION,
        commune_population: Mapping[str, float] | None = None,
        seeds: Sequence[str] = (),
        locked: Mapping[str, int] | None = None,
        costs: CutCosts | None = None,
        steps: int | None = None,
        oversized: Literal["error", "report"] = "error",
        restarts: int = 3,
    ) -> None:
        if (k is None) == (target_workload is None):
            raise InvalidInputError("give either k (number of sectors) or target_workload")
        if k is not None and k < 1:
            raise InvalidInputError(f"k: at least one sector is needed, got {k}")
        if target_workload is not None and not target_workload > 0:
            raise InvalidInputError(f"target_workload: must be > 0, got {target_workload}")
        if not 0 <= tolerance < 1:
            raise InvalidInputError(f"tolerance: must be in [0, 1), got {tolerance}")
        self.k = k
        self.target_workload = target_workload
        self.tolerance = tolerance
        self.whole_commune_population = whole_commune_population
        self.commune_population = commune_population
        self.seeds = list(seeds)
        self.locked = dict(locked or {})
        self.costs = costs or CutCosts()
        self.steps = steps
        self.oversized = oversized
        self.restarts = restarts

    # -- set-up --------------------------------------------------------------------------

    def _k(self, graph: UnitGraph) -> int:
        if self.k is not None:
            k = self.k
        else:
            assert self.target_workload is not None
            k = max(1, round(float(graph.workload.sum()) / self.target_workload))
        if k > graph.n:
            raise InfeasibleDesignError(
                f"k = {k} sectors is more than the {graph.n} units of the territory"
            )
        return k

    def _population(self, graph: UnitGraph) -> dict[str, float]:
        if self.commune_population is not None:
            return {str(c): float(p) for c, p in self.commune_population.items()}
        if "population" not in graph.units.columns:
            return {}
        return {
            str(c): float(p) for c, p in graph.units.groupby("commune")["population"].sum().items()
        }

    def _positions(self, graph: UnitGraph, ids: Sequence[str], what: str) -> list[int]:
        index = pd.Index(graph.units["unit"])
        pos = index.get_indexer(list(ids))
        unknown = [u for u, p in zip(ids, pos, strict=True) if p < 0]
        if unknown:
            raise InvalidInputError(f"{what}: unknown unit(s) {', '.join(map(str, unknown))}")
        return [int(p) for p in pos]

    def _fixed(self, graph: UnitGraph, atoms: Atoms, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Atom → fixed sector (-1: free), and each sector's seed unit (-1: none)."""
        fixed = np.full(atoms.n, -1, dtype=int)
        owner: dict[int, str] = {}
        seed_units = np.full(k, -1, dtype=int)
        if len(self.seeds) > k:
            raise InfeasibleDesignError(
                f"seeds: {len(self.seeds)} fixed seeds for only k = {k} sectors"
            )
        seed_pos = self._positions(graph, self.seeds, "seeds")
        for sector, (uid, unit) in enumerate(zip(self.seeds, seed_pos, strict=True)):
            atom = int(atoms.of[unit])
            if atom in owner:
                label = atoms.label[atom]
                why = (
                    f"the same unit {uid}"
                    if owner[atom] == uid
                    else (f"units {owner[atom]} and {uid} of {label}, which is kept whole")
                )
                raise InfeasibleDesignError(
                    f"seeds: two seeds fall in {why}; they cannot head different sectors"
                )
            owner[atom] = uid
            fixed[atom] = sector
            seed_units[sector] = unit
        lock_pos = self._positions(graph, list(self.locked), "locked")
        for (uid, sector), unit in zip(self.locked.items(), lock_pos, strict=True):
            if not 0 <= sector < k:
                raise InvalidInputError(
                    f"locked: unit {uid} is locked to sector {sector}, not in 0 … {k - 1}"
                )
            atom = int(atoms.of[unit])
            if fixed[atom] not in (-1, sector):
                raise InfeasibleDesignError(
                    f"locked: unit {uid} is locked to sector {sector} but its "
                    f"{atoms.label[atom] or 'unit'} is already held by sector {fixed[atom]}"
                )
            fixed[atom] = sector
        _check_locks_connectable(atoms, fixed, k)
        return fixed, seed_units

    # -- solve ---------------------------------------------------------------------------

    def solve(
        self,
        graph: UnitGraph,
        *,
        rng: np.random.Generator,
        progress: Progress = no_progress,
    ) -> SectorPlan:
        k = self._k(graph)
        total = float(graph.workload.sum())
        target = total / k
        upper = target * (1 + self.tolerance)
        population = self._population(graph)
        whole = small_communes(graph, self.whole_commune_population, population)
        progress(0.02, "atoms")
        atoms = build_atoms(
            graph, whole_communes=whole, costs=self.costs, island_limit=0.5 * target
        )
        if k > atoms.n:
            raise InfeasibleDesignError(
                f"k = {k} sectors but only {atoms.n} groups of units can be separated "
                f"(communes under {self.whole_commune_population:.0f} inhabitants are kept "
                "whole): lower k or the whole-commune threshold"
            )
        heavy = np.flatnonzero(atoms.weight > upper)
        if len(heavy) and k > 1 and self.oversized == "error":
            names = ", ".join(
                f"{atoms.label[a] or 'a unit'} ({atoms.weight[a]:.0f})" for a in heavy[:10]
            )
            raise InfeasibleDesignError(
                f"cannot be kept whole within the tolerance: {names}; the band is "
                f"{target * (1 - self.tolerance):.0f} … {upper:.0f} per sector "
                f"(±{self.tolerance:.1%}): lower the whole-commune threshold, k or raise "
                "the tolerance"
            )
        fixed, seed_units = self._fixed(graph, atoms, k)
        anchors = {s: int(atoms.of[u]) for s, u in enumerate(seed_units) if u >= 0}
        progress(0.1, "seeds")
        # Seeds can be unlucky (a small commune hemmed in by another sector's seed): when
        # the balanced band is missed, the growth restarts from new seeds, a few times.
        for attempt in range(self.restarts + 1):
            search = _Search(atoms, k, self.tolerance, fixed, rng)
            search.grow(_seed_atoms(atoms, k, fixed, rng, anchors))
            search.balance()
            if search.in_band() or attempt == self.restarts:
                break
        progress(0.5, "shape")
        search.anneal(self.steps or 40 * atoms.n, lambda f, stage: progress(0.5 + 0.45 * f, stage))
        search.descend()
        assignment = np.asarray(search.sector, dtype=int)[atoms.of]
        plan = SectorPlan(
            graph=graph,
            assignment=assignment,
            names=sector_names(k),
            seeds=seed_units,
            notes=atoms.notes,
        )
        found = violations(plan, self.tolerance, whole)
        progress(1.0, "done")
        return plan.with_assignment(plan.assignment, violations=tuple(found))


def _check_locks_connectable(atoms: Atoms, fixed: np.ndarray, k: int) -> None:
    """Each sector's fixed atoms must be joinable through free atoms or atoms of the
    same sector; otherwise no contiguous plan keeps the locks."""
    for s in range(k):
        mine = np.flatnonzero(fixed == s)
        if len(mine) < 2:
            continue
        allowed = (fixed == -1) | (fixed == s)
        seen = {int(mine[0])}
        stack = [int(mine[0])]
        while stack:
            x = stack.pop()
            for y in atoms.adj[x]:
                if allowed[y] and y not in seen:
                    seen.add(y)
                    stack.append(y)
        cut_off = [int(m) for m in mine if int(m) not in seen]
        if cut_off:
            raise InfeasibleDesignError(
                f"locked: the locked units of sector {s} cannot be joined into one contiguous "
                f"sector: {len(cut_off)} group(s) of them are cut off by units locked to "
                "other sectors"
            )


def _seed_atoms(
    atoms: Atoms,
    k: int,
    fixed: np.ndarray,
    rng: np.random.Generator,
    anchors: Mapping[int, int] | None = None,
) -> list[int]:
    """One atom per sector: a fixed atom where the sector has one, else the free atom
    nearest a centre of a workload-weighted k-means with the fixed centres pinned."""
    xy, w = atoms.xy, atoms.weight + 1e-9 * (atoms.weight.sum() + 1)
    pinned = {s: int(np.flatnonzero(fixed == s)[0]) for s in range(k) if (fixed == s).any()}
    pinned.update(anchors or {})  # a sector's seed (its police station) is its centre
    centres = np.zeros((k, 2))
    for s, atom in pinned.items():
        centres[s] = xy[atom]
    free_sectors = [s for s in range(k) if s not in pinned]
    chosen = [centres[s] for s in pinned]
    for s in free_sectors:  # k-means++ start
        if chosen:
            d2 = np.min(((xy[:, None, :] - np.array(chosen)[None]) ** 2).sum(-1), axis=1)
            p = w * d2
        else:
            p = w.copy()
        p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1 / len(p))
        centres[s] = xy[rng.choice(len(xy), p=p)]
        chosen.append(centres[s])
    for _ in range(8):  # Lloyd iterations; pinned centres stay
        nearest = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for s in free_sectors:
            members = nearest == s
            if members.any():
                centres[s] = np.average(xy[members], axis=0, weights=w[members])
    seeds = [-1] * k
    taken = set(pinned.values())
    for s, atom in pinned.items():
        seeds[s] = atom
    free = np.flatnonzero(fixed == -1)
    for s in free_sectors:
        order = free[np.argsort(((xy[free] - centres[s]) ** 2).sum(-1), kind="stable")]
        atom = next((int(a) for a in order if int(a) not in taken), -1)
        if atom < 0:
            raise InfeasibleDesignError(
                f"locked: only {len(free)} free group(s) of units are left for "
                f"{len(free_sectors)} sector(s) that have no locked unit; lock fewer units"
            )
        seeds[s] = atom
        taken.add(atom)
    return seeds


class _Search:
    """Mutable state of one run: sector of each atom, loads, boundary bookkeeping."""

    def __init__(
        self,
        atoms: Atoms,
        k: int,
        tolerance: float,
        fixed: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        self.atoms = atoms
        self.adj = atoms.adj
        self.cost = atoms.cost
        self.w = atoms.weight.tolist()
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
            raise InfeasibleDesignError(
                f"the territory is disconnected: {len(orphans)} group(s) of units cannot be "
                "reached from any sector"
            )
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
        s = self.sector[x]
        ext = sum(1 for y in self.adj[x] if self.sector[y] != s)
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

    def _keeps_connected(self, x: int, a: int) -> bool:
        """Does sector ``a`` stay connected without atom ``x``?"""
        if self.size[a] <= 1:
            return False
        sector = self.sector
        around = [y for y in self.adj[x] if sector[y] == a]
        if len(around) <= 1:
            return bool(around)
        targets = set(around)
        seen = {around[0]}
        stack = [around[0]]
        while stack:  # first among the neighbours of x only
            y = stack.pop()
            for z in self.adj[y]:
                if z in targets and z not in seen:
                    seen.add(z)
                    stack.append(z)
        if len(seen) == len(targets):
            return True
        missing = len(targets) - len(seen)
        stack = list(seen)
        while stack:  # then through the whole sector
            y = stack.pop()
            for z in self.adj[y]:
                if z != x and z not in seen and sector[z] == a:
                    seen.add(z)
                    stack.append(z)
                    if z in targets:
                        missing -= 1
                        if missing == 0:
                            return True
        return False

    def _move(self, x: int, b: int) -> None:
        a = self.sector[x]
        self.sector[x] = b
        self.load[a] -= self.w[x]
        self.load[b] += self.w[x]
        self.size[a] -= 1
        self.size[b] += 1
        self._refresh(x)
        for y in self.adj[x]:
            self._refresh(y)

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
        scale = float(np.median(costs))
        temp, final = 0.5 * scale, 0.01 * scale
        cooling = (final / temp) ** (1 / max(steps, 1))
        accept = self.rng.random(steps)
        picks = self.rng.random(steps)
        targets = self.rng.random(steps)
        every = max(steps // 20, 1)
        for i in range(steps):
            if report is not None and i % every == 0:
                report(i / steps, "shape")
            temp *= cooling
            if not self.movable:
                break
            x = self.movable[int(picks[i] * len(self.movable))]
            a = self.sector[x]
            others = [self.sector[y] for y in self.adj[x] if self.sector[y] != a]
            b = others[int(targets[i] * len(others))]
            w = self.w[x]
            if not (self._in_band(a, self.load[a] - w) and self._in_band(b, self.load[b] + w)):
                continue
            delta = self._cut_delta(x, a, b)
            if delta > 0 and accept[i] >= math.exp(-delta / temp):
                continue
            if self._keeps_connected(x, a):
                self._move(x, b)

    def descend(self) -> None:
        """Take improving moves until none is left (bounded passes)."""
        for _ in range(50):
            improved = False
            for x in list(self.movable):
                a = self.sector[x]
                if self.fixed[x] >= 0 or not self.external[x]:
                    continue
                w = self.w[x]
                best, best_b = -1e-9, -1
                for b in {self.sector[y] for y in self.adj[x]} - {a}:
                    if not (
                        self._in_band(a, self.load[a] - w) and self._in_band(b, self.load[b] + w)
                    ):
                        continue
                    delta = self._cut_delta(x, a, b)
                    if delta < best:
                        best, best_b = delta, b
                if best_b >= 0 and self._keeps_connected(x, a):
                    self._move(x, best_b)
                    improved = True
            if not improved:
                return


def _band_gap(load: float, lo: float, hi: float) -> float:
    return max(lo - load, load - hi, 0.0)
