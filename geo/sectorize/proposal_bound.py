"""The bound every proposal of the engine gets: « à au plus X % du meilleur plan possible ».

The bound is that of the design's p-median with balance (:mod:`geo.sectorize.bound`: same
``k``, band and whole communes), each sector restricted to the atoms within its reach
(:func:`geo.sectorize.fixing.reach_mask`: a sector of one piece cannot hold them): the
continuous Lagrangian bound, strengthened by the Dantzig-Wolfe bound of whole balanced
sectors (:mod:`geo.sectorize.dantzig_wolfe`, whose first columns are the proposal's own
sectors). Both are valid at any time, so the budget only decides how close to its limit
the bound gets (on Belfort res 8, k = 8: 721.6 m in 0.6 s of CPU, where the continuous
bound stops at 666.7 m; optimum 754.8 m; ``bench/RESULTS.md``, bound25).

Both keep the atoms whole: when the proposal splits a small commune (the engine does to
reach the balance), the instance is that of every plan, communes split or not; when it
splits another atom, the continuous bound alone is given, as before.
"""

from __future__ import annotations

import math
import time

import numpy as np

from geo.errors import InfeasibleDesignError
from geo.metrics import french_number
from geo.plan import SectorPlan
from geo.plan_bound import PlanBound
from geo.pmedian import pmedian_distance
from geo.sectorize.bound import (
    DEFAULT_BOUND_BUDGET_S,
    MAX_BOUND_CELLS,
    Instance,
    build_instance,
    lagrangian_bound,
)
from geo.sectorize.dantzig_wolfe import column_bound
from geo.sectorize.fixing import reach_mask, restricted
from geo.sectorize.growth import DEFAULT_TOLERANCE, DEFAULT_WHOLE_COMMUNE_POPULATION

#: Up to this many atoms, the continuous Lagrangian bound gets :data:`LAGRANGIAN_SHARE` of
#: the budget and the column generation the rest, where the columns raise the bound most
#: (the 14 km square, k = 12, communes whole, 78 atoms: 4.7 % proven on its best seed
#: against 5.8 % with the continuous bound alone); beyond, the continuous bound gets the
#: whole budget and the columns only what it leaves, because a round of pricing over
#: hundreds of atoms costs more than the columns bring (Belfort res 9, communes split, 661
#: atoms: 6.0 % proven at k = 8 against 10.0 %, 10.6 % at k = 12 against 17.3 %;
#: ``bench/RESULTS.md``, the session's last runs of 2026-12-07, afternoon).
COLUMN_ATOMS = 200
LAGRANGIAN_SHARE = 0.5


def proposal_bound(
    plan: SectorPlan,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    whole_commune_population: float = DEFAULT_WHOLE_COMMUNE_POPULATION,
    budget_s: float = DEFAULT_BOUND_BUDGET_S,
    max_cells: int = MAX_BOUND_CELLS,
) -> PlanBound:
    """A heuristic plan's :class:`PlanBound` (module docstring), ``none`` with the reason
    when it is skipped. ``budget_s`` is in CPU seconds of the calling thread, so the bound
    reached is the same whatever else the machine (or the server's other threads) is
    doing."""
    started, started_cpu = time.monotonic(), time.thread_time()
    graph = plan.graph
    objective = pmedian_distance(graph.centroids, graph.workload, plan.assignment, plan.k)

    def none(reason: str) -> PlanBound:
        return PlanBound(
            method="lagrangian",
            status="none",
            objective_m=objective,
            lower_m=None,
            seconds=time.monotonic() - started,
            reason=reason,
        )

    if budget_s <= 0:
        return none("désactivée : aucun temps n'est accordé au calcul de la borne")
    if plan.k < 2:
        return PlanBound("lagrangian", "optimal", objective, objective, 0.0)
    if graph.n * graph.n > max_cells:
        return none(
            f"{french_number(graph.n)} unités : au-delà de "
            f"{french_number(math.isqrt(max_cells))}, la borne n'est pas calculée"
        )
    try:
        inst = build_instance(
            graph,
            plan.k,
            tolerance=tolerance,
            whole_commune_population=whole_commune_population,
        )
        if (atom_sector := _atom_sectors(inst, plan.assignment)) is None:
            # the engine split a small commune to balance: compare with every plan
            inst = build_instance(graph, plan.k, tolerance=tolerance, whole_commune_population=0)
            atom_sector = _atom_sectors(inst, plan.assignment)
    except InfeasibleDesignError as exc:
        return none(f"aucun plan ne tient les contraintes : {exc}")
    inst = restricted(inst, reach_mask(inst))
    # the continuous bound first, then the Dantzig-Wolfe bound from its multipliers with
    # the time left (see COLUMN_ATOMS)
    share = LAGRANGIAN_SHARE if inst.atoms.n <= COLUMN_ATOMS else 1.0
    clock = time.thread_time
    result = lagrangian_bound(inst, upper=objective, budget_s=share * budget_s, clock=clock)
    left = budget_s - (clock() - started_cpu)
    if atom_sector is not None and math.isfinite(result.lower) and left > 0:
        columns = column_bound(
            inst, plan=atom_sector, u=result.u, upper=objective, budget_s=left, clock=clock
        )
        lower = max(result.lower, columns.lower)
    else:
        lower = result.lower
    if not math.isfinite(lower):
        return none("aucun plan équilibré n'existe pour cette borne")
    return PlanBound(
        method="lagrangian",
        status="bound",
        objective_m=objective,
        lower_m=lower,
        seconds=time.monotonic() - started,
    )


def _atom_sectors(inst: Instance, assignment: np.ndarray) -> np.ndarray | None:
    """Each atom's sector in the plan, None when the plan splits an atom."""
    atom_sector = np.full(inst.atoms.n, -1)
    atom_sector[inst.atoms.of] = assignment
    if (atom_sector[inst.atoms.of] != assignment).any():
        return None
    return atom_sector
