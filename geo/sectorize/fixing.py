"""Variable fixing for the exact model of :mod:`geo.sectorize.exact`: which assignments
``x[a, c]`` (atom ``a`` served from candidate centre ``c``) no optimal plan can use.

Two valid tests remove an assignment before the model is built:

* **Reach** (the *length-U* argument of Validi, Buchanan & Lykhovyd 2022, §4.1): a sector
  is of one piece, so it holds a path of atoms from ``c``'s own atom to ``a``, and its
  workload is at most ``hi``. When every such path weighs more than ``hi`` (the atoms'
  workloads, both ends included: :func:`path_weights`), ``x[a, c] = 0`` in every plan
  that meets the balance. Removing those pairs, then the atoms no longer joined to
  ``c``'s own atom through allowed pairs, is :func:`reach_mask`.
* **Lagrangian reduced costs** (Beasley 1993, §4): :func:`assignment_bounds` gives, for
  every pair, a lower bound on every plan that serves ``a`` from ``c``; a pair whose bound
  exceeds the best plan known can be dropped, since no better plan uses it (the best plan
  known stays in the model).

The reach test also makes the Lagrangian bound stronger: the bound's subproblem of
centre ``c`` may not take an atom out of its reach (:func:`restricted`).

References
----------
* Validi, H., Buchanan, A., Lykhovyd, E. (2022). Imposing contiguity constraints in
  political districting models. *Operations Research* 70(2), 867-892.
* Beasley, J. E. (1993). Lagrangean heuristics for location problems. *European Journal
  of Operational Research* 65(3), 383-399.
"""

from __future__ import annotations

import math
from dataclasses import replace

import highspy
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra

from geo.sectorize.bound import Instance, Lagrangian, _subproblem


def path_weights(inst: Instance) -> np.ndarray:
    """``P[s, a]``: the least workload of a path of atoms from ``s`` to ``a`` over the atom
    graph, both ends included (``inf`` when ``a`` cannot be reached)."""
    w = inst.atoms.weight.astype(float)
    n = inst.atoms.n
    # Zero-weight steps cost a tiny epsilon so that the sparse graph keeps them as edges;
    # its sum over a path (at most n steps) stays far below the tests' tolerance.
    eps = 1e-12 * max(float(w.sum()), 1.0)
    src = [a for a in range(n) for _ in inst.atoms.adj[a]]
    dst = [b for a in range(n) for b in inst.atoms.adj[a]]
    step = csr_matrix((w[dst] + eps, (src, dst)), shape=(n, n))
    dist = dijkstra(step, directed=True)
    dist = np.asarray(dist) + w[:, None]
    np.fill_diagonal(dist, w)
    return dist


def reach_mask(inst: Instance) -> np.ndarray:
    """``allowed[a, c]`` for every atom and unit: False when no balanced sector of one
    piece can serve atom ``a`` from unit ``c`` (module docstring)."""
    paths = path_weights(inst)
    home = inst.home
    allowed = inst.hi * (1 + 1e-9) >= paths[home].T  # (atoms, units)
    return connected_to_home(inst, allowed, np.arange(inst.graph.n))


def connected_to_home(inst: Instance, allowed: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``allowed`` (atoms x ``centres``) without the atoms that allowed atoms do not join
    to the centre's own atom: a sector of one piece could not reach them. A centre whose
    own atom is not allowed keeps no atom."""
    n = inst.atoms.n
    src = [a for a in range(n) for _ in inst.atoms.adj[a]]
    dst = [b for a in range(n) for b in inst.atoms.adj[a]]
    src_a, dst_a = np.array(src, dtype=int), np.array(dst, dtype=int)
    out = np.zeros_like(allowed)
    for j, c in enumerate(centres):
        home = int(inst.home[c])
        keep = allowed[:, j]
        if not keep[home]:
            continue
        both = keep[src_a] & keep[dst_a]
        sub = csr_matrix((np.ones(int(both.sum())), (src_a[both], dst_a[both])), shape=(n, n))
        reached = breadth_first_order(sub, home, directed=True, return_predecessors=False)
        out[reached, j] = True
    return out


def restricted(inst: Instance, allowed: np.ndarray) -> Instance:
    """The instance whose plans use only the pairs ``allowed`` (atoms x units): the same
    plans, the same objectives, a stronger bound."""
    return replace(inst, allowed=allowed)


def assignment_bounds(inst: Instance, lag: Lagrangian) -> np.ndarray:
    """``B[a, c]``: a lower bound on the objective of every balanced plan that serves atom
    ``a`` from unit ``c`` (``inf`` for a centre that cannot head a balanced sector).

    With ``lag``'s multipliers ``u``, ``L = Σ u + (k smallest rho)``. Opening ``c`` adds
    ``max(rho_c - kth, 0)`` (``c`` replaces the k-th smallest). Forcing ``a`` into ``c``'s
    knapsack costs at least its reduced cost: for any ``λ``, the knapsack's value is at least
    ``λ·cap(λ) + r_home - λ·W_home + Σ_b min(0, r_b - λ·W_b)`` (weak duality, ``cap`` the
    band's end that ``λ``'s sign selects), and forcing ``a`` adds ``max(0, r_a - λ·W_a)``
    to it. ``λ`` is the knapsack's critical ratio or 0, whichever bound is higher."""
    k = inst.k
    u, rho = lag.u, lag.rho
    finite = np.isfinite(rho)
    n_u = inst.cost.shape[1]
    out = np.full((inst.atoms.n, n_u), np.inf)
    if finite.sum() < k:
        return out
    kth = float(np.sort(rho)[k - 1])
    w = inst.atoms.weight.astype(float)
    r, wm = inst.reduced_t(u)  # (units, atoms)
    rows = np.arange(n_u)
    home = inst.home
    with np.errstate(divide="ignore", invalid="ignore"):
        key = r / wm
    key[~np.isfinite(key)] = np.inf
    if inst.allowed is not None:
        key[~inst.allowed.T] = np.inf
    key[rows, home] = -np.inf
    order = np.argsort(key, axis=1)
    s = np.cumsum(np.take_along_axis(wm, order, axis=1), axis=1)
    paying = ((r < 0) * wm).sum(axis=1) + w[home] * (r[rows, home] >= 0)
    target = np.clip(paying, inst.lo, inst.hi)
    critical = np.argmax(s >= target[:, None] * (1 - 1e-12), axis=1)
    lam = np.take_along_axis(key, order, axis=1)[rows, critical]
    lam[~np.isfinite(lam)] = 0.0

    def dual(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reduced = r - lam[:, None] * wm
        cap = np.where(lam >= 0, inst.lo, inst.hi)
        own = reduced[rows, home]
        rest = np.minimum(reduced, 0.0).sum(axis=1) - np.minimum(own, 0.0)
        return lam * cap + own + rest, reduced

    value_crit, reduced_crit = dual(lam)
    value_zero, reduced_zero = dual(np.zeros(n_u))
    use_zero = value_zero > value_crit
    value = np.where(use_zero, value_zero, value_crit)
    reduced = np.where(use_zero[:, None], reduced_zero, reduced_crit)
    forced = value[:, None] + np.maximum(reduced, 0.0)  # (units, atoms)
    forced[rows, home] = value
    forced = np.maximum(forced, rho[:, None])
    with np.errstate(invalid="ignore"):  # centres with rho = inf: set to inf below
        bound = lag.lower + (forced - rho[:, None]) + np.maximum(rho - kth, 0.0)[:, None]
    bound[~finite] = np.inf
    if inst.allowed is not None:
        bound[~inst.allowed.T] = np.inf
    out[:] = bound.T
    return out


def lagrangian_at(inst: Instance, u: np.ndarray) -> Lagrangian:
    """The Lagrangian bound at the multipliers ``u`` (e.g. the duals of the assignment
    rows of the model's linear relaxation): ``Σ u + (k smallest rho)``, ``inf`` when
    fewer than ``k`` centres can head a balanced sector. Valid for every ``u``."""
    rho, _ = _subproblem(inst, u)
    finite = np.isfinite(rho)
    lower = float(u.sum() + np.sort(rho)[: inst.k].sum()) if finite.sum() >= inst.k else np.inf
    return Lagrangian(lower=lower, u=u, rho=rho, iterations=1, seconds=0.0)


def fix_at_duals(
    h: highspy.Highs,
    inst: Instance,
    pairs: tuple[np.ndarray, np.ndarray],
    row_dual: np.ndarray,
    upper: float,
    fixable: np.ndarray,
    incumbent: np.ndarray,
) -> tuple[int, float]:
    """The Lagrangian fixing of :func:`assignment_bounds` again, at the duals of the
    assignment rows of the model's relaxation (its first rows), over the pairs still in the
    model ``h`` (column ``i`` serves atom ``pairs[0][i]`` from unit ``pairs[1][i]``; those
    neither ``fixable`` nor in the ``incumbent`` are fixed already). Fixes to 0 the
    ``fixable`` columns whose bound exceeds ``upper``; returns how many, and the bound."""
    if not math.isfinite(upper):
        return 0, -math.inf
    atom, unit = pairs
    open_pairs = np.zeros((inst.atoms.n, inst.graph.n), dtype=bool)
    live = fixable | incumbent
    open_pairs[atom[live], unit[live]] = True
    model = restricted(inst, open_pairs)
    lag = lagrangian_at(model, row_dual[: inst.atoms.n])
    bounds = assignment_bounds(model, lag)[atom, unit]
    fix = fixable & (bounds > upper * (1 + 1e-7) + 1e-9)
    if not fix.any():
        return 0, lag.lower
    columns = np.flatnonzero(fix).astype(np.int32)
    h.changeColsBounds(len(columns), columns, np.zeros(len(columns)), np.zeros(len(columns)))
    fixable &= ~fix
    return len(columns), lag.lower
