"""The maximal covering location problem (Church & ReVelle 1974) and its solver.

With ``N_i`` the candidate sites within ``radius`` of demand point ``i``,

.. math:: \\max \\sum_i w_i y_i \\quad \\text{s.t.}\\quad y_i \\le \\sum_{j \\in N_i} x_j,
          \\quad \\sum_j x_j \\le p, \\quad x_j \\in \\{0, 1\\}, \\quad 0 \\le y_i \\le 1.

``y`` may be continuous: for binary ``x`` the objective pushes every ``y_i`` to
``min(1, Σ x_j) ∈ {0, 1}``. ``Σ x_j ≤ p`` rather than ``= p``: an extra site never
lowers the covered weight, so the optima agree, and fewer than ``p`` useful sites
remain feasible. Sites that already exist (cameras in place, sites already audited)
are *fixed*: the demand they cover is counted apart (``fixed_weight``) and removed
before optimising.

:class:`MaximalCovering` reduces the model (:mod:`geo.coverage.reduction`), runs the
lazy greedy and its bounds (:mod:`geo.coverage.greedy`), then, when the gap is not closed
and the model is small enough, HiGHS warm-started with the greedy solution
(:mod:`geo.coverage.exact`). References in :mod:`geo.coverage`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from geo.coverage.exact import solve_mip
from geo.coverage.greedy import lagrangian_bound, lazy_greedy
from geo.coverage.matrix import checked_points, checked_radius, checked_weights, coverage_matrix
from geo.coverage.reduction import reduce_instance
from geo.errors import InvalidValueError

DEFAULT_RADIUS_M: float = 100.0
"""A street camera's useful range in metres (identification of a person at night is
rarely possible much further)."""


EXACT_MAX_PAIRS = 250_000
"""Above this many (demand, site) pairs after reduction, ``method="auto"`` runs the greedy:
beyond it, HiGHS's root LP alone takes about 10 s on 2 cores (bench/coverage_bench.py),
so the default time limit would end with the greedy start and no better bound."""

_EPS = 1e-9


@dataclass(frozen=True)
class CoverageSolution:
    """Sites chosen by :class:`MaximalCovering`, and how good the choice is proven to be.

    Attributes
    ----------
    chosen
        Indices into ``site_xy`` in greedy order of marginal gain (an exact solution is
        re-ordered the same way), at most ``p`` of them: a site that would add nothing
        (everything it covers is covered already) is not proposed.
    gains
        Covered weight each chosen site adds to the fixed sites and the chosen sites
        before it; ``fixed_weight + gains.sum() == covered_weight`` (to rounding).
    fixed_weight
        Weight already covered by the fixed sites.
    covered_weight, total_weight
        Weight covered by the fixed and chosen sites; weight of every demand point.
    covered
        Boolean mask over the demand points.
    method
        ``"exact"`` (HiGHS) or ``"greedy"``.
    optimal
        Proven optimal: the gap is within the tolerance asked (``mip_gap``).
    upper_bound
        Proven upper bound on the best covered weight (fixed sites included): the MIP's
        dual bound, or the greedy's a-posteriori submodular bound.
    seconds
        Wall time of :meth:`MaximalCovering.solve`.
    reduced_demand, reduced_sites, reduced_pairs
        Size of the model after the reductions (rows, columns, nonzeros).
    """

    chosen: np.ndarray
    gains: np.ndarray
    fixed_weight: float
    covered_weight: float
    total_weight: float
    covered: np.ndarray
    method: str
    optimal: bool
    upper_bound: float
    seconds: float
    reduced_demand: int = 0
    reduced_sites: int = 0
    reduced_pairs: int = 0

    @property
    def covered_share(self) -> float:
        """Share of the total weight covered (0 when there is no weight)."""
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0

    @property
    def gap(self) -> float:
        """Proven relative gap ``(upper_bound - covered_weight) / upper_bound``."""
        return max(0.0, self.upper_bound - self.covered_weight) / max(self.upper_bound, 1e-12)


class MaximalCovering:
    """Choose ``p`` sites that cover the most demand weight within ``radius`` metres.

    Parameters
    ----------
    p
        Number of sites to choose (beside the fixed ones); more than the candidates means
        all of them.
    radius
        Coverage radius in metres (:data:`DEFAULT_RADIUS_M`).
    method
        ``"exact"`` (HiGHS branch and cut, :mod:`geo.coverage.exact`), ``"greedy"`` (lazy
        greedy, at least 1 - 1/e of the optimum) or ``"auto"``: exact when the reduced
        model has at most ``exact_max_pairs`` (demand, site) pairs.
    time_limit
        Seconds given to HiGHS; when it runs out, the best solution found (never worse
        than the greedy one it starts from) is returned with its proven gap.
    mip_gap
        Relative gap at which HiGHS stops and the solution counts as optimal.
    exact_max_pairs
        Size limit of ``method="auto"`` (:data:`EXACT_MAX_PAIRS`).

    Examples
    --------
    One existing camera at the origin already covers the first two problems; the one
    camera to add goes to the third:

    >>> import numpy as np
    >>> demand = np.array([[0.0, 0.0], [80.0, 0.0], [300.0, 0.0]])
    >>> sites = np.array([[0.0, 0.0], [80.0, 0.0], [300.0, 0.0]])
    >>> solution = MaximalCovering(1, radius=100, method="exact").solve(
    ...     demand, np.ones(3), sites, fixed_xy=np.array([[0.0, 0.0]])
    ... )
    >>> solution.chosen.tolist(), solution.fixed_weight, solution.covered_weight
    ([2], 2.0, 3.0)
    """

    def __init__(
        self,
        p: int,
        *,
        radius: float = DEFAULT_RADIUS_M,
        method: Literal["auto", "exact", "greedy"] = "auto",
        time_limit: float = 10.0,
        mip_gap: float = 1e-4,
        exact_max_pairs: int = EXACT_MAX_PAIRS,
    ) -> None:
        if isinstance(p, bool) or not isinstance(p, int | np.integer) or p < 0:
            raise InvalidValueError(
                "parameter_expected", name="p", expected="un entier positif ou nul", got=p
            )
        if method not in ("auto", "exact", "greedy"):
            raise InvalidValueError(
                "unknown_code", field="method", value=method, expected=["auto", "exact", "greedy"]
            )
        if isinstance(time_limit, bool) or not (
            isinstance(time_limit, int | float) and time_limit > 0 and math.isfinite(time_limit)
        ):
            raise InvalidValueError(
                "parameter_expected",
                name="time_limit",
                expected="un nombre de secondes positif",
                got=time_limit,
            )
        if not (isinstance(mip_gap, int | float) and 0 <= mip_gap < 1):
            raise InvalidValueError(
                "parameter_expected", name="mip_gap", expected="un nombre de [0, 1[", got=mip_gap
            )
        if isinstance(exact_max_pairs, bool) or not isinstance(exact_max_pairs, int):
            raise InvalidValueError(
                "parameter_expected",
                name="exact_max_pairs",
                expected="un nombre entier",
                got=exact_max_pairs,
            )
        self.p = int(p)
        self.radius = checked_radius(radius)
        self.method = method
        self.time_limit = float(time_limit)
        self.mip_gap = float(mip_gap)
        self.exact_max_pairs = exact_max_pairs

    def solve(
        self,
        demand_xy: np.ndarray,
        weights: np.ndarray,
        site_xy: np.ndarray,
        *,
        fixed_xy: np.ndarray | None = None,
    ) -> CoverageSolution:
        """The best ``p`` sites among ``site_xy`` for the demand points ``demand_xy``
        (metric coordinates, n x 2) of ``weights`` (n values >= 0), given the existing
        sites ``fixed_xy``."""
        start = time.perf_counter()
        demand = checked_points("demand_xy", demand_xy)
        w = checked_weights(weights, len(demand))
        sites = checked_points("site_xy", site_xy)
        fixed = checked_points("fixed_xy", fixed_xy if fixed_xy is not None else np.zeros((0, 2)))
        by_fixed = coverage_matrix(demand, fixed, self.radius).getnnz(axis=1) > 0
        fixed_weight = float(w[by_fixed].sum())
        matrix = coverage_matrix(demand, sites, self.radius)
        instance = reduce_instance(matrix, np.where(by_fixed, 0.0, w))
        columns = instance.matrix.tocsc()
        greedy = lazy_greedy(columns, instance.weights, self.p)
        greedy_value = float(greedy.gains.sum())
        bound = greedy.bound
        if (bound - greedy_value) > self.mip_gap * bound:
            bound = min(
                bound,
                lagrangian_bound(
                    instance.matrix, instance.weights, self.p, greedy_value, tolerance=self.mip_gap
                ),
            )
        nonzeros = instance.matrix.nnz
        exact = self.method == "exact" or (
            self.method == "auto" and nonzeros <= self.exact_max_pairs
        )
        picked = greedy.order
        if exact and (bound - greedy_value) > self.mip_gap * bound:
            found, mip_bound = solve_mip(
                instance, self.p, greedy.order, time_limit=self.time_limit, mip_gap=self.mip_gap
            )
            value = float(instance.weights[instance.matrix[:, found].getnnz(axis=1) > 0].sum())
            if value >= greedy_value:
                picked = found
            bound = min(bound, mip_bound)
        # The chosen sites in greedy order; their gains on the original demand points.
        ordered = lazy_greedy(columns[:, picked], instance.weights, len(picked))
        chosen = instance.sites[picked[ordered.order]]
        covered = by_fixed.copy()
        gains = np.zeros(len(chosen))
        by_site = matrix.tocsc()
        for position, site in enumerate(chosen):
            rows = by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]
            gains[position] = float(w[rows][~covered[rows]].sum())
            covered[rows] = True
        covered_weight = float(w[covered].sum())
        total = float(w.sum())
        # Never above everything coverable, never below what is covered (rounding).
        upper = fixed_weight + min(bound, float(instance.weights.sum()))
        upper = max(upper, covered_weight)
        gap = max(0.0, upper - covered_weight) / max(upper, 1e-12)
        return CoverageSolution(
            chosen=chosen.astype(np.int64),
            gains=gains,
            fixed_weight=fixed_weight,
            covered_weight=covered_weight,
            total_weight=total,
            covered=covered,
            method="exact" if exact else "greedy",
            optimal=gap <= self.mip_gap + _EPS,
            upper_bound=upper,
            seconds=time.perf_counter() - start,
            reduced_demand=instance.matrix.shape[0],
            reduced_sites=instance.matrix.shape[1],
            reduced_pairs=nonzeros,
        )
