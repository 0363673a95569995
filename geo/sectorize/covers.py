"""Cover cuts on the balance rows of the exact model (:mod:`geo.sectorize.exact`).

Each open centre ``c`` (own atom ``h``, ``y = x[h, c]``) holds a workload within the band:
``lo·y ≤ W_h·y + Σ_{a ≠ h} W_a·x[a, c] ≤ hi·y``. Whole communes make this a packing problem
that the linear relaxation sees badly (on Belfort res 8, k = 8 its value is 8.5 % under the
optimum). Two families of knapsack cover inequalities (Balas 1975; Wolsey 1998, §9.3) are
valid for every plan and are separated from the relaxation's solution ``x*``:

* **upper covers**: a set ``K`` of atoms other than ``h`` whose workloads exceed
  ``hi - W_h`` cannot all join ``c``: ``Σ_{a ∈ E(K)} x[a, c] ≤ (|K| - 1)·y``, where the
  *extended cover* ``E(K)`` adds every atom at least as heavy as the heaviest of ``K``;
* **lower covers**: when the atoms allowed to join ``c`` other than a set ``K`` weigh less
  than ``lo - W_h``, at least one atom of ``K`` joins: ``Σ_{a ∈ K} x[a, c] ≥ y``.

Both are found greedily (the cover that ``x*`` violates most is a knapsack problem): items
sorted by their slack per unit of workload, taken until they form a cover, then the
superfluous ones dropped. Pairs left out of the model (or fixed to 0) count as 0: the cuts
hold for every plan of the model the search explores.

References
----------
* Balas, E. (1975). Facets of the knapsack polytope. *Mathematical Programming* 8, 146-164.
* Wolsey, L. A. (1998). *Integer Programming*. Wiley, §9.3 (cover inequalities).
"""

from __future__ import annotations

import numpy as np

from geo.sectorize.bound import Instance

#: The least violation (in ``x`` units) for a cover cut to be added.
MIN_VIOLATION = 0.02


def _minimal(order: list[int], weight: np.ndarray, need: float) -> list[int] | None:
    """The first items of ``order`` whose weights exceed ``need``, without the ones (last
    taken first) that are not needed: None if all of them do not."""
    taken: list[int] = []
    total = 0.0
    for a in order:
        taken.append(a)
        total += float(weight[a])
        if total > need * (1 + 1e-9) + 1e-9:
            break
    else:
        return None
    for a in sorted(taken, key=lambda b: float(weight[b])):
        if total - float(weight[a]) > need * (1 + 1e-9) + 1e-9:
            taken.remove(a)
            total -= float(weight[a])
    return taken


def cover_cuts(
    inst: Instance,
    var: np.ndarray,
    home: np.ndarray,
    x: np.ndarray,
    live: np.ndarray,
) -> tuple[list[list[int]], list[list[float]]]:
    """The cover cuts that ``x`` (atoms x centres, dense) violates, as columns and
    coefficients of rows ``≤ 0``; ``live`` marks the model's columns not fixed to 0
    (``var``/``home`` as :func:`geo.sectorize.hess.hess_model`)."""
    w = inst.atoms.weight.astype(float)
    open_pair = np.zeros(var.shape, dtype=bool)
    open_pair[var >= 0] = live[var[var >= 0]]
    rows: list[list[int]] = []
    coefs: list[list[float]] = []
    for j in range(len(home)):
        h = int(home[j])
        y = float(x[h, j])
        if y <= MIN_VIOLATION or var[h, j] < 0:
            continue
        items = np.flatnonzero(open_pair[:, j])
        items = items[items != h]
        if not len(items):
            continue
        xj = np.clip(x[items, j], 0.0, y)
        # upper: Σ_K (y - x_a) < y violates Σ_K x_a ≤ (|K| - 1) y
        room = inst.hi - w[h]
        ratio = (y - xj) / np.maximum(w[items], 1e-12)
        order = [int(items[i]) for i in np.lexsort((-w[items], ratio))]
        cover = _minimal(order, w, room)
        if cover is not None:
            heaviest = max(float(w[a]) for a in cover)
            extended = sorted(set(cover) | {int(a) for a in items if w[a] >= heaviest})
            lhs = float(x[extended, j].sum())
            if lhs - (len(cover) - 1) * y > MIN_VIOLATION:
                rows.append([int(var[a, j]) for a in extended] + [int(var[h, j])])
                coefs.append([1.0] * len(extended) + [-(len(cover) - 1.0)])
        # lower: the atoms outside K cannot reach lo: Σ_K x_a ≥ y
        spare = float(w[items].sum()) - (inst.lo - w[h])
        if spare < 0:
            continue  # c cannot be open at all: the balance row says so already
        ratio = xj / np.maximum(w[items], 1e-12)
        order = [int(items[i]) for i in np.lexsort((-w[items], ratio))]
        cover = _minimal(order, w, spare)
        if cover is not None and y - float(x[cover, j].sum()) > MIN_VIOLATION:
            rows.append([int(var[h, j])] + [int(var[a, j]) for a in cover])
            coefs.append([1.0] + [-1.0] * len(cover))
    return rows, coefs
