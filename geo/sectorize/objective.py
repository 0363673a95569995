"""What the engine's local search minimises: boundary length, distance, or a mix.

The planner chooses the objective of a proposal (:attr:`DesignParameters.objective
<geo.sectorize.design.DesignParameters.objective>`):

``"boundary"`` (*longueur des limites*)
    The total cut cost of :class:`~geo.sectorize.atoms.CutCosts`: boundary length, more
    where a commune is cut, less along a barrier. What the engine always optimised; the
    search runs exactly as before (same moves, same random draws, same plans).
``"distance"`` (*distance moyenne au centre du secteur*)
    The p-median cost of :mod:`geo.pmedian`: the workload-weighted distance from each
    atom to its sector's median atom, the response-time proxy of police districting.
``"mix"``
    ``J = (1 - λ)·C/C₀ + λ·D/D₀`` with ``λ`` = ``objective_weight`` (the share of
    distance), ``C`` the cut cost, ``D`` the p-median cost and ``C₀``, ``D₀`` their
    values when the shape phase starts (after growth and balance). Each term is thus
    measured relative to the same starting plan: ``λ = 0.5`` weighs a 1 % shorter
    boundary the same as a 1 % shorter mean distance, whatever the units.

``"distance"`` is ``λ = 1`` with a tie-break of ``10⁻³·C/C₀``, so that units without
workload (which weigh nothing in ``D``) still go to the sector they border most.

The distance term follows the alternating location-allocation scheme of Hess et al.
(1965) and Weaver & Hess (1963): with the sectors' centres fixed, a move of atom ``x``
from sector ``a`` to ``b`` changes ``D`` by ``w_x·(d(x, c_b) - d(x, c_a))``; the
centres (median atoms, :func:`median_atoms`) are located again after each pass of the
search. The plan's figure itself is always measured on units by
:func:`geo.pmedian.pmedian_distance`.

References
----------
* Hess, S. W., Weaver, J. B., Siegfeldt, H. J., Whelan, J. N., Zitlau, P. A. (1965).
  Nonpartisan political redistricting by computer. *Operations Research* 13(6), 998-1006.
* Weaver, J. B., Hess, S. W. (1963). A procedure for nonpartisan districting. *Yale Law
  Journal* 73(2), 288-308.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np

from geo.errors import InvalidInputError

Objective = Literal["boundary", "distance", "mix"]
OBJECTIVES: tuple[Objective, ...] = ("boundary", "distance", "mix")
#: The planner's words for each objective (form, CLI, sheets).
OBJECTIVE_LABELS: dict[str, str] = {
    "boundary": "longueur des limites",
    "distance": "distance moyenne au centre du secteur",
    "mix": "mixte",
}
#: Weight of the cut cost that breaks ties under the pure distance objective.
TIE_BREAK = 1e-3
#: A sector with more atoms than this looks for its median among the atoms nearest its
#: weighted centroid only (the median unit lies near the Weber point), so that locating
#: the centres of a 50 000-unit territory stays linear.
_FULL_SEARCH = 256
_CANDIDATES = 128


def distance_share(objective: str, weight: float) -> float:
    """``λ``, the share of distance in the objective (see the module docstring).

    >>> distance_share("boundary", 0.3), distance_share("distance", 0.3), distance_share("mix", 0.3)
    (0.0, 1.0, 0.3)
    """
    check_objective(objective, weight)
    return {"boundary": 0.0, "distance": 1.0}.get(objective, float(weight))


def objective_label(parameters: Mapping[str, Any]) -> str:
    """The objective of stored design parameters, in the planner's words (plans made
    before the objective was a choice optimised the boundary).

    >>> objective_label({"objective": "mix", "objective_weight": 0.25})
    'mixte : 25 % distance, 75 % limites'
    >>> objective_label({})
    'longueur des limites'
    """
    objective = str(parameters.get("objective", "boundary"))
    if objective != "mix":
        return OBJECTIVE_LABELS.get(objective, objective)
    share = round(100 * float(parameters.get("objective_weight", 0.5)))
    return f"mixte : {share} % distance, {100 - share} % limites"


def check_objective(objective: str, weight: float) -> None:
    """Refuse an unknown objective or a weight outside [0, 1], in French."""
    if objective not in OBJECTIVES:
        raise InvalidInputError(
            "unknown_objective", field="objective", objective=objective, expected=list(OBJECTIVES)
        )
    if not 0.0 <= float(weight) <= 1.0:
        raise InvalidInputError(
            "objective_weight_out_of_range", field="objective_weight", value=weight
        )


def median_atoms(
    xy: np.ndarray,
    weight: np.ndarray,
    sector: np.ndarray,
    k: int,
    previous: np.ndarray,
    distances: np.ndarray | None = None,
    sectors: Iterable[int] | None = None,
) -> np.ndarray:
    """Each sector's median atom (the member minimising ``Σ w·d`` to the others); an
    empty sector keeps ``previous``. Large sectors search the :data:`_CANDIDATES` members
    nearest their weighted centroid. ``distances``: the atoms' pairwise distances
    (:func:`pairwise_distances`, the same values), read instead of computed; ``sectors``:
    only those are located again, the others keep ``previous``.

    >>> xy = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [0.0, 9.0], [0.0, 10.0]])
    >>> w, sector, previous = np.ones(5), np.array([0, 0, 0, 1, 1]), np.array([2, 4])
    >>> median_atoms(xy, w, sector, 2, previous).tolist()
    [1, 3]
    >>> median_atoms(xy, w, sector, 2, previous, pairwise_distances(xy), [1]).tolist()
    [2, 3]
    """
    centres = previous.copy()
    order = np.argsort(sector, kind="stable")
    bounds = np.searchsorted(sector[order], np.arange(k + 1))
    for s in range(k) if sectors is None else sectors:
        members = order[bounds[s] : bounds[s + 1]]
        if len(members) == 0:
            continue
        pts, ws = xy[members], weight[members]
        cand = members
        if len(members) > _FULL_SEARCH:
            mean = np.average(pts, axis=0, weights=ws + 1e-12)
            near = np.argsort(((pts - mean) ** 2).sum(1), kind="stable")[:_CANDIDATES]
            cand = members[near]
        if distances is None:
            d = np.linalg.norm(xy[cand][:, None, :] - pts[None, :, :], axis=2)
        else:
            d = distances.take(cand, 0).take(members, 1)
        centres[s] = int(cand[int(np.argmin(d @ ws))])
    return centres


def pairwise_distances(xy: np.ndarray, other: np.ndarray | None = None) -> np.ndarray:
    """The distance from every point of ``xy`` to every point of ``other`` (of ``xy``
    by default): to the last bit ``sqrt(dx² + dy²)`` as :func:`median_atoms` computes
    it, in a few passes.

    >>> pairwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]])).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """
    other = xy if other is None else other
    dx = np.subtract.outer(xy[:, 0], other[:, 0])
    dy = np.subtract.outer(xy[:, 1], other[:, 1])
    dx *= dx
    dy *= dy
    dx += dy
    return np.sqrt(dx, out=dx)
