"""Sector plans: a unit graph and an assignment of every unit to one sector.

A :class:`UnitGraph` holds the atomic units of a CSP (H3 cells clipped to it, see
:mod:`geo.grid`) with their workload and commune, and the barrier-aware adjacency between
them. Units that the adjacency leaves unconnected to the mainland (islands, enclaves cut
off by a barrier with no crossing) are joined to their nearest mainland unit by an
*island link*, so that every sector can be contiguous; the links are listed, never hidden.

A :class:`SectorPlan` is immutable: the graph, ``assignment`` (unit → sector index
``0 … k-1``) and the sectors' names. Its sector polygons and metrics are computed once
and cached. :func:`plan_from_polygons` turns an existing sector layer (e.g. hand-drawn
sectors) into a plan on the same units, so that it is scored like any proposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix

from geo.crs import metric_crs
from geo.errors import InvalidInputError
from geo.grid import Adjacency, adjacency, components

if TYPE_CHECKING:
    from geo.metrics import PlanMetrics

UNIT_COLUMNS = ("unit", "commune", "workload")
MAX_SECTOR_NAME = 200


@dataclass(frozen=True)
class Violation:
    """A constraint the plan does not meet: ``constraint`` is a stable code (``balance``,
    ``contiguity``, ``whole_commune``), ``sector`` the sector concerned (or ``None``),
    ``message`` a sentence for the planner (in French) that names the values."""

    constraint: str
    message: str
    sector: int | None = None
    value: float | None = None
    limit: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "constraint": self.constraint,
            "sector": self.sector,
            "value": self.value,
            "limit": self.limit,
            "message": self.message,
        }


@dataclass(frozen=True, eq=False)
class UnitGraph:
    """Units and their adjacency, ready for sector design.

    Parameters
    ----------
    units
        GeoDataFrame with ``unit`` (str id), ``commune`` (INSEE code), ``workload``
        (float ≥ 0) and polygon geometries that tile the territory; optional ``zone``
        (code of a zone that must not be split, e.g. a QPV outline, or null).
    edges
        The adjacency edges of :class:`geo.grid.Adjacency` (positions in ``units``).
    links
        Island links ``a``, ``b`` (positions), ``distance_m``: a unit of a minor
        component and its nearest unit of the largest component.
    """

    units: gpd.GeoDataFrame
    edges: pd.DataFrame
    links: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"a": [], "b": [], "distance_m": []})
    )

    @classmethod
    def build(cls, units: gpd.GeoDataFrame, adjacency: Adjacency) -> UnitGraph:
        """Check the units, and link every minor component to the mainland.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely.geometry import box
        >>> from geo.grid import adjacency
        >>> boxes = [box(6.80, 47.6, 6.81, 47.61), box(6.81, 47.6, 6.82, 47.61),
        ...          box(6.85, 47.6, 6.86, 47.61)]
        >>> units = gpd.GeoDataFrame({"unit": ["a", "b", "c"], "commune": "90010",
        ...                           "workload": 1.0}, geometry=boxes, crs=4326)
        >>> graph = UnitGraph.build(units, adjacency(units))
        >>> graph.links[["a", "b"]].values.tolist()
        [[2, 1]]
        """
        missing = [c for c in UNIT_COLUMNS if c not in units.columns]
        if missing:
            raise InvalidInputError(
                f"units: missing column(s) {', '.join(missing)}; "
                f"found {', '.join(map(str, units.columns))}"
            )
        units = units.reset_index(drop=True)
        if units["unit"].duplicated().any():
            dup = units.loc[units["unit"].duplicated(), "unit"].head(5).tolist()
            raise InvalidInputError(f"units: duplicate unit ids {dup}")
        load = pd.to_numeric(units["workload"], errors="coerce")
        if load.isna().any() or (load < 0).any() or not np.isfinite(load).all():
            bad = units.loc[load.isna() | (load < 0) | ~np.isfinite(load), "unit"].head(5)
            raise InvalidInputError(
                f"units: workload must be a finite number ≥ 0; bad units {bad.tolist()}"
            )
        units["workload"] = load.astype(float)
        links = _island_links(units, adjacency.component)
        return cls(units=units, edges=adjacency.edges.reset_index(drop=True), links=links)

    @classmethod
    def from_cells(
        cls, cells: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame | None = None, **options: Any
    ) -> UnitGraph:
        """The graph of H3 cells with the attributes of :func:`geo.grid.cell_attributes`
        and a ``workload`` column; ``options`` go to :func:`geo.grid.adjacency`."""
        units = cells.rename(columns={"h3": "unit"})
        return cls.build(units, adjacency(units, barriers, **options))

    def locate(self, points: Sequence[tuple[float, float]]) -> list[str]:
        """Ids of the units holding each ``(lon, lat)`` point (WGS84).

        Raises :class:`~geo.errors.InvalidInputError` naming the first point outside
        every unit (outside the territory, or latitude and longitude swapped).
        """
        if not points:
            return []
        geoms = shapely.points(np.asarray(points, dtype=float))
        units = self.units.to_crs(4326)
        p_idx, u_idx = units.sindex.query(geoms, predicate="intersects")
        found = dict(zip(p_idx.tolist(), u_idx.tolist(), strict=True))
        missing = [points[i] for i in range(len(points)) if i not in found]
        if missing:
            lon, lat = missing[0]
            raise InvalidInputError(
                f"point [{lon}, {lat}] (lon, lat) lies outside the territory"
                + (f" ({len(missing)} points in all)" if len(missing) > 1 else "")
            )
        return [str(units["unit"].iloc[found[i]]) for i in range(len(points))]

    @property
    def n(self) -> int:
        return len(self.units)

    def subgraph(self, positions: np.ndarray) -> UnitGraph:
        """The graph of these units only (positions, in order), its islands relinked."""
        positions = np.asarray(positions, dtype=int)
        new = np.full(self.n, -1)
        new[positions] = np.arange(len(positions))
        e = self.edges
        keep = (new[e["a"].to_numpy(int)] >= 0) & (new[e["b"].to_numpy(int)] >= 0)
        edges = e.loc[keep].copy()
        edges["a"] = new[edges["a"].to_numpy(int)]
        edges["b"] = new[edges["b"].to_numpy(int)]
        edges = edges.reset_index(drop=True)
        units = self.units.iloc[positions].reset_index(drop=True)
        return UnitGraph.build(units, Adjacency(edges, components(len(units), edges)))

    @cached_property
    def workload(self) -> np.ndarray:
        return self.units["workload"].to_numpy(dtype=float)

    @cached_property
    def metric(self) -> gpd.GeoDataFrame:
        """The units in the metric CRS of :func:`geo.crs.metric_crs`."""
        return self.units.to_crs(metric_crs(self.units))

    @cached_property
    def centroids(self) -> np.ndarray:
        """Unit centroids in metres, shape (n, 2)."""
        return shapely.get_coordinates(self.metric.geometry.centroid.to_numpy())

    @cached_property
    def open_edges(self) -> pd.DataFrame:
        """Edges units can be neighbours through: unblocked edges plus island links,
        with ``shared_m`` (0 for links) and ``barrier``."""
        open_ = self.edges.loc[~self.edges["blocked"], ["a", "b", "shared_m", "barrier"]]
        links = pd.DataFrame(
            {
                "a": self.links["a"].astype(int),
                "b": self.links["b"].astype(int),
                "shared_m": 0.0,
                "barrier": None,
            }
        )
        if not len(links):
            return open_.reset_index(drop=True)
        return pd.concat([open_, links], ignore_index=True)

    @cached_property
    def csr(self) -> csr_matrix:
        """Symmetric adjacency matrix over :attr:`open_edges`."""
        e = self.open_edges
        a, b = e["a"].to_numpy(int), e["b"].to_numpy(int)
        m = coo_matrix((np.ones(2 * len(e)), (np.r_[a, b], np.r_[b, a])), shape=(self.n, self.n))
        return m.tocsr()


def dissolve(units: np.ndarray) -> shapely.Geometry:
    """The union of units that tile a region (a sector): a fast coverage union, or a
    full union where the tiling is not clean."""
    merged = shapely.coverage_union_all(units)
    if not merged.is_valid:
        merged = shapely.make_valid(shapely.union_all(units))
    return merged


def _island_links(units: gpd.GeoDataFrame, component: np.ndarray) -> pd.DataFrame:
    """For every component but the largest (0), its nearest pair of units to component 0."""
    rows: list[tuple[int, int, float]] = []
    if len(component) and component.max() > 0:
        metric = units.geometry.to_crs(metric_crs(units)).to_numpy()
        main = np.flatnonzero(component == 0)
        tree = shapely.STRtree(metric[main])
        for comp in range(1, int(component.max()) + 1):
            members = np.flatnonzero(component == comp)
            (src, dst), dist = tree.query_nearest(
                metric[members], return_distance=True, all_matches=False
            )
            best = int(np.argmin(dist))
            rows.append((int(members[src[best]]), int(main[dst[best]]), float(dist[best])))
    return pd.DataFrame(rows, columns=["a", "b", "distance_m"])


@dataclass(frozen=True, eq=False)
class SectorPlan:
    """A partition of a unit graph into ``k`` sectors.

    ``assignment[i]`` is the sector (``0 … k-1``) of unit ``i``; ``seeds[s]`` the unit
    position of sector ``s``'s seed (a police station…) or -1; ``notes`` say what the
    solver did that a planner must know (islands joined, communes split…); ``violations``
    list every constraint the plan does not meet. Notes are shown to planners as they are,
    in French. Polygons and metrics are cached.
    """

    graph: UnitGraph
    assignment: np.ndarray
    names: tuple[str, ...] = ()
    seeds: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    violations: tuple[Violation, ...] = ()

    def __post_init__(self) -> None:
        assignment = np.asarray(self.assignment, dtype=int)
        if assignment.shape != (self.graph.n,):
            raise InvalidInputError(
                f"assignment: expected one sector per unit ({self.graph.n}), "
                f"got shape {assignment.shape}"
            )
        if len(assignment) and assignment.min() < 0:
            raise InvalidInputError("assignment: some units have no sector")
        k = int(assignment.max()) + 1 if len(assignment) else 0
        empty = sorted(set(range(k)) - set(np.unique(assignment).tolist()))
        if empty:
            raise InvalidInputError(f"assignment: sector(s) {empty} have no unit")
        object.__setattr__(self, "assignment", assignment)
        if not self.names:
            object.__setattr__(self, "names", sector_names(k))
        if len(self.names) != k:
            raise InvalidInputError(f"names: expected {k} sector names, got {len(self.names)}")
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
        from geo.metrics import score

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
        raise InvalidInputError("sector layer: no CRS declared")
    sectors = sectors.loc[sectors.geometry.notna() & ~sectors.geometry.is_empty].reset_index(
        drop=True
    )
    if not len(sectors):
        raise InvalidInputError("sector layer: the file has no feature with a geometry")
    kinds = set(sectors.geometry.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise InvalidInputError(
            f"sector layer: sectors must be polygons, got {', '.join(sorted(kinds))}"
        )
    column = name_column or next(
        (c for c in ("nom", "name", "secteur", "sector", "code") if c in sectors.columns), None
    )
    if name_column and name_column not in sectors.columns:
        raise InvalidInputError(
            f"sector layer: no column {name_column!r}; found {', '.join(sectors.columns)}"
        )
    names = (
        [str(v)[:MAX_SECTOR_NAME] for v in sectors[column]]
        if column
        else [f"Secteur {i + 1}" for i in range(len(sectors))]
    )
    crs = metric_crs(graph.units)
    units = graph.metric.geometry
    polys = sectors.to_crs(crs).geometry.make_valid()
    u_idx, s_idx = polys.sindex.query(units, predicate="intersects")
    areas = shapely.area(shapely.intersection(units.to_numpy()[u_idx], polys.to_numpy()[s_idx]))
    best = (
        pd.DataFrame({"u": u_idx, "s": s_idx, "a": areas})
        .loc[lambda d: d["a"] > 0]
        .sort_values(["u", "a"], ascending=[True, False])
        .drop_duplicates("u")
    )
    if not len(best):
        raise InvalidInputError(
            "sector layer: no sector polygon overlaps the territory (wrong CRS declared?)"
        )
    assignment = np.full(graph.n, -1, dtype=int)
    assignment[best["u"].to_numpy()] = best["s"].to_numpy()
    notes: list[str] = []
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
    from geo.metrics import violations  # metrics needs this module: import at call time

    found = violations(plan, tolerance)
    return plan.with_assignment(plan.assignment, violations=tuple(found))


def sector_names(k: int) -> tuple[str, ...]:
    """Default names ``Secteur 1 … Secteur k``."""
    return tuple(f"Secteur {s + 1}" for s in range(k))
