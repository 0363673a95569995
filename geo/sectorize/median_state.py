"""The state of the p-median search: a plan on atoms, its exact cost on units, its moves.

With ``M[x, u] = Σ_{v ∈ x} w_v·d(v, u)`` (atoms by units) and ``S_s[u] = Σ_{x ∈ s}
M[x, u]``, sector ``s`` costs ``min_{u ∈ s} S_s[u]``, its median unit
(:func:`geo.pmedian.pmedian_distance` on units). :class:`MedianState` holds a plan with
its sums ``S``, its sectors' costs, loads and sizes, and the prices cached between the
rounds of :class:`~geo.sectorize.median.MedianSearch` (dropped for the sectors a move
touches); it applies moves and checks that a move leaves its sectors connected.
"""

from __future__ import annotations

from collections import deque
from itertools import pairwise

import numpy as np
from scipy.sparse import csr_matrix

from geo.sectorize.atoms import Atoms, stays_connected
from geo.sectorize.median_prices import gaps as _gaps
from geo.sectorize.objective import pairwise_distances

#: The most cells of the atoms-by-units cost matrix (8 bytes each): above, no polish.
MAX_CELLS = 2_500_000


class MedianState:
    """A plan on ``atoms`` and its exact p-median cost on the units.

    ``unit_xy`` and ``unit_weight`` are the units' centroids (metres) and workloads;
    ``lo``/``hi`` the band; ``fixed[x]`` the sector an atom must stay in (-1: free).
    """

    def __init__(
        self,
        atoms: Atoms,
        unit_xy: np.ndarray,
        unit_weight: np.ndarray,
        k: int,
        lo: float,
        hi: float,
        fixed: np.ndarray,
    ) -> None:
        w = np.asarray(unit_weight, dtype=float)
        w = w if w.sum() > 0 else np.ones_like(w)
        n_u = len(w)
        of = np.asarray(atoms.of, dtype=int)
        incidence = csr_matrix((w, (of, np.arange(n_u))), shape=(atoms.n, n_u))
        self.M = np.empty((atoms.n, n_u))
        step = max(1, MAX_CELLS // max(n_u, 1))
        for start in range(0, n_u, step):
            d = pairwise_distances(unit_xy, unit_xy[start : start + step])
            self.M[:, start : start + step] = incidence @ d
        self.total = float(w.sum())
        self.of = of
        self.k = k
        self.lo, self.hi = lo, hi
        self.aw = np.asarray(atoms.weight, dtype=float)
        self.adj = atoms.adj
        self.fixed = np.asarray(fixed, dtype=int)
        pairs = [(x, y) for x, row in enumerate(atoms.adj) for y in row]
        self.ea = np.array([p[0] for p in pairs], dtype=int)
        self.eb = np.array([p[1] for p in pairs], dtype=int)
        # the edges whose first atom may move (the only ones a shift or swap reads)
        free = self.fixed[self.ea] < 0
        self.fa, self.fb = self.ea[free], self.eb[free]
        order = np.argsort(of, kind="stable")
        bounds = np.searchsorted(of[order], np.arange(atoms.n + 1))
        self._atom_units = [order[i:j] for i, j in pairwise(bounds.tolist())]
        #: Moves priced so far (shift candidates, swap pairs): the deterministic measure
        #: of work that :func:`geo.sectorize.polish.polish` budgets.
        self.work = 0

    def cost(self, sector: np.ndarray) -> float:
        """The plan's workload-weighted mean distance to its median units, in metres
        (:func:`geo.pmedian.pmedian_distance` of the plan on units)."""
        self._load_state(np.asarray(sector, dtype=int))
        return float(self.cur.sum()) / self.total

    def key(self) -> tuple[float, float]:
        """The current plan's distance to the band, then its cost: smaller is better."""
        return float(_gaps(self.load, self.lo, self.hi).sum()), float(self.cur.sum())

    def unit_of(self, atom: int) -> int:
        """The unit of ``atom`` nearest (weighted) to the atom's other units."""
        units = np.flatnonzero(self.of == atom)
        return int(units[np.argmin(self.M[atom, units])])

    def _load_state(self, sector: np.ndarray) -> None:
        k = self.k
        self.sector = sector.copy()
        self._listed = self.sector.tolist()  # for the breadth-first searches
        self.col = np.zeros((k, self.M.shape[1]))
        # each sector's rows of M summed in their order (np.add.at's), one reduceat
        order = np.argsort(sector, kind="stable")
        first = np.searchsorted(sector[order], np.arange(k))
        some = first < len(sector)
        some[some] = sector[order][first[some]] == np.arange(k)[some]
        self.col[some] = np.add.reduceat(self.M[order], first[some], axis=0)
        self.usec = sector[self.of]
        self.load = np.bincount(sector, weights=self.aw, minlength=k)
        self.size = np.bincount(sector, minlength=k)
        # Prices cached between rounds, dropped for the two sectors a move touches:
        # each sector's units, the out-price of each atom from its own sector (`_out`),
        # the in-price of each atom into each sector (`_in`), each pair's best swap.
        self._units: list[np.ndarray | None] = [None] * k
        n = len(sector)
        self._out = np.zeros(n)
        self._out_ok = np.zeros(n, dtype=bool)
        self._in = np.zeros((k, n))
        self._in_ok = np.zeros((k, n), dtype=bool)
        self._version = [0] * k
        self._swaps: dict[tuple[int, int], tuple[int, int, float | None, object]] = {}
        # each pair's swap prices without the band's penalty (every border atom of a by
        # every border atom of b), kept while neither sector changes: a new ``rho`` of the
        # oscillation only changes the penalty
        self._swap_prices: dict[tuple[int, int], tuple[int, int, np.ndarray]] = {}
        self.cur = np.array([self._sector_cost(s) for s in range(k)])

    def _unit_list(self, s: int) -> np.ndarray:
        units = self._units[s]
        if units is None:
            units = self._units[s] = np.flatnonzero(self.usec == s)
        return units

    def _touch(self, a: int, b: int) -> None:
        """Drop the cached prices of sectors ``a`` and ``b`` (their members or loads
        changed)."""
        self._units[a] = self._units[b] = None
        sec = self.sector
        self._out_ok[(sec == a) | (sec == b)] = False
        self._in_ok[a] = self._in_ok[b] = False
        self._version[a] += 1
        self._version[b] += 1

    def _sector_cost(self, s: int) -> float:
        units = self._unit_list(s)
        return float(self.col[s, units].min()) if len(units) else 0.0

    def centres(self) -> np.ndarray:
        """Each sector's median unit in the current state (-1 for an empty sector)."""
        out = np.full(self.k, -1, dtype=int)
        for s in range(self.k):
            units = np.flatnonzero(self.usec == s)
            if len(units):
                out[s] = int(units[np.argmin(self.col[s, units])])
        return out

    def _swap_connected(self, x: int, y: int, a: int, b: int) -> bool:
        """Are both sectors of one piece once ``x`` (of ``a``) and ``y`` (of ``b``) swap?
        (The plan is left as it was.)"""
        sec, listed = self.sector, self._listed
        sec[x], sec[y], listed[x], listed[y] = b, a, b, a
        try:
            return self._connected(a) and self._connected(b)
        finally:
            sec[x], sec[y], listed[x], listed[y] = a, b, a, b

    def _swap_undone(self, x: int, y: int, a: int, b: int) -> None:
        """The state a swap applied then undone leaves (see :meth:`_apply`), in fewer
        steps: the sums take the same additions in the same order (the same last bits)
        and the two sectors' prices are dropped."""
        mx, my, col, load = self.M[x], self.M[y], self.col, self.load
        wx, wy = self.aw[x], self.aw[y]
        for s, sign in ((a, -1), (b, 1)):  # a: -x +y -y +x; b: +x -y +y -x
            for row, w, step in ((mx, wx, sign), (my, wy, -sign), (my, wy, sign), (mx, wx, -sign)):
                if step > 0:
                    col[s] += row
                    load[s] += w
                else:
                    col[s] -= row
                    load[s] -= w
        self._touch(a, b)
        self.cur[a] = self._sector_cost(a)
        self.cur[b] = self._sector_cost(b)

    def _apply(self, x: int, b: int) -> None:
        a = int(self.sector[x])
        self.sector[x] = b
        self._listed[x] = b
        self.col[a] -= self.M[x]
        self.col[b] += self.M[x]
        self.usec[self._atom_units[x]] = b
        w = self.aw[x]
        self.load[a] -= w
        self.load[b] += w
        self.size[a] -= 1
        self.size[b] += 1
        self._touch(a, b)
        self.cur[a] = self._sector_cost(a)
        self.cur[b] = self._sector_cost(b)

    def _connected_without(self, x: int, a: int) -> bool:
        """Does sector ``a`` stay connected (and not empty) without atom ``x``?"""
        return stays_connected(self.adj, self._listed, x, a, int(self.size[a]))

    def _connected(self, a: int) -> bool:
        members = np.flatnonzero(self.sector == a)
        return len(members) > 0 and self._reach(int(members[0]), a, -1) == len(members)

    def _reach(self, start: int, a: int, skip: int) -> int:
        sec = self._listed
        seen = {start}
        queue = deque([start])
        while queue:
            y = queue.popleft()
            for z in self.adj[y]:
                if z != skip and z not in seen and sec[z] == a:
                    seen.add(z)
                    queue.append(z)
        return len(seen)


def _gap(load: float, lo: float, hi: float) -> float:
    return max(lo - load, load - hi, 0.0)
