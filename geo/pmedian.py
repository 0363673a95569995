"""The p-median objective of a sector plan: the response-time proxy of police districting.

Each sector ``s`` is served from its **median unit** ``c_s``: the unit of ``s`` that
minimises ``Σ_{i ∈ s} w_i · d(i, c)``, where ``w_i`` is unit ``i``'s workload and
``d`` the straight-line distance between unit centroids in metres (Lambert-93 or the
territory's metric CRS). The plan's objective is the workload-weighted mean distance

    D = Σ_s Σ_{i ∈ s} w_i · d(i, c_s) / Σ_i w_i

(Hakimi 1964; ReVelle & Swain 1970; in police districting, Mitchell 1972 and
Wheeler 2019). Units with no workload count with weight 0 (a plan whose total workload
is 0 falls back to unit counts, so that the figure stays defined).

Both the heuristic engine and the exact model (:mod:`geo.sectorize.exact`) are measured
with :func:`pmedian_distance`, so their figures compare.

Examples
--------
Four units on a line 1 km apart, two sectors of two units; each median is one of its
sector's two units, so each unit at the other end is 1 km away, with weights 1, 1, 1, 3:

>>> xy = np.array([[0.0, 0], [1000, 0], [2000, 0], [3000, 0]])
>>> w = np.array([1.0, 1, 1, 3])
>>> centres, cost = median_centres(xy, w, np.array([0, 0, 1, 1]), 2)
>>> centres.tolist(), cost.tolist()
([0, 3], [1000.0, 1000.0])
>>> round(pmedian_distance(xy, w, np.array([0, 0, 1, 1]), 2), 1)
333.3
"""

from __future__ import annotations

import numpy as np

#: Rows of the distance matrix computed at once (bounds memory on large sectors).
_CHUNK = 2048


def median_centres(
    xy: np.ndarray, weight: np.ndarray, assignment: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each sector's median unit (position in ``xy``; -1 for an empty sector) and its
    weighted distance sum ``Σ_{i ∈ s} w_i · d(i, c_s)`` in metre-workloads."""
    w = _weights(weight)
    centres = np.full(k, -1, dtype=int)
    cost = np.zeros(k)
    for s in range(k):
        members = np.flatnonzero(assignment == s)
        if len(members) == 0:
            continue
        pts, ws = xy[members], w[members]
        best, best_cost = 0, np.inf
        for start in range(0, len(members), _CHUNK):
            cand = pts[start : start + _CHUNK]
            d = np.linalg.norm(cand[:, None, :] - pts[None, :, :], axis=2)
            sums = d @ ws
            j = int(np.argmin(sums))
            if sums[j] < best_cost:
                best, best_cost = start + j, float(sums[j])
        centres[s] = members[best]
        cost[s] = best_cost
    return centres, cost


def pmedian_distance(xy: np.ndarray, weight: np.ndarray, assignment: np.ndarray, k: int) -> float:
    """The plan's workload-weighted mean distance to its sectors' median units, in metres."""
    _, cost = median_centres(xy, weight, assignment, k)
    total = _weights(weight).sum()
    return float(cost.sum() / total) if total > 0 else 0.0


def _weights(weight: np.ndarray) -> np.ndarray:
    w = np.asarray(weight, dtype=float)
    return w if w.sum() > 0 else np.ones_like(w)
