"""Reading problems from files (CSV with lon/lat or WKT columns, GeoJSON) and checking
every row, so that an import is all or nothing with a row-by-row report.

CSV columns (UTF-8, ``,`` or ``;``): ``category``, ``title``, ``reported_on``
(YYYY-MM-DD), and either ``lon`` + ``lat`` (WGS84) or ``wkt`` (WGS84); optional
``description``, ``address``, ``priority``. GeoJSON: one feature per problem, the same
names as properties. Unknown columns are ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InvalidInputError
from geo.problems import CATEGORIES, PRIORITIES

REQUIRED = ("category", "title", "reported_on")
MAX_ERRORS = 200  # the report lists at most this many rows


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row (CSV: line 2 is row 1), or feature number
    column: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


class RowErrorsError(InvalidInputError):
    """Rows that cannot be imported; nothing was imported."""

    def __init__(self, errors: Sequence[RowError], total: int) -> None:
        self.errors = list(errors)[:MAX_ERRORS]
        first = errors[0]
        super().__init__(
            f"{len(errors)} error(s) in {total} row(s), nothing imported; first: row "
            f"{first.row}, {first.column}: {first.reason}"
        )


def read_problem_file(path: Path, filename: str | None = None) -> gpd.GeoDataFrame:
    """The rows of a CSV or GeoJSON file as a GeoDataFrame (EPSG:4326) with the columns
    above and ``row`` (row number); rows that cannot be read raise
    :class:`RowErrorsError` naming each one."""
    name = (filename or path.name).lower()
    if name.endswith((".geojson", ".json")):
        return _from_geojson(path)
    if name.endswith((".csv", ".txt")):
        return _from_csv(path)
    raise InvalidInputError(f"file: {filename or path.name} is neither CSV nor GeoJSON")


def _from_csv(path: Path) -> gpd.GeoDataFrame:
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = raw.decode("latin-1")
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    table = pd.read_csv(io.StringIO(content), sep=delimiter, dtype=str, keep_default_na=False)
    table.columns = [c.strip().lower() for c in table.columns]
    errors: list[RowError] = []
    geoms = np.full(len(table), None, dtype=object)
    if "wkt" in table.columns:
        for i, text in enumerate(table["wkt"]):
            try:
                geoms[i] = shapely.from_wkt(text) if text.strip() else None
            except shapely.errors.GEOSException as exc:
                errors.append(RowError(i + 1, "wkt", f"not WKT ({str(exc)[:80]})"))
    if "lon" in table.columns and "lat" in table.columns:
        for i, (lon, lat) in enumerate(zip(table["lon"], table["lat"], strict=True)):
            if geoms[i] is not None or not (lon.strip() or lat.strip()):
                continue
            try:
                x, y = float(lon.replace(",", ".")), float(lat.replace(",", "."))
            except ValueError:
                errors.append(RowError(i + 1, "lon/lat", f"not numbers: {lon!r}, {lat!r}"))
                continue
            geoms[i] = shapely.Point(x, y)
    elif "wkt" not in table.columns:
        raise InvalidInputError(
            f"file: no lon/lat nor wkt column (found {', '.join(table.columns)})"
        )
    table["row"] = np.arange(1, len(table) + 1)
    frame = gpd.GeoDataFrame(
        table.drop(columns=["lon", "lat", "wkt"], errors="ignore"), geometry=list(geoms), crs=4326
    )
    return _checked(frame, errors)


def _from_geojson(path: Path) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several kinds
        raise InvalidInputError(f"file: not readable GeoJSON ({str(exc)[:200]})") from None
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    frame.columns = [c if c == "geometry" else str(c).strip().lower() for c in frame.columns]
    for column in frame.columns:
        if column != "geometry":
            frame[column] = frame[column].map(_as_text)
    frame["row"] = np.arange(1, len(frame) + 1)
    return _checked(frame.set_crs(4326, allow_override=True), [])


def _as_text(value: object) -> str:
    """A GeoJSON property as the text a CSV cell would hold (GDAL reads dates as dates)."""
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, datetime):  # pandas Timestamps too
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _checked(frame: gpd.GeoDataFrame, errors: list[RowError]) -> gpd.GeoDataFrame:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c != "geometry")
        raise InvalidInputError(f"file: missing column(s) {', '.join(missing)} (found {found})")
    for column in ("description", "address", "priority"):
        if column not in frame.columns:
            frame[column] = ""
    today = date.today()
    dates: list[date | None] = []
    for row, category, title, reported, priority, geom in zip(
        frame["row"],
        frame["category"],
        frame["title"],
        frame["reported_on"],
        frame["priority"],
        frame.geometry,
        strict=True,
    ):
        if category.strip() not in CATEGORIES:
            errors.append(RowError(row, "category", f"unknown category {category!r}"))
        if not title.strip():
            errors.append(RowError(row, "title", "empty"))
        elif len(title) > 200:
            errors.append(RowError(row, "title", "longer than 200 characters"))
        if priority.strip() and priority.strip() not in PRIORITIES:
            errors.append(RowError(row, "priority", f"unknown priority {priority!r}"))
        try:
            on = date.fromisoformat(reported.strip())
            if on > today:
                errors.append(RowError(row, "reported_on", f"{on} is in the future"))
        except ValueError:
            on = None
            errors.append(RowError(row, "reported_on", f"not a YYYY-MM-DD date: {reported!r}"))
        dates.append(on)
        errors.extend(_geometry_errors(row, geom))
    if errors:
        raise RowErrorsError(sorted(errors, key=lambda e: e.row), len(frame))
    frame["category"] = frame["category"].str.strip()
    frame["priority"] = frame["priority"].str.strip().replace("", "normale")
    frame["reported_on"] = dates
    return frame


def _geometry_errors(row: int, geom: shapely.Geometry | None) -> list[RowError]:
    if geom is None or geom.is_empty:
        return [RowError(row, "geometry", "no position")]
    if geom.geom_type not in ("Point", "LineString", "Polygon", "MultiLineString", "MultiPolygon"):
        return [RowError(row, "geometry", f"{geom.geom_type} is not a point, line or polygon")]
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        return [RowError(row, "geometry", f"{geom.bounds[:2]} are not WGS84 lon/lat")]
    if not geom.is_valid:
        return [RowError(row, "geometry", f"invalid ({shapely.is_valid_reason(geom)})")]
    return []


def anchors(geoms: np.ndarray) -> np.ndarray:
    """For each geometry, its point nearest its centroid (see ``problem.anchor``)."""
    lines = shapely.shortest_line(geoms, shapely.centroid(geoms))
    return shapely.get_point(lines, 0)


def check_inside(frame: gpd.GeoDataFrame, territory: shapely.Geometry, name: str) -> None:
    """Raise naming every row whose anchor lies outside ``territory``."""
    points = anchors(frame.geometry.to_numpy())
    shapely.prepare(territory)
    inside = shapely.covers(territory, points)
    if inside.all():
        return
    xy = shapely.get_coordinates(points)
    swapped = shapely.covers(territory, shapely.points(xy[:, ::-1]))
    errors = [
        RowError(
            int(row),
            "geometry",
            f"[{x:.5f}, {y:.5f}] is outside {name}"
            + (" (latitude and longitude swapped?)" if s else ""),
        )
        for row, (x, y), ok, s in zip(frame["row"], xy, inside, swapped, strict=True)
        if not ok
    ]
    raise RowErrorsError(errors, len(frame))
