"""Where to put p cameras (or audit p sites) so that they cover the most problems: the
maximal covering location problem, its candidate sites and its demand weights.

Every distance is in metres in a projected CRS (:func:`geo.crs.metric_crs`: Lambert-93 in
metropolitan France, the UTM zone overseas); the solver takes metric coordinates
(:func:`geo.hotspots.metric_xy` projects WGS84 positions), the site generators take and
return geometries.

Modules (their public names are importable from ``geo.coverage`` itself)
    * :mod:`~geo.coverage.weights`: demand, each problem's weight from its category and age;
    * :mod:`~geo.coverage.candidates`: candidate sites, street intersections or H3 centres;
    * :mod:`~geo.coverage.matrix`: which sites cover which demand points (KD-trees);
    * :mod:`~geo.coverage.reduction`: reductions that keep every optimum's value;
    * :mod:`~geo.coverage.greedy`: the lazy greedy and its proven upper bounds;
    * :mod:`~geo.coverage.exact`: the MIP solved by HiGHS's branch and cut;
    * :mod:`~geo.coverage.solver`: the model and :class:`MaximalCovering`, which runs the
      steps above in turn.

References
----------
Church, R. & ReVelle, C. (1974). The maximal covering location problem. *Papers of the
Regional Science Association* 32, 101-118.

Nemhauser, G. L., Wolsey, L. A. & Fisher, M. L. (1978). An analysis of approximations for
maximizing submodular set functions—I. *Mathematical Programming* 14, 265-294.

Minoux, M. (1978). Accelerated greedy algorithms for maximizing submodular set functions.
*Optimization Techniques*, Lecture Notes in Control and Information Sciences 7, 234-243.

Leskovec, J., Krause, A., Guestrin, C., Faloutsos, C., VanBriesen, J. & Glance, N. (2007).
Cost-effective outbreak detection in networks. *KDD '07*, 420-429.

Held, M., Wolfe, P. & Crowder, H. P. (1974). Validation of subgradient optimization.
*Mathematical Programming* 6, 62-88.

Galvão, R. D. & ReVelle, C. (1996). A Lagrangean heuristic for the maximal covering
location problem. *European Journal of Operational Research* 88(1), 114-123.

Huangfu, Q. & Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
*Mathematical Programming Computation* 10, 119-142.

Piza, E. L., Welsh, B. C., Farrington, D. P. & Thomas, A. L. (2019). CCTV surveillance for
crime prevention: a 40-year systematic review with meta-analysis. *Criminology & Public
Policy* 18(1), 135-159.

Examples
--------
Three problems, two candidate sites 100 m apart, one camera of 60 m range:

>>> import numpy as np
>>> demand = np.array([[0.0, 0.0], [10.0, 0.0], [100.0, 0.0]])
>>> sites = np.array([[0.0, 0.0], [100.0, 0.0]])
>>> solution = MaximalCovering(1, radius=60).solve(demand, np.array([1.0, 1.0, 5.0]), sites)
>>> solution.chosen.tolist(), solution.covered_weight, solution.optimal
([1], 5.0, True)
"""

from geo.coverage.candidates import candidate_sites, cell_centres, street_intersections
from geo.coverage.matrix import coverage_matrix, site_scores
from geo.coverage.reduction import ReducedInstance, reduce_instance
from geo.coverage.solver import (
    DEFAULT_RADIUS_M,
    EXACT_MAX_PAIRS,
    CoverageSolution,
    MaximalCovering,
)
from geo.coverage.weights import CATEGORY_WEIGHTS, HALF_LIFE_DAYS, problem_weights

__all__ = [
    "CATEGORY_WEIGHTS",
    "DEFAULT_RADIUS_M",
    "EXACT_MAX_PAIRS",
    "HALF_LIFE_DAYS",
    "CoverageSolution",
    "MaximalCovering",
    "ReducedInstance",
    "candidate_sites",
    "cell_centres",
    "coverage_matrix",
    "problem_weights",
    "reduce_instance",
    "site_scores",
    "street_intersections",
]
