"""A Dantzig-Wolfe bound on the p-median with balance, by column generation.

The compact model of :mod:`geo.sectorize.exact` (and the Lagrangian bound of
:mod:`geo.sectorize.bound`) relaxes each centre's balance into a *continuous* knapsack:
an atom may join a sector in part. The **set-partitioning master** (Dantzig & Wolfe 1960;
for districting, Mehrotra, Johnson & Nemhauser 1998) takes whole sectors instead: a column
is a centre ``c`` and a set ``S`` of atoms holding ``c``'s own atom whose workload lies in
the band, of cost ``Σ_{a ∈ S} cost[a, c]``; every atom is covered once and ``k`` columns
are chosen. Its linear relaxation equals the Lagrangian dual with the assignment
constraints relaxed and each centre's knapsack kept *integer*: at least as strong as the
compact relaxation, and stronger when the knapsacks bind (on Belfort res 8, k = 8, whose
whole communes make a lumpy knapsack: 721.7 m against the continuous 666.8 m, optimum
754.8 m; ``bench/RESULTS.md``, bound25). Contiguity and the fixed sectors are dropped:
the bound is a relaxation of every plan that meets the balance.

**Column generation.** The restricted master (HiGHS, a linear program) starts from the
columns of a plan when one is given, and from artificial columns; its duals ``π`` (the
atoms) and ``μ`` (the count of sectors) price each centre by an integer knapsack with a
lower and an upper capacity, ``min Σ_{a ∈ S} (cost[a, c] - π_a)``, solved by dynamic
programming over the workloads on a grid of :data:`GRID_STATES` steps of ``hi``. Rounding
each atom's workload to the grid moves a sector's workload by at most the sum of its
atoms' rounding errors, so the band is widened by the largest such sum: every balanced
sector stays feasible (the pricing is a relaxation, its sets may be slightly out of the
band, and the master over them a relaxation too). Only the centres whose continuous
knapsack (a lower bound, :func:`geo.sectorize.bound._subproblem`) could price below the
others are priced exactly. The duals are smoothed towards the best ones found (Wentges
1997).

**Bound.** At any ``π`` (Lagrangian or Farley bound), every plan costs at least
``Σ_a π_a + Σ`` of the ``k`` smallest ``rho`` over the atoms, where ``rho`` of an atom is
the least knapsack value of a centre in it (two centres of one atom cannot both head a
sector: each sector holds its centre's atom). So the bound is valid at every iteration and
the search stops at its CPU budget, when the master's value meets it, or when it reaches
``upper``.

References
----------
* Dantzig, G. B., Wolfe, P. (1960). Decomposition principle for linear programs.
  *Operations Research* 8(1), 101-111.
* Mehrotra, A., Johnson, E. L., Nemhauser, G. L. (1998). An optimization based heuristic
  for political districting. *Management Science* 44(8), 1100-1114.
* Farley, A. A. (1990). A note on bounding a class of linear programming problems,
  including cutting stock problems. *Operations Research* 38(5), 922-923.
* Wentges, P. (1997). Weighted Dantzig-Wolfe decomposition for linear mixed-integer
  programming. *International Transactions in Operational Research* 4(2), 151-162.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np

from geo.sectorize.bound import Instance, _subproblem, lagrangian_bound

#: The knapsack's workload grid: ``hi`` in this many steps.
GRID_STATES = 4000
#: Centres priced exactly at once (one dynamic programme over all of them).
BATCH = 32
#: The most columns added to the master per iteration.
COLUMNS_PER_ROUND = 60
#: Smoothing of the duals towards the best ones (0: the master's own duals).
SMOOTHING = 0.5
#: The master's value within this share of the bound: converged.
CONVERGED = 1e-4


@dataclass(frozen=True)
class ColumnBound:
    """The best bound found (metres; ``inf`` when no ``k`` centres can head a balanced
    sector), its multipliers, and how it was found."""

    lower: float
    u: np.ndarray
    master: float
    iterations: int
    columns: int
    seconds: float


class Knapsacks:
    """Every centre's integer knapsack with a lower and an upper capacity, on a grid of
    workloads (module docstring)."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        w = inst.atoms.weight.astype(float)
        step = inst.hi / GRID_STATES if inst.hi > 0 else 1.0
        self.steps = np.rint(w / step).astype(int)
        error = np.abs(w / step - self.steps)
        # a sector holds at most the number of lightest atoms that fit under hi
        most = int(np.searchsorted(np.cumsum(np.sort(w)), inst.hi * (1 + 1e-9), side="right"))
        slack = float(np.sort(error)[::-1][: max(most, 1)].sum()) + 1e-6
        self.first = max(0, math.ceil(inst.lo / step - slack))
        self.last = max(0, math.floor(inst.hi / step + slack))

    def values(self, r: np.ndarray, centres: np.ndarray) -> np.ndarray:
        """The knapsack's least value for each of ``centres`` (``r``: the reduced costs,
        units x atoms, ``inf`` where a pair is not allowed; ``inf`` when no set fits)."""
        home = self.inst.home[centres]
        n, top = len(centres), self.last
        rows = np.arange(n)
        table = np.full((n, top + 1), np.inf)
        start, value = self.steps[home].copy(), r[centres, home].copy()
        items = r[centres].copy()
        items[rows, home] = np.inf
        fits = (start <= top) & np.isfinite(value)
        table[rows[fits], start[fits]] = value[fits]
        for a in range(self.inst.atoms.n):
            live = np.flatnonzero(np.isfinite(items[:, a]))
            if not len(live):
                continue
            gain = items[live, a]
            wa = int(self.steps[a])
            if wa == 0:
                table[live] += np.minimum(gain, 0.0)[:, None]
            elif wa <= top:
                sub = table[live]
                np.minimum(sub[:, wa:], sub[:, : top + 1 - wa] + gain[:, None], out=sub[:, wa:])
                table[live] = sub
        return table[:, self.first :].min(axis=1)

    def best_set(self, r_c: np.ndarray, centre: int) -> list[int]:
        """The atoms of ``centre``'s best knapsack at the reduced costs ``r_c`` (its row of
        :meth:`values`'s ``r``), its own atom first."""
        home = int(self.inst.home[centre])
        top, n_a = self.last, self.inst.atoms.n
        table = np.full(top + 1, np.inf)
        table[self.steps[home]] = r_c[home]
        taken = np.zeros((n_a, top + 1), dtype=bool)
        for a in range(n_a):
            if a == home or not np.isfinite(r_c[a]):
                continue
            wa = int(self.steps[a])
            if wa == 0:
                if r_c[a] < 0:
                    table = table + r_c[a]
                    taken[a] = True
                continue
            if wa > top:
                continue
            candidate = table[: top + 1 - wa] + r_c[a]
            better = candidate < table[wa:]
            taken[a, wa:] = better
            table[wa:] = np.where(better, candidate, table[wa:])
        state = self.first + int(np.argmin(table[self.first :]))
        chosen = [home]
        for a in range(n_a - 1, -1, -1):
            if taken[a, state]:
                chosen.append(a)
                state -= int(self.steps[a])
        return chosen


class _Master:
    """The restricted master: atoms covered once, ``k`` columns."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        n_a = inst.atoms.n
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        rhs = np.r_[np.ones(n_a), float(inst.k)]
        empty = np.array([], dtype=np.int32)
        self.h.addRows(
            n_a + 1, rhs, rhs.copy(), 0, np.zeros(n_a + 1, dtype=np.int32), empty, np.array([])
        )
        # artificial columns, so that the master is feasible from the start
        big = float(10 * inst.cost.max(initial=1.0) * max(n_a, 1))
        for row, sign in [(a, 1.0) for a in range(n_a)] + [(n_a, 1.0), (n_a, -1.0)]:
            self.h.addCol(
                big, 0.0, highspy.kHighsInf, 1, np.array([row], dtype=np.int32), np.array([sign])
            )
        self.seen: set[tuple[int, tuple[int, ...]]] = set()

    def add(self, centre: int, atoms: list[int]) -> bool:
        key = (centre, tuple(sorted(atoms)))
        if key in self.seen:
            return False
        self.seen.add(key)
        rows = np.r_[np.array(key[1], dtype=np.int32), self.inst.atoms.n].astype(np.int32)
        cost = float(self.inst.cost[list(key[1]), centre].sum())
        self.h.addCol(cost, 0.0, highspy.kHighsInf, len(rows), rows, np.ones(len(rows)))
        return True

    def solve(self) -> tuple[float, np.ndarray, float]:
        """The master's value, the atoms' duals and the count's dual."""
        self.h.run()
        dual = np.asarray(self.h.getSolution().row_dual)
        n_a = self.inst.atoms.n
        return float(self.h.getInfo().objective_function_value), dual[:n_a], float(dual[n_a])


def lagrangian_value(inst: Instance, u: np.ndarray, rho: np.ndarray) -> float:
    """``Σ u + Σ`` of the ``k`` smallest of the atoms' least ``rho`` (module docstring);
    ``inf`` when fewer than ``k`` atoms hold a centre with a finite ``rho``."""
    per_atom = np.full(inst.atoms.n, np.inf)
    np.minimum.at(per_atom, inst.home, rho)
    smallest = np.sort(per_atom)[: inst.k]
    if not np.isfinite(smallest).all():
        return math.inf
    return float(u.sum() + smallest.sum())


def column_bound(
    inst: Instance,
    *,
    plan: np.ndarray | None = None,
    u: np.ndarray | None = None,
    upper: float | None = None,
    budget_s: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    max_iterations: int = 500,
) -> ColumnBound:
    """The Dantzig-Wolfe bound of ``inst`` (module docstring) within ``budget_s`` seconds
    of ``clock``: ``plan`` (each atom's sector) gives the master its first columns, ``u``
    the first multipliers (the continuous Lagrangian's when None), ``upper`` a plan's
    value at which to stop. Valid for every plan of ``inst`` that meets the balance and
    uses only its ``allowed`` pairs."""
    started = clock()
    if u is None:
        u = lagrangian_bound(inst, upper=upper, budget_s=0.25 * budget_s, clock=clock).u
    knap = Knapsacks(inst)
    master = _Master(inst)
    allowed = inst.allowed.T if inst.allowed is not None else None
    if plan is not None:
        for s in np.unique(plan):
            atoms = np.flatnonzero(plan == s).tolist()
            weight = float(inst.atoms.weight[atoms].sum())
            if inst.lo * (1 - 1e-9) <= weight <= inst.hi * (1 + 1e-9):
                for c in np.flatnonzero(np.isin(inst.home, atoms)):
                    if allowed is None or allowed[c, atoms].all():
                        master.add(int(c), atoms)
    best, best_u = -math.inf, u.copy()
    separate, mu, value = u.copy(), math.inf, math.inf

    def out_of_time() -> bool:
        return clock() - started > budget_s

    _heading_in(inst, knap, master, u, allowed, out_of_time)
    smoothing = SMOOTHING
    it = 0
    for it in range(1, max_iterations + 1):
        r = inst.cost_t - separate[None, :]
        if allowed is not None:
            r = np.where(allowed, r, np.inf)
        rho, _ = _subproblem(inst, separate)  # continuous: a lower bound of each knapsack
        rho = rho.copy()
        added = _price(inst, knap, master, r, rho, mu, out_of_time)
        bound = lagrangian_value(inst, separate, rho)
        if bound == math.inf:
            return ColumnBound(
                math.inf, separate, math.inf, it, len(master.seen), clock() - started
            )
        if bound > best:
            best, best_u = bound, separate.copy()
        value, pi, mu = master.solve()
        done = value - best <= CONVERGED * max(abs(value), 1.0)
        if (upper is not None and best >= upper * (1 - CONVERGED)) or out_of_time():
            break
        if not added and not done and smoothing > 0:
            smoothing = 0.0  # a mispricing: price at the master's own duals
        elif done or not added:
            break
        separate = smoothing * best_u + (1 - smoothing) * pi
    return ColumnBound(best, best_u, value, it, len(master.seen), clock() - started)


def _heading_in(
    inst: Instance,
    knap: Knapsacks,
    master: _Master,
    u: np.ndarray,
    allowed: np.ndarray | None,
    out_of_time: Callable[[], bool],
) -> None:
    """Every centre's best knapsack at the first multipliers, as the master's first
    columns (fewer degenerate iterations at the start), until the budget is spent (on
    661 units, the Belfort CSP at res 9 with communes split, every centre's knapsack
    alone took longer than a proposal's whole budget)."""
    r = inst.cost_t - u[None, :]
    if allowed is not None:
        r = np.where(allowed, r, np.inf)
    for start in range(0, inst.graph.n, 4 * BATCH):
        if out_of_time():
            return
        batch = np.arange(start, min(start + 4 * BATCH, inst.graph.n))
        values = knap.values(r, batch)
        for c in batch[np.isfinite(values)]:
            master.add(int(c), knap.best_set(r[c], int(c)))


def _price(
    inst: Instance,
    knap: Knapsacks,
    master: _Master,
    r: np.ndarray,
    rho: np.ndarray,
    mu: float,
    out_of_time: Callable[[], bool],
) -> int:
    """Price the centres in the order of their continuous knapsacks ``rho`` (lower bounds,
    raised in place to the integer values found) until the ``k`` smallest and the
    columns of negative reduced cost (``rho - mu < 0``) are known, or the budget is spent
    (the centres not priced keep their continuous bound: the bound stays valid); add
    those columns to the master (at most :data:`COLUMNS_PER_ROUND`); how many were new."""
    order = np.argsort(rho)
    order = order[np.isfinite(rho[order])]
    priced: list[int] = []
    for start in range(0, len(order), BATCH):
        batch = order[start : start + BATCH]
        rho[batch] = np.maximum(rho[batch], knap.values(r, batch))
        priced += batch.tolist()
        following = rho[order[start + BATCH]] if start + BATCH < len(order) else math.inf
        per_atom = np.full(inst.atoms.n, np.inf)
        np.minimum.at(per_atom, inst.home, rho)
        kth = float(np.sort(per_atom)[inst.k - 1])
        columns = np.sort(rho[priced])
        enough = len(columns) >= COLUMNS_PER_ROUND and columns[COLUMNS_PER_ROUND - 1] <= following
        if (kth <= following and (following >= mu or enough)) or out_of_time():
            break
    candidates = np.array(priced, dtype=int)
    candidates = candidates[rho[candidates] - mu < -1e-9 * max(abs(mu), 1.0)]
    candidates = candidates[np.argsort(rho[candidates])][:COLUMNS_PER_ROUND]
    return sum(master.add(int(c), knap.best_set(r[c], int(c))) for c in candidates)
