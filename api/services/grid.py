"""The grid of a CSP: its units (H3 cells clipped to the CSP, :func:`geo.grid.tessellate`,
or street blocks cut by its roads, :func:`geo.blocks.street_blocks`, which need a
road/barrier layer over the CSP), their attributes by areal interpolation, their workload
and the barrier-aware adjacency; everything after the tessellation is the same."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import shapely

from api.repositories import base, csp, layers
from api.repositories import grid as grids
from api.schemas import (
    CellProperties,
    EdgeProperties,
    FeatureCollection,
    GridPublic,
    GridsPublic,
    Units,
)
from api.services.audit_log import record_write
from api.services.context import Context
from geo.blocks import DEFAULT_MIN_AREA_M2, DEFAULT_SPLIT_FACTOR, cutting_lines, street_blocks
from geo.errors import InvalidInputError
from geo.grid import (
    DEFAULT_BARRIER_CLASSES,
    DEFAULT_CROSSING_DISTANCE,
    DEFAULT_WORKLOAD_WEIGHTS,
    EXTENSIVE_VARIABLES,
    PROBLEMS,
    PopulationGrid,
    adjacency,
    cell_attributes,
    check_cell_budget,
    tessellate,
    workload,
)
from geo.point_counts import points_per_unit


def _check_weights(weights: Mapping[str, float]) -> None:
    if PROBLEMS in weights:
        raise InvalidInputError("grid_weights_problems", field="weights")
    if unknown := sorted(set(weights) - set(EXTENSIVE_VARIABLES)):
        raise InvalidInputError(
            "unknown_workload_variables",
            field="weights",
            unknown=unknown,
            available=list(EXTENSIVE_VARIABLES),
        )


def build_grid(
    ctx: Context,
    *,
    csp_id: int,
    resolution: int,
    units: Units = "h3",
    weights: Mapping[str, float] | None = None,
    crossing_distance_m: float = DEFAULT_CROSSING_DISTANCE,
) -> GridPublic:
    """Tessellate the CSP into H3 cells or street blocks (``units``), interpolate
    attributes, compute adjacency; replace any grid of the same units and resolution, in
    one transaction."""
    weights = dict(weights or DEFAULT_WORKLOAD_WEIGHTS)
    with ctx.write() as session:
        outline = csp.csp_outline(session=session, csp_id=csp_id)
        # Refuse a grid too fine for the CSP before any work: its size is estimated from
        # the areas alone.
        check_cell_budget(outline, resolution, ctx.grid_cell_budget)
        _check_weights(weights)
        communes = grids.csp_communes(session=session, csp_id=csp_id)
        source = layers.latest_population_grid(session=session, csp_id=csp_id)
        lines = layers.barrier_lines(session=session, csp_id=csp_id, margin_m=crossing_distance_m)

        extra: dict[str, object] = {}
        if units == "blocks":
            cutting = cutting_lines(lines)
            inside = shapely.intersects(outline, cutting.geometry.to_numpy()).sum()
            if not inside:
                raise InvalidInputError("blocks_need_barriers", field="units", csp_id=csp_id)
            cells = street_blocks(outline, lines, resolution=resolution)
            extra = {
                "min_area_m2": DEFAULT_MIN_AREA_M2,
                "split_factor": DEFAULT_SPLIT_FACTOR,
                "cutting_line_count": int(inside),
            }
        elif units == "h3":
            cells = tessellate(outline, resolution)
        else:
            raise InvalidInputError(
                "unknown_code", field="units", value=units, expected=["h3", "blocks"]
            )
        pop_grid = PopulationGrid(source.squares, source.extent) if source else None
        cells = cell_attributes(cells, communes, pop_grid)
        cells["workload"] = workload(cells, weights)
        graph = adjacency(
            cells, lines if len(lines) else None, crossing_distance=crossing_distance_m
        )
        cells["component"] = graph.component
        parameters = {
            "units": units,
            "weights": weights,
            "crossing_distance_m": crossing_distance_m,
            "barrier_classes": sorted(DEFAULT_BARRIER_CLASSES),
            "population_grid_layer_id": source.layer_id if source else None,
            "barrier_line_count": len(lines),
            **extra,
        }
        stored = grids.store_grid(
            session=session,
            csp_id=csp_id,
            resolution=resolution,
            units=units,
            parameters=parameters,
            cells=cells,
            graph=graph,
        )
        record_write(
            session,
            ctx,
            "build",
            "grid",
            stored.id,
            detail={
                "csp_id": csp_id,
                "resolution": resolution,
                "units": units,
                "cell_count": len(cells),
                "weights": weights,
            },
        )
        return stored


def list_grids(ctx: Context, csp_id: int) -> GridsPublic:
    with ctx.read() as session:
        return grids.list_grids(session=session, csp_id=csp_id)


#: Counts no cell has: where each cell's counts go in its serialised feature.
_PLACE = (-918_273_645, -918_273_646)
_PLACE_TEXT = f'"problems":{_PLACE[0]},"synthetic_problems":{_PLACE[1]}'.encode()


@dataclass(frozen=True)
class CellsTemplate:
    """A grid's cells serialised once (they never change: a rebuild is a new grid), cut
    where each feature's counts go; :meth:`fill` writes the answer for some counts,
    writing again only the counts of the cells that changed since its last answer."""

    ids: list[str]
    pieces: list[bytes]
    #: The last answer's counts per cell (problems, synthetic ones) and its parts.
    _last: list[tuple[np.ndarray, np.ndarray, list[bytes]]] = field(
        default_factory=list, compare=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def of(cls, cells: FeatureCollection[CellProperties]) -> CellsTemplate:
        pieces = cells.model_dump_json().encode().split(_PLACE_TEXT)
        assert len(pieces) == len(cells.features) + 1
        return cls([str(f.id) for f in cells.features], pieces)

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.ids)

    def fill(self, counts: pd.DataFrame) -> bytes:
        """The answer for ``counts`` (``problems`` and ``synthetic_problems`` indexed by
        cell; a cell absent has none)."""
        aligned = counts.reindex(self._index, fill_value=0)
        problems = aligned["problems"].to_numpy(dtype=np.int64)
        synthetic = aligned["synthetic_problems"].to_numpy(dtype=np.int64)
        with self._lock:
            if self._last:
                before, before_synthetic, parts = self._last[0]
                changed = np.flatnonzero((problems != before) | (synthetic != before_synthetic))
                parts = list(parts)
            else:
                changed = np.arange(len(self.ids))
                parts = [self.pieces[0]]
                for piece in self.pieces[1:]:
                    parts += [b"", piece]
            for i in changed.tolist():
                parts[2 * i + 1] = b'"problems":%d,"synthetic_problems":%d' % (
                    int(problems[i]),
                    int(synthetic[i]),
                )
            self._last[:] = [(problems, synthetic, parts)]
        return b"".join(parts)


def grid_cells_json(ctx: Context, csp_id: int, *, resolution: int, units: str = "h3") -> bytes:
    """The grid's cells with their attributes and problem counts, as GeoJSON bytes. A
    grid's cells never change: they are serialised once (:class:`CellsTemplate`). Their
    counts change with the CSP's problems: they are read from ``cell_count``, which each
    write of a problem updates for the cell it lands in or leaves (migration 0024), and
    the answer is kept in the map cache until the problems' revision moves."""
    with ctx.read() as session:
        grid_id = grids.require_grid(
            session=session, csp_id=csp_id, resolution=resolution, units=units
        )

        def compute() -> bytes:
            template: CellsTemplate = ctx.maps.get_or_compute(
                ("cells template", grid_id),
                0,  # a grid's cells never change
                lambda: CellsTemplate.of(
                    grids.grid_cells(
                        session=session,
                        csp_id=csp_id,
                        resolution=resolution,
                        units=units,
                        counts=_NO_COUNTS,
                        missing=_PLACE,
                    )
                ),
            )
            return template.fill(
                grids.problem_counts(session=session, csp_id=csp_id, grid_id=grid_id)
            )

        body: bytes = ctx.maps.get_or_compute(
            ("cells", grid_id), base.problem_revision(session=session, csp_id=csp_id), compute
        )
        return body


def counted_cells_json(ctx: Context, csp_id: int, *, resolution: int, units: str = "h3") -> bytes:
    """:func:`grid_cells_json` counted again from every problem's anchor, as it was before
    the counts were kept (:func:`geo.point_counts.points_per_unit`): what the kept counts
    must always equal (the tests compare them)."""
    with ctx.read() as session:
        grid_id = grids.require_grid(
            session=session, csp_id=csp_id, resolution=resolution, units=units
        )
        ids, outlines = grids.cell_outlines(session=session, grid_id=grid_id)
        anchors = grids.problem_anchors(session=session, csp_id=csp_id)
        counted = points_per_unit(
            ids, outlines, anchors["x"], anchors["y"], flags=anchors["synthetic"]
        )
        counts = counted.rename(columns={"points": "problems", "flagged": "synthetic_problems"})
        cells = grids.grid_cells(
            session=session, csp_id=csp_id, resolution=resolution, units=units, counts=counts
        )
        return cells.model_dump_json().encode()


_NO_COUNTS = pd.DataFrame(
    {"problems": pd.Series(dtype=int), "synthetic_problems": pd.Series(dtype=int)},
    index=pd.Index([], name="h3"),
)


def grid_edges(
    ctx: Context, csp_id: int, *, resolution: int, units: str = "h3", blocked: bool | None = None
) -> FeatureCollection[EdgeProperties]:
    with ctx.read() as session:
        return grids.grid_edges(
            session=session, csp_id=csp_id, resolution=resolution, units=units, blocked=blocked
        )
