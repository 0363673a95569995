"""The cuts of the exact model (:mod:`geo.sectorize.exact`): the *a,b-separator*
inequalities of Validi, Buchanan & Lykhovyd (2022) that an integer solution in pieces
violates (:func:`integral_separators`) or that the linear relaxation violates
(:func:`fractional_separators`, found before branching: §3.3, the user cuts of their CUT
model), and the relaxation's reduced-cost fixing (:func:`reduced_cost_fixing`).

For a centre ``c`` (own atom ``h``) and an atom ``a`` served from it in the relaxation's
solution ``x*``, the least ``Σ_{v ∈ S} x*[v, c]`` over the sets ``S`` of atoms that
separate ``a`` from ``h`` is a minimum vertex cut, computed as a maximum flow from ``h``
to ``a`` in the atom graph whose atoms are split in two (``v_in → v_out`` of capacity
``x*[v, c]``; the graph's edges and the two ends uncapacitated). When it is below
``x*[a, c]``, the inequality ``x[a, c] ≤ Σ_{v ∈ S} x[v, c]`` cuts ``x*`` off; every plan of
one piece meets it. Pairs left out of the model count as 0 (every plan better than the
best known has them at 0).
"""

from __future__ import annotations

import math
from typing import Any

import highspy
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from geo.sectorize.bound import Instance
from geo.sectorize.hess import components

#: Capacities are integers for scipy's maximum flow: values of ``x*`` times this.
SCALE = 1_000_000
#: The least violation (in ``x`` units) for a cut to be added.
MIN_VIOLATION = 0.05


def fractional_separators(
    inst: Instance, var: np.ndarray, home: np.ndarray, x: np.ndarray, *, limit: int = 2000
) -> tuple[list[list[int]], list[list[float]]]:
    """The violated separator cuts of the relaxation's solution ``x`` (atoms x centres,
    dense; ``var``/``home`` as :func:`geo.sectorize.hess.hess_model` returns them), as
    columns and coefficients of rows ``≤ 0``; at most ``limit`` of them."""
    n = inst.atoms.n
    src = np.array([a for a in range(n) for _ in inst.atoms.adj[a]], dtype=np.int32)
    dst = np.array([b for a in range(n) for b in inst.atoms.adj[a]], dtype=np.int32)
    big = min(SCALE * (n + 1), 2**30)  # above every finite cut (capacities are int32)
    rows: list[list[int]] = []
    coefs: list[list[float]] = []
    adj_sets = [set(b) for b in inst.atoms.adj]
    for j in np.argsort(-x[home, np.arange(len(home))]):
        h = int(home[j])
        if x[h, j] <= MIN_VIOLATION:
            break
        served = [
            a
            for a in np.flatnonzero(x[:, j] > MIN_VIOLATION).tolist()
            if a != h and a not in adj_sets[h]
        ]
        if not served:
            continue
        cap = np.round(np.clip(x[:, j], 0.0, 1.0) * SCALE).astype(np.int32)
        # nodes: v_in = v, v_out = n + v; v_in → v_out holds x*[v, c], the edges are free
        tail = np.r_[np.arange(n), n + src]
        head = np.r_[n + np.arange(n), dst]
        inner = cap.copy()
        inner[h] = big
        capacity = np.r_[inner, np.full(len(src), big)].astype(np.int32)
        graph = csr_matrix((capacity, (tail, head)), shape=(2 * n, 2 * n))
        # row v < n holds the one arc v_in → v_out: its capacity is graph.data[indptr[v]]
        arc = graph.indptr[:n]
        for a in served:
            graph.data[arc[a]] = big  # the one graph, its arc of a opened for this flow
            result = maximum_flow(graph, n + h, a, method="dinic")
            if result.flow_value >= x[a, j] * SCALE * (1 - 1e-9) - MIN_VIOLATION * SCALE:
                graph.data[arc[a]] = inner[a]
                continue
            residual = graph - result.flow
            graph.data[arc[a]] = inner[a]
            residual.data = (residual.data > 0).astype(np.int32)
            residual.eliminate_zeros()
            reached = np.zeros(2 * n, dtype=bool)
            reached[breadth_first_order(residual, n + h, return_predecessors=False)] = True
            cut = np.flatnonzero(reached[:n] & ~reached[n:])
            near = [int(var[v, j]) for v in cut if var[v, j] >= 0]
            if var[a, j] < 0:
                continue
            rows.append([int(var[a, j]), *near])
            coefs.append([1.0] + [-1.0] * len(near))
            if len(rows) >= limit:
                return rows, coefs
    return rows, coefs


def integral_separators(
    inst: Instance, var: np.ndarray, home: np.ndarray, group: np.ndarray
) -> tuple[list[list[int]], list[list[float]]]:
    """The cuts of an integer solution's stray components (``group``: each atom's centre
    position): for each piece ``C`` of a sector away from its centre's atom, the minimal
    separator of ``N(C)`` on the centre's side, for every centre on that side."""
    adj = inst.atoms.adj
    rows: list[list[int]] = []
    coefs: list[list[float]] = []
    for j in np.unique(group):
        own = int(home[j])
        for part in components(inst, np.flatnonzero(group == j)):
            if own in part:
                continue
            inside = set(part)
            border = {b for a in part for b in adj[a] if b not in inside}
            blocked = inside | border
            reach, stack = {own}, [own]
            while stack:
                v = stack.pop()
                for b in adj[v]:
                    if b not in blocked and b not in reach:
                        reach.add(b)
                        stack.append(b)
            sep = sorted(v for v in border if any(b in reach for b in adj[v]))
            targets = [i for i, h in enumerate(home) if int(h) in reach]
            for t in targets:
                near = [int(var[v, t]) for v in sep if var[v, t] >= 0]
                for a in part:
                    if var[a, t] < 0:
                        continue
                    rows.append([int(var[a, t]), *near])
                    coefs.append([1.0] + [-1.0] * len(near))
    return rows, coefs


def reduced_cost_fixing(
    h: highspy.Highs, value: float, upper: float, solution: Any, fixable: np.ndarray
) -> int:
    """Fix to 0 the columns at 0 in the relaxation (value ``value``) whose reduced cost
    ``d`` lifts it above ``upper``, the best plan known: every solution with ``x = 1``
    costs at least ``value + d`` (LP duality, the columns being bounded by 0 and 1). Only
    ``fixable`` columns are fixed (the best plan's stay); returns how many."""
    if not math.isfinite(upper):
        return 0
    x = np.asarray(solution.col_value)
    d = np.asarray(solution.col_dual)
    fix = (x < 1e-9) & (value + d > upper * (1 + 1e-6) + 1e-6) & fixable
    if not fix.any():
        return 0
    columns = np.flatnonzero(fix).astype(np.int32)
    h.changeColsBounds(len(columns), columns, np.zeros(len(columns)), np.zeros(len(columns)))
    fixable &= ~fix
    return len(columns)
