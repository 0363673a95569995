"""Seeded balanced region growing, then a contiguity-preserving local search.

The engine behind the proposals of PSQ Secteurs. It works on *atoms* (see
:mod:`geo.sectorize.atoms`): single units, or the units of a small commune, a QPV or a
small island fused so that they are never split.

1. **Seeds.** Fixed seeds (police stations, bureaux de police) and locked units anchor
   their sectors; the other sectors get the atoms nearest to the centres of a
   workload-weighted k-means (k-means++ start, Lloyd iterations with the anchored centres
   pinned).
2. **Growth.** Sectors grow together over the barrier-aware graph, the lightest sector
   with a free neighbouring atom taking the one nearest its seed: the balanced
   multi-source growth of D'Amico et al. (2002) and Camacho-Collados, Liberatore &
   Angulo (2015), who design police districts the same way before improving them.
3. **Balance.** Boundary atoms move from a sector out of the tolerance band towards
   lighter neighbours (or into a light sector from heavier ones), choosing the move with
   the least added boundary cost per unit of variance removed, until every sector is
   within the band or no move helps; then a repair phase (annealing on the total distance
   to the band, whose single moves pass an excess along a chain of sectors). An attempt
   that still misses the band starts again from new seeds; when whole communes prevent
   balance in every attempt, the run starts again with communes that may be cut, and the
   plan's notes name those cut.
4. **Shape.** Simulated annealing of single boundary moves that keep every sector in the
   band, then a descent that takes every remaining improving move. The objective is the
   planner's (:mod:`geo.sectorize.objective`): the total cut cost of
   :class:`~geo.sectorize.atoms.CutCosts` (boundary length, more where a commune is cut,
   less along a barrier), a proxy for compactness; the p-median distance to the sectors'
   median units, located again after each pass, from several starts, each regrown from
   its median units, with swaps of two atoms (a city: one start, descent only); or a mix.
   Under the distance objective alone, a territory small enough for the exact cost
   matrix runs one start, then the p-median polish of :mod:`geo.sectorize.median`
   (location-allocation starts, strategic oscillation, shifts and swaps priced on units).

A move never empties a sector, never moves a fixed atom and never disconnects the
sector it leaves (a local test on the neighbours of the atom, then a bounded search).
Step 1 is :mod:`geo.sectorize.seeding`, steps 2 to 4 :mod:`geo.sectorize.search`; this
module checks the request (k, seeds, locked units, atoms too heavy) and runs them.
Spanning-tree recombination (ReCom; DeFord, Duchin & Solomon 2021) explores the space of
balanced plans more widely; :mod:`bench` compares this engine with it on the same units.

References
----------
* D'Amico, S. J., Wang, S.-J., Batta, R., Rump, C. M. (2002). A simulated annealing
  approach to police district design. *Computers & Operations Research* 29(6), 667-684.
* Camacho-Collados, M., Liberatore, F., Angulo, J. M. (2015). A multi-criteria Police
  Districting Problem for the efficient and effective design of patrol sector.
  *European Journal of Operational Research* 246(2), 674-684.
* DeFord, D., Duchin, M., Solomon, J. (2021). Recombination: A family of Markov chains
  for redistricting. *Harvard Data Science Review* 3(1).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from geo.errors import InfeasibleDesignError, InvalidInputError
from geo.metrics import french_number, french_percent, split_communes, violations
from geo.plan import SectorPlan, sector_names
from geo.sectorize import median
from geo.sectorize.atoms import Atoms, CutCosts, build_atoms, small_communes
from geo.sectorize.base import Progress, Sectorizer, no_progress
from geo.sectorize.multilevel import LARGE_ATOMS, hierarchy
from geo.sectorize.objective import distance_share
from geo.sectorize.polish import polish as median_polish
from geo.sectorize.regroup import REGROUP_WORK
from geo.sectorize.search import SectorSearch
from geo.sectorize.seeding import seed_atoms
from geo.unit_graph import UnitGraph

#: Communes below this population are never split (the PSQ doctrine groups small
#: communes and splits large cities).
DEFAULT_WHOLE_COMMUNE_POPULATION = 10_000.0
DEFAULT_TOLERANCE = 0.05
#: The most annealing steps by default: 40 per atom up to 10 000 atoms, then no more.
MAX_DEFAULT_STEPS = 400_000
#: Steps of the balance repair (``SectorSearch.repair``) of an attempt that missed the band.
REPAIR_STEPS_PER_ATOM = 200
MAX_REPAIR_STEPS = 20_000
#: Under a distance objective, the shape phase runs from ``MULTISTART_ATOMS // atoms``
#: starts (at least 1, at most :data:`MAX_STARTS`): several on small territories, one
#: on a city.
MULTISTART_ATOMS = 1_400
#: The most growth attempts when the band is missed (small territories; 3 on large ones).
MAX_RESTARTS = 6
MAX_STARTS = 6
#: Swaps of two atoms in the descent on territories of at most this many atoms (they
#: matter where atoms are few and large; their pass is quadratic in a border's length).
SWAP_ATOMS = 150
#: The fewest steps the starts share on a small territory.
MIN_SHAPE_STEPS = 20_000
#: Regrowths from the median atoms after each start (see ``RegionGrowth._best_shape``),
#: on territories of at most ``MULTISTART_ATOMS`` atoms.
REGROWTHS = 2
#: Under the distance objective, location-allocation starts of the exact p-median
#: polish (:func:`geo.sectorize.polish.polish`): ``LA_ATOMS // atoms``, at most
#: :data:`MAX_LA_STARTS`.
LA_ATOMS = 1_200
MAX_LA_STARTS = 16


class RegionGrowth(Sectorizer):
    """Balanced, contiguous, compact sectors (see the module docstring).

    Parameters
    ----------
    k
        Number of sectors; or give ``target_workload`` and ``k`` is the total workload
        divided by it, rounded (at least 1).
    tolerance
        Allowed relative deviation of each sector's workload from the mean (0.05: ±5 %).
    whole_commune_population
        Communes with fewer inhabitants are never split; ``math.inf``: no commune split.
    commune_population
        Population per commune code; by default the sum of the units' ``population``
        column (if any).
    seeds
        Unit ids: sector ``i`` contains ``seeds[i]`` (e.g. the unit of a commissariat).
    locked
        Unit id → sector index: kept in that sector.
    costs
        Weights of the cut cost (compactness, commune cohesion, barriers).
    steps
        Annealing steps; default ``40 x`` the number of atoms, at most
        :data:`MAX_DEFAULT_STEPS` (only boundary atoms move: a large city's interior
        needs none).
    restarts
        New seeds are drawn up to this many times when the balance phase misses the band;
        by default 3, and more on small territories (up to :data:`MAX_RESTARTS`, while
        ``restarts x atoms`` stays under 20 000), where a run takes milliseconds.
    objective, objective_weight
        What the shape phase minimises (see :mod:`geo.sectorize.objective`):
        ``"boundary"``, ``"distance"`` or ``"mix"`` with ``objective_weight`` the share
        of distance.
    large_atoms
        Above this many atoms the design is multilevel (:mod:`geo.sectorize.multilevel`):
        made on aggregates of atoms, then refined on the atoms.
    oversized
        ``"error"``: an atom heavier than the band's upper bound makes the request
        infeasible; ``"report"``: the plan is made and lists the violation (the
        whole-communes baseline does this).
    """

    #: The work budget of the regroup (:mod:`geo.sectorize.regroup`) under the distance
    #: objective; 0 turns it off (the exact mode's warm start: HiGHS does that work).
    regroup_budget: int = REGROUP_WORK

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
        costs: CutCosts | None = None,
        steps: int | None = None,
        oversized: Literal["error", "report"] = "error",
        restarts: int | None = None,
        objective: str = "boundary",
        objective_weight: float = 0.5,
        large_atoms: int = LARGE_ATOMS,
    ) -> None:
        if (k is None) == (target_workload is None):
            raise InvalidInputError("plan_k_or_target_workload", field="k")
        if k is not None and k < 1:
            raise InvalidInputError("sectors_at_least_one", field="k", k=k)
        if target_workload is not None and not target_workload > 0:
            raise InvalidInputError(
                "value_not_positive", field="target_workload", value=target_workload
            )
        if not 0 <= tolerance < 1:
            raise InvalidInputError("tolerance_out_of_range", field="tolerance", value=tolerance)
        self.k = k
        self.target_workload = target_workload
        self.tolerance = tolerance
        self.whole_commune_population = whole_commune_population
        self.commune_population = commune_population
        self.seeds = list(seeds)
        self.locked = dict(locked or {})
        self.costs = costs or CutCosts()
        self.steps = steps
        self.oversized = oversized
        self.restarts = restarts
        self.objective = objective
        self.objective_weight = objective_weight
        self.share = distance_share(objective, objective_weight)
        self.large_atoms = large_atoms

    # -- set-up --------------------------------------------------------------------------

    def _k(self, graph: UnitGraph) -> int:
        if self.k is not None:
            k = self.k
        else:
            assert self.target_workload is not None
            ratio = float(graph.workload.sum()) / self.target_workload
            if not math.isfinite(ratio) or ratio > graph.n:
                raise InfeasibleDesignError(
                    "target_workload_too_small",
                    field="target_workload",
                    target=self.target_workload,
                    units=graph.n,
                )
            k = max(1, round(ratio))
        if k > graph.n:
            raise InfeasibleDesignError("more_sectors_than_units", field="k", k=k, units=graph.n)
        return k

    def _population(self, graph: UnitGraph) -> dict[str, float]:
        if self.commune_population is not None:
            return {str(c): float(p) for c, p in self.commune_population.items()}
        if "population" not in graph.units.columns:
            return {}
        return {
            str(c): float(p) for c, p in graph.units.groupby("commune")["population"].sum().items()
        }

    def _positions(self, graph: UnitGraph, ids: Sequence[str], what: str) -> list[int]:
        index = pd.Index(graph.units["unit"])
        pos = index.get_indexer(list(ids))
        unknown = [u for u, p in zip(ids, pos, strict=True) if p < 0]
        if unknown:
            raise InvalidInputError("units_unknown", field=what, units=[str(u) for u in unknown])
        return [int(p) for p in pos]

    def _fixed(self, graph: UnitGraph, atoms: Atoms, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Atom → fixed sector (-1: free), and each sector's seed unit (-1: none)."""
        fixed = np.full(atoms.n, -1, dtype=int)
        owner: dict[int, str] = {}
        seed_units = np.full(k, -1, dtype=int)
        if len(self.seeds) > k:
            raise InfeasibleDesignError(
                "more_seeds_than_sectors", field="seeds", seeds=len(self.seeds), k=k
            )
        seed_pos = self._positions(graph, self.seeds, "seeds")
        for sector, (uid, unit) in enumerate(zip(self.seeds, seed_pos, strict=True)):
            atom = int(atoms.of[unit])
            if atom in owner:
                if owner[atom] == uid:
                    raise InfeasibleDesignError("seeds_same_unit", field="seeds", unit=str(uid))
                raise InfeasibleDesignError(
                    "seeds_same_group",
                    field="seeds",
                    first=str(owner[atom]),
                    second=str(uid),
                    group=str(atoms.label[atom]),
                )
            owner[atom] = uid
            fixed[atom] = sector
            seed_units[sector] = unit
        lock_pos = self._positions(graph, list(self.locked), "locked")
        for (uid, sector), unit in zip(self.locked.items(), lock_pos, strict=True):
            if not 0 <= sector < k:
                raise InvalidInputError(
                    "locked_unit_out_of_range",
                    field="locked",
                    unit=str(uid),
                    sector=sector,
                    last=k - 1,
                )
            atom = int(atoms.of[unit])
            if fixed[atom] not in (-1, sector):
                raise InfeasibleDesignError(
                    "locked_unit_held",
                    field="locked",
                    unit=str(uid),
                    sector=sector,
                    group=str(atoms.label[atom] or uid),
                    other=int(fixed[atom]),
                )
            fixed[atom] = sector
        _check_locks_connectable(atoms, fixed, k)
        return fixed, seed_units

    def feasible_atoms(self, graph: UnitGraph) -> tuple[int, float, set[str], Atoms]:
        """The number of sectors, the mean workload, the communes kept whole and the atoms
        a design of ``graph`` is made of; raises
        :class:`~geo.errors.InfeasibleDesignError` when there are fewer atoms than sectors
        or (``oversized="error"``) an atom alone is heavier than the band's upper bound.
        The engine and the exact model (:mod:`geo.sectorize.bound`) start from them."""
        k = self._k(graph)
        target = float(graph.workload.sum()) / k
        upper = target * (1 + self.tolerance)
        whole = small_communes(graph, self.whole_commune_population, self._population(graph))
        atoms = build_atoms(
            graph, whole_communes=whole, costs=self.costs, island_limit=0.5 * target
        )
        if k > atoms.n:
            raise InfeasibleDesignError(
                "more_sectors_than_groups"
                if math.isfinite(self.whole_commune_population)
                else "more_sectors_than_communes",
                field="k",
                k=k,
                groups=atoms.n,
                threshold=self.whole_commune_population,
            )
        heavy = np.flatnonzero(atoms.weight > upper)
        if len(heavy) and k > 1 and self.oversized == "error":
            if all(atoms.label[a] is None for a in heavy):  # single units, no commune
                raise InfeasibleDesignError(
                    "unit_too_heavy_for_a_sector",
                    field="k",
                    count=len(heavy),
                    load=round(float(atoms.weight[heavy].max())),
                    low=round(target * (1 - self.tolerance)),
                    high=round(upper),
                    tolerance=round(100 * self.tolerance, 1),
                )
            codes = [atoms.label[a] or "une unité" for a in heavy[:10]]
            loads = [round(float(atoms.weight[a])) for a in heavy[:10]]
            raise InfeasibleDesignError(
                "commune_too_heavy_to_keep_whole",
                field="whole_commune_population",
                codes=codes,
                loads=loads,
                communes=[f"{c} (charge {w})" for c, w in zip(codes, loads, strict=True)],
                low=round(target * (1 - self.tolerance)),
                high=round(upper),
                tolerance=round(100 * self.tolerance, 1),
                threshold=self.whole_commune_population,
            )
        return k, target, whole, atoms

    # -- solve ---------------------------------------------------------------------------

    def solve(
        self,
        graph: UnitGraph,
        *,
        rng: np.random.Generator,
        progress: Progress = no_progress,
    ) -> SectorPlan:
        progress(0.02, "atoms")
        k, target, whole, atoms = self.feasible_atoms(graph)
        fixed, seed_units = self._fixed(graph, atoms, k)
        levels = hierarchy(graph, atoms, fixed, k, self.tolerance, self.large_atoms)
        if levels is not None:  # a large city: designed on aggregates of atoms
            atoms, fixed = levels.top, levels.top_fixed
        progress(0.1, "seeds")
        search = self._attempts(atoms, k, fixed, seed_units, rng)
        relaxed: set[str] = set()
        if not search.in_band() and whole and not math.isinf(self.whole_commune_population):
            # Whole communes are kept whole only as far as they allow balance: when no
            # attempt reaches the band with them, the run starts again with communes
            # that may be split, and the plan's notes name those that were.
            loose = build_atoms(
                graph, whole_communes=set(), costs=self.costs, island_limit=0.5 * target
            )
            loose_fixed, _ = self._fixed(graph, loose, k)
            loose_levels = hierarchy(graph, loose, loose_fixed, k, self.tolerance, self.large_atoms)
            if loose_levels is not None:
                loose, loose_fixed = loose_levels.top, loose_levels.top_fixed
            other = self._attempts(loose, k, loose_fixed, seed_units, rng)
            if other._total_gap() < search._total_gap() - 1e-9:
                atoms, search, fixed = loose, other, loose_fixed
                relaxed, levels = whole, loose_levels
        progress(0.5, "shape")
        steps = self.steps or min(40 * atoms.n, MAX_DEFAULT_STEPS)
        if levels is not None and not self.steps:
            steps = levels.steps(self.share)
        if self.share:
            # the pure distance objective on a territory small enough for the exact cost
            # matrix: one engine start, then the exact p-median polish diversifies
            polish = self.share == 1.0 and median.fits(atoms, graph.n)
            search = self._best_shape(
                search, atoms, k, fixed, seed_units, rng, steps, progress, single=polish
            )
            if polish:
                anchors = {s: int(atoms.of[u]) for s, u in enumerate(seed_units) if u >= 0}
                starts = max(1, min(MAX_LA_STARTS, LA_ATOMS // max(atoms.n, 1)))
                # no regroup on a large city's aggregates (the refinement moves them)
                regroup = 0 if levels is not None else self.regroup_budget
                search.sector = median_polish(
                    search, graph.centroids, graph.workload, anchors, rng, starts,
                    regroup_budget=regroup,
                ).tolist()  # fmt: skip
        else:
            search.anneal(steps, lambda f, stage: progress(0.5 + 0.45 * f, stage))
            search.descend()
        sector = np.asarray(search.sector, dtype=int)
        if levels is not None:
            progress(0.95, "refine")
            atoms, sector = levels.refine(sector, k, self.tolerance, self.share)
        assignment = sector[atoms.of]
        plan = SectorPlan(
            graph=graph,
            assignment=assignment,
            names=sector_names(k),
            seeds=seed_units,
            notes=atoms.notes,
        )
        cut = relaxed & set(split_communes(plan))
        band = french_percent(
            self.tolerance, decimals=0 if float(self.tolerance * 100).is_integer() else 1
        )
        notes = list(atoms.notes)
        if cut:
            notes.append(
                f"commune(s) sous le seuil de {french_number(self.whole_commune_population)} "
                f"habitants coupée(s) : {', '.join(sorted(cut))} ; gardées entières, "
                f"l'équilibre à ±{band} n'a pas été atteint (infaisabilité non prouvée)"
            )
        found = violations(plan, self.tolerance, whole - cut)
        if any(v.constraint == "balance" for v in found):
            notes.append("équilibre non atteint (infaisabilité non prouvée)")
            found = [
                dataclasses.replace(
                    v, message=f"{v.message} ; équilibre non atteint (infaisabilité non prouvée)"
                )
                if v.constraint == "balance"
                else v
                for v in found
            ]
        progress(1.0, "done")
        return plan.with_assignment(plan.assignment, violations=tuple(found), notes=tuple(notes))

    def _best_shape(
        self,
        first: SectorSearch,
        atoms: Atoms,
        k: int,
        fixed: np.ndarray,
        seed_units: np.ndarray,
        rng: np.random.Generator,
        steps: int,
        progress: Progress,
        single: bool = False,
    ) -> SectorSearch:
        """Under a distance objective, the shape phase from several starts (new seeds,
        growth, balance, shape), keeping the in-band plan of least objective: a
        p-median's local optima depend much on where the centres start. As many starts as
        :data:`MULTISTART_ATOMS` allows, at most :data:`MAX_STARTS` (one when ``single``)."""
        starts = max(1, min(MAX_STARTS, MULTISTART_ATOMS // max(atoms.n, 1)))
        if single:
            starts = 1
        regrowths = REGROWTHS if atoms.n <= MULTISTART_ATOMS else 0  # a city: one descent
        best, best_key = first, (0.0, 0.0)
        c0 = d0 = 1.0
        anchors = {s: int(atoms.of[u]) for s, u in enumerate(seed_units) if u >= 0}
        pinned = {s: int(np.flatnonzero(fixed == s)[0]) for s in range(k) if (fixed == s).any()}
        pinned.update(anchors)
        # on a small territory the starts share the steps of one boundary run, at least
        # MIN_SHAPE_STEPS (and 5 per atom each)
        if regrowths:
            budget = max(steps, MIN_SHAPE_STEPS)
            steps = max(5 * atoms.n, budget // (starts * (regrowths + 1)))
        for i in range(starts):
            search = first if i == 0 else self._attempts(atoms, k, fixed, seed_units, rng, 2)
            if i and not search.in_band():
                continue  # a start that misses the band is not worth shaping
            for regrow in range(regrowths + 1):
                if regrow:
                    # location-allocation at the scale of the plan: grow again from the
                    # sectors' median atoms, as Hess et al. re-allocate to new centres
                    seeds = [pinned.get(s, int(c)) for s, c in enumerate(search.centre)]
                    search = SectorSearch(atoms, k, self.tolerance, fixed, rng, self.share)
                    search.grow(seeds)
                    search.balance()
                    if not search.in_band():
                        break
                search.start_objective()
                if i == 0 and regrow == 0:
                    c0, d0 = search.c0, search.d0
                if regrowths:
                    search.anneal(steps, partial(_start_progress, progress, i, starts))
                # on a city, the growth from k-means seeds is already close to the
                # allocation to the nearest centre: alternating descent alone (annealing
                # there costs ten times a boundary run and leaves ragged borders)
                search.descend(swaps=atoms.n <= SWAP_ATOMS)
                key = (search._total_gap(), search.value(c0, d0))
                if (i == 0 and regrow == 0) or key < best_key:
                    best, best_key = search, key
                elif regrow:
                    break
        return best

    def _attempts(
        self,
        atoms: Atoms,
        k: int,
        fixed: np.ndarray,
        seed_units: np.ndarray,
        rng: np.random.Generator,
        restarts: int | None = None,
    ) -> SectorSearch:
        """Growth and balance from new seeds until the band is reached (the first
        attempt that reaches it), else the attempt closest to the band."""
        anchors = {s: int(atoms.of[u]) for s, u in enumerate(seed_units) if u >= 0}
        restarts = self.restarts if restarts is None else restarts
        if restarts is None:
            restarts = max(3, min(MAX_RESTARTS, 20_000 // max(atoms.n, 1)))
        # Seeds can be unlucky (a small commune hemmed in by another sector's seed): when
        # the balanced band is missed, the growth restarts from new seeds.
        best: SectorSearch | None = None
        for _ in range(restarts + 1):
            search = SectorSearch(atoms, k, self.tolerance, fixed, rng, self.share)
            search.grow(seed_atoms(atoms, k, fixed, rng, anchors))
            search.balance()
            if not search.in_band():
                search.repair(min(REPAIR_STEPS_PER_ATOM * atoms.n, MAX_REPAIR_STEPS))
            if search.in_band():
                return search
            if best is None or search._total_gap() < best._total_gap() - 1e-9:
                best = search
        assert best is not None
        return best


def _start_progress(progress: Progress, start: int, starts: int, f: float, stage: str) -> None:
    progress(0.5 + 0.45 * (start + f) / starts, stage)


def _check_locks_connectable(atoms: Atoms, fixed: np.ndarray, k: int) -> None:
    """Each sector's fixed atoms must be joinable through free atoms or atoms of the
    same sector; otherwise no contiguous plan keeps the locks."""
    for s in range(k):
        mine = np.flatnonzero(fixed == s)
        if len(mine) < 2:
            continue
        allowed = (fixed == -1) | (fixed == s)
        seen = {int(mine[0])}
        stack = [int(mine[0])]
        while stack:
            x = stack.pop()
            for y in atoms.adj[x]:
                if allowed[y] and y not in seen:
                    seen.add(y)
                    stack.append(y)
        cut_off = [int(m) for m in mine if int(m) not in seen]
        if cut_off:
            raise InfeasibleDesignError(
                "locked_not_contiguous", field="locked", sector=s, groups=len(cut_off)
            )
