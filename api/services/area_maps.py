"""A study area's hot spots and heat over a filter, kept up to date by appending (issue 22).

The problems a map reads are held (:class:`AreaPoints`: their ids, anchors, H3 cells and
positions in metres, sorted by id) with the PostgreSQL snapshot they were read in. At the
next revision, only the problems written since (``problem_touch``, migration 0026, read
by :func:`api.repositories.touches.touched_since`: the transactions that snapshot does not
see) are read again, binned and projected, and
put in the held arrays in place of their previous rows; then Gi* (its weights kept per
set of cells), the kernel density (when the heat is first asked: :class:`LazyFeatures`) and
the JSON (each hexagon's geometry encoded once) are computed from the arrays. A change
that leaves the area's points as they were (a problem of another GPO, a title) gives the
previous maps again under the new revision. Since the arrays are those a full read gives,
in the same order, the answer is the one computed from scratch, byte for byte
(``tests/api/test_map_refresh.py``)."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache, partial
from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy.orm import Session

from api.map_cache import MapCache
from api.repositories import base, problem_maps, touches
from api.repositories.base import GEOJSON_DECIMALS
from api.schemas import HotspotMeta
from api.services.kept_lists import up_to_date
from geo.density import MAX_HEAT_CELLS, kde, kde_parameters
from geo.grid import estimate_cell_count
from geo.hotspots import (
    DEFAULT_H3_RES,
    LEVEL_LABELS,
    MIN_HOTSPOT_PROBLEMS,
    cell_positions,
    getis_ord,
    metric_crs_of,
    metric_xy,
    point_cell_ids,
    study_cells,
)
from geo.hotspots import check_map_cells as check_map_cells_of
from geo.problems import CATEGORIES
from geo.study import ProblemFilter, StudyArea

#: The categories in the taxonomy's order: an :class:`AreaPoints`'s ``category`` is a
#: position in it.
CATEGORY_CODES = list(CATEGORIES)


def hexagons_json(cells: list[str]) -> list[str]:
    """The GeoJSON geometries of H3 cells as the maps write them: each hexagon's corners
    rounded to :data:`GEOJSON_DECIMALS` decimals, its ring clockwise from its last corner
    (what ``shapely.set_precision`` of the hexagon gave, one cell at a time, before issue
    22: ``tests/api/test_map_extremes.py`` compares them), all cells at once."""
    if not cells:
        return []
    boundaries = [h3.cell_to_boundary(cell) for cell in cells]
    sizes = np.fromiter(map(len, boundaries), dtype=np.int64, count=len(boundaries))
    if (sizes == sizes[0]).all():  # hexagons only (a pentagon or a distorted cell aside)
        corners = np.asarray(boundaries, dtype=float)[:, ::-1, ::-1].reshape(-1, 2)
    else:  # each boundary's corners in reverse (clockwise), as (lng, lat)
        corners = np.asarray([p for b in boundaries for p in reversed(b)], dtype=float)[:, ::-1]
    rings = shapely.linearrings(corners, indices=np.repeat(np.arange(len(cells)), sizes))
    rounded = shapely.set_precision(rings, 10**-GEOJSON_DECIMALS, mode="pointwise")
    numbers = shapely.get_coordinates(rounded).ravel().tolist()
    templates: dict[int, str] = {}
    out = []
    start = 0
    for size in (sizes + 1).tolist():  # each ring closed: its first corner again
        template = templates.get(size)
        if template is None:
            pairs = ",".join(["[%r,%r]"] * size)
            template = templates[size] = f'{{"type":"Polygon","coordinates":[[{pairs}]]}}'
        end = start + 2 * size
        out.append(template % tuple(numbers[start:end]))  # %r: a float's repr, as json
        start = end
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


#: Each cell's feature up to its first property (its id ``h3``), encoded once.
_HEADS: dict[str, str] = {}
_HEADS_LOCK = threading.Lock()
MAX_HEADS = 200_000


def _cell_heads(cells: list[str]) -> list[str]:
    """Each cell's feature up to its first property (its id ``h3``): those not yet
    encoded all at once (:func:`hexagons_json`), then kept (at most :data:`MAX_HEADS`)."""
    with _HEADS_LOCK:
        missing = [cell for cell in cells if cell not in _HEADS]
        if missing:
            if len(_HEADS) + len(missing) > MAX_HEADS:
                _HEADS.clear()
                missing = list(dict.fromkeys(cells))
            for cell, geometry in zip(missing, hexagons_json(missing), strict=True):
                _HEADS[cell] = (
                    f'{{"type":"Feature","id":{_dumps(cell)},"geometry":{geometry},'
                    f'"properties":{{"h3":{_dumps(cell)}'
                )
        return [_HEADS[cell] for cell in cells]


def _json_values(values: list[Any]) -> list[str]:
    """Each value as :func:`json.dumps` writes it (the same text), the usual ones (ints,
    finite floats, booleans, None, strings: each distinct string encoded once) without
    a call to it.

    >>> _json_values([3, -0.25, 1e-05, True, None, "Point chaud (99 %)", float("nan")])
    ['3', '-0.25', '1e-05', 'true', 'null', '"Point chaud (99 %)"', 'NaN']
    """
    strings: dict[str, str] = {}
    out = []
    for v in values:
        kind = type(v)
        if kind is int:
            out.append(int.__repr__(v))
        elif kind is float and math.isfinite(v):
            out.append(float.__repr__(v))
        elif v is None:
            out.append("null")
        elif v is True or v is False:
            out.append("true" if v else "false")
        elif kind is str:
            text = strings.get(v)
            if text is None:
                text = strings[v] = _dumps(v)
            out.append(text)
        else:
            out.append(_dumps(v))
    return out


def cell_features(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """GeoJSON features (encoded) of H3 cells: ``frame`` indexed by cell, its ``columns``
    as properties after the cell's id ``h3`` (the text :func:`json.dumps` writes of each
    feature's dict, column by column: no dict per cell).

    >>> frame = pd.DataFrame({"count": [2], "z": [1.5], "label": ["Point chaud"]},
    ...                      index=["89283082803ffff"])
    >>> feature = json.loads(cell_features(frame, ["count", "z", "label"])[0])
    >>> feature["id"], feature["properties"]
    ('89283082803ffff', {'h3': '89283082803ffff', 'count': 2, 'z': 1.5, 'label': 'Point chaud'})
    """
    return features_of(frame.index.tolist(), {name: frame[name].tolist() for name in columns})


def features_of(cells: list[str], columns: dict[str, list[Any]]) -> list[str]:
    """:func:`cell_features` of ``cells`` with these columns' values (one per cell)."""
    keys = [f",{_dumps(name)}:" for name in columns]
    values = [_json_values(column) for column in columns.values()]
    return [
        head + "".join(k + v for k, v in zip(keys, row, strict=True)) + "}}"
        for head, *row in zip(_cell_heads(cells), *values, strict=True)
    ]


def band_features(bands: gpd.GeoDataFrame) -> list[str]:
    """GeoJSON features (encoded) of the heat bands (:meth:`DensitySurface.bands`: runs of
    grid cells, rectangles in WGS84): their corners rounded one by one (they stay
    rectangles, counterclockwise as RFC 7946 asks), written straight from the arrays."""
    rounded = shapely.set_precision(
        np.asarray(bands.geometry.values), 10**-GEOJSON_DECIMALS, mode="pointwise"
    )
    coords = shapely.get_coordinates(rounded).tolist()
    ends = np.cumsum(shapely.get_num_coordinates(rounded)).tolist()
    features = []
    start = 0
    for i, (end, band, share, density) in enumerate(
        zip(
            ends,
            bands["band"].astype(int).tolist(),
            bands["share"].round(3).tolist(),
            bands["density"].round(1).tolist(),
            strict=True,
        )
    ):
        ring = ",".join(f"[{x!r},{y!r}]" for x, y in coords[start:end])
        start = end
        features.append(
            f'{{"type":"Feature","id":{i},"geometry":{{"type":"Polygon","coordinates":[[{ring}]]}},'
            f'"properties":{{"band":{band},"share":{share!r},"density":{density!r}}}}}'
        )
    return features


def collection(features: list[str], meta: HotspotMeta, *, bbox: bool = False) -> bytes:
    """A FeatureCollection of encoded features, with its ``meta`` (and ``"bbox":null``
    before it, as the schema's own serialisation writes it, when ``bbox``)."""
    head = '{"type":"FeatureCollection","features":['
    tail = ',"bbox":null' if bbox else ""
    meta_json = _dumps(meta.model_dump(mode="json"))
    return f'{head}{",".join(features)}]{tail},"meta":{meta_json}}}'.encode()


@dataclass(frozen=True)
class AreaPoints:
    """The problems of a study area passing a filter, as the maps read them, sorted by
    id, and the snapshot (``pg_current_snapshot()``) taken before they were read: every
    write that snapshot sees is in them (a later one may be too). ``outline`` (WKB) is
    the area's the study ``cells`` and ``crs`` were drawn from; ``content`` is shared by
    the states holding the same points."""

    snapshot: str
    outline: bytes
    cells: list[str]
    crs: CRS
    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    synthetic: np.ndarray
    #: each point's H3 cell (its index, ``uint64``: :func:`geo.hotspots.point_cell_ids`)
    found: np.ndarray
    #: each point's cell as its position in ``cells`` (-1: in none of them): the counts
    #: per cell are one ``bincount``.
    cell: np.ndarray
    xy: np.ndarray
    #: each point's month reported (``YYYYMM``) and category (its position in
    #: :data:`CATEGORY_CODES`, -1 for a code not known): the monthly trend's
    #: (:func:`api.services.cartography.monthly_trend`).
    month: np.ndarray
    category: np.ndarray
    content: object = field(default_factory=object)
    #: False when read by a transaction that has written (its uncommitted writes are in
    #: the points, and its snapshot sees them): not to be held.
    holdable: bool = True


def _arrays(frame: pd.DataFrame, res: int, crs: CRS, cells: list[str]) -> dict[str, np.ndarray]:
    frame = frame.sort_values("id", kind="stable")
    lon = frame["lon"].to_numpy(dtype=float)
    lat = frame["lat"].to_numpy(dtype=float)
    found = point_cell_ids(lon, lat, res)
    day = frame["reported_on"].astype(str)
    month = day.str.slice(0, 4).astype(int) * 100 + day.str.slice(5, 7).astype(int)
    return {
        "ids": frame["id"].to_numpy(dtype=np.int64),
        "lon": lon,
        "lat": lat,
        "synthetic": frame["synthetic"].to_numpy(dtype=bool),
        "found": found,
        "cell": cell_positions(found, cells),
        "xy": metric_xy(lon, lat, crs),
        "month": month.to_numpy(dtype=np.int32),
        "category": pd.Categorical(frame["category"], categories=CATEGORY_CODES).codes.astype(
            np.int8
        ),
    }


@lru_cache(maxsize=256)
def _estimated_cells(outline: bytes, res: int) -> int:
    return estimate_cell_count(shapely.from_wkb(outline), res)


def check_map_cells(area: StudyArea, res: int, budget: int) -> None:
    """Refuse, naming ``res``, a map of the area with more than ``budget`` H3 cells, as
    estimated from its outline before any work (:func:`geo.hotspots.check_map_cells`;
    the estimate kept per outline and resolution: a request served from the cache pays
    a lookup)."""
    estimate = _estimated_cells(shapely.to_wkb(area.outline), res)
    if estimate > budget:
        check_map_cells_of(area.outline, res, budget)  # raises, with its message


@lru_cache(maxsize=16)
def _study_cells(outline: bytes, res: int) -> list[str]:
    """:func:`geo.hotspots.study_cells` of an outline (WKB), kept: a comparison's two
    periods, the filters and revisions of one area share them (never changed)."""
    return study_cells(shapely.from_wkb(outline), res)


def read_points(session: Session, area: StudyArea, where: ProblemFilter, res: int) -> AreaPoints:
    """The area's points read whole."""
    snapshot, wrote = touches.snapshot_and_writes(session)
    return replace(_whole_points(session, area, where, res, snapshot), holdable=not wrote)


def _whole_points(
    session: Session, area: StudyArea, where: ProblemFilter, res: int, snapshot: str
) -> AreaPoints:
    frame = problem_maps.problem_points(session=session, area=area, where=where)
    crs = metric_crs_of(area.outline)
    cells = _study_cells(shapely.to_wkb(area.outline), res)
    return AreaPoints(
        snapshot,
        shapely.to_wkb(area.outline),
        cells,
        crs,
        **_arrays(frame, res, crs, cells),
        holdable=True,
    )


def _appended(
    session: Session,
    held: AreaPoints,
    touched: frozenset[int],
    snapshot: str,
    area: StudyArea,
    where: ProblemFilter,
    res: int,
) -> AreaPoints:
    """``held`` with the problems ``touched`` since its snapshot read again (``held``
    itself under ``snapshot`` when their points are unchanged)."""
    if not touched:
        return replace(held, snapshot=snapshot)
    changed = sorted(touched)
    frame = problem_maps.problem_points(session=session, area=area, where=where, ids=changed)
    new = _arrays(frame, res, held.crs, held.cells)
    kept = ~np.isin(held.ids, np.asarray(changed, dtype=np.int64))
    gone = ~kept
    if all(np.array_equal(getattr(held, name)[gone], values) for name, values in new.items()):
        return replace(held, snapshot=snapshot)  # the touched problems' points as they were
    if not gone.any() and (not len(held.ids) or new["ids"][0] > held.ids[-1]):
        # new problems only, after every held one (ids rise): appended as they are
        merged = {
            name: np.concatenate([getattr(held, name), values]) for name, values in new.items()
        }
    else:
        ids = np.concatenate([held.ids[kept], new["ids"]])
        order = np.argsort(ids, kind="stable")
        merged = {
            name: np.concatenate([getattr(held, name)[kept], values])[order]
            for name, values in new.items()
        }
    return AreaPoints(snapshot, held.outline, held.cells, held.crs, **merged, holdable=True)


def updated_points(
    session: Session, held: AreaPoints | None, area: StudyArea, where: ProblemFilter, res: int
) -> AreaPoints:
    """``held`` with the problems written since its snapshot read again (:data:`held`
    itself, under a newer snapshot, when their points are unchanged), or the points read
    whole when none is held, it is too old or too much changed, or the area's outline is
    no longer the one held (a new plan's sectors): :func:`api.services.kept_lists.up_to_date`.
    Not ``holdable`` when the session's transaction has written."""
    outline = shapely.to_wkb(area.outline)
    points, holdable = up_to_date(
        session,
        held,
        csp_ids=[area.csp_id],
        whole=lambda now: _whole_points(session, area, where, res, now),
        update=lambda kept, touched, now: _appended(session, kept, touched, now, area, where, res),
        usable=lambda kept: kept.outline == outline,
    )
    return points if holdable else replace(points, holdable=False)


class LazyFeatures:
    """Features (encoded) computed once, when first asked, and shared by every revision's
    maps computed from the same points: the maps of a comparison or of a commune never
    draw them (issue 22: at resolution 11 the hexagons of a CSP's 14 000 cells were most
    of a comparison's time)."""

    def __init__(self, compute: Callable[[], list[str]]) -> None:
        self._compute = compute
        self._lock = threading.Lock()
        self._features: list[str] | None = None

    def features(self) -> list[str]:
        with self._lock:
            if self._features is None:
                self._features = self._compute()
            return self._features


#: The properties of a hot-spot map's cells.
HOTSPOT_COLUMNS = ["count", "z", "p", "level", "label"]


def hotspot_features(cells: pd.DataFrame) -> list[str]:
    """The features of the cells a hot-spot map draws: those with a problem or a
    significant Gi*."""
    shown = cells[(cells["count"] > 0) | (cells["level"] != 0)].copy()
    shown["label"] = shown["level"].map(LEVEL_LABELS)
    shown["z"] = shown["z"].round(3)
    shown["p"] = shown["p"].round(5)
    return cell_features(shown, HOTSPOT_COLUMNS)


def heat_features(xy: np.ndarray, crs: CRS, bandwidth: float, cell_size: float) -> list[str]:
    """The heat bands of some points: :func:`geo.density.kde` with the bandwidth and
    cell size their map's meta says, then :func:`band_features`."""
    surface = kde(xy, crs=crs, bandwidth=bandwidth, cell_size=cell_size)
    return band_features(surface.bands())


@dataclass(frozen=True)
class AreaMaps:
    """A study area's hotspot analysis over one period: its Gi* cells (every cell of the
    area, see :func:`geo.hotspots.getis_ord`) and its answers serialised once (they are
    cached and served as they are; the density grid itself is not kept), with the points
    they were computed from. The hot spots' features and the heat are computed when
    first asked (:class:`LazyFeatures`), once for every revision computed from the same
    points."""

    cells: pd.DataFrame
    meta: HotspotMeta
    points: AreaPoints | None = None
    features: LazyFeatures | None = None
    heat: LazyFeatures | None = None

    @cached_property
    def hotspots_json(self) -> bytes:
        return collection(self.features.features() if self.features else [], self.meta)

    @cached_property
    def heat_json(self) -> bytes:
        return collection(self.heat.features() if self.heat else [], self.meta)


def point_counts(points: AreaPoints) -> pd.Series:
    """How many points each of the area's cells holds (zeros kept), as
    :func:`geo.hotspots.cell_counts` counts them: from the points' cell positions."""
    inside = points.cell[points.cell >= 0]
    counts = np.bincount(inside, minlength=len(points.cells)).astype(np.int64)
    return pd.Series(counts, index=pd.Index(points.cells, name="h3"), name="count")


def maps_of(
    points: AreaPoints,
    *,
    area: StudyArea,
    where: ProblemFilter,
    res: int,
    bandwidth: float | None,
    revision: int,
    previous: AreaMaps | None = None,
    heat_cells: int = MAX_HEAT_CELLS,
) -> AreaMaps:
    """Gi* cells and heat bands of the points; ``previous`` again, under this revision,
    when it was computed from the same points. The density's grid is sized before any
    work: a ``bandwidth`` whose grid would have more than ``heat_cells`` cells is refused,
    the default one's cells made coarser (:func:`geo.density.kde_parameters`)."""
    if (
        previous is not None
        and previous.points is not None
        and previous.points.content is points.content
    ):
        meta = previous.meta.model_copy(update={"revision": revision})
        return replace(previous, meta=meta, points=points)
    n = len(points.ids)
    kernel = kde_parameters(points.xy, bandwidth=bandwidth, max_cells=heat_cells) if n else None
    cells = getis_ord(point_counts(points))
    meta = HotspotMeta(
        area=area.name,
        csp_id=area.csp_id,
        gpo_id=area.gpo_id,
        commune_code=area.commune_code,
        date_from=where.since,
        date_to=where.until,
        problems=n,
        synthetic_problems=int(points.synthetic.sum()),
        res=res,
        bandwidth_m=round(kernel[0], 1) if kernel else None,
        kde_cell_m=round(kernel[1], 1) if kernel else None,
        hot_cells=int((cells["level"] > 0).sum()),
        cold_cells=int((cells["level"] < 0).sum()),
        min_hotspot_problems=MIN_HOTSPOT_PROBLEMS,
        hotspots_computed=n >= MIN_HOTSPOT_PROBLEMS,
        revision=revision,
    )
    heat = partial(heat_features, points.xy, points.crs, *kernel) if kernel else None
    return AreaMaps(
        cells=cells,
        meta=meta,
        points=points,
        features=LazyFeatures(partial(hotspot_features, cells)),
        heat=LazyFeatures(heat) if heat else None,
    )


def area_points(
    session: Session,
    cache: MapCache[Any],
    *,
    area: StudyArea,
    where: ProblemFilter,
    res: int = DEFAULT_H3_RES,
) -> AreaPoints:
    """The area's points for the filter: those held in ``cache`` brought up to date
    (:func:`updated_points`), held again for the next revision."""
    points_key = ("map points", area.key, where, res)
    held = cache.held(points_key)
    points = updated_points(session, held[1] if held else None, area, where, res)
    if points.holdable:
        cache.put(points_key, 0, points)
    return points


def cached_area_maps(
    session: Session,
    cache: MapCache[Any],
    *,
    area: StudyArea,
    where: ProblemFilter,
    res: int = DEFAULT_H3_RES,
    bandwidth: float | None = None,
    refresh_in: Callable[[Callable[[Session], AreaMaps]], AreaMaps] | None = None,
    heat_cells: int = MAX_HEAT_CELLS,
) -> AreaMaps:
    """The area's maps for the filter, computed once per revision of the problems (see
    :mod:`api.map_cache`) from the points held for the area and filter, brought up to date
    (:func:`updated_points`). With ``refresh_in`` (which runs a computation in a session
    of its own), the previous revision's may be served while it recomputes them
    (:meth:`MapCache.get_or_refresh`)."""
    revision = base.problem_revision(session=session, csp_id=area.csp_id)
    key = ("maps", area.key, where, res, bandwidth, heat_cells)

    def compute(s: Session) -> AreaMaps:
        points = area_points(s, cache, area=area, where=where, res=res)
        previous = cache.held(key)
        return maps_of(
            points,
            area=area,
            where=where,
            res=res,
            bandwidth=bandwidth,
            revision=revision,
            previous=previous[1] if previous else None,
            heat_cells=heat_cells,
        )

    if refresh_in is None:
        computed: AreaMaps = cache.get_or_compute(key, revision, lambda: compute(session))
        return computed
    served: AreaMaps = cache.get_or_refresh(
        key, revision, lambda: compute(session), lambda: refresh_in(compute)
    )
    return served
