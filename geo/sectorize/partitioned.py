"""Sector design of a territory in several parts: each part designed on its own.

The parts and their grouping come from :mod:`geo.parts`: a part too light to hold a
sector (an island, an enclave) joins the part its declared link reaches, else its
nearest part; the others get a whole number of sectors, shared out by workload with the
largest remainder method (Hamilton, see :func:`geo.parts.apportion`), or as the planner
says (``sectors_per_part``). When Hamilton's shares miss the tolerance, the
apportionment with the smallest largest gap is taken instead; when none meets it, the
plan's notes say so, with the best deviation reachable and the choices (one more sector,
a wider tolerance for that part). Each part is then designed by the engine it wraps,
with the band of the whole territory expressed around the part's own mean; fixed seeds
and locked units keep their sector numbers, whole communes and zones stay whole within
their part. A territory in one part is designed as before. :meth:`PartitionedDesign.layout`
(the parts, their sectors and bands) and :meth:`PartitionedDesign.part_engine` are shared
with the exact mode (:mod:`geo.sectorize.exact_parts`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo.errors import InfeasibleDesignError, InvalidInputError
from geo.metrics import french_number, french_percent, violations
from geo.parts import (
    HOLD_SHARE,
    apportion,
    balance_gap,
    best_apportionment,
    design_parts,
    ground_parts,
)
from geo.plan import SectorPlan, sector_names
from geo.sectorize.atoms import small_communes
from geo.sectorize.base import Progress, Sectorizer, no_progress
from geo.sectorize.by_area import area_graph, on_workload
from geo.sectorize.growth import RegionGrowth
from geo.unit_graph import UnitGraph


@dataclass(frozen=True)
class Layout:
    """How a territory is designed part by part (:meth:`PartitionedDesign.layout`): ``k``
    sectors, each unit's part (``group``, heaviest first) and the parts' ``load``, their
    ``seats`` and sector numbers (``sectors``), the ``notes`` that say so, and the whole
    territory's band ``[lo, hi]`` (``tolerance`` around its mean)."""

    k: int
    group: np.ndarray
    load: np.ndarray
    seats: list[int]
    sectors: list[list[int]]
    notes: list[str]
    tolerance: float
    lo: float
    hi: float

    @property
    def count(self) -> int:
        return len(self.seats)

    @property
    def single(self) -> bool:
        """A territory in one part: designed as a whole."""
        return self.count == 1

    @property
    def holds_band(self) -> bool:
        """Whether every part's mean sector workload lies in the whole territory's band
        (else no plan of sectors within the parts can be balanced)."""
        gap = balance_gap([float(x) for x in self.load], self.seats)
        return bool(np.abs(gap).max() <= self.tolerance + 1e-12)

    def part_tolerance(self, g: int) -> float:
        """Part ``g``'s band around its own mean: the whole territory's band when its mean
        lies inside it, else the territory's tolerance around the part's mean.

        >>> lay = Layout(3, np.zeros(1), np.array([30.0, 12.0]), [2, 1], [[0, 1], [2]],
        ...              [], 0.1, 12.6, 15.4)
        >>> round(lay.part_tolerance(0), 4), lay.part_tolerance(1), lay.holds_band
        (0.0267, 0.1, False)
        """
        mean = float(self.load[g]) / self.seats[g]
        inner = min(self.hi / mean - 1, 1 - self.lo / mean) if mean > 0 else 0.0
        return inner if inner > 0.002 else self.tolerance


class PartitionedDesign(Sectorizer):
    """Design each part of the territory with ``engine`` (see the module docstring)."""

    def __init__(self, engine: RegionGrowth, sectors_per_part: Sequence[int] = ()) -> None:
        if any(int(s) < 1 for s in sectors_per_part):
            raise InvalidInputError("sectors_per_part_at_least_one", field="sectors_per_part")
        self.engine = engine
        self.sectors_per_part = [int(s) for s in sectors_per_part]

    def layout(self, graph: UnitGraph) -> Layout:
        """The parts of ``graph``, their sectors and the notes that say how they were
        shared out (a territory in one part: :attr:`Layout.single`)."""
        engine = self.engine
        k = sum(self.sectors_per_part) if self.sectors_per_part else engine._k(graph)
        if self.sectors_per_part and engine.k is not None and engine.k != k:
            raise InvalidInputError(
                "sectors_per_part_sum",
                field="sectors_per_part",
                parts=" + ".join(map(str, self.sectors_per_part)),
                total=k,
                k=engine.k,
            )
        total = float(graph.workload.sum())
        target = total / k
        tol = engine.tolerance
        lo, hi = target * (1 - tol), target * (1 + tol)
        declared = graph.links.loc[graph.links["name"].notna()]
        part = ground_parts(graph.n, graph.edges, declared)
        hold = HOLD_SHARE * target
        parts = design_parts(graph.workload, part, graph.links, hold)
        while parts.count > k and not self.sectors_per_part:  # more parts than sectors
            hold *= 1.5
            parts = design_parts(graph.workload, part, graph.links, hold)
        if parts.count == 1 and len(self.sectors_per_part) <= 1:
            whole = np.zeros(graph.n, dtype=int)
            return Layout(k, whole, np.array([total]), [k], [list(range(k))], [], tol, lo, hi)
        # What the whole territory cannot hold is said of it, with its k (a part given two
        # sectors and holding one commune would say « 2 secteurs demandés »)
        territory = copy.copy(engine)
        territory.k, territory.target_workload = k, None
        atoms = territory.feasible_atoms(graph)[3]
        room = [len(np.unique(atoms.of[parts.group == g])) for g in range(parts.count)]
        notes, seats = self._seats(parts.load, k, graph, parts.group, room)
        sectors = self._sector_numbers(graph, parts.group, seats)
        return Layout(k, parts.group, parts.load, seats, sectors, notes, tol, lo, hi)

    def part_engine(self, layout: Layout, g: int, sub: UnitGraph) -> RegionGrowth:
        """The engine that designs part ``g`` (its graph ``sub``): its sectors, the band
        of the whole territory around the part's mean (:meth:`Layout.part_tolerance`),
        its seeds and locked units with the part's sector numbers."""
        engine = self.engine
        mine = layout.sectors[g]
        local = {s: j for j, s in enumerate(mine)}
        design = copy.copy(engine)
        design.k, design.target_workload = layout.seats[g], None
        design.tolerance = layout.part_tolerance(g)
        design.seeds = [engine.seeds[s] for s in mine if s < len(engine.seeds)]
        unit_ids = set(sub.units["unit"])
        design.locked = {
            u: local[s] for u, s in engine.locked.items() if u in unit_ids and s in local
        }
        return design

    def solve(
        self,
        graph: UnitGraph,
        *,
        rng: np.random.Generator,
        progress: Progress = no_progress,
    ) -> SectorPlan:
        engine = self.engine
        if engine.target_workload is None and (by_area := area_graph(graph)) is not None:
            plan = self.solve(by_area, rng=rng, progress=progress)
            return on_workload(plan, graph, engine.whole_commune_population)
        layout = self.layout(graph)
        k = layout.k
        if layout.single:
            if engine.k == k:
                return engine.solve(graph, rng=rng, progress=progress)
            single = copy.copy(engine)
            single.k, single.target_workload = k, None
            return single.solve(graph, rng=rng, progress=progress)
        notes = list(layout.notes)
        assignment = np.full(graph.n, -1, dtype=int)
        seed_units = np.full(k, -1, dtype=int)
        for g in range(layout.count):
            positions = np.flatnonzero(layout.group == g)
            sub = graph.restrict(positions)
            mine = layout.sectors[g]
            design = self.part_engine(layout, g, sub)
            start = g / layout.count

            def report(f: float, stage: str, start: float = start) -> None:
                progress(start + f / layout.count, stage)

            plan = design.solve(sub, rng=rng, progress=report)
            assignment[positions] = np.asarray(mine)[plan.assignment]
            for j, unit in enumerate(plan.seed_units):
                if unit >= 0:
                    seed_units[mine[j]] = positions[unit]
            notes += [f"partie {g + 1} : {note}" for note in plan.notes]
        plan = SectorPlan(
            graph=graph,
            assignment=assignment,
            names=sector_names(k),
            seeds=seed_units,
            notes=tuple(notes),
        )
        found = violations(plan, layout.tolerance, self.whole_communes(graph))
        progress(1.0, "done")
        return plan.with_assignment(plan.assignment, violations=tuple(found))

    def whole_communes(self, graph: UnitGraph) -> set[str]:
        """The communes the plan keeps whole (the violations' ``whole_commune``)."""
        engine = self.engine
        population = engine._population(graph)
        return small_communes(graph, engine.whole_commune_population, population)

    def _seats(
        self,
        part_loads: np.ndarray,
        k: int,
        graph: UnitGraph,
        group: np.ndarray,
        room: Sequence[int],
    ) -> tuple[list[str], list[int]]:
        """Sectors per part and the notes that say how they were shared out; a part gets
        no more sectors than it has ``room`` for (its atoms: a part of one whole commune
        holds one sector), the others take the seats it cannot."""
        tol = self.engine.tolerance
        count = len(part_loads)
        loads = [float(x) for x in part_loads]
        if self.sectors_per_part:
            if len(self.sectors_per_part) != count:
                raise InvalidInputError(
                    "sectors_per_part_count",
                    field="sectors_per_part",
                    count=count,
                    given=len(self.sectors_per_part),
                )
            seats, how = list(self.sectors_per_part), "répartition fixée par le planificateur"
        else:
            seats, how = apportion(loads, k), "répartition au plus fort reste (Hamilton)"
            if np.abs(balance_gap(loads, seats)).max() > tol:
                better = best_apportionment(loads, k)
                if (
                    np.abs(balance_gap(loads, better)).max()
                    < np.abs(balance_gap(loads, seats)).max()
                ):
                    seats, how = (
                        better,
                        "répartition ajustée pour l'équilibre (écart maximal le plus faible)",
                    )
            if any(s > r for s, r in zip(seats, room, strict=True)):
                seats = _within(seats, room, loads)
                how += ", au plus un secteur par commune gardée entière"
        communes = graph.units["commune"].to_numpy()
        described = []
        for g in range(count):
            codes = sorted({str(c) for c in communes[group == g] if c is not None and c == c})
            names = ", ".join(codes[:6]) + (" …" if len(codes) > 6 else "")
            described.append(
                f"partie {g + 1} ({names or 'hors commune'}, charge "
                f"{french_number(loads[g])}) : {seats[g]} secteur(s)"
            )
        notes = [
            f"territoire en {count} parties séparées ; {how} selon la charge : "
            + " ; ".join(described)
        ]
        gap = np.abs(balance_gap(loads, seats))
        if gap.max() <= tol:
            return notes, seats
        best = best_apportionment(loads, k)
        best_gap = np.abs(balance_gap(loads, best))
        if best_gap.max() <= tol:  # only a planner's apportionment can miss it
            worst = int(np.argmax(gap))
            notes.append(
                f"la répartition fixée ne tient pas la tolérance de ±{french_percent(tol)} : "
                f"partie {worst + 1} à {french_percent(gap[worst])} d'écart ; la répartition "
                f"{', '.join(map(str, best))} la tiendrait"
            )
            return notes, seats
        alt = np.abs(balance_gap(loads, best_apportionment(loads, k + 1))).max()
        w = int(np.argmax(best_gap))
        notes.append(
            f"aucune répartition de {k} secteurs entre les parties ne tient la tolérance "
            f"de ±{french_percent(tol)} : au mieux {french_percent(best_gap[w])} d'écart "
            f"(partie {w + 1}). Choix : {k + 1} secteurs (écart "
            f"{french_percent(alt)}), ou une tolérance de ±{french_percent(best_gap[w])} "
            f"pour la partie {w + 1}"
        )
        return notes, seats

    def _sector_numbers(
        self, graph: UnitGraph, group: np.ndarray, seats: list[int]
    ) -> list[list[int]]:
        """The sector numbers of each part: the sectors of its seeds first (in order),
        then those of its locked units, then free numbers."""
        engine = self.engine
        k = sum(seats)
        index = {u: i for i, u in enumerate(graph.units["unit"])}
        owner: dict[int, int] = {}
        fixed = [(s, u) for s, u in enumerate(engine.seeds)] + [
            (s, u) for u, s in engine.locked.items()
        ]
        for s, uid in fixed:
            if uid not in index:
                where = "seeds" if uid in engine.seeds else "locked"
                raise InvalidInputError("units_unknown", field=where, units=[str(uid)])
            if not 0 <= s < k:
                raise InvalidInputError(
                    "locked_unit_out_of_range", field="locked", unit=str(uid), sector=s, last=k - 1
                )
            g = int(group[index[uid]])
            if owner.setdefault(s, g) != g:
                raise InfeasibleDesignError(
                    "locked_two_parts", field="locked", sector=s, first=owner[s] + 1, second=g + 1
                )
        numbers: list[list[int]] = []
        for g, n in enumerate(seats):
            seeded = [s for s in range(len(engine.seeds)) if owner.get(s) == g]
            locked = sorted(s for s, o in owner.items() if o == g and s >= len(engine.seeds))
            if len(seeded) + len(locked) > n:
                raise InfeasibleDesignError(
                    "part_too_many_fixed",
                    field="seeds",
                    part=g + 1,
                    fixed=len(seeded) + len(locked),
                    sectors=n,
                )
            numbers.append(seeded + locked)
        free = iter(s for s in range(k) if s not in owner)
        for g, n in enumerate(seats):
            numbers[g] += [next(free) for _ in range(n - len(numbers[g]))]
        return numbers


def _within(seats: list[int], room: Sequence[int], loads: Sequence[float]) -> list[int]:
    """``seats`` with no part above its ``room``: each seat too many goes to the part with
    room whose load per sector would stay the highest.

    >>> _within([2, 1], [1, 5], [60.0, 40.0])
    [1, 2]
    """
    seats = list(seats)
    while over := [g for g, (s, r) in enumerate(zip(seats, room, strict=True)) if s > r]:
        seats[over[0]] -= 1
        free = [h for h in range(len(seats)) if seats[h] < room[h]]
        seats[max(free, key=lambda h: loads[h] / (seats[h] + 1))] += 1
    return seats
