"""The p-median polish of the distance objective: starts under a work budget.

:func:`polish` improves the engine's plan with :class:`~geo.sectorize.median.MedianSearch`:
a descent and strategic oscillation from the engine's plan, then location-allocation
starts (Hess et al. 1965) from the plan's own medians and from k-means seeds.

**Whole communes.** Where atoms are lumpy (communes kept whole, some half a sector's
workload), an allocation of the transportation problem is rarely mended into the band:
rounding its fractional atoms moves half a sector's workload, and an integer allocation
(tried: HiGHS's MIP) comes in pieces whose reassignment breaks the band again. Measured
on Belfort res 8, k = 8, communes whole, every one of the ten starts of seed 0 failed.
So an allocation that cannot be mended is replaced by a **regrowth** from its centres:
the engine's balanced growth from the centres' atoms, its balance and repair (which
reach the band from a growth far more often than from an allocation), then the exact
descent; and once four starts have failed with none mended, the remaining starts are
regrowths from the k-means seeds. The regrowths draw from their own random stream
(spawned from the run's seed), so that wherever allocations are mended the plans are
those of a run without them.

**Work budget.** The starts share a budget counted in operations, not seconds, so that
a plan depends on its seed only and not on the machine's load: each move priced by the
search (:attr:`MedianSearch.work <geo.sectorize.median.MedianSearch.work>`) and each
step of the engine's repair counts one, each round of the search
:data:`~geo.sectorize.median.ROUND_WORK`; no start begins once :data:`MAX_WORK` are spent.

**Regroup.** Where most allocations could not be mended into the band (at least
:data:`FAILED_STARTS` failures per mended one: lumpy atoms), the best plan goes through
:func:`~geo.sectorize.regroup.regroup` (exact re-partitions of neighbouring sectors) under
its own work budget, when two neighbouring sectors are small enough to be modelled.
"""

from __future__ import annotations

import numpy as np

from geo.sectorize.atoms import Atoms
from geo.sectorize.median import MedianSearch
from geo.sectorize.regroup import REGROUP_WORK, fits, regroup
from geo.sectorize.search import SectorSearch
from geo.sectorize.seeding import seed_atoms

#: Location-allocation starts stop after this many in a row without a better plan.
PATIENCE = 10
#: Steps per atom of the engine's repair when a mended allocation misses the band.
REPAIR_STEPS_PER_ATOM = 40
#: Steps per atom of the repair of a regrowth (as the engine's own attempts).
GROW_REPAIR_STEPS_PER_ATOM = 200
#: Failed location-allocation starts (none mended into the band) before the starts
#: become regrowths.
FAILED_STARTS = 4
#: The starts' shared budget, in priced moves (and repair steps): no start begins
#: once it is spent.
MAX_WORK = 600_000


def polish(
    search: SectorSearch,
    unit_xy: np.ndarray,
    unit_weight: np.ndarray,
    anchors: dict[int, int],
    rng: np.random.Generator,
    starts: int,
    budget: int = MAX_WORK,
    regroup_budget: int = REGROUP_WORK,
) -> np.ndarray:
    """The engine's plan (``search``) improved under the distance objective: descended
    and oscillated, then up to ``starts`` starts while the work spent is under
    ``budget``; the best plan, in the band first. Returns each atom's sector."""
    atoms, k = search.atoms, search.k
    fixed = np.asarray(search.fixed, dtype=int)
    ms = MedianSearch(atoms, unit_xy, unit_weight, k, search.lo, search.hi, fixed)

    def rebalance(sector: np.ndarray) -> np.ndarray | None:
        steps = min(REPAIR_STEPS_PER_ATOM * atoms.n, 20_000)
        ms.work += steps
        return _rebalance(atoms, k, search.tolerance, fixed, rng, sector, steps)

    ms.rebalance = rebalance
    # the regrowths draw from their own stream, so that the allocations' draws (and
    # plans) stay those of a run without them wherever allocations are mended
    seq = getattr(rng.bit_generator, "seed_seq", None)
    grow_rng = np.random.default_rng(seq.spawn(1)[0] if seq is not None else 0)
    best = ms.descend(np.asarray(search.sector, dtype=int))
    best_key = ms.key()
    if ms._oscillate():
        trial = ms.descend(ms.sector)
        if ms.key() < best_key:
            best, best_key = trial, ms.key()
    centres = ms.centres()
    seen: set[bytes] = set()
    last = 0  # the last start that improved the best plan
    failed = mended = 0
    for i in range(starts):
        if i - last >= PATIENCE or ms.work >= budget:
            break
        seeds = seed_atoms(atoms, k, fixed, rng, anchors) if i else []
        if i and not mended and failed >= FAILED_STARTS:
            found = _regrow(ms, atoms, k, search.tolerance, fixed, grow_rng, seeds)
        else:
            if i:
                centres = np.array([ms.unit_of(x) for x in seeds])
            result = ms.locate_allocate(centres, seen=seen)
            found = None if result is None else result[0]
            mended, failed = mended + (found is not None), failed + (found is None)
            if found is None:
                home = _centre_seeds(ms, centres, fixed, anchors, k)
                if home is not None:
                    found = _regrow(ms, atoms, k, search.tolerance, fixed, grow_rng, home)
        if found is not None:
            ms._load_state(found)
            if ms.key() < best_key:
                best, best_key, last = found, ms.key(), i
    lumpy = failed >= FAILED_STARTS * max(mended, 1)
    if regroup_budget and lumpy and best_key[0] <= 1e-9 and fits(ms, best):
        # the allocations were mostly not mended into the band (lumpy atoms, whole
        # communes: bench/RESULTS.md issue 25 parts E and G):
        # neighbouring sectors re-partitioned exactly, within its own work budget
        best = regroup(ms, best, regroup_budget)
    return best


def _centre_seeds(
    ms: MedianSearch, centres: np.ndarray, fixed: np.ndarray, anchors: dict[int, int], k: int
) -> list[int] | None:
    """The atoms of ``centres`` as growth seeds (a sector's fixed atom or anchor first);
    None when two sectors would share an atom or a seed is fixed to another sector."""
    pinned = {s: int(np.flatnonzero(fixed == s)[0]) for s in range(k) if (fixed == s).any()}
    pinned.update(anchors)
    seeds = [pinned.get(s, int(ms.of[c])) for s, c in enumerate(centres.tolist())]
    if len(set(seeds)) < k or any(fixed[a] not in (-1, s) for s, a in enumerate(seeds)):
        return None
    return seeds


def _regrow(
    ms: MedianSearch,
    atoms: Atoms,
    k: int,
    tolerance: float,
    fixed: np.ndarray,
    rng: np.random.Generator,
    seeds: list[int],
) -> np.ndarray | None:
    """The engine's growth from ``seeds``, its balance and repair, then the exact descent;
    None when the band is missed."""
    grown = SectorSearch(atoms, k, tolerance, fixed, rng, 1.0)
    grown.grow(seeds)
    grown.balance()
    if not grown.in_band():
        steps = min(GROW_REPAIR_STEPS_PER_ATOM * atoms.n, 20_000)
        ms.work += steps
        grown.repair(steps)
        if not grown.in_band():
            return None
    return ms.descend(np.asarray(grown.sector, dtype=int))


def _rebalance(
    atoms: Atoms,
    k: int,
    tolerance: float,
    fixed: np.ndarray,
    rng: np.random.Generator,
    sector: np.ndarray,
    steps: int,
) -> np.ndarray | None:
    """The engine's balance and repair phases on a contiguous plan; None if it misses the
    band."""
    search = SectorSearch(atoms, k, tolerance, fixed, rng, 1.0)
    search.sector = sector.tolist()
    search.load = np.bincount(sector, weights=atoms.weight, minlength=k).tolist()
    search.size = np.bincount(sector, minlength=k).tolist()
    search._init_boundary()
    search.balance()
    if not search.in_band():
        search.repair(steps)
    return np.asarray(search.sector, dtype=int) if search.in_band() else None
