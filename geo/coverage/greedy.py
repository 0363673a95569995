"""The greedy solution of the maximal covering model, and the upper bounds that prove how
far from the optimum it can be.

Covered weight is a monotone submodular function of the set of sites, so the greedy
algorithm (take the site of largest marginal gain, ``p`` times) covers at least
``(1 - 1/e) ≈ 63.2 %`` of the optimum (Nemhauser, Wolsey & Fisher 1978). It is run
lazily (CELF, Minoux 1978; Leskovec et al. 2007): marginal gains only decrease, so a
site's stale gain is an upper bound and only the top of a heap is re-evaluated. For
any set ``S``, ``OPT ≤ f(S) + Σ(the p largest marginal gains with respect to S)``
(submodularity; Minoux 1978, Leskovec et al. 2007). The greedy reports the smaller of
the smallest such bound over its successive sets and a Lagrangian bound: relaxing the
covering rows with multipliers ``λ >= 0`` gives
``OPT ≤ Σ_i max(0, w_i - λ_i) + Σ(the p largest Σ_{i ∈ N_j} λ_i)`` (Galvão & ReVelle
1996), minimised over ``λ`` by a few hundred subgradient steps (Held, Wolfe & Crowder
1974), each a sparse product. The submodular bound is often 20 % above the greedy's
value; the Lagrangian one brings the proven gap to a few per cent (the benchmark
reports both), for a tenth of a second.

(References in :mod:`geo.coverage`.)
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class GreedySolution:
    """The columns the greedy chose, with their gains, and the best upper bound found."""

    order: np.ndarray  # columns, in order of selection
    gains: np.ndarray
    bound: float  # upper bound on the best covered weight of p columns


def lazy_greedy(
    columns: sparse.csc_matrix, weights: np.ndarray, p: int, *, bound_steps: int = 64
) -> GreedySolution:
    """CELF lazy greedy on a CSC coverage matrix: up to ``p`` columns of positive gain.

    The bound ``f(S) + Σ top-p marginal gains w.r.t. S`` is evaluated at (up to
    ``bound_steps`` of) the successive greedy sets and its minimum returned.
    """
    indptr, indices = columns.indptr, columns.indices
    as_float = columns.astype(float)
    covered = np.zeros(columns.shape[0], dtype=bool)
    order: list[int] = []
    gains: list[float] = []
    initial = np.asarray(as_float.T @ weights).reshape(-1)
    heap = [(-g, j, 0) for j, g in enumerate(initial.tolist()) if g > 0]
    heapq.heapify(heap)
    steps = min(p, len(heap))
    check = set(np.unique(np.linspace(0, steps, min(bound_steps, steps + 1)).astype(int)).tolist())
    total = float(weights.sum())
    bound = math.inf

    def bound_at(value: float) -> float:
        if p == 0:
            return value
        marginal = np.asarray(as_float.T @ np.where(covered, 0.0, weights)).reshape(-1)
        if p < len(marginal):
            marginal = np.partition(marginal, len(marginal) - p)[len(marginal) - p :]
        return value + float(marginal.sum())

    value = 0.0
    if 0 in check:
        bound = bound_at(0.0)
    while heap and len(order) < p:
        negative, j, stamp = heapq.heappop(heap)
        if stamp == len(order):
            rows = indices[indptr[j] : indptr[j + 1]]
            order.append(j)
            gains.append(-negative)
            value += -negative
            covered[rows] = True
            if len(order) in check:
                bound = min(bound, bound_at(value))
            continue
        rows = indices[indptr[j] : indptr[j + 1]]
        gain = float(weights[rows][~covered[rows]].sum())
        if gain > 0:
            heapq.heappush(heap, (-gain, j, len(order)))
    if not heap:  # every useful column taken or useless: everything coverable is covered
        bound = min(bound, value)
    return GreedySolution(
        order=np.array(order, dtype=np.int64),
        gains=np.array(gains, dtype=float),
        bound=max(min(bound, total), value),
    )


def lagrangian_bound(
    matrix: sparse.csr_matrix,
    weights: np.ndarray,
    p: int,
    lower: float,
    *,
    iterations: int = 200,
    tolerance: float = 1e-4,
) -> float:
    """Upper bound on the best covered weight of ``p`` columns: the Lagrangian relaxation
    of the covering rows (Galvão & ReVelle 1996), minimised by subgradient steps.

    For multipliers ``λ >= 0``,
    ``L(λ) = Σ_i max(0, w_i - λ_i) + (sum of the p largest Σ_{i ∈ N_j} λ_i)`` bounds the
    optimum; steps follow Polyak's rule towards the known value ``lower`` (Held, Wolfe &
    Crowder 1974), with the step factor halved when ten steps bring no improvement. Stops
    when the gap to ``lower`` is within ``tolerance`` or after ``iterations`` steps.
    """
    k, m = matrix.shape
    if p == 0 or k == 0:
        return lower if k else 0.0
    if p >= m:
        return float(weights.sum())
    rows = matrix.astype(float)
    columns = rows.T.tocsr()
    multipliers = weights / np.diff(rows.indptr)
    best, factor, stale = math.inf, 2.0, 0
    for _ in range(iterations):
        reduced_cost = np.asarray(columns @ multipliers).reshape(-1)
        top = np.argpartition(reduced_cost, m - p)[m - p :]
        value = float(np.maximum(0.0, weights - multipliers).sum() + reduced_cost[top].sum())
        if value < best - 1e-12 * value:
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 10:
                factor, stale = factor / 2, 0
        if best - lower <= tolerance * best or factor < 1e-3:
            break
        x = np.zeros(m)
        x[top] = 1.0
        direction = np.asarray(rows @ x).reshape(-1) - (multipliers < weights)
        norm = float(direction @ direction)
        if norm == 0:
            break
        step = factor * max(value - lower, 0.0) / norm
        multipliers = np.clip(multipliers - step * direction, 0.0, weights)
    return min(best, float(weights.sum()))
