"""Hand edits of a sector plan, with every metric kept up to date incrementally.

A planner paints units into another sector a few at a time; after each stroke the page
shows the new balance, compactness, split communes, barrier crossings and contiguity. A
full :func:`geo.metrics.score` dissolves every sector (tens of milliseconds on 5 000
units); :class:`PlanEditor` instead keeps running sums and updates only what a move
touches:

* workload, area and unit count per sector: add and subtract the moved units;
* perimeter per sector: ``P_s = Σ perimeter(u) - 2 Σ shared(u, v)`` over units ``u`` of
  ``s`` and edges ``(u, v)`` inside ``s`` (the units tile the territory, so the shared
  boundaries are exactly what dissolving removes); only the moved units' edges change;
* cut edges, their length and barrier edges inside sectors: the moved units' edges;
* units per (commune, sector): the moved units;
* pieces, convex hull and mean distance to the centre: recomputed for the sectors that
  changed only.

The figures equal :func:`geo.metrics.score` of the same assignment (the tests check it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.errors import InvalidInputError
from geo.metrics import (
    PlanMetrics,
    assemble_metrics,
    constraint_violations,
    mean_distance,
    pmedian_weights,
    sector_centre,
    sector_pmedian_cost,
)
from geo.plan import SectorPlan
from geo.sectorize.base import Progress, Sectorizer, no_progress
from geo.unit_graph import dissolve
from geo.violations import Violation


@dataclass(frozen=True)
class Edit:
    """What one edit did: the previous sector of every moved unit (position → sector),
    which is also the edit that undoes it, and the sectors that changed."""

    previous: dict[int, int]
    sectors: tuple[int, ...]


#: Sectors of at most this many units have their p-median term recomputed at each edit
#: (about 10 ms each on the benchmark machine); larger ones at the save.
PMEDIAN_STROKE_UNITS = 600


class PlanEditor:
    """A mutable working copy of a :class:`SectorPlan`.

    ``locked`` sectors cannot gain or lose units. ``tolerance`` and ``whole`` (communes
    never to be split) are the constraints :meth:`violations` checks.
    """

    def __init__(
        self,
        plan: SectorPlan,
        *,
        locked: Collection[int] = (),
        tolerance: float = 0.05,
        whole: Collection[str] = (),
    ) -> None:
        graph = plan.graph
        self.graph = graph
        self.names = plan.names
        self.seeds = plan.seed_units
        self.tolerance = tolerance
        self.whole = frozenset(whole)
        self.assignment = plan.assignment.copy()
        self._position = {str(u): i for i, u in enumerate(graph.units["unit"])}
        self.locked: frozenset[int] = frozenset()
        self.set_locked(locked)
        k, n = plan.k, graph.n

        metric = graph.metric.geometry.to_numpy()
        self._weight = graph.workload
        self._area = shapely.area(metric)
        self._perimeter = shapely.length(metric)
        self._xy = graph.centroids
        self._coords, self._coord_unit = shapely.get_coordinates(metric, return_index=True)

        edges = graph.edges
        self._a = edges["a"].to_numpy(int)
        self._b = edges["b"].to_numpy(int)
        self._shared = edges["shared_m"].to_numpy(float)
        self._blocked = edges["blocked"].to_numpy(bool)
        self._barrier = edges["barrier"].to_numpy(object)
        self._has_barrier = edges["barrier"].notna().to_numpy()
        # incident edge ids of each unit, as a CSR structure
        ends = np.r_[self._a, self._b]
        ids = np.r_[np.arange(len(edges)), np.arange(len(edges))]
        order = np.argsort(ends, kind="stable")
        self._incident = ids[order]
        self._incident_start = np.searchsorted(ends[order], np.arange(n + 1))
        self._open: csr_matrix = graph.csr

        commune_codes, self._communes = pd.factorize(graph.units["commune"])
        self._commune = commune_codes
        self._commune_sector = np.zeros((len(self._communes), k), dtype=int)
        has = commune_codes >= 0
        np.add.at(self._commune_sector, (commune_codes[has], self.assignment[has]), 1)

        a, s = self._a, self.assignment
        same = s[a] == s[self._b]
        self._load = np.bincount(s, weights=self._weight, minlength=k)
        self._sector_area = np.bincount(s, weights=self._area, minlength=k)
        self._perimeter_sum = np.bincount(s, weights=self._perimeter, minlength=k)
        self._inner_shared = np.bincount(s[a][same], weights=self._shared[same], minlength=k)
        self._count = np.bincount(s, minlength=k)
        open_cut = ~same & ~self._blocked
        self._cut_edges = int(open_cut.sum())
        self._cut_length = float(self._shared[open_cut].sum())
        self._barriers: Counter[str] = Counter(
            str(c) for c in self._barrier[self._has_barrier & same]
        )
        self._pieces = np.zeros(k, dtype=int)
        self._detached: dict[int, np.ndarray] = {}
        self._hull = np.zeros(k)
        self._distance = np.zeros(k)
        self._pmedian_weight = pmedian_weights(self._weight)
        self._pmedian = np.zeros(k)
        self._pmedian_stale: set[int] = set()
        for sector in range(k):
            self._refresh(sector)

    @property
    def k(self) -> int:
        return len(self.names)

    def set_locked(self, sectors: Collection[int]) -> None:
        bad = sorted(int(s) for s in sectors if not 0 <= int(s) < len(self.names))
        if bad:
            raise InvalidInputError(
                "sector_out_of_range", field="locked", sector=bad[0], last=len(self.names) - 1
            )
        self.locked = frozenset(int(s) for s in sectors)

    def positions(self, units: Collection[str]) -> list[int]:
        """Positions of these unit ids; raises naming the ids that are not units of the plan."""
        unknown = [u for u in units if u not in self._position]
        if unknown:
            raise InvalidInputError("units_not_in_plan", field="cells", units=unknown)
        return [self._position[u] for u in units]

    def sector_polygon(self, sector: int) -> shapely.Geometry:
        """The dissolved outline of one sector (EPSG:4326)."""
        return dissolve(self.graph.units.geometry.to_numpy()[self.assignment == sector])

    def apply(self, changes: Mapping[int, int]) -> Edit:
        """Move units (position → new sector). All or nothing: a unit out of range, a
        sector that does not exist or is locked, or a sector left empty raises
        :class:`~geo.errors.InvalidInputError` and changes nothing."""
        moves = {int(u): int(t) for u, t in changes.items() if self._sector_of(u) != int(t)}
        for unit, target in moves.items():
            if not 0 <= target < self.k:
                raise InvalidInputError(
                    "sector_out_of_range", field="sector", sector=target, last=self.k - 1
                )
            source = int(self.assignment[unit])
            for sector in (source, target):
                if sector in self.locked:
                    raise InvalidInputError(
                        "sector_locked", field="sector", name=self.names[sector], sector=sector
                    )
        if not moves:
            return Edit(previous={}, sectors=())
        units = np.fromiter(moves, dtype=int, count=len(moves))
        targets = np.fromiter(moves.values(), dtype=int, count=len(moves))
        sources = self.assignment[units]
        count = self._count - np.bincount(sources, minlength=self.k)
        count += np.bincount(targets, minlength=self.k)
        if (count == 0).any():
            empty = int(np.flatnonzero(count == 0)[0])
            raise InvalidInputError("edit_empties_sector", field="sector", name=self.names[empty])

        edge_ids = np.unique(
            np.concatenate(
                [
                    self._incident[self._incident_start[u] : self._incident_start[u + 1]]
                    for u in units
                ]
            )
        )
        self._count_edges(edge_ids, -1)
        for array, values in (
            (self._load, self._weight),
            (self._sector_area, self._area),
            (self._perimeter_sum, self._perimeter),
        ):
            np.subtract.at(array, sources, values[units])
            np.add.at(array, targets, values[units])
        communes = self._commune[units]
        has = communes >= 0
        np.subtract.at(self._commune_sector, (communes[has], sources[has]), 1)
        np.add.at(self._commune_sector, (communes[has], targets[has]), 1)
        self._count = count
        self.assignment[units] = targets
        self._count_edges(edge_ids, +1)
        changed = tuple(sorted(set(sources.tolist()) | set(targets.tolist())))
        for sector in changed:
            self._refresh(sector)
        return Edit(
            previous=dict(zip(units.tolist(), sources.tolist(), strict=True)), sectors=changed
        )

    def _sector_of(self, unit: int) -> int:
        if not 0 <= unit < self.graph.n:
            raise InvalidInputError("units_not_in_plan", field="cells", units=[str(unit)])
        return int(self.assignment[unit])

    def _count_edges(self, edge_ids: np.ndarray, sign: int) -> None:
        """Add (``+1``) or remove (``-1``) the contribution of these edges to the inner
        shared lengths, cut edges and barrier counts."""
        a, b = self._a[edge_ids], self._b[edge_ids]
        sa, sb = self.assignment[a], self.assignment[b]
        same = sa == sb
        np.add.at(self._inner_shared, sa[same], sign * self._shared[edge_ids][same])
        cut = ~same & ~self._blocked[edge_ids]
        self._cut_edges += sign * int(cut.sum())
        self._cut_length += sign * float(self._shared[edge_ids][cut].sum())
        for barrier in self._barrier[edge_ids][same & self._has_barrier[edge_ids]]:
            self._barriers[str(barrier)] += sign

    def _refresh(self, sector: int) -> None:
        """Pieces, detached units, convex hull and mean distance of one sector."""
        members = self.assignment == sector
        idx = np.flatnonzero(members)
        sub = self._open[idx][:, idx]
        n_pieces, labels = connected_components(sub, directed=False)
        self._pieces[sector] = n_pieces
        if n_pieces > 1:
            load = np.bincount(labels, weights=self._weight[idx] + 1e-9, minlength=n_pieces)
            self._detached[sector] = idx[labels != int(np.argmax(load))]
        else:
            self._detached.pop(sector, None)
        points = self._coords[members[self._coord_unit]]
        # one line string through the points: its hull is theirs, built far faster
        # than a multipoint
        self._hull[sector] = shapely.area(shapely.convex_hull(shapely.linestrings(points)))
        centre = sector_centre(self._xy, self._weight, self._area, members, int(self.seeds[sector]))
        self._distance[sector] = mean_distance(self._xy, self._weight, members, centre)
        # The p-median term is quadratic in the sector's size: a large sector's waits for
        # the save (see pmedian_distance).
        if len(idx) <= PMEDIAN_STROKE_UNITS:
            self._pmedian[sector] = sector_pmedian_cost(self._xy, self._pmedian_weight, idx)
            self._pmedian_stale.discard(sector)
        else:
            self._pmedian_stale.add(sector)

    @property
    def workloads(self) -> np.ndarray:
        return self._load.copy()

    def detached(self) -> np.ndarray:
        """Positions of the units cut off from the main piece (most workload) of their
        sector: what a map highlights when an edit breaks contiguity."""
        if not self._detached:
            return np.zeros(0, dtype=int)
        return np.sort(np.concatenate(list(self._detached.values())))

    def split_communes(self) -> dict[str, int]:
        sectors_per_commune = (self._commune_sector > 0).sum(axis=1)
        return {str(self._communes[c]): int(n) for c, n in enumerate(sectors_per_commune) if n > 1}

    def pmedian_distance(self, *, complete: bool = False) -> float | None:
        """The p-median figure of :func:`geo.pmedian.pmedian_distance`, kept per sector
        edit by edit for sectors of at most :data:`PMEDIAN_STROKE_UNITS` units; ``None``
        while a larger sector changed since it was last computed, unless ``complete``
        (then computed now: what a save does)."""
        if complete:
            for sector in sorted(self._pmedian_stale):
                idx = np.flatnonzero(self.assignment == sector)
                self._pmedian[sector] = sector_pmedian_cost(self._xy, self._pmedian_weight, idx)
            self._pmedian_stale.clear()
        if self._pmedian_stale:
            return None
        return float(self._pmedian.sum() / self._pmedian_weight.sum())

    def metrics(self, *, complete: bool = False) -> PlanMetrics:
        """The metrics of :func:`geo.metrics.score` for the current assignment (the
        p-median figure as :meth:`pmedian_distance` says)."""
        return assemble_metrics(
            names=self.names,
            workloads=self._load,
            area=self._sector_area,
            perimeter=self._perimeter_sum - 2 * self._inner_shared,
            hull_area=self._hull,
            pieces=self._pieces,
            unit_count=self._count,
            mean_distance_m=self._distance,
            pmedian_distance_m=self.pmedian_distance(complete=complete),
            barrier_edges_by_class={c: n for c, n in self._barriers.items() if n > 0},
            split=self.split_communes(),
            cut_edges=self._cut_edges,
            cut_length_m=self._cut_length,
        )

    def violations(self) -> list[Violation]:
        return constraint_violations(
            names=self.names,
            workloads=self._load,
            pieces=self._pieces,
            split=self.split_communes(),
            tolerance=self.tolerance,
            whole=self.whole,
        )

    def plan(self) -> SectorPlan:
        """The current assignment as an immutable plan (for storing or exporting)."""
        return SectorPlan(
            graph=self.graph,
            assignment=self.assignment.copy(),
            names=self.names,
            seeds=self.seeds,
            violations=tuple(self.violations()),
        )


def unlocked_sectors(k: int, locked: Collection[int], plan: str = "") -> list[int]:
    """The sectors of a ``k``-sector plan that re-optimisation may redraw; refuses a plan
    whose every sector is locked (``plan`` names it in the message).

    >>> unlocked_sectors(3, [1])
    [0, 2]
    >>> unlocked_sectors(2, [0, 1], "plan 7")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo.errors.InvalidInputError: Secteurs verrouillés : tous les secteurs du plan 7 sont ...
    """
    locked_set = {int(s) for s in locked}
    free = [s for s in range(k) if s not in locked_set]
    if not free:
        raise InvalidInputError(
            "all_sectors_locked", field="locked", plan=f" du {plan}" if plan else ""
        )
    return free


def reoptimise(
    plan: SectorPlan,
    locked: Collection[int],
    make_sectorizer: Callable[[int, list[str]], Sectorizer],
    *,
    rng: np.random.Generator,
    progress: Progress = no_progress,
) -> SectorPlan:
    """Redraw the unlocked sectors of ``plan`` over the units they hold, leaving the
    locked sectors exactly as they are.

    ``make_sectorizer(k, seeds)`` builds the algorithm for the ``k`` unlocked sectors;
    ``seeds[i]`` (a unit id) is the seed of the i-th unlocked sector (its police station,
    else its current centre unit), so that each sector keeps its number and its place.
    The unlocked sectors are balanced among themselves (the units they share are all
    they can exchange).
    """
    free_sectors = unlocked_sectors(plan.k, locked)
    locked_set = {int(s) for s in locked}
    free = np.flatnonzero(~np.isin(plan.assignment, list(locked_set)))
    graph = plan.graph.subgraph(free)
    ids = graph.units["unit"].astype(str).to_numpy()
    seeds = [str(ids[_seed_position(plan, s, free)]) for s in free_sectors]
    redrawn = make_sectorizer(len(free_sectors), seeds).solve(graph, rng=rng, progress=progress)
    assignment = plan.assignment.copy()
    assignment[free] = np.asarray(free_sectors)[redrawn.assignment]
    notes = (
        *plan.notes,
        f"Secteurs non verrouillés ré-optimisés ({len(free_sectors)} sur {plan.k}).",
    )
    return plan.with_assignment(assignment, notes=notes, violations=())


def _seed_position(plan: SectorPlan, sector: int, free: np.ndarray) -> int:
    """Position in ``free`` of the sector's seed: its own seed unit (a police station…)
    while it still lies in the sector, else its unit nearest its workload-weighted centre."""
    seed = int(plan.seed_units[sector])
    if seed >= 0 and plan.assignment[seed] == sector:
        return int(np.searchsorted(free, seed))
    members = plan.assignment[free] == sector
    xy = plan.graph.centroids[free]
    weight = plan.graph.workload[free][members]
    centre = np.average(xy[members], axis=0, weights=weight if weight.sum() > 0 else None)
    candidates = np.flatnonzero(members)
    return int(candidates[np.argmin(np.linalg.norm(xy[candidates] - centre, axis=1))])
