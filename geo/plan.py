"""Sector plans: an assignment of every unit of a unit graph to one sector.

A :class:`SectorPlan` is immutable: the :class:`~geo.unit_graph.UnitGraph` (units and
their adjacency), ``assignment`` (unit → sector index ``0 … k-1``) and the sectors'
names. Its sector polygons and metrics (:func:`geo.metrics.score`) are computed once and
cached. :func:`plan_from_polygons` turns an existing sector layer (e.g. hand-drawn
sectors) into a plan on the same units, so that it is scored like any proposal.

:class:`~geo.unit_graph.UnitGraph`, :class:`~geo.violations.Violation` and
:func:`~geo.unit_graph.dissolve` are importable from here too, as the things a plan is
made of.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs
from geo.errors import InvalidInputError
from geo.geometry import repaired_geometries
from geo.metrics import PlanMetrics, score, violations
from geo.plan_bound import PlanBound
from geo.unit_graph import UnitGraph, dissolve
from geo.violations import Violation

__all__ = [
    "MAX_SECTOR_NAME",
    "SectorPlan",
    "UnitGraph",
    "Violation",
    "dissolve",
    "plan_from_polygons",
    "sector_names",
]

MAX_SECTOR_NAME = 200


@dataclass(frozen=True, eq=False)
class SectorPlan:
    """A partition of a unit graph into ``k`` sectors.

    ``assignment[i]`` is the sector (``0 … k-1``) of unit ``i``; ``seeds[s]`` the unit
    position of sector ``s``'s seed (a police station…) or -1; ``notes`` say what the
    solver did that a planner must know (islands joined, communes split…); ``violations``
    list every constraint the plan does not meet; ``bound`` says how far it is proven to
    be from the best plan possible, when that was computed (:mod:`geo.plan_bound`). Notes
    are shown to planners as they are, in French. Polygons and metrics are cached.
    """

    graph: UnitGraph
    assignment: np.ndarray
    names: tuple[str, ...] = ()
    seeds: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    violations: tuple[Violation, ...] = ()
    bound: PlanBound | None = None

    def __post_init__(self) -> None:
        assignment = np.asarray(self.assignment, dtype=int)
        if assignment.shape != (self.graph.n,):
            raise InvalidInputError(
                "parameter_expected",
                name="assignment",
                expected=f"un secteur par unité ({self.graph.n})",
                got=assignment.shape,
            )
        if len(assignment) and assignment.min() < 0:
            raise InvalidInputError("units_without_sector", field="assignment")
        k = int(assignment.max()) + 1 if len(assignment) else 0
        empty = sorted(set(range(k)) - set(np.unique(assignment).tolist()))
        if empty:
            raise InvalidInputError("sectors_without_unit", field="assignment", sectors=empty)
        object.__setattr__(self, "assignment", assignment)
        if not self.names:
            object.__setattr__(self, "names", sector_names(k))
        if len(self.names) != k:
            raise InvalidInputError(
                "parameter_expected",
                name="names",
                expected=f"{k} noms de secteur",
                got=len(self.names),
            )
        if self.seeds is None:
            object.__setattr__(self, "seeds", np.full(k, -1, dtype=int))

    @property
    def k(self) -> int:
        return len(self.names)

    @property
    def seed_units(self) -> np.ndarray:
        """The seed unit position of each sector, -1 for none."""
        assert self.seeds is not None  # set by __post_init__
        return self.seeds

    def with_assignment(self, assignment: np.ndarray, **changes: Any) -> SectorPlan:
        """A new plan on the same graph (metrics recomputed lazily)."""
        return replace(self, assignment=assignment, **changes)

    @cached_property
    def workloads(self) -> np.ndarray:
        return np.bincount(self.assignment, weights=self.graph.workload, minlength=self.k)

    @cached_property
    def sectors(self) -> gpd.GeoDataFrame:
        """One dissolved (multi)polygon per sector, EPSG:4326: ``sector``, ``name``,
        ``workload``, ``unit_count``, ``geometry``.

        The units tile the territory, so their coverage union per sector has no gap and
        no overlap, and the sectors' union is the territory.
        """
        geoms = self.graph.units.geometry.to_numpy()
        polygons = [dissolve(geoms[self.assignment == s]) for s in range(self.k)]
        return gpd.GeoDataFrame(
            {
                "sector": np.arange(self.k),
                "name": list(self.names),
                "workload": self.workloads,
                "unit_count": np.bincount(self.assignment, minlength=self.k),
            },
            geometry=polygons,
            crs=self.graph.units.crs,
        )

    @cached_property
    def metrics(self) -> PlanMetrics:
        return score(self)

    def unit_table(self) -> pd.DataFrame:
        """``unit`` and ``sector`` of every unit."""
        return pd.DataFrame({"unit": self.graph.units["unit"], "sector": self.assignment})


def plan_from_polygons(
    graph: UnitGraph,
    sectors: gpd.GeoDataFrame,
    *,
    name_column: str | None = None,
    tolerance: float = 0.05,
) -> SectorPlan:
    """Turn a sector layer (polygons) into a plan on ``graph``'s units.

    Each unit goes to the sector polygon that holds most of its area. A unit no polygon
    touches goes to the nearest sector, and the plan's notes list those units, so that a
    hand-drawn layer with gaps is scored, not refused. Sector names come from
    ``name_column`` (else ``nom``, ``name``, ``secteur``, ``code`` if present). The plan
    lists the constraints it misses (balance beyond ``tolerance``, sectors in pieces).
    """
    if sectors.crs is None:
        raise InvalidInputError("sector_layer_without_crs", field="file")
    sectors = sectors.loc[sectors.geometry.notna() & ~sectors.geometry.is_empty].reset_index(
        drop=True
    )
    if not len(sectors):
        raise InvalidInputError("sector_layer_empty", field="file")
    kinds = set(sectors.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise InvalidInputError("sector_layer_not_polygons", field="file", kinds=sorted(kinds))
    column = name_column or next(
        (c for c in ("nom", "name", "secteur", "sector", "code") if c in sectors.columns), None
    )
    if name_column and name_column not in sectors.columns:
        raise InvalidInputError(
            "sector_layer_column_missing",
            field="file",
            column=str(name_column),
            found=[str(c) for c in sectors.columns],
        )
    names = (
        [str(v)[:MAX_SECTOR_NAME] for v in sectors[column]]
        if column
        else [f"Secteur {i + 1}" for i in range(len(sectors))]
    )
    # An invalid polygon (a self-intersecting ring…) is repaired when no area is lost,
    # and the notes say so; one that encloses no area is refused, named.
    labels = [f"secteur « {n} » (entité {i + 1})" for i, n in enumerate(names)]
    fixed, repaired = repaired_geometries(
        sectors.geometry.to_numpy(), labels=labels, field="sector layer"
    )
    crs = metric_crs(graph.units)
    units = graph.metric.geometry
    polys = gpd.GeoSeries(fixed, crs=sectors.crs).to_crs(crs).make_valid()
    u_idx, s_idx = polys.sindex.query(units, predicate="intersects")
    areas = shapely.area(shapely.intersection(units.to_numpy()[u_idx], polys.to_numpy()[s_idx]))
    best = (
        pd.DataFrame({"u": u_idx, "s": s_idx, "a": areas})
        .loc[lambda d: d["a"] > 0]
        .sort_values(["u", "a"], ascending=[True, False])
        .drop_duplicates("u")
    )
    if not len(best):
        raise InvalidInputError("sector_layer_outside_territory", field="file")
    assignment = np.full(graph.n, -1, dtype=int)
    assignment[best["u"].to_numpy()] = best["s"].to_numpy()
    notes: list[str] = [
        f"{labels[i]} : géométrie invalide ({reason}) réparée" for i, reason in repaired.items()
    ]
    orphan = np.flatnonzero(assignment < 0)
    if len(orphan):
        near_u, near_s = polys.sindex.nearest(units.iloc[orphan], return_all=False)
        assignment[orphan[near_u]] = near_s
        notes.append(
            f"{len(orphan)} unité(s) hors de tout polygone de secteur rattachée(s) au secteur "
            "le plus proche"
        )
    used = np.unique(assignment)
    if len(used) < len(names):
        dropped = [names[i] for i in range(len(names)) if i not in set(used.tolist())]
        notes.append(f"secteur(s) sans aucune unité écarté(s) : {', '.join(dropped)}")
    remap = np.full(len(names), -1, dtype=int)
    remap[used] = np.arange(len(used))
    plan = SectorPlan(
        graph=graph,
        assignment=remap[assignment],
        names=tuple(names[i] for i in used),
        notes=tuple(notes),
    )
    found = violations(plan, tolerance)
    return plan.with_assignment(plan.assignment, violations=tuple(found))


def sector_names(k: int) -> tuple[str, ...]:
    """Default names ``Secteur 1 … Secteur k``."""
    return tuple(f"Secteur {s + 1}" for s in range(k))
