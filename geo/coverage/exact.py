"""The exact solution of the (reduced) maximal covering model by HiGHS.

The reduced model is built in one batch (a row-wise CSR matrix handed to
``Highs.passModel``) and solved by HiGHS's branch and cut (Huangfu & Hall 2018),
warm-started with the greedy solution, so that a time limit still returns a feasible
solution at least as good as the greedy one. The MIP's dual bound is the reported
upper bound.

(References in :mod:`geo.coverage`.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import sparse

from geo.coverage.reduction import ReducedInstance
from geo.errors import UnavailableError


def solve_mip(
    instance: ReducedInstance,
    p: int,
    start: np.ndarray,
    *,
    time_limit: float,
    mip_gap: float,
    options: Mapping[str, bool | float | str] | None = None,
) -> tuple[np.ndarray, float]:
    """HiGHS on the reduced model, warm-started at the columns ``start``: the chosen
    columns and the dual (upper) bound."""
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        raise UnavailableError("exact_solver_missing") from exc
    a = instance.matrix
    k, m = a.shape
    # Rows 0..k-1: y_i - Σ_{j ∈ N_i} x_j <= 0; row k: Σ x_j <= p. Columns: x (m), y (k).
    constraints = sparse.vstack(
        [
            sparse.hstack([-a.astype(float), sparse.identity(k, format="csr")]),
            sparse.hstack([np.ones((1, m)), sparse.csr_matrix((1, k))]),
        ],
        format="csr",
    )
    lp = highspy.HighsLp()
    lp.num_col_ = m + k
    lp.num_row_ = k + 1
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(m), instance.weights])
    lp.col_lower_ = np.zeros(m + k)
    lp.col_upper_ = np.ones(m + k)
    lp.row_lower_ = np.full(k + 1, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(k), [float(p)]])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * k
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = m + k
    lp.a_matrix_.num_row_ = k + 1
    lp.a_matrix_.start_ = constraints.indptr.astype(np.int32)
    lp.a_matrix_.index_ = constraints.indices.astype(np.int32)
    lp.a_matrix_.value_ = constraints.data.astype(float)
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", float(time_limit))
    solver.setOptionValue("mip_rel_gap", float(mip_gap))
    solver.setOptionValue("random_seed", 0)
    # The root LP of this model is highly degenerate: the dual simplex stalls on it (over
    # 10 s at 10^5 nonzeros) where the interior-point method takes a second. HiGHS's
    # presolve finds little that reduce_instance has not already done and costs about
    # as much as the solve (both measured by bench/coverage_bench.py).
    solver.setOptionValue("mip_lp_solver", "ipm")
    solver.setOptionValue("presolve", "off")
    for name, value in (options or {}).items():
        solver.setOptionValue(name, value)
    solver.passModel(lp)
    x = np.zeros(m)
    x[start] = 1.0
    y = np.minimum(1.0, a.astype(float) @ x)
    warm = highspy.HighsSolution()
    warm.col_value = np.concatenate([x, y]).tolist()
    warm.value_valid = True
    solver.setSolution(warm)
    solver.run()
    solution = solver.getSolution()
    if not solution.value_valid:  # pragma: no cover - the start is feasible
        return start, math.inf
    chosen = np.flatnonzero(np.asarray(solution.col_value[:m]) > 0.5)
    bound = float(solver.getInfo().mip_dual_bound)
    return chosen, bound if math.isfinite(bound) else math.inf
