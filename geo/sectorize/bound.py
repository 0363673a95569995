"""The p-median instance of a sector design, and a Lagrangian lower bound on its optimum.

:class:`Instance` is what both the exact model (:mod:`geo.sectorize.exact`) and the bound
work on: the design's *atoms* (:func:`geo.sectorize.atoms.build_atoms`: whole small
communes, QPV, small islands), the candidate centres (every unit), the balance band
``[lo, hi]`` around the mean workload, the sectors that fixed seeds and locked units impose,
and ``cost[a, c] = Σ_{i ∈ a} w_i · d(i, c) / Σ w``: atom ``a``'s share of the objective of
:func:`geo.pmedian.pmedian_distance` when it is served from unit ``c`` (metres).

**The bound.** Relax the assignment constraints ``Σ_c x[a, c] = 1`` with multipliers
``u_a`` (Lagrangian relaxation of the p-median, Cornuéjols, Fisher & Nemhauser 1977;
Beasley 1993), keep the balance ``lo·y_c ≤ Σ_a W_a x[a, c] ≤ hi·y_c`` and the centre's
own atom ``x[atom(c), c] = y_c``, drop contiguity and the fixed sectors. For fixed ``u``
the problem splits by centre: ``rho_c`` is a continuous knapsack with a lower and an upper
capacity (items taken in the order of ``(cost - u_a) / W_a``), and

    L(u) = Σ_a u_a + (sum of the k smallest rho_c)

is a lower bound on every plan's objective that meets the balance, so on the optimum of
the exact model too. ``u`` is improved by subgradient steps (Polyak's step towards the
heuristic plan's value) within a time budget; the best ``L(u)`` found is kept. Its limit
is the bound of the linear relaxation (the subproblem is a linear program), at a fraction
of its cost: one sort of the ``atoms x units`` matrix per step.

A proposal's bound (:mod:`geo.sectorize.proposal_bound`) starts from it and strengthens it
by column generation (:mod:`geo.sectorize.dantzig_wolfe`).

References
----------
* Cornuéjols, G., Fisher, M. L., Nemhauser, G. L. (1977). Location of bank accounts to
  optimize float. *Management Science* 23(8), 789-810.
* Beasley, J. E. (1993). Lagrangean heuristics for location problems. *European Journal
  of Operational Research* 65(3), 383-399.
* Held, M., Wolfe, P., Crowder, H. P. (1974). Validation of subgradient optimization.
  *Mathematical Programming* 6, 62-88.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.sparse import csr_matrix

from geo.errors import InvalidInputError
from geo.pmedian import pmedian_distance
from geo.sectorize.atoms import Atoms
from geo.sectorize.growth import DEFAULT_TOLERANCE, DEFAULT_WHOLE_COMMUNE_POPULATION, RegionGrowth
from geo.unit_graph import UnitGraph

#: The largest grid the exact mode takes: its model has atoms x units variables and its
#: instance a units x units distance matrix (Belfort at resolution 9 has 661 units).
MAX_EXACT_UNITS = 1000
#: Above this many atoms x units a proposal's bound is not computed (one subgradient step
#: sorts that matrix; at 661 units, Belfort at resolution 9, a step takes about 40 ms).
MAX_BOUND_CELLS = 1_000_000
DEFAULT_BOUND_BUDGET_S = 2.0


@dataclass(frozen=True, eq=False)
class Instance:
    """A design as a p-median (see the module docstring)."""

    graph: UnitGraph
    atoms: Atoms
    k: int
    lo: float
    hi: float
    tolerance: float
    cost: np.ndarray
    fixed: np.ndarray
    seed_units: np.ndarray
    #: The assignments a plan may use (atoms x units), None for all of them: the pairs
    #: that :mod:`geo.sectorize.fixing` proves useless are left out of the subproblem.
    allowed: np.ndarray | None = None

    @property
    def home(self) -> np.ndarray:
        """The atom of each unit (candidate centre)."""
        return self.atoms.of

    @cached_property
    def cost_t(self) -> np.ndarray:
        """``cost`` centre-major (contiguous rows: one centre's atoms)."""
        return np.ascontiguousarray(self.cost.T)

    def reduced_t(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``cost - u`` centre-major and the atoms' workloads per centre, both 0 on the
        pairs not allowed (so that no subproblem takes them)."""
        r = self.cost_t - u[None, :]
        w = np.broadcast_to(self.atoms.weight.astype(float), r.shape)
        if self.allowed is None:
            return r, w
        ok = self.allowed.T
        return np.where(ok, r, 0.0), np.where(ok, w, 0.0)

    def objective(self, atom_sector: np.ndarray) -> float:
        """The p-median distance of a plan given by each atom's sector (metres)."""
        g = self.graph
        return pmedian_distance(g.centroids, g.workload, atom_sector[self.atoms.of], self.k)


def build_instance(
    graph: UnitGraph,
    k: int | None,
    *,
    target_workload: float | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    whole_commune_population: float = DEFAULT_WHOLE_COMMUNE_POPULATION,
    commune_population: Mapping[str, float] | None = None,
    seeds: Sequence[str] = (),
    locked: Mapping[str, int] | None = None,
) -> Instance:
    """The instance of a design, on the engine's atoms; raises
    :class:`~geo.errors.InfeasibleDesignError` when the engine would
    (:meth:`~geo.sectorize.RegionGrowth.feasible_atoms`: an atom alone heavier than the
    band, fewer atoms than sectors) or the fixed sectors cannot be honoured."""
    rules = RegionGrowth(
        k,
        target_workload=target_workload,
        tolerance=tolerance,
        whole_commune_population=whole_commune_population,
        commune_population=commune_population,
        seeds=seeds,
        locked=locked,
    )
    k, mean, _, atoms = rules.feasible_atoms(graph)
    lo, hi = mean * (1 - tolerance), mean * (1 + tolerance)
    fixed, seed_units = rules._fixed(graph, atoms, k)
    w = graph.workload if graph.workload.sum() > 0 else np.ones(graph.n)
    xy = graph.centroids
    incidence = csr_matrix((w, (atoms.of, np.arange(graph.n))), shape=(atoms.n, graph.n))
    d = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    cost = np.asarray(incidence @ d) / float(w.sum())
    return Instance(
        graph=graph,
        atoms=atoms,
        k=k,
        lo=lo,
        hi=hi,
        tolerance=tolerance,
        cost=cost,
        fixed=fixed,
        seed_units=seed_units,
    )


@dataclass(frozen=True)
class Lagrangian:
    """The best bound found (metres, ``-inf`` when none), its multipliers and the
    centres' values ``rho`` at them (``inf``: the centre cannot head a balanced sector)."""

    lower: float
    u: np.ndarray
    rho: np.ndarray
    iterations: int
    seconds: float

    def centre_bounds(self, k: int) -> np.ndarray:
        """For each candidate centre, a lower bound on every plan that opens it: the best
        bound with ``c`` swapped for the k-th smallest ``rho`` when ``c`` is not among them."""
        order = np.sort(self.rho)
        kth = order[k - 1]
        return self.lower + np.maximum(self.rho - kth, 0.0)


def _subproblem(inst: Instance, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rho_c`` for every centre and the knapsacks' solutions ``x[c, a]`` (centre-major).

    Each centre's items are sorted by ``(cost - u_a) / W_a``; its own atom comes first
    (forced), workload-free atoms that pay come with it; the sorted prefix is taken up to
    the workload ``clip(weight of the paying atoms, lo, hi)``, the last item in part."""
    r, wm = inst.reduced_t(u)
    n_u = r.shape[0]
    rows = np.arange(n_u)
    home = inst.home
    w = inst.atoms.weight
    with np.errstate(divide="ignore", invalid="ignore"):
        key = r / wm
    key[np.isnan(key)] = np.inf  # workload-free atoms that do not pay: last, not taken
    if inst.allowed is not None:
        key[~inst.allowed.T] = np.inf  # pairs left out: last, never taken (no weight)
    key[rows, home] = -np.inf  # the centre's own atom: first, always taken
    order = np.argsort(key, axis=1)
    ws = np.take_along_axis(wm, order, axis=1)
    rs = np.take_along_axis(r, order, axis=1)
    s = np.cumsum(ws, axis=1)
    paying = ((r < 0) * wm).sum(axis=1) + w[home] * (r[rows, home] >= 0)
    target = np.clip(paying, inst.lo, inst.hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(ws > 0, np.clip((target[:, None] - (s - ws)) / ws, 0.0, 1.0), rs < 0)
    frac[rows, np.argmax(order == home[:, None], axis=1)] = 1.0
    rho = (frac * rs).sum(axis=1)
    rho[(w[home] > inst.hi * (1 + 1e-12)) | (s[:, -1] < inst.lo * (1 - 1e-12))] = np.inf
    x = np.zeros_like(frac)
    np.put_along_axis(x, order, frac, axis=1)
    return rho, x


def lagrangian_bound(
    inst: Instance,
    *,
    upper: float | None = None,
    budget_s: float = DEFAULT_BOUND_BUDGET_S,
    max_iterations: int = 400,
    clock: Callable[[], float] = time.monotonic,
) -> Lagrangian:
    """The best Lagrangian bound found within ``budget_s`` seconds of ``clock`` (see the
    module docstring; ``time.process_time``: seconds of CPU, so that the number of
    iterations does not depend on the machine's load); ``upper``, a feasible plan's
    objective, sets Polyak's step and stops the search once the bound is within 0.01 % of
    it."""
    started = clock()
    n_u = inst.cost.shape[1]
    k = inst.k
    # Start: each atom's distance to its (n/k)-th nearest centre, a typical sector's reach.
    reach = min(n_u - 1, max(1, n_u // k))
    u = np.partition(inst.cost, reach, axis=1)[:, reach].copy()
    best = -math.inf
    best_u, best_rho = u.copy(), np.full(n_u, np.inf)
    step, stall, it = 2.0, 0, 0
    for it in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        rho, x = _subproblem(inst, u)
        finite = np.isfinite(rho)
        if finite.sum() < k:
            best, best_rho = math.inf, rho  # no k centres can hold a balanced sector
            break
        chosen = np.argpartition(np.where(finite, rho, np.inf), k - 1)[:k]
        value = float(u.sum() + rho[chosen].sum())
        if value > best + 1e-12:
            best, best_u, best_rho, stall = value, u.copy(), rho, 0
        else:
            stall += 1
            if stall >= 15:
                step, stall = step / 2, 0
        g = 1.0 - x[chosen].sum(axis=0)
        norm = float(g @ g)
        target = upper if upper is not None else max(value, 0.0) * 1.05 + 1e-9
        if norm < 1e-12 or step < 1e-4:
            break
        if upper is not None and best >= upper * (1 - 1e-4):
            break
        u = u + step * max(target - value, 1e-9 * max(target, 1.0)) / norm * g
        if clock() - started > budget_s:
            break
    return Lagrangian(lower=best, u=best_u, rho=best_rho, iterations=it, seconds=clock() - started)


def check_exact_size(units: int) -> None:
    """Refuse a grid too large for the exact mode, naming ``method``."""
    if units > MAX_EXACT_UNITS:
        raise InvalidInputError(
            "exact_too_many_units", field="method", limit=MAX_EXACT_UNITS, units=units
        )
