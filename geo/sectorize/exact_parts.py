"""The exact mode on a territory in several parts whose sectors cannot all be balanced.

A territory in several parts (:mod:`geo.parts`: an exclave, two communes separated by
another police zone…) is designed by the heuristic part by part
(:class:`~geo.sectorize.partitioned.PartitionedDesign`): each part gets a whole number of
sectors. When no such apportionment puts every part's mean sector workload in the band
(part 2 weighs 8 473 and part 1 11 623 for k = 3: 2 + 1 sectors, part 2 at 26 % above the
mean), every plan of the heuristic misses the band, so none is a warm start of the exact
model (:mod:`geo.sectorize.warm`), whose only balanced plans have a sector straddling the
link between two parts. HiGHS then found no plan in 10 s on 7 runs of issue 25's battery
(``bench/battery_methods.py``, ``bench/RESULTS.md`` twopart25), and the exact mode answered
« aucun découpage trouvé » while the heuristic had a plan.

:class:`ExactParts` decides each part's number of sectors first, as the heuristic does
(:meth:`~geo.sectorize.partitioned.PartitionedDesign.layout`), and when that split cannot
hold the band it solves the parts separately with the exact model
(:class:`~geo.sectorize.exact.ExactDesign`), each part with the band the heuristic gives it
(:meth:`~geo.sectorize.partitioned.Layout.part_tolerance`) and warm-started from the
heuristic's plans of that part, within :data:`PARTS_SHARE` of the time limit shared by
the parts' sizes. A part the exact model finds nothing for with its small communes whole
is solved again with them splittable, as the heuristic relaxes them (essonne-two-parts-0,
communes whole: part 1's band is ±0.8 % around its mean), else keeps the heuristic's plan. The
plan's bound is the parts' bounds weighted by their workloads: valid **for that split**
of the sectors across the parts, each part balanced around its own mean, with no sector
straddling two parts; the bound's sentence and the notes say so.

The time left goes to the exact model of the whole territory, with no warm start: a plan
it finds is balanced (a sector straddles a link) and is returned instead; a proof that it
has none is said in the notes (« preuve du solveur »), else that the imbalance is only
suspected. When the split holds the band (or the territory is in one part), or a part
cannot be designed on its own (a unit heavier than its band), the exact model of the whole
territory runs as before, warm-started by the heuristic. A cancelled job (``progress``
raising) keeps the plan of the parts, the heuristic's for those not solved yet.
"""

from __future__ import annotations

import copy
import dataclasses
import time

import numpy as np

from geo.errors import InfeasibleDesignError, PsqError
from geo.metrics import french_number, french_percent, violations
from geo.plan import SectorPlan, sector_names
from geo.plan_bound import PlanBound
from geo.pmedian import pmedian_distance
from geo.sectorize.base import Progress, Sectorizer, no_progress
from geo.sectorize.bound import check_exact_size
from geo.sectorize.by_area import area_graph, on_workload
from geo.sectorize.exact import OPTIMALITY_GAP, ExactDesign
from geo.sectorize.growth import RegionGrowth
from geo.sectorize.partitioned import Layout, PartitionedDesign
from geo.unit_graph import UnitGraph

#: The share of the time limit the parts are solved within (shared by their units); the
#: rest goes to the exact model of the whole territory.
PARTS_SHARE = 0.5
#: The whole territory's model is not tried with less time left than this (seconds).
MIN_WHOLE_S = 0.5
#: What the parts' exact model may answer when it finds nothing: the heuristic's plan.
NO_EXACT_PLAN = ("exact_infeasible", "exact_nothing_in_time")


class ExactParts(Sectorizer):
    """The exact mode (``exact``) around the heuristic's split of the sectors across the
    parts (``heuristic``), see the module docstring."""

    def __init__(self, exact: ExactDesign, heuristic: PartitionedDesign) -> None:
        self.exact = exact
        self.heuristic = heuristic

    def solve(
        self,
        graph: UnitGraph,
        *,
        rng: np.random.Generator,
        progress: Progress = no_progress,
    ) -> SectorPlan:
        exact = self.exact
        if exact.target_workload is None and (by_area := area_graph(graph)) is not None:
            plan = self.solve(by_area, rng=rng, progress=progress)
            return on_workload(plan, graph, exact.whole_commune_population)
        started = time.monotonic()
        check_exact_size(graph.n)
        layout = self.heuristic.layout(graph)
        if layout.single or layout.holds_band:
            return self.exact.solve(graph, rng=rng, progress=progress)
        guard = _Guard(progress)
        try:
            plan = self._parts(graph, layout, started, rng, guard)
        except InfeasibleDesignError:
            # a part that cannot be designed on its own (a unit heavier than its band:
            # islands only, k = 9): the whole territory's model, as before, says what holds
            whole = copy.copy(exact)
            whole.time_limit = max(MIN_WHOLE_S, exact.time_limit - (time.monotonic() - started))
            return whole.solve(graph, rng=rng, progress=progress)
        left = self.exact.time_limit - (time.monotonic() - started)
        balanced, note = self._whole(graph, layout, left, rng, guard)
        if balanced is not None:
            return balanced
        proven = "preuve du solveur" in note
        said = "infaisabilité prouvée" if proven else "infaisabilité non prouvée"
        found = tuple(
            dataclasses.replace(v, message=f"{v.message} ; {said}")
            if v.constraint == "balance"
            else v
            for v in plan.violations
        )
        if guard.stopped is None:
            progress(1.0, "done")
        return dataclasses.replace(plan, notes=(*plan.notes, note), violations=found)

    def _parts(
        self,
        graph: UnitGraph,
        layout: Layout,
        started: float,
        rng: np.random.Generator,
        progress: _Guard,
    ) -> SectorPlan:
        """Each part by the exact model, warm-started from the heuristic's plans of it (once
        the job is cancelled, the heuristic's plan of each part left)."""
        exact = self.exact
        budget = PARTS_SHARE * exact.time_limit
        notes = list(layout.notes)
        assignment = np.full(graph.n, -1, dtype=int)
        seed_units = np.full(layout.k, -1, dtype=int)
        weights = graph.workload if graph.workload.sum() > 0 else np.ones(graph.n)
        lower: float | None = 0.0
        sizes = np.bincount(layout.group, minlength=layout.count)
        for g in range(layout.count):
            positions = np.flatnonzero(layout.group == g)
            sub = graph.restrict(positions)
            mine = layout.sectors[g]
            design = self.heuristic.part_engine(layout, g, sub)
            spent = time.monotonic() - started
            limit = max(0.2, (budget - spent) * len(positions) / sizes[g:].sum())
            part = ExactDesign(
                design.k,
                tolerance=design.tolerance,
                whole_commune_population=exact.whole_commune_population,
                commune_population=exact.commune_population,
                seeds=design.seeds,
                locked=design.locked,
                time_limit=limit,
                warm_start=design,
                fixing=exact.fixing,
            )
            start = PARTS_SHARE * g / layout.count

            def report(f: float, stage: str, start: float = start) -> None:
                progress(start + PARTS_SHARE * f / layout.count, stage)

            found: SectorPlan | None = None
            try:
                if progress.stopped is None:
                    try:
                        found = part.solve(sub, rng=rng, progress=report)
                    except InfeasibleDesignError as exc:
                        if exc.code not in NO_EXACT_PLAN:
                            raise
                        found, said = self._relaxed(part, design, sub, exc, rng, report)
                        notes.append(f"partie {g + 1} : {said}")
            except PsqError:
                if progress.stopped is None:
                    raise
            if found is None:  # cancelled: the heuristic's plan of the part, quickly
                found = copy.copy(design).solve(sub, rng=rng)
                notes.append(f"partie {g + 1} : recherche arrêtée ({progress.stopped}) : "
                             "plan de l'heuristique")  # fmt: skip
            part_lower = found.bound.lower_m if found.bound is not None else None
            if found.bound is not None and found.bound.status == "optimal":
                part_lower = found.bound.objective_m
            share = float(weights[positions].sum() / weights.sum())
            lower = None if lower is None or part_lower is None else lower + share * part_lower
            assignment[positions] = np.asarray(mine)[found.assignment]
            for j, unit in enumerate(found.seed_units):
                if unit >= 0:
                    seed_units[mine[j]] = positions[unit]
            notes += [f"partie {g + 1} : {note}" for note in found.notes]
        split = " + ".join(map(str, layout.seats))
        notes.append(
            f"mode exact partie par partie ({split} secteurs) : l'optimum et l'écart prouvés "
            "valent pour cette répartition, chaque partie équilibrée autour de sa propre "
            "charge moyenne, sans secteur à cheval sur deux parties"
        )
        plan = SectorPlan(
            graph=graph,
            assignment=assignment,
            names=sector_names(layout.k),
            seeds=seed_units,
            notes=tuple(notes),
        )
        whole = self.heuristic.whole_communes(graph)
        found_violations = tuple(violations(plan, layout.tolerance, whole))
        objective = pmedian_distance(graph.centroids, graph.workload, assignment, layout.k)
        seconds = time.monotonic() - started
        if lower is None:
            reason = "une partie sans plan exact"
            bound = PlanBound("exact", "none", objective, None, seconds, reason)
        else:
            bound = PlanBound.exact(objective, lower, seconds, OPTIMALITY_GAP)
            bound = dataclasses.replace(bound, reason=f"pour la répartition {split} des parties")
        return dataclasses.replace(plan, violations=found_violations, bound=bound)

    def _relaxed(
        self,
        part: ExactDesign,
        design: RegionGrowth,
        sub: UnitGraph,
        exc: InfeasibleDesignError,
        rng: np.random.Generator,
        progress: Progress,
    ) -> tuple[SectorPlan, str]:
        """A part the exact model found no plan for with its small communes whole: the
        exact model again with every commune splittable, warm-started from the
        heuristic's plans (which split them to reach the part's band), in the same time;
        else the heuristic's plan. The plan and the note that says which."""
        threshold = part.whole_commune_population
        if threshold > 0:
            loose = copy.copy(part)
            loose.whole_commune_population = 0.0
            try:
                plan = loose.solve(sub, rng=rng, progress=progress)
            except InfeasibleDesignError as again:
                if again.code not in NO_EXACT_PLAN:
                    raise
            else:
                return plan, (
                    f"communes de moins de {french_number(threshold)} habitants gardées "
                    f"entières, le mode exact n'a pas trouvé de plan ({exc}) : plan exact "
                    "avec ces communes coupées si besoin"
                )
        plan = copy.copy(design).solve(sub, rng=rng)
        return plan, f"plan de l'heuristique, le mode exact : {exc}"

    def _whole(
        self,
        graph: UnitGraph,
        layout: Layout,
        left: float,
        rng: np.random.Generator,
        progress: _Guard,
    ) -> tuple[SectorPlan | None, str]:
        """The exact model of the whole territory in the time ``left``, with no warm start
        (the heuristic's plans miss the band): its plan when it finds one (balanced, a
        sector straddling a link), else the note that says whether it proved none."""
        band = french_percent(layout.tolerance)
        k = layout.k

        def unproven(searched: str = "") -> str:
            return (
                f"équilibre à ±{band} non atteint : aucune répartition des {k} secteurs entre "
                "les parties ne le tient, et aucun plan dont un secteur enjambe la liaison "
                f"entre deux parties n'a été trouvé{searched} (infaisabilité non prouvée)"
            )

        if progress.stopped is not None:
            return None, f"recherche arrêtée ({progress.stopped}) : " + unproven()
        if left < MIN_WHOLE_S:
            return None, unproven()
        whole = copy.copy(self.exact)
        whole.time_limit, whole.warm_start = left, None

        def report(f: float, stage: str) -> None:
            progress(PARTS_SHARE + (1 - PARTS_SHARE) * f, stage)

        try:
            plan = whole.solve(graph, rng=rng, progress=report)
        except InfeasibleDesignError as exc:
            if exc.code == "exact_infeasible":
                return None, f"équilibre impossible sur tout le territoire : {exc}"
            if exc.code == "exact_nothing_in_time":
                return None, unproven(f" en {french_number(left)} s")
            raise
        except PsqError:
            if progress.stopped is None:
                raise
            return None, f"recherche arrêtée ({progress.stopped}) : " + unproven()
        if any(v.constraint == "balance" for v in plan.violations):
            return None, unproven()
        note = (
            f"aucune répartition des {k} secteurs entre les parties ne tient l'équilibre à "
            f"±{band} : le plan exact de tout le territoire le tient, un secteur à cheval "
            "sur une liaison entre deux parties"
        )
        return dataclasses.replace(plan, notes=(*plan.notes, note)), ""


class _Guard:
    """The caller's progress, remembering the stop it asked for (a cancelled job: its
    :class:`~geo.errors.PsqError`), raised again at every later report, so that the plan
    of the parts is kept."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.stopped: PsqError | None = None

    def __call__(self, fraction: float, stage: str) -> None:
        if self.stopped is not None:
            raise self.stopped
        try:
            self.progress(fraction, stage)
        except PsqError as exc:
            self.stopped = exc
            raise
