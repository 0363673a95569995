"""A large-neighbourhood search on the exact mode's best plan: neighbouring sectors
re-partitioned exactly, before the proof starts.

The exact mode (:mod:`geo.sectorize.exact`) fixes its assignments against the best plan
known (:mod:`geo.sectorize.fixing`: a pair is left out when the Lagrangian bound with it
exceeds that plan's value) and HiGHS prunes its tree with it, so a better plan from the
start makes a smaller model and a shorter proof; and the proven gap is measured from it.
:func:`improve` takes the warm start's plan and, for each set of ``t`` sectors connected
in the plan's sector adjacency (``t`` in :data:`SIZES`), solves the p-median of their
atoms exactly: the Hess model of :func:`~geo.sectorize.hess.hess_model` on the sub-instance
of those atoms (every unit of them a candidate median, the band of the whole instance, the
ring separators), with HiGHS's ``objective_bound`` at the sectors' present cost, and the
separators of a solution in pieces (:func:`~geo.sectorize.separation.integral_separators`)
added until the solution is of one piece (Validi, Buchanan & Lykhovyd 2022). A cheaper
re-partition replaces the sectors and the search starts again, until no neighbourhood
improves the plan or the budget (CPU seconds: the same search under any load) is spent.

This is the large-neighbourhood search of Shaw (1998), with the neighbourhood of the
districting LNS of neighbouring districts re-optimised together (as in the heuristic's
:mod:`geo.sectorize.regroup`, which keeps one candidate median per atom; here every unit
is a candidate, so a neighbourhood's optimum is its true p-median optimum). A sub-model
depends only on its atoms and ``t``: the value it proves is kept for the whole search, and
a neighbourhood whose atoms have not changed is not solved again.

References
----------
* Shaw, P. (1998). Using constraint programming and local search methods to solve vehicle
  routing problems. *CP 1998*, LNCS 1520, 417-431.
* Validi, H., Buchanan, A., Lykhovyd, E. (2022). Imposing contiguity constraints in
  political districting models. *Operations Research* 70(2), 867-892.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import highspy
import numpy as np

from geo.sectorize.atoms import Atoms
from geo.sectorize.bound import Instance
from geo.sectorize.cuts import add_cuts
from geo.sectorize.hess import contiguous, hess_model
from geo.sectorize.separation import integral_separators

log = logging.getLogger(__name__)

#: Sectors re-partitioned together: pairs first, then triples.
SIZES = (2, 3)
#: The most atoms in one neighbourhood's model.
MAX_ATOMS = 30
#: Branch-and-bound nodes of one solve before the neighbourhood is given up.
MAX_NODES = 2000
#: Contiguity rounds of one neighbourhood before it is given up.
MAX_ROUNDS = 20
#: A re-partition must be cheaper than the present sectors by this much (metres): a
#: tolerance that does not move with the plan's value, so a proof stays a proof.
_TOL = 1e-6
_STATUS = highspy.HighsModelStatus


@dataclass
class Search:
    """What the search proved and did: a lower bound on every re-partition of each
    neighbourhood (keyed by its atoms and ``t``), the models solved and the plans
    improved."""

    proven: dict[tuple[tuple[int, ...], int], float] = field(default_factory=dict)
    models: int = 0
    improved: int = 0


def sector_costs(inst: Instance, atom_sector: np.ndarray, k: int) -> np.ndarray:
    """Each sector's share of the objective: its atoms' cost to its best median unit
    within the sector (the p-median of :func:`geo.pmedian.median_centres`, in metres of
    the mean distance)."""
    costs = np.zeros(k)
    unit_sector = atom_sector[inst.atoms.of]
    for s in range(k):
        units = np.flatnonzero(unit_sector == s)
        costs[s] = float(inst.cost[atom_sector == s][:, units].sum(axis=0).min())
    return costs


def neighbourhoods(inst: Instance, atom_sector: np.ndarray, t: int) -> list[tuple[int, ...]]:
    """Every set of ``t`` sectors connected in the plan's sector adjacency, sorted.

    >>> from types import SimpleNamespace
    >>> atoms = SimpleNamespace(adj=[[1], [0, 2], [1, 3], [2]])
    >>> inst = SimpleNamespace(atoms=atoms, k=4)
    >>> neighbourhoods(inst, np.array([0, 1, 2, 3]), 2)
    [(0, 1), (1, 2), (2, 3)]
    >>> neighbourhoods(inst, np.array([0, 1, 2, 3]), 3)
    [(0, 1, 2), (1, 2, 3)]
    """
    near: dict[int, set[int]] = {s: set() for s in range(inst.k)}
    for a, adj in enumerate(inst.atoms.adj):
        for b in adj:
            if atom_sector[a] != atom_sector[b]:
                near[int(atom_sector[a])].add(int(atom_sector[b]))
    frontier: set[tuple[int, ...]] = {(s,) for s in range(inst.k)}
    for _ in range(t - 1):
        frontier = {
            tuple(sorted((*g, b))) for g in frontier for s in g for b in near[s] if b not in g
        }
    return sorted(frontier)


def sub_instance(inst: Instance, members: np.ndarray, t: int) -> tuple[Instance, np.ndarray]:
    """The instance of ``members`` (atoms) in ``t`` sectors, with the band of ``inst``, and
    its units (positions in ``inst.graph``): every unit of the members."""
    units = np.flatnonzero(np.isin(inst.atoms.of, members))
    local = np.full(inst.atoms.n, -1)
    local[members] = np.arange(len(members))
    a = inst.atoms
    adj = [[int(local[b]) for b in a.adj[m] if local[b] >= 0] for m in members.tolist()]
    cost = [
        [c for b, c in zip(a.adj[m], a.cost[m], strict=True) if local[b] >= 0]
        for m in members.tolist()
    ]
    atoms = Atoms(
        of=local[a.of[units]],
        weight=a.weight[members],
        xy=a.xy[members],
        label=[a.label[m] for m in members.tolist()],
        adj=adj,
        cost=cost,
        notes=(),
    )
    sub = replace(
        inst,
        graph=inst.graph.restrict(units),
        atoms=atoms,
        k=t,
        cost=inst.cost[np.ix_(members, units)],
        fixed=np.full(len(members), -1),
        seed_units=np.full(t, -1),
        allowed=None,
    )
    return sub, units


def repartition(
    inst: Instance,
    members: np.ndarray,
    t: int,
    upper: float,
    seconds: float,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray | None, float]:
    """A re-partition of ``members`` into ``t`` sectors of one piece in the band cheaper
    than ``upper`` (each member's sector ``0 … t-1``) or None, and a lower bound on every
    such re-partition (``-inf`` when the search was given up). ``allowed`` (atoms x units)
    leaves pairs out (a unit whose own atom may not go to it is no candidate median)."""
    sub, units = sub_instance(inst, members, t)
    if allowed is None:
        h, var, home = hess_model(sub, np.arange(len(units)))
    else:
        pairs = allowed[np.ix_(members, units)]
        centres = np.flatnonzero(pairs[sub.home, np.arange(len(units))])
        if len(centres) < t:
            return None, upper
        h, var, home = hess_model(sub, centres, pairs[:, centres])
    h.setOptionValue("objective_bound", upper)
    h.setOptionValue("mip_max_nodes", MAX_NODES)
    started = time.monotonic()
    pair_atom, pair_centre = np.nonzero(var >= 0)
    for _ in range(MAX_ROUNDS):
        remaining = seconds - (time.monotonic() - started)
        if remaining <= 0.05:
            break
        h.setOptionValue("time_limit", remaining)
        h.run()
        status = h.getModelStatus()
        if status in (_STATUS.kInfeasible, _STATUS.kObjectiveBound):
            return None, upper  # none in the band, or none cheaper than ``upper``
        if status != _STATUS.kOptimal:
            break
        value = float(h.getInfo().objective_function_value)
        if value >= upper:
            return None, upper
        dense = np.zeros(var.shape)
        dense[pair_atom, pair_centre] = np.asarray(h.getSolution().col_value)[: len(pair_atom)]
        group = np.argmax(dense, axis=1)
        rows, coefs = integral_separators(sub, var, home, group)
        if not rows:
            return np.unique(group, return_inverse=True)[1], value
        add_cuts(h, rows, coefs)
    return None, -np.inf


def improve(
    inst: Instance,
    start: tuple[np.ndarray, float],
    budget_s: float,
    *,
    clock: Callable[[], float] = time.process_time,
    search: Search | None = None,
    allowed: np.ndarray | None = None,
    deadline: float = np.inf,
    going: Callable[[], bool] = lambda: True,
) -> tuple[np.ndarray, float]:
    """``start`` (each atom's sector, its objective) improved by exact re-partitions of
    neighbouring sectors until none improves it or ``budget_s`` seconds of ``clock`` are
    spent (module docstring). The plan stays of one piece, in the band, with the fixed
    atoms where they were (a neighbourhood holding one is not touched). ``allowed`` (atoms x
    units, None: every pair) are the pairs the sub-models may use: those the exact mode's
    fixing kept, which every plan better than its best known uses alone. The search also
    stops at ``deadline`` (``time.monotonic``) or once ``going()`` is False (a cancelled
    job), checked before each sub-model."""
    search = Search() if search is None else search
    plan, value = start[0].copy(), start[1]
    k = int(plan.max()) + 1
    costs = sector_costs(inst, plan, k)
    started = clock()
    while True:
        better = None
        for t in SIZES:
            for group in neighbourhoods(inst, plan, t):
                spent = clock() - started
                wall = deadline - time.monotonic()
                if spent >= budget_s or wall <= 0 or not going():
                    return plan, value
                members = np.flatnonzero(np.isin(plan, group))
                if len(members) > MAX_ATOMS or (inst.fixed[members] >= 0).any():
                    continue
                key = (tuple(members.tolist()), t)
                now = float(costs[list(group)].sum())
                upper = now - _TOL
                if search.proven.get(key, -np.inf) >= upper:
                    continue
                search.models += 1
                seconds = min(budget_s - spent, wall)
                found, bound = repartition(inst, members, t, upper, seconds, allowed)
                search.proven[key] = max(search.proven.get(key, -np.inf), bound)
                if found is not None:
                    better = (members, group, found)
                    break
            if better is not None:
                break
        if better is None:
            return plan, value
        members, group, found = better
        trial = plan.copy()
        trial[members] = np.asarray(group)[found]
        if not contiguous(inst, trial):  # cannot happen: each sector checked
            return plan, value
        plan = trial
        costs = sector_costs(inst, plan, k)
        value = inst.objective(plan)
        search.improved += 1
        log.debug("lns: %.1f m after %d models, %.1f s", value, search.models, clock() - started)
