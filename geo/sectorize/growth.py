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
   within the band or no move helps.
4. **Shape.** Simulated annealing of single boundary moves that keep every sector in the
   band: the objective is the total cut cost of :class:`~geo.sectorize.atoms.CutCosts`
   (boundary length, more where a commune is cut, less along a barrier), a proxy for
   compactness; a final descent takes every remaining improving move.

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

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from geo.errors import InfeasibleDesignError, InvalidInputError
from geo.metrics import violations
from geo.plan import SectorPlan, sector_names
from geo.sectorize.atoms import Atoms, CutCosts, build_atoms, small_communes
from geo.sectorize.base import Progress, Sectorizer, no_progress
from geo.sectorize.search import SectorSearch
from geo.sectorize.seeding import seed_atoms
from geo.unit_graph import UnitGraph

#: Communes below this population are never split (the PSQ doctrine groups small
#: communes and splits large cities).
DEFAULT_WHOLE_COMMUNE_POPULATION = 10_000.0
DEFAULT_TOLERANCE = 0.05
#: The most annealing steps by default: 40 per atom up to 10 000 atoms, then no more.
MAX_DEFAULT_STEPS = 400_000


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
        New seeds are drawn up to this many times when the balance phase misses the band.
    oversized
        ``"error"``: an atom heavier than the band's upper bound makes the request
        infeasible; ``"report"``: the plan is made and lists the violation (the
        whole-communes baseline does this).
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
        costs: CutCosts | None = None,
        steps: int | None = None,
        oversized: Literal["error", "report"] = "error",
        restarts: int = 3,
    ) -> None:
        if (k is None) == (target_workload is None):
            raise InvalidInputError("give either k (number of sectors) or target_workload")
        if k is not None and k < 1:
            raise InvalidInputError(f"k: at least one sector is needed, got {k}")
        if target_workload is not None and not target_workload > 0:
            raise InvalidInputError(f"target_workload: must be > 0, got {target_workload}")
        if not 0 <= tolerance < 1:
            raise InvalidInputError(f"tolerance: must be in [0, 1), got {tolerance}")
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

    # -- set-up --------------------------------------------------------------------------

    def _k(self, graph: UnitGraph) -> int:
        if self.k is not None:
            k = self.k
        else:
            assert self.target_workload is not None
            ratio = float(graph.workload.sum()) / self.target_workload
            if not math.isfinite(ratio) or ratio > graph.n:
                raise InfeasibleDesignError(
                    f"target_workload : {self.target_workload:g} par secteur donnerait plus de "
                    f"secteurs que les {graph.n} unités du territoire"
                )
            k = max(1, round(ratio))
        if k > graph.n:
            raise InfeasibleDesignError(
                f"k = {k} sectors is more than the {graph.n} units of the territory"
            )
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
            raise InvalidInputError(f"{what}: unknown unit(s) {', '.join(map(str, unknown))}")
        return [int(p) for p in pos]

    def _fixed(self, graph: UnitGraph, atoms: Atoms, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Atom → fixed sector (-1: free), and each sector's seed unit (-1: none)."""
        fixed = np.full(atoms.n, -1, dtype=int)
        owner: dict[int, str] = {}
        seed_units = np.full(k, -1, dtype=int)
        if len(self.seeds) > k:
            raise InfeasibleDesignError(
                f"seeds: {len(self.seeds)} fixed seeds for only k = {k} sectors"
            )
        seed_pos = self._positions(graph, self.seeds, "seeds")
        for sector, (uid, unit) in enumerate(zip(self.seeds, seed_pos, strict=True)):
            atom = int(atoms.of[unit])
            if atom in owner:
                label = atoms.label[atom]
                why = (
                    f"the same unit {uid}"
                    if owner[atom] == uid
                    else (f"units {owner[atom]} and {uid} of {label}, which is kept whole")
                )
                raise InfeasibleDesignError(
                    f"seeds: two seeds fall in {why}; they cannot head different sectors"
                )
            owner[atom] = uid
            fixed[atom] = sector
            seed_units[sector] = unit
        lock_pos = self._positions(graph, list(self.locked), "locked")
        for (uid, sector), unit in zip(self.locked.items(), lock_pos, strict=True):
            if not 0 <= sector < k:
                raise InvalidInputError(
                    f"locked: unit {uid} is locked to sector {sector}, not in 0 … {k - 1}"
                )
            atom = int(atoms.of[unit])
            if fixed[atom] not in (-1, sector):
                raise InfeasibleDesignError(
                    f"locked: unit {uid} is locked to sector {sector} but its "
                    f"{atoms.label[atom] or 'unit'} is already held by sector {fixed[atom]}"
                )
            fixed[atom] = sector
        _check_locks_connectable(atoms, fixed, k)
        return fixed, seed_units

    # -- solve ---------------------------------------------------------------------------

    def solve(
        self,
        graph: UnitGraph,
        *,
        rng: np.random.Generator,
        progress: Progress = no_progress,
    ) -> SectorPlan:
        k = self._k(graph)
        total = float(graph.workload.sum())
        target = total / k
        upper = target * (1 + self.tolerance)
        population = self._population(graph)
        whole = small_communes(graph, self.whole_commune_population, population)
        progress(0.02, "atoms")
        atoms = build_atoms(
            graph, whole_communes=whole, costs=self.costs, island_limit=0.5 * target
        )
        if k > atoms.n:
            raise InfeasibleDesignError(
                "more_sectors_than_groups",
                field="k",
                k=k,
                groups=atoms.n,
                threshold=self.whole_commune_population,
            )
        heavy = np.flatnonzero(atoms.weight > upper)
        if len(heavy) and k > 1 and self.oversized == "error":
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
        fixed, seed_units = self._fixed(graph, atoms, k)
        anchors = {s: int(atoms.of[u]) for s, u in enumerate(seed_units) if u >= 0}
        progress(0.1, "seeds")
        # Seeds can be unlucky (a small commune hemmed in by another sector's seed): when
        # the balanced band is missed, the growth restarts from new seeds, a few times.
        for attempt in range(self.restarts + 1):
            search = SectorSearch(atoms, k, self.tolerance, fixed, rng)
            search.grow(seed_atoms(atoms, k, fixed, rng, anchors))
            search.balance()
            if search.in_band() or attempt == self.restarts:
                break
        progress(0.5, "shape")
        steps = self.steps or min(40 * atoms.n, MAX_DEFAULT_STEPS)
        search.anneal(steps, lambda f, stage: progress(0.5 + 0.45 * f, stage))
        search.descend()
        assignment = np.asarray(search.sector, dtype=int)[atoms.of]
        plan = SectorPlan(
            graph=graph,
            assignment=assignment,
            names=sector_names(k),
            seeds=seed_units,
            notes=atoms.notes,
        )
        found = violations(plan, self.tolerance, whole)
        progress(1.0, "done")
        return plan.with_assignment(plan.assignment, violations=tuple(found))


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
                f"locked: the locked units of sector {s} cannot be joined into one contiguous "
                f"sector: {len(cut_off)} group(s) of them are cut off by units locked to "
                "other sectors"
            )
