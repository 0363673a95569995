"""The unit graph: the atomic units of a CSP and the adjacency between them.

A :class:`UnitGraph` holds the atomic units of a CSP (H3 cells clipped to it, see
:mod:`geo.grid`, or street blocks, see :mod:`geo.blocks`) with their workload and
commune, and the barrier-aware adjacency between them. The parts the adjacency leaves
apart (islands, enclaves cut off by a barrier with no crossing, communes separated by
another police zone) are joined by the *declared links* of a ``links`` layer (ferries,
private bridges, tunnels), then by *proximity links* between nearest units, a minimum
spanning tree of the parts (:mod:`geo.parts`), so that every sector can be contiguous;
the links are listed, never hidden. Sector plans (:mod:`geo.plan`) assign
these units to sectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix

from geo.crs import metric_crs
from geo.errors import InvalidInputError
from geo.grid import Adjacency, adjacency, components
from geo.parts import declared_links, empty_links, ground_parts, proximity_links

UNIT_COLUMNS = ("unit", "commune", "workload")


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
        Links ``a``, ``b`` (positions), ``distance_m``, ``name``: a declared link (its
        name) or a proximity link between the nearest units of two parts (``None``).
    """

    units: gpd.GeoDataFrame
    edges: pd.DataFrame
    links: pd.DataFrame = field(default_factory=empty_links)

    @classmethod
    def build(
        cls,
        units: gpd.GeoDataFrame,
        adjacency: Adjacency,
        declared: gpd.GeoDataFrame | None = None,
    ) -> UnitGraph:
        """Check the units, and link the parts: by the lines of ``declared`` (a ``links``
        layer, see :func:`geo.parts.declared_links`), then by nearest units.

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
                "file_columns_missing",
                field="units",
                missing=missing,
                found=[str(c) for c in units.columns],
            )
        units = units.reset_index(drop=True)
        if units["unit"].duplicated().any():
            dup = units.loc[units["unit"].duplicated(), "unit"].head(5).tolist()
            raise InvalidInputError("units_duplicate_ids", field="units", ids=[str(u) for u in dup])
        load = pd.to_numeric(units["workload"], errors="coerce")
        if load.isna().any() or (load < 0).any() or not np.isfinite(load).all():
            bad = units.loc[load.isna() | (load < 0) | ~np.isfinite(load), "unit"].head(5)
            raise InvalidInputError(
                "parameter_expected",
                name="workload",
                expected="une charge finie et positive ou nulle",
                got=[str(u) for u in bad.tolist()],
            )
        units["workload"] = load.astype(float)
        edges = adjacency.edges.reset_index(drop=True)
        named = declared_links(units, declared)
        part = ground_parts(len(units), edges, named)
        links = pd.concat([named, proximity_links(units, part)], ignore_index=True)
        return cls(units=units, edges=edges, links=links.astype({"a": int, "b": int}))

    @classmethod
    def from_cells(
        cls,
        cells: gpd.GeoDataFrame,
        barriers: gpd.GeoDataFrame | None = None,
        *,
        declared: gpd.GeoDataFrame | None = None,
        **options: Any,
    ) -> UnitGraph:
        """The graph of H3 cells with the attributes of :func:`geo.grid.cell_attributes`
        and a ``workload`` column, joined by the ``declared`` links; ``options`` go to
        :func:`geo.grid.adjacency`."""
        units = cells.rename(columns={"h3": "unit"})
        return cls.build(units, adjacency(units, barriers, **options), declared)

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
                "points_outside_territory", lon=str(lon), lat=str(lat), count=len(missing)
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

    def restrict(self, positions: np.ndarray) -> UnitGraph:
        """The graph of these units only (positions, in order), with the edges and links
        between them (no link added)."""
        positions = np.asarray(positions, dtype=int)
        new = np.full(self.n, -1)
        new[positions] = np.arange(len(positions))

        def keep(frame: pd.DataFrame) -> pd.DataFrame:
            a, b = new[frame["a"].to_numpy(int)], new[frame["b"].to_numpy(int)]
            inside = (a >= 0) & (b >= 0)
            out = frame.loc[inside].copy()
            out["a"], out["b"] = a[inside], b[inside]
            return out.reset_index(drop=True)

        units = self.units.iloc[positions].reset_index(drop=True)
        return UnitGraph(units=units, edges=keep(self.edges), links=keep(self.links))

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
