"""The transportation problem of Hess et al. (1965), kept in one HiGHS model.

Atoms are allocated to ``k`` centre units at least weighted distance, each centre's load in
the band ``[lo, hi]``; the fractional optimum is rounded to each atom's largest share. Only
the costs change from one call to the next (the centres move), so the model is built once
and HiGHS starts each solve from the previous optimal basis (a warm start: a few simplex
iterations instead of a solve from scratch).

Reference: Hess, S. W., Weaver, J. B., Siegfeldt, H. J., Whelan, J. N., Zitlau, P. A.
(1965). Nonpartisan political redistricting by computer. *Operations Research* 13(6),
998-1006.
"""

from __future__ import annotations

import highspy
import numpy as np


class Transport:
    """Allocations of ``weight``'s atoms to ``k`` centres within ``[lo, hi]``;
    ``fixed[x]`` the centre (sector) an atom must go to, -1 when free."""

    def __init__(self, weight: np.ndarray, k: int, lo: float, hi: float, fixed: np.ndarray):
        n = len(weight)
        self.n, self.k = n, k
        count = n * k
        atom = np.repeat(np.arange(n), k)
        centre = np.tile(np.arange(k), n)
        # column (x, s) = x·k + s: in the row of atom x (coefficient 1) and in the load
        # row of centre s (coefficient w_x)
        indices = np.column_stack([atom, n + centre]).ravel().astype(np.int32)
        values = np.column_stack([np.ones(count), np.repeat(weight, k)]).ravel()
        upper = np.ones((n, k))
        pinned = np.flatnonzero(fixed >= 0)
        upper[pinned] = 0.0
        upper[pinned, fixed[pinned]] = 1.0
        self.solver = highspy.Highs()
        self.solver.setOptionValue("output_flag", False)
        self.solver.passModel(
            count,
            n + k,
            2 * count,
            1,  # column-wise
            1,  # minimise
            0.0,
            np.zeros(count),
            np.zeros(count),
            upper.ravel(),
            np.r_[np.ones(n), np.full(k, lo)],
            np.r_[np.ones(n), np.full(k, hi)],
            np.arange(0, 2 * count + 1, 2, dtype=np.int32),
            indices,
            values,
            np.zeros(count, dtype=np.int32),  # continuous
        )
        self._all = np.arange(count, dtype=np.int32)

    def allocate(self, cost: np.ndarray) -> np.ndarray | None:
        """Each atom's centre (``cost``: atoms by centres), or None when no fractional
        allocation meets the band."""
        scaled = cost.ravel() / max(float(cost.max()), 1e-9)
        self.solver.changeColsCost(len(self._all), self._all, scaled)
        self.solver.run()
        if self.solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            # a failed warm start leaves nothing worth keeping for the next call
            self.solver.clearSolver()
            return None
        x = np.asarray(self.solver.getSolution().col_value)
        return x.reshape(self.n, self.k).argmax(1)
