"""The exact mode: the p-median with balance and contiguity, solved to proven optimality.

:class:`ExactDesign` draws the plan that minimises the objective of
:mod:`geo.pmedian` (workload-weighted mean distance from each unit to its sector's
median unit) among all plans whose sectors hold ``k`` workloads within ``±tolerance`` of
the mean, are each of one piece over the unit graph (open edges and island links), keep
the atoms whole (small communes, QPV, small islands: :func:`~geo.sectorize.atoms.build_atoms`)
and honour the fixed seeds (sector ``i`` holds seed ``i``) and the locked units.

**Model.** The Hess model of districting (Hess et al. 1965) over atoms ``a`` and candidate
centres ``c`` (every unit): ``x[a, c] = 1`` when atom ``a`` is served from ``c``, and
``x[atom(c), c]`` says that ``c`` is a centre (its own atom is in its sector). Each atom
has one centre, ``k`` centres are open, ``x[a, c] ≤ x[atom(c), c]``, and each open centre's
workload lies in the band. Fixed sectors: atoms of one sector share their centre, atoms of
two sectors never do. Its objective ``Σ cost[a, c] · x[a, c]`` is the p-median distance
(:class:`~geo.sectorize.bound.Instance`).

**Contiguity** is imposed by *a,b-separator* inequalities (Validi, Buchanan & Lykhovyd
2022, §3): when a set ``S`` of atoms separates atom ``a`` from ``atom(c)``,
``x[a, c] ≤ Σ_{v ∈ S} x[v, c]``. The model starts with the *rings*: the atoms at 1, 2 and
3 hops from ``a``, and at 1 and 2 hops from ``atom(c)``, when ``atom(c)`` is farther
(:func:`~geo.sectorize.hess.hess_model`). Before branching, its linear relaxation is
solved and the separators it violates are added, found by maximum flow, until none is
(:func:`~geo.sectorize.separation.fractional_separators`). A first round branches on the
centres alone, the assignments continuous, when its share of the time is not 0 (off by
default: :func:`~geo.sectorize.root.centres_first`, a relaxation whose bound is kept).
Then HiGHS searches the whole model; when it
meets a solution whose sectors are not all of one piece, for each stray component ``C``
the minimal separator of ``N(C)`` on the centre's side is queued
(:func:`~geo.sectorize.separation.integral_separators`); once the round's bound is within
:data:`RESTART_GAP` of the best such solution (which caps it), the search is stopped, the
separators added and the search starts again on the same model (HiGHS 1.16 calls no
lazy-constraint callback; ``bench/RESULTS.md``, part G). Every round
is a relaxation of the full model, so its dual bound is a proven lower bound; every
solution met whose sectors are all of one piece is a feasible plan (kept through HiGHS's
``cbMipImprovingSolution`` callback); one in pieces is repaired when it can be (each stray
piece joins a neighbouring sector that stays in the band:
:func:`~geo.sectorize.hess.repair`).

**Balance** is a packing of whole atoms that the relaxation sees badly: knapsack cover cuts
of the balance rows (:mod:`geo.sectorize.covers`) are separated at the root too.

**Variable fixing** (:mod:`geo.sectorize.fixing`) removes the assignments no plan better
than the best known can use, before the model is built: those out of *reach* (every path
of atoms from the centre to the atom weighs more than the band's top: Validi et al. §4.1),
those whose Lagrangian reduced cost (:mod:`geo.sectorize.bound`, whose subproblems respect
the reach) lifts the bound above the warm start's value (Beasley 1993), and the centres
left with no such assignment. At the root, the relaxation's own reduced costs fix more
(:func:`~geo.sectorize.separation.reduced_cost_fixing`), and probing the candidate
centres closes more: a centre whose relaxation with ``y = 1`` (cuts separated again
within the probe) is worth more than the best plan known is closed, one whose relaxation
with ``y = 0`` is, opened (:mod:`geo.sectorize.probing`; the root's sweeps:
:mod:`geo.sectorize.root`). On Belfort res 8, k = 8, 27 % of
the atoms x units assignments remain (``bench/RESULTS.md``).

**Polish.** When a round's best plan is :data:`POLISH_GAIN` below the last plan polished
(the warm start's at first), the round is stopped and the plan polished by exact
re-partitions of 2 or 3 neighbouring sectors over the model's pairs
(:mod:`geo.sectorize.lns`, a large-neighbourhood search within :data:`POLISH_SHARE` of
the time limit in CPU seconds); the columns whose Lagrangian bound exceeds the polished
plan are fixed to 0 and the next round starts from it (``bench/RESULTS.md``, exact25).

**Warm start and bound.** The best of a few plans of the heuristic engine with the same
parameters (:mod:`geo.sectorize.warm`) is given to HiGHS with ``setSolution``; the search
stops at ``time_limit`` seconds or at a relative gap of :data:`OPTIMALITY_GAP` (0.01 %:
« optimum prouvé » means proven within 0.01 %). The
``cbMipInterrupt`` callback reports the incumbent and the bound through ``progress`` and
interrupts HiGHS when ``progress`` raises (a cancelled job): the best plan found is kept.
With no heuristic plan, the model with one centre per atom (which unit of an atom is the
centre does not change whether a plan exists) finds one or proves there is none, in a
quarter of the time. A model too large to be built by the time limit (``hess_model``'s
deadline) is not searched: the warm start is kept with the Lagrangian bound (issue 25's
battery, ``bench/battery_methods.py``: Belfort's 991 units split at 10 s took 177 s).

The result is a :class:`~geo.plan.SectorPlan` whose ``bound`` (:class:`~geo.plan_bound.PlanBound`)
says « optimum prouvé », or « meilleur plan trouvé, à au plus X % de l'optimum (écart prouvé
au bout de S s) »; or :class:`~geo.errors.InfeasibleDesignError` saying what is proven
impossible.

References
----------
* Hess, S. W., Weaver, J. B., Siegfeldt, H. J., Whelan, J. N., Zitlau, P. A. (1965).
  Nonpartisan political redistricting by computer. *Operations Research* 13(6), 998-1006.
* Validi, H., Buchanan, A., Lykhovyd, E. (2022). Imposing contiguity constraints in
  political districting models. *Operations Research* 70(2), 867-892.
* Beasley, J. E. (1993). Lagrangean heuristics for location problems. *European Journal
  of Operational Research* 65(3), 383-399.
* Shirabe, T. (2009). Districting modeling with exact contiguity constraints.
  *Environment and Planning B* 36(6), 1053-1066 (the flow alternative, not used here).
* Huangfu, Q., Hall, J. A. J. (2018). Parallelizing the dual revised simplex method.
  *Mathematical Programming Computation* 10, 119-142 (HiGHS); highspy 1.16 callbacks
  (``cbMipImprovingSolution``, ``cbMipInterrupt``) and ``Highs.setSolution``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import highspy
import numpy as np

from geo.errors import InfeasibleDesignError, PsqError
from geo.metrics import french_number, french_percent, violations
from geo.plan import SectorPlan, sector_names
from geo.plan_bound import PlanBound
from geo.sectorize.atoms import small_communes
from geo.sectorize.base import Progress, Sectorizer, no_progress
from geo.sectorize.bound import Instance, build_instance, check_exact_size, lagrangian_bound
from geo.sectorize.cuts import add_cuts
from geo.sectorize.fixing import assignment_bounds, connected_to_home, reach_mask, restricted
from geo.sectorize.growth import DEFAULT_TOLERANCE, DEFAULT_WHOLE_COMMUNE_POPULATION, RegionGrowth
from geo.sectorize.hess import OutOfTime, contiguous, hess_model, repair, sector_labels
from geo.sectorize.lns import Search, improve
from geo.sectorize.root import centres_first, root_cuts
from geo.sectorize.separation import integral_separators
from geo.sectorize.warm import warm_start
from geo.unit_graph import UnitGraph

DEFAULT_TIME_LIMIT_S = 60.0
MIN_TIME_LIMIT_S = 1.0
MAX_TIME_LIMIT_S = 1800.0
#: The most cut rounds (each one a new solve); each usually adds few separators.
MAX_ROUNDS = 200
#: The relative gap under which a round, and the search, is solved (HiGHS's default):
#: smaller gaps cost long searches for the last digits of a relaxation that may still be
#: cut off by contiguity.
OPTIMALITY_GAP = 1e-4
FIRST_PLAN_SHARE = 0.25  # no heuristic plan: the share of the time left to find one
#: A round meeting a solution in pieces goes on while it is more than this share above the
#: round's bound, then stops to add its separators and start again (stopping at once never
#: passed the root bound of the 14 km square, k = 12: bench/RESULTS.md part G).
RESTART_GAP = 0.01
#: A round is stopped when its best plan is this share below the last plan the
#: large-neighbourhood search polished (the warm start's at first), so that the search
#: polishes it (:mod:`geo.sectorize.lns`), within :data:`POLISH_SHARE` of the time limit
#: in CPU seconds; the next round starts from the polished plan.
POLISH_GAIN = 0.005
POLISH_SHARE = 0.2
log = logging.getLogger(__name__)


def stage(objective: float | None, lower: float | None) -> str:
    """The job's stage while the solver runs (at most 100 characters).

    >>> stage(712.0, 689.0)
    'exact: meilleur plan : 712 m, borne : 689 m, écart 3,2\u202f%'
    """
    best = f"{french_number(objective)} m" if objective is not None else "aucun"
    bound = f"{french_number(lower)} m" if lower is not None and math.isfinite(lower) else "—"
    text = f"exact: meilleur plan : {best}, borne : {bound}"
    if objective and lower is not None and math.isfinite(lower):
        text += f", écart {french_percent(max(0.0, (objective - lower) / objective))}"
    return text


class ExactDesign(Sectorizer):
    """The p-median plan with balance and contiguity, with its proof (module docstring).

    Parameters are those of :class:`~geo.sectorize.RegionGrowth`, plus ``time_limit``
    (seconds of search), ``warm_start``, the sectorizer whose plan starts the search
    (``None``: none), and ``fixing`` (False: the whole model, without
    :mod:`geo.sectorize.fixing`, for the tests that compare both).
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        target_workload: float | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
        whole_commune_population: float = DEFAULT_WHOLE_COMMUNE_POPULATION,
        commune_population: Mapping[str, float] | None = None,
        seeds: Sequence[str] = (),
        locked: Mapping[str, int] | None = None,
        time_limit: float = DEFAULT_TIME_LIMIT_S,
        warm_start: Sectorizer | None = None,
        fixing: bool = True,
    ) -> None:
        RegionGrowth(k, target_workload=target_workload, tolerance=tolerance)  # checks
        self.k = k
        self.target_workload = target_workload
        self.tolerance = tolerance
        self.whole_commune_population = whole_commune_population
        self.commune_population = commune_population
        self.seeds = list(seeds)
        self.locked = dict(locked or {})
        self.time_limit = float(time_limit)
        self.warm_start = warm_start
        self.fixing = fixing

    def solve(
        self,
        graph: UnitGraph,
        *,
        rng: np.random.Generator,
        progress: Progress = no_progress,
    ) -> SectorPlan:
        started = time.monotonic()
        check_exact_size(graph.n)
        progress(0.01, "atoms")
        inst = build_instance(
            graph,
            self.k,
            target_workload=self.target_workload,
            tolerance=self.tolerance,
            whole_commune_population=self.whole_commune_population,
            commune_population=self.commune_population,
            seeds=self.seeds,
            locked=self.locked,
        )
        start = self._warm_start(graph, inst, rng)
        if start is None and inst.atoms.n < graph.n:  # no plan to start from: find one
            left = self.time_limit - (time.monotonic() - started)
            probe = _Solver(inst, FIRST_PLAN_SHARE * left, time.monotonic(), progress, atoms=True)
            probe.run(None)
            if probe.proven_infeasible:
                raise InfeasibleDesignError("exact_infeasible", k=inst.k, what=self._what(inst))
            start = probe.best
        solver = _Solver(inst, self.time_limit, started, progress, fixing=self.fixing)
        solver.run(start)
        return self._plan(graph, inst, solver, time.monotonic() - started)

    def _what(self, inst: Instance) -> str:
        fixed = " avec ses germes et unités verrouillées" if self.seeds or self.locked else ""
        if inst.atoms.n < inst.graph.n and 0 < (under := self.whole_commune_population) < math.inf:
            fixed += f", les communes de moins de {french_number(under)} habitants entières,"
        return f"d'un seul tenant{fixed} ne tient l'équilibre de ±{french_percent(self.tolerance)}"

    def _warm_start(
        self, graph: UnitGraph, inst: Instance, rng: np.random.Generator
    ) -> tuple[np.ndarray, float] | None:
        """The warm start (:func:`geo.sectorize.warm.warm_start`)."""
        return warm_start(self.warm_start, self.time_limit, graph, inst, rng)

    def _plan(
        self, graph: UnitGraph, inst: Instance, solver: _Solver, seconds: float
    ) -> SectorPlan:
        if solver.best is None:
            if solver.proven_infeasible:
                raise InfeasibleDesignError("exact_infeasible", k=inst.k, what=self._what(inst))
            if solver.stopped is not None:
                raise solver.stopped
            known = (
                f" ; borne inférieure {french_number(solver.lower)} m"
                if math.isfinite(solver.lower)
                else ""
            )
            raise InfeasibleDesignError(
                "exact_nothing_in_time",
                field="time_limit",
                k=inst.k,
                seconds=french_number(self.time_limit),
                known=known,
            )
        atom_sector, objective = solver.best
        labels = sector_labels(inst, atom_sector)
        assignment = labels[atom_sector][inst.atoms.of]
        bound = PlanBound.exact(objective, solver.lower, seconds, OPTIMALITY_GAP)
        notes = list(inst.atoms.notes)
        if solver.stopped is not None:
            notes.append(f"recherche arrêtée ({solver.stopped}) : meilleur plan trouvé gardé")
        plan = SectorPlan(
            graph=graph,
            assignment=assignment,
            names=sector_names(inst.k),
            seeds=inst.seed_units,
            notes=tuple(notes),
            bound=bound,
        )
        population = RegionGrowth(inst.k, commune_population=self.commune_population)._population(
            graph
        )
        whole = small_communes(graph, self.whole_commune_population, population)
        return replace(plan, violations=tuple(violations(plan, self.tolerance, whole)))


class _Solver:
    """The Hess model in HiGHS and the cut loop (module docstring)."""

    def __init__(
        self,
        inst: Instance,
        time_limit: float,
        started: float,
        progress: Progress,
        *,
        fixing: bool = True,
        atoms: bool = False,
    ) -> None:
        self.inst = inst
        self.use_fixing = fixing
        self.one_per_atom = atoms
        self.time_limit = time_limit
        self.started = started
        self.progress = progress
        self.best: tuple[np.ndarray, float] | None = None
        self.lower = -math.inf
        self.proven_infeasible = False
        self.stopped: PsqError | None = None
        self.rounds = 0
        self.cuts = 0
        self.allowed: np.ndarray | None = None
        #: Separators of the round's solutions in pieces, added when the round stops, and
        #: the best value of those solutions.
        self.pending: dict[tuple[int, ...], list[float]] = {}
        self.in_pieces = math.inf
        self.fixed_stats: dict[str, int] = {}
        #: The root's columns of the best plan known, and those that may be fixed to 0.
        self.incumbent = np.zeros(0, dtype=bool)
        self.fixable = np.zeros(0, dtype=bool)
        #: The value of the last plan polished, and the polish's CPU seconds and proofs.
        self.polished = math.inf
        self.polish_cpu = 0.0
        self.lns = Search()
        #: The Lagrangian bound of every plan using each pair (atoms x units), if known.
        self.pair_bound: np.ndarray | None = None

    # -- the model ------------------------------------------------------------------------
    def _candidates(self, start: tuple[np.ndarray, float] | None) -> np.ndarray:
        """The candidate centres, with the pairs left after fixing in ``self.allowed``
        (:mod:`geo.sectorize.fixing`): none when the balance is proven impossible."""
        inst = self.inst
        if self.one_per_atom:  # is there a plan? any unit of an atom is as good a centre
            self.allowed = np.ones((inst.atoms.n, inst.atoms.n), dtype=bool)
            return np.unique(inst.home, return_index=True)[1]
        if not self.use_fixing:  # the whole model: every unit a candidate, every pair
            self.allowed = np.ones((inst.atoms.n, inst.graph.n), dtype=bool)
            return np.arange(inst.graph.n)
        reach = reach_mask(inst)
        budget = min(2.0, 0.1 * self.time_limit)
        lag = lagrangian_bound(  # a budget of CPU: the same fixing under any load
            restricted(inst, reach),
            upper=start[1] if start else None,
            budget_s=budget,
            clock=time.process_time,
        )
        if lag.lower == math.inf:
            self.proven_infeasible = True
            return np.array([], dtype=int)
        self.lower = max(self.lower, lag.lower)
        keep = reach & np.isfinite(lag.rho)[None, :]
        if start is not None:
            bounds = self.pair_bound = assignment_bounds(restricted(inst, reach), lag)
            keep &= bounds <= start[1] * (1 + 1e-7) + 1e-9
            medians = self._medians(start[0])
            keep[np.arange(inst.atoms.n), medians[start[0]]] = True
        centres = np.flatnonzero(keep[inst.home, np.arange(inst.graph.n)])
        self.allowed = connected_to_home(inst, keep[:, centres], centres)
        self.fixed_stats = {
            "pairs": inst.atoms.n * inst.graph.n,
            "reach": int(reach.sum()),
            "kept": int(self.allowed.sum()),
        }
        return centres

    def _medians(self, atom_sector: np.ndarray) -> np.ndarray:
        from geo.pmedian import median_centres

        g = self.inst.graph
        centres, _ = median_centres(
            g.centroids, g.workload, atom_sector[self.inst.atoms.of], int(atom_sector.max()) + 1
        )
        return centres

    def _build(self, centres: np.ndarray) -> highspy.Highs:
        self.centres = centres
        deadline = self.started + self.time_limit
        solver, self.var, self.home = hess_model(self.inst, centres, self.allowed, deadline)
        self.pair_atom, self.pair_centre = np.nonzero(self.var >= 0)
        return solver

    def _decode(self, values: np.ndarray) -> np.ndarray:
        """Each atom's group: the position of its centre in ``centres``."""
        dense = np.zeros(self.var.shape)
        dense[self.pair_atom, self.pair_centre] = np.asarray(values)[: len(self.pair_atom)]
        return np.argmax(dense, axis=1)

    def _vector(self, atom_sector: np.ndarray) -> np.ndarray | None:
        """The model's values of a plan (its median centres), or None if one of its
        assignments was left out of the model."""
        medians = self._medians(atom_sector)
        position = {int(c): j for j, c in enumerate(self.centres)}
        if any(int(c) not in position for c in medians):
            return None
        columns = self.var[
            np.arange(self.inst.atoms.n), [position[int(medians[s])] for s in atom_sector]
        ]
        if (columns < 0).any():
            return None
        x = np.zeros(len(self.pair_atom))
        x[columns] = 1
        return x

    def _separators(self, group: np.ndarray) -> tuple[list[list[int]], list[list[float]]]:
        return integral_separators(self.inst, self.var, self.home, group)

    # -- the loop -------------------------------------------------------------------------
    def _remaining(self) -> float:
        return self.time_limit - (time.monotonic() - self.started)

    def _report(self) -> None:
        objective = self.best[1] if self.best else None
        fraction = 0.05 + 0.9 * min(1.0, (time.monotonic() - self.started) / self.time_limit)
        self.progress(fraction, stage(objective, self.round_lower))

    def _improving(self, event: Any) -> None:
        """An improving solution of the round: kept if it is a plan (or repairs into one);
        in pieces, its separators are queued and the round stops to add them (the lazy
        constraints that highspy 1.16 cannot take within a search)."""
        group = self._decode(event.data_out.mip_solution)
        rows, coefs = self._separators(group)
        for row, coef in zip(rows, coefs, strict=True):
            self.pending.setdefault(tuple(row), coef)
        if rows:
            value = float(event.data_out.objective_function_value)
            self.in_pieces = min(self.in_pieces, value)
        self._offer(group)

    def _offer(self, group: np.ndarray) -> None:
        """Keep a solution as the best plan when its sectors are of one piece and it is
        better (groups renumbered ``0 … k-1``)."""
        group = np.unique(group, return_inverse=True)[1]
        if int(group.max()) + 1 != self.inst.k:
            return
        if not contiguous(self.inst, group):
            repaired = repair(self.inst, group)
            if repaired is None:
                return
            group = repaired
        objective = self.inst.objective(group)
        if self.best is None or objective < self.best[1] - 1e-9:
            self.best = (group, objective)

    def _restart(self, bound: float) -> bool:
        """Whether the round should stop to add the separators of its solutions in pieces:
        once its bound is within :data:`RESTART_GAP` of the best of them (the round's
        bound cannot pass that solution's value; before that, the search still lifts it:
        every round is a relaxation, its bound a proven lower bound)."""
        if not self.pending:
            return False
        return self.in_pieces - bound <= RESTART_GAP * max(abs(self.in_pieces), 1.0)

    def _polish_due(self) -> bool:
        """Whether the best plan is :data:`POLISH_GAIN` below the last one polished, with
        CPU left for the polish."""
        if self.best is None or self.polish_cpu >= POLISH_SHARE * self.time_limit:
            return False
        return self.best[1] < self.polished * (1 - POLISH_GAIN)

    def _polish(self, h: highspy.Highs) -> bool:
        """Polish the best plan by the large-neighbourhood search (:mod:`geo.sectorize.lns`)
        when due, and fix to 0 the columns whose Lagrangian bound exceeds the polished plan
        (as :mod:`geo.sectorize.fixing` did against the warm start); whether it ran."""
        if not self._polish_due():
            return False
        assert self.best is not None and self.allowed is not None
        allowed = np.zeros((self.inst.atoms.n, self.inst.graph.n), dtype=bool)
        allowed[:, self.centres] = self.allowed
        started = time.process_time()
        budget = min(POLISH_SHARE * self.time_limit - self.polish_cpu, self._remaining())
        before = self.best[1]
        deadline = self.started + self.time_limit
        self.best = improve(
            self.inst, self.best, budget, search=self.lns, allowed=allowed, deadline=deadline,
            going=self._check,
        )  # fmt: skip
        self.polished = self.best[1]
        self.polish_cpu += time.process_time() - started
        fixed = 0
        if self.pair_bound is not None:
            bound = self.pair_bound[self.pair_atom, self.centres[self.pair_centre]]
            over = (bound > self.best[1] * (1 + 1e-7) + 1e-9) & self.fixable
            if (x := self._vector(self.best[0])) is not None:
                over &= x < 0.5  # the polished plan stays in the model, whatever rounding
            cols = np.flatnonzero(over).astype(np.int32)
            zero = np.zeros(len(cols))
            h.changeColsBounds(len(cols), cols, zero, zero)
            fixed = len(cols)
        log.debug("polish %.1f -> %.1f m, %.1f s CPU, %d more columns fixed",
                  before, self.best[1], self.polish_cpu, fixed)  # fmt: skip
        return True

    def _interrupt(self, event: Any) -> None:
        bound = float(event.data_out.mip_dual_bound)
        self.round_lower = max(self.lower, bound)
        try:
            self._report()
        except PsqError as exc:
            self.stopped = exc
        if self.stopped is not None or self._restart(bound) or self._polish_due():
            event.interrupt()
        else:  # HiGHS keeps the flag from the round before
            event.data_in.user_interrupt = False

    def _check(self) -> bool:
        """Report progress; False once ``progress`` asked to stop (a cancelled job), which
        is raised again only when there is no plan to keep."""
        try:
            self._report()
        except PsqError as exc:
            if self.best is None:
                raise
            self.stopped = exc
        return self.stopped is None

    def _add_rows(self, h: highspy.Highs, rows: list[list[int]], coefs: list[list[float]]) -> None:
        """Add cuts ``Σ coef·x ≤ 0``."""
        add_cuts(h, rows, coefs)
        self.cuts += len(rows)

    def run(self, start: tuple[np.ndarray, float] | None) -> None:
        self.best = start
        self.round_lower = self.lower
        if not self._check():
            return
        centres = self._candidates(start)  # the bound: kept even past the time limit
        if self.proven_infeasible or not self._check() or self._remaining() <= 0:
            return
        if len(centres) == 0:
            self.lower = start[1] if start else self.lower
            return
        try:
            h = self._build(centres)
        except OutOfTime:  # the model is too large for the time limit: the start is kept
            return
        log.debug("fixing %s, %d centres", self.fixed_stats, len(centres))
        if not self._check():
            return
        root_cuts(self, h)
        if not self._check():
            return
        centres_first(self, h)
        if not self._check():
            return
        self.polished = start[1] if start is not None else math.inf
        h.cbMipImprovingSolution.subscribe(self._improving)
        h.cbMipInterrupt.subscribe(self._interrupt)
        while self.rounds < MAX_ROUNDS:
            remaining = self._remaining()
            if remaining <= 0.05 or self.stopped is not None:
                break
            self.rounds += 1
            h.setOptionValue("time_limit", remaining)
            if self.best is not None and (x := self._vector(self.best[0])) is not None:
                h.setSolution(len(x), np.arange(len(x), dtype=np.int32), x)
            h.run()
            status = h.getModelStatus()
            info = h.getInfo()
            log.debug(
                "round %d %s objective %.1f bound %.1f columns %d rows %d at %.1f s",
                self.rounds,
                status,
                info.objective_function_value,
                info.mip_dual_bound,
                h.getNumCol(),
                h.getNumRow(),
                time.monotonic() - self.started,
            )
            if status == highspy.HighsModelStatus.kInfeasible:
                if self.best is None:
                    self.proven_infeasible = True
                break
            bound = float(info.mip_dual_bound)
            if math.isfinite(bound):
                self.lower = max(self.lower, bound)
            self.round_lower = self.lower
            if status == highspy.HighsModelStatus.kOptimal:
                group = self._decode(np.asarray(h.getSolution().col_value))
                rows, coefs = self._separators(group)
                self._offer(group)
                for row, coef in zip(rows, coefs, strict=True):
                    self.pending.setdefault(tuple(row), coef)
            elif status != highspy.HighsModelStatus.kInterrupt or self.stopped is not None:
                break
            interrupted = status == highspy.HighsModelStatus.kInterrupt
            if (interrupted or self.pending) and self._polish(h) and not self.pending:
                continue  # the next round starts from the polished plan
            if not self.pending:
                break
            rows, coefs = [list(r) for r in self.pending], list(self.pending.values())
            self.pending = {}
            self.in_pieces = math.inf
            self._add_rows(h, rows, coefs)
        if self.best is not None and self.lower >= self.best[1] * (1 - OPTIMALITY_GAP):
            self.lower = self.best[1]
