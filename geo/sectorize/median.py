"""A p-median local search on atoms, balance a hard band, costs exact on units.

Under the distance objective (:mod:`geo.sectorize.objective`), the annealing of
:mod:`geo.sectorize.search` moves atoms against fixed centres located on the atoms'
centroids. This module polishes its plans against the figure itself,
:func:`geo.pmedian.pmedian_distance` on units: with ``M[x, u] = Σ_{v ∈ x} w_v·d(v, u)``
(atoms by units) and ``S_s[u] = Σ_{x ∈ s} M[x, u]``, sector ``s`` costs
``min_{u ∈ s} S_s[u]``, its median unit; a move of atom ``x`` from ``a`` to ``b`` is
priced ``min_{u ∈ a \\ x} (S_a - M_x)[u] + min_{u ∈ b} (S_b + M_x)[u]`` minus the two
sectors' present costs: the centres move with the atom (where location-allocation
fixes them); the price is exact but for a centre that would move into ``x`` itself, so
it never promises less than the move gives.

Neighbourhoods, every candidate evaluated at once in numpy:

* **shift**: a boundary atom to a neighbouring sector;
* **swap**: an atom of ``a`` bordering ``b`` with an atom of ``b`` bordering ``a`` (what a
  shift cannot do when it would take a sector out of the band: large atoms, whole
  communes).

Moves are sorted by gain; the best ones of distinct sectors are applied in a round, each
after its checks: both sectors in the band (or no further from it than before), the
sector left connected (a breadth-first search on its atoms), no fixed atom moved, no
sector emptied. The search stops when no move improves the plan, so the objective never
rises.

Two ways out of a local optimum, both kept only when they lead to a better plan:

* **strategic oscillation** (Glover & Hao 2011): descents where the band is a penalty
  ``rho`` per unit of workload out of it, ``rho`` doubled until the plan is back in the
  band — whole-commune atoms make the band a packing problem that single in-band moves
  cannot cross;
* **location-allocation** (Hess et al. 1965): atoms allocated to ``k`` centre units by
  the transportation problem (balance as its constraints, solved by HiGHS), each
  sector's piece around its centre kept and the other pieces given to a bordering
  sector, the band reached by oscillation (or the engine's repair), a descent, the
  medians located again; from the plan's own medians and from the engine's k-means
  seeds (:func:`geo.sectorize.polish.polish`).

References
----------
* Teitz, M. B., Bart, P. (1968). Heuristic methods for estimating the generalized vertex
  median of a weighted graph. *Operations Research* 16(5), 955-961.
* Hess, S. W., Weaver, J. B., Siegfeldt, H. J., Whelan, J. N., Zitlau, P. A. (1965).
  Nonpartisan political redistricting by computer. *Operations Research* 13(6), 998-1006.
* Glover, F., Hao, J.-K. (2011). The case for strategic oscillation. *Annals of
  Operations Research* 183, 163-173.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from itertools import pairwise

import numpy as np
from scipy.sparse import csr_matrix

from geo.sectorize.atoms import Atoms, pieces, stays_connected
from geo.sectorize.median_prices import Side, pair_cost, pair_costs, penalised, shift_prices
from geo.sectorize.median_prices import gaps as _gaps
from geo.sectorize.objective import pairwise_distances
from geo.sectorize.transport import Transport

#: The most cells of the atoms-by-units cost matrix (8 bytes each): above, no polish.
MAX_CELLS = 2_500_000
_EPS = 1e-7
#: Strategic oscillation: the first penalty per unit of workload out of the band, in
#: mean distances, and its factor from one descent to the next.
RHO = 0.25
RHO_STEP = 2.0
#: Work counted for a round of shifts or swaps besides its priced moves (its fixed cost
#: in numpy calls, about that of pricing this many moves).
ROUND_WORK = 500
#: Units whose value bounds a swap's price before the others are pruned (exact).
PROBE = 4
#: Sectors of fewer units are priced without that pruning (it costs more than it saves).
PRUNE_UNITS = 40
#: Sectors of fewer units are priced together (median_prices: fewer numpy calls), larger
#: ones one at a time (contiguous blocks, pairs pruned: fewer cells); Belfort res 9.
BATCH_UNITS = 64
#: Allocations of one location-allocation start (each followed by a location).
LA_ITER = 3


def fits(atoms: Atoms, units: int) -> bool:
    """Is the territory small enough for the exact cost matrix?"""
    return atoms.n * units <= MAX_CELLS and units * units <= 4 * MAX_CELLS


class MedianSearch:
    """The exact p-median cost of plans on ``atoms`` and their local search.

    ``unit_xy`` and ``unit_weight`` are the units' centroids (metres) and workloads;
    ``lo``/``hi`` the band; ``fixed[x]`` the sector an atom must stay in (-1: free);
    ``rebalance`` brings a contiguous plan into the band when the cheapest shifts do not
    (the engine's balance and repair phases), or returns None.
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
        rebalance: Callable[[np.ndarray], np.ndarray | None] | None = None,
    ) -> None:
        self.rebalance = rebalance
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
        self.transport = Transport(self.aw, k, lo, hi, self.fixed)
        #: Moves priced so far (shift candidates, swap pairs): the deterministic measure
        #: of work that :func:`geo.sectorize.polish.polish` budgets.
        self.work = 0

    # the objective ------------------------------------------------------------------

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
        self._version = np.zeros(k, dtype=np.int64)
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

    def _touch(self, s: int) -> None:
        """Drop the cached prices of sector ``s`` (its members or load changed)."""
        self._units[s] = None
        self._out_ok[self.sector == s] = False
        self._in_ok[s] = False
        self._version[s] += 1

    def _sector_cost(self, s: int) -> float:
        units = self._unit_list(s)
        return float(self.col[s, units].min()) if len(units) else 0.0

    # the search ---------------------------------------------------------------------

    def descend(self, sector: np.ndarray, rounds: int = 400) -> np.ndarray:
        """The local optimum reached from ``sector`` by improving shifts and swaps."""
        self._load_state(np.asarray(sector, dtype=int))
        for _ in range(rounds):
            if not self._shift_round() and not self._swap_round():
                break
        return self.sector.copy()

    # location-allocation ------------------------------------------------------------

    def centres(self) -> np.ndarray:
        """Each sector's median unit in the current state (-1 for an empty sector)."""
        out = np.full(self.k, -1, dtype=int)
        for s in range(self.k):
            units = np.flatnonzero(self.usec == s)
            if len(units):
                out[s] = int(units[np.argmin(self.col[s, units])])
        return out

    def locate_allocate(
        self, centres: np.ndarray, iterations: int = LA_ITER, seen: set[bytes] | None = None
    ) -> tuple[np.ndarray, float] | None:
        """Hess et al.'s alternation from ``centres`` (units): allocate the atoms to the
        centres by the transportation problem, mend contiguity and the band, descend,
        locate the medians, again while the cost falls. The best plan and its cost
        (metres), or None when no allocation could be mended into the band."""
        best: np.ndarray | None = None
        best_cost = np.inf
        seen = set() if seen is None else seen  # centre sets already allocated
        for _ in range(iterations):
            key = np.sort(centres).tobytes()
            if key in seen:
                break
            seen.add(key)
            raw = self.transport.allocate(self.M[:, centres])
            if raw is None:
                break
            mended = self._mend(raw, centres)
            if mended is None:
                break
            plan = self.descend(mended)
            value = float(self.cur.sum())
            if value >= best_cost - _EPS:
                break
            best, best_cost = plan, value
            centres = self.centres()
        return None if best is None else (best, best_cost / self.total)

    def _mend(self, sector: np.ndarray, centres: np.ndarray) -> np.ndarray | None:
        """Make each sector one piece (the piece holding its centre, else its heaviest;
        the other pieces' atoms go, nearest centre first, to a bordering sector), then
        bring every sector into the band by the cheapest shifts that narrow the gap."""
        sector = sector.copy()
        k = self.k
        for s in range(k):
            members = np.flatnonzero(sector == s)
            if not len(members):
                return None
            parts = pieces(members, self.adj)
            if len(parts) == 1:
                continue
            home = int(self.of[centres[s]])
            keep = next(
                (p for p in parts if home in p),
                max(parts, key=lambda p: float(self.aw[list(p)].sum())),
            )
            for piece in parts:
                if piece is not keep:
                    if any(self.fixed[x] >= 0 for x in piece):
                        return None
                    sector[list(piece)] = -1
        cent = centres
        while (sector < 0).any():
            free = np.flatnonzero(sector < 0)
            placed = False
            for x in free.tolist():
                around = {int(sector[y]) for y in self.adj[x] if sector[y] >= 0}
                if around:
                    sector[x] = min(around, key=lambda t: self.M[x, cent[t]])
                    placed = True
            if not placed:
                return None
        self._load_state(sector)
        if self._oscillate():
            return self.sector.copy()
        if self.rebalance is None:
            return None
        balanced = self.rebalance(self.sector.copy())
        if balanced is None:
            return None
        self._load_state(balanced)
        return self.sector.copy()

    def _oscillate(self, rounds: int = 60) -> bool:
        """Reach the band through plans outside it (strategic oscillation): descents
        whose band is a penalty ``rho`` per unit of workload out of it, ``rho`` doubled
        until every sector is in; then a descent with the band a constraint."""
        rho = RHO * float(self.cur.sum()) / max(float(self.aw.sum()), 1e-9)
        for _ in range(8):
            for _ in range(rounds):
                if not self._shift_round(rho) and not self._swap_round(rho):
                    break
            if _gaps(self.load, self.lo, self.hi).sum() <= 1e-9:
                return True
            rho *= RHO_STEP
        return self._repair_band()

    def _repair_band(self, limit: int = 400) -> bool:
        """Cheapest shifts (exact delta) that narrow the total distance to the band."""
        for _ in range(limit):
            gaps = np.array([_gap(v, self.lo, self.hi) for v in self.load])
            if gaps.sum() <= 1e-9:
                return True
            xs, as_, bs, delta = self._shift_candidates(repair=True)
            if not len(xs):
                return False
            w = self.aw[xs]
            la, lb = self.load[as_] - w, self.load[bs] + w
            narrow = (
                _gaps(la, self.lo, self.hi) + _gaps(lb, self.lo, self.hi) - gaps[as_] - gaps[bs]
            )
            order = np.lexsort((delta, narrow >= -1e-9))
            for i in order.tolist():
                if narrow[i] >= -1e-9:
                    return False
                if self._connected_without(int(xs[i]), int(as_[i])):
                    self._apply(int(xs[i]), int(bs[i]))
                    break
            else:
                return False
        return False

    def _shift_candidates(
        self, repair: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every boundary shift (x, a → b) allowed by the band (any shift not emptying a
        sector with ``repair``), with its delta: exact for ``a``, an upper bound for ``b``
        (its centre kept among its units): a move of negative delta lowers the objective.
        The prices of the sectors a move touched are computed again, one block each."""
        sec, k = self.sector, self.k
        sb = sec[self.fb]
        keep = sb != sec[self.fa]
        mark = np.zeros(len(sec) * k, dtype=bool)
        mark[self.fa[keep] * k + sb[keep]] = True
        code = np.flatnonzero(mark)  # sorted and unique, as np.unique would give
        xs, bs = code // k, code % k
        as_ = sec[xs]
        wx = self.aw[xs]
        ok = self.size[as_] > 1
        if not repair:
            now = _gaps(self.load, self.lo, self.hi) + 1e-9
            ok &= _gaps(self.load[as_] - wx, self.lo, self.hi) <= now[as_]
            ok &= _gaps(self.load[bs] + wx, self.lo, self.hi) <= now[bs]
        xs, as_, bs = xs[ok], as_[ok], bs[ok]
        self.work += len(xs)
        out = np.unique(xs[~self._out_ok[xs]])
        need = ~self._in_ok[bs, xs]
        into, into_s = xs[need], bs[need]
        if len(out) or len(into):
            args = (self.of, self.cur, self._unit_list, out, sec[out], into, into_s, BATCH_UNITS)
            self._out[out], self._in[into_s, into] = shift_prices(self.M, self.col, *args)
            self._out_ok[out] = self._in_ok[into_s, into] = True
        delta = self._out[xs] + self._in[bs, xs]
        return xs, as_, bs, delta

    def _shift_round(self, rho: float | None = None) -> bool:
        """Improving shifts of distinct sectors; with ``rho``, the band is a penalty of
        ``rho`` per unit of workload out of it instead of a constraint."""
        self.work += ROUND_WORK
        if rho is None:
            xs, as_, bs, delta = self._shift_candidates()
        else:
            xs, as_, bs, delta = self._shift_candidates(repair=True)
            w = self.aw[xs]
            gaps = _gaps(self.load, self.lo, self.hi)
            delta = delta + rho * (
                _gaps(self.load[as_] - w, self.lo, self.hi)
                + _gaps(self.load[bs] + w, self.lo, self.hi)
                - gaps[as_]
                - gaps[bs]
            )
        touched: set[int] = set()
        moved = False
        better = np.flatnonzero(delta < -_EPS)  # in the order of a stable sort of all
        order = better[np.argsort(delta[better], kind="stable")]
        moves = zip(xs[order].tolist(), as_[order].tolist(), bs[order].tolist(), strict=True)
        for x, a, b in moves:
            if a in touched or b in touched:
                continue
            if not self._connected_without(x, a):
                continue
            self._apply(x, b)
            touched.update((a, b))
            moved = True
        return moved

    def _swap_round(self, rho: float | None = None) -> bool:
        """Improving swaps, at most one per sector per round (``rho``: as for shifts)."""
        self.work += ROUND_WORK
        sec, k, n = self.sector, self.k, len(self.sector)
        sb, sa = sec[self.fb], sec[self.fa]
        border = sb != sa
        # the border atoms of every ordered pair of sectors, grouped once: keys sorted by
        # (pair, atom), so each group is that pair's sorted unique atoms
        keys = np.unique((sa[border] * k + sb[border]) * n + self.fa[border])
        codes, members = keys // n, keys % n
        pairs, first = np.unique(codes, return_index=True)
        ends = [*first[1:].tolist(), len(keys)][: len(first)]  # no border: no group
        group = dict(zip(pairs.tolist(), zip(first.tolist(), ends, strict=True), strict=True))
        found: list[tuple[float, int, int]] = []
        pending: list[tuple[int, int, tuple[int, int], np.ndarray, np.ndarray]] = []
        load = self.load.tolist()
        for code in pairs.tolist():
            a, b = divmod(code, k)
            if a > b:
                continue
            stamp = (int(self._version[a]), int(self._version[b]))
            cached = self._swaps.get((a, b))
            if cached is not None and cached[:3] == (*stamp, rho):
                if cached[3] is not None:
                    found.append(cached[3])  # type: ignore[arg-type]
                continue
            self._swaps[(a, b)] = (*stamp, rho, None)
            back = group.get(b * k + a)
            if back is None:
                continue
            i, j = group[code]
            xs = members[i:j]
            i, j = back
            ys = members[i:j]
            if rho is not None:  # priced with every other pair, below
                pending.append((a, b, stamp, xs, ys))
                continue
            wx, wy = self.aw[xs][:, None], self.aw[ys][None, :]
            la, lb = load[a] - wx + wy, load[b] + wx - wy
            ga, gb = _gaps(la, self.lo, self.hi), _gaps(lb, self.lo, self.hi)
            now_a, now_b = _gap(load[a], self.lo, self.hi), _gap(load[b], self.lo, self.hi)
            band = (ga <= now_a + 1e-9) & (gb <= now_b + 1e-9)
            if not band.any():
                continue
            # only the atoms with a swap in the band are priced (same minimum)
            rows, cols = band.any(1), band.any(0)
            xs, ys, band = xs[rows], ys[cols], band[rows][:, cols]
            kept = self._swap_prices.get((a, b))
            if kept is not None and kept[:2] == stamp:
                prices = kept[2][rows][:, cols]
            else:
                prices = self._pair_cost(a, xs, ys) + self._pair_cost(b, ys, xs).T
                prices = prices - self.cur[a] - self.cur[b]
            self.work += prices.size
            delta = prices.copy()
            delta[~band] = np.inf
            i, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
            if delta[i, j] < -_EPS:
                best = (float(delta[i, j]), int(xs[i]), int(ys[j]))
                self._swaps[(a, b)] = (*stamp, rho, best)
                found.append(best)
        if pending:
            found.extend(self._penalised_swaps(pending, rho))  # type: ignore[arg-type]
        touched: set[int] = set()
        moved = False
        for _, x, y in sorted(found):
            a, b = int(self.sector[x]), int(self.sector[y])
            if a in touched or b in touched:
                continue
            if self._swap_connected(x, y, a, b):
                self._apply(x, b)
                self._apply(y, a)
                touched.update((a, b))
                moved = True
            else:
                self._swap_undone(x, y, a, b)
        return moved

    def _penalised_swaps(
        self, pending: list[tuple[int, int, tuple[int, int], np.ndarray, np.ndarray]], rho: float
    ) -> list[tuple[float, int, int]]:
        """The best swap of each pending pair ``(a, b, stamp, xs, ys)`` under the penalty
        ``rho``, when it improves: the prices kept while neither sector changes, the
        others priced all together (:mod:`geo.sectorize.median_prices`)."""
        prices: list[np.ndarray | None] = []
        sides: list[Side] = []
        for a, b, stamp, xs, ys in pending:
            kept = self._swap_prices.get((a, b))
            prices.append(kept[2] if kept is not None and kept[:2] == stamp else None)
            if prices[-1] is None:
                sides += [(a, xs, ys, False), (b, ys, xs, True)]
        got = iter(self._side_costs(sides))
        for p, (a, b, stamp, xs, ys) in enumerate(pending):
            if prices[p] is None:
                mine = (next(got) + next(got)).reshape(len(xs), len(ys))
                prices[p] = mine - self.cur[a] - self.cur[b]
                self._swap_prices[(a, b)] = (*stamp, prices[p])  # type: ignore[assignment]
            self.work += prices[p].size  # type: ignore[union-attr]
        sa, sb = np.array([e[0] for e in pending]), np.array([e[1] for e in pending])
        args = (sa, sb, self.load, self.aw, self.lo, self.hi, rho, _EPS)
        priced = [price for price in prices if price is not None]  # every pair by now
        found = penalised(priced, [e[3] for e in pending], [e[4] for e in pending], *args)
        for p, price, x, y in found:
            self._swaps[pending[p][:2]] = (*pending[p][2], rho, (price, x, y))
        return [(price, x, y) for _, price, x, y in found]

    def _side_costs(self, sides: list[Side]) -> list[np.ndarray]:
        """Each side's pair costs, flat (as ``median_prices.pair_costs``): sectors of
        :data:`BATCH_UNITS` units or more pair by pair (pruned, exact), the others together."""
        big = [len(self._unit_list(side[0])) >= BATCH_UNITS for side in sides]
        small = [side for side, large in zip(sides, big, strict=True) if not large]
        batch = iter(pair_costs(self.M, self.col, self.of, self._unit_list, small) if small else ())
        costs = []
        for (s, leaving, joining, flip), large in zip(sides, big, strict=True):
            cost = self._pair_cost(s, leaving, joining) if large else None
            costs.append(next(batch) if cost is None else (cost.T if flip else cost).ravel())
        return costs

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
        self._touch(a)
        self._touch(b)
        self.cur[a] = self._sector_cost(a)
        self.cur[b] = self._sector_cost(b)

    def _pair_cost(self, s: int, out: np.ndarray, into: np.ndarray) -> np.ndarray:
        """Cost of sector ``s`` when ``out[i]`` leaves it and ``into[j]`` joins it, its
        centre kept among its own units (an upper bound, exact unless the centre would
        move into the joining atom); large sectors pruned first (exact, ``pair_cost``)."""
        units = self._unit_list(s)
        probe = PROBE if len(units) >= PRUNE_UNITS else 0
        return pair_cost(self.M, self.col[s, units], units, self.of[units], out, into, probe)

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
        self._touch(a)
        self._touch(b)
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
