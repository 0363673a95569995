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

from collections.abc import Callable

import numpy as np

from geo.sectorize.atoms import Atoms, pieces
from geo.sectorize.median_prices import Side, pair_cost, penalised, shift_prices, side_costs
from geo.sectorize.median_prices import gaps as _gaps
from geo.sectorize.median_state import MAX_CELLS, MedianState, _gap
from geo.sectorize.transport import Transport

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
#: A side of a swap pair with at least this many cells (leaving atoms by joining atoms by
#: the sector's units) is priced alone, its units pruned (fewer cells); the others all
#: together (fewer numpy calls). Belfort res 9.
SIDE_CELLS = 10_000
#: Allocations of one location-allocation start (each followed by a location).
LA_ITER = 3

#: A pair of sectors whose swaps are priced in the band: ``(a, b, stamp, xs, ys, band,
#: prices)``, ``prices`` None where not kept from an earlier round.
Banded = tuple[int, int, tuple[int, int], np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


def fits(atoms: Atoms, units: int) -> bool:
    """Is the territory small enough for the exact cost matrix?"""
    return atoms.n * units <= MAX_CELLS and units * units <= 4 * MAX_CELLS


class MedianSearch(MedianState):
    """The local search of plans on ``atoms`` against their exact p-median cost
    (:class:`~geo.sectorize.median_state.MedianState`).

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
        super().__init__(atoms, unit_xy, unit_weight, k, lo, hi, fixed)
        self.rebalance = rebalance
        self.transport = Transport(self.aw, k, lo, hi, self.fixed)

    def descend(self, sector: np.ndarray, rounds: int = 400) -> np.ndarray:
        """The local optimum reached from ``sector`` by improving shifts and swaps."""
        self._load_state(np.asarray(sector, dtype=int))
        for _ in range(rounds):
            if not self._shift_round() and not self._swap_round():
                break
        return self.sector.copy()

    # location-allocation ------------------------------------------------------------

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
        # the atoms whose out-price is not kept, once each (xs is sorted)
        once = np.ones(len(xs), dtype=bool)
        once[1:] = xs[1:] != xs[:-1]
        out = xs[once & ~self._out_ok[xs]]
        need = ~self._in_ok[bs, xs]
        into, into_s = xs[need], bs[need]
        if len(out) or len(into):
            args = (self.of, self.cur, self._unit_list, out, sec[out], into, into_s)
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
        in_band: list[Banded] = []
        load = self.load.tolist()
        for code in pairs.tolist():
            a, b = divmod(code, k)
            if a > b:
                continue
            stamp = (self._version[a], self._version[b])
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
            kept = self._swap_prices.get((a, b))
            prices = kept[2][rows][:, cols] if kept is not None and kept[:2] == stamp else None
            in_band.append((a, b, stamp, xs[rows], ys[cols], band[rows][:, cols], prices))
        if in_band:
            found.extend(self._banded_swaps(in_band))
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

    def _banded_swaps(self, pairs: list[Banded]) -> list[tuple[float, int, int]]:
        """The best swap in the band of each pair ``(a, b, stamp, xs, ys, band, prices)``
        (``prices`` None: not kept), when it improves: the prices not kept computed all
        together (:meth:`_side_costs`)."""
        sides: list[Side] = []
        for a, b, _, xs, ys, _, prices in pairs:
            if prices is None:
                sides += [(a, xs, ys, False), (b, ys, xs, True)]
        got = iter(self._side_costs(sides))
        found = []
        for a, b, stamp, xs, ys, band, prices in pairs:
            if prices is None:
                prices = (next(got) + next(got)).reshape(len(xs), len(ys))
                prices = prices - self.cur[a] - self.cur[b]
            self.work += prices.size
            delta = prices.copy()
            delta[~band] = np.inf
            i, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
            if delta[i, j] < -_EPS:
                best = (float(delta[i, j]), int(xs[i]), int(ys[j]))
                self._swaps[(a, b)] = (*stamp, None, best)
                found.append(best)
        return found

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
        """Each side's pair costs, flat (as ``median_prices.side_costs``): sides of
        :data:`SIDE_CELLS` cells or more one by one (pruned, exact), the others together."""
        big = [
            len(leaving) * len(joining) * len(self._unit_list(s)) >= SIDE_CELLS
            for s, leaving, joining, _ in sides
        ]
        small = [side for side, large in zip(sides, big, strict=True) if not large]
        batch = iter(side_costs(self.M, self.col, self.of, self._unit_list, small))
        costs = []
        for (s, leaving, joining, flip), large in zip(sides, big, strict=True):
            cost = self._pair_cost(s, leaving, joining) if large else None
            costs.append(next(batch) if cost is None else (cost.T if flip else cost).ravel())
        return costs

    def _pair_cost(self, s: int, out: np.ndarray, into: np.ndarray) -> np.ndarray:
        """Cost of sector ``s`` when ``out[i]`` leaves it and ``into[j]`` joins it, its
        centre kept among its own units (an upper bound, exact unless the centre would
        move into the joining atom); large sectors pruned first (exact, ``pair_cost``)."""
        units = self._unit_list(s)
        probe = PROBE if len(units) >= PRUNE_UNITS else 0
        return pair_cost(self.M, self.col[s, units], units, self.of[units], out, into, probe)
